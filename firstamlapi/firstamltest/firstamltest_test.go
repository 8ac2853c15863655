package firstamltest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
)

const ua = "firstamltest-test/1.0"

// post sends a raw request; userAgent "" sends none, token "" no bearer.
func post(t *testing.T, target, contentType, userAgent, token, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header["User-Agent"] = []string{userAgent} // "" makes net/http send none
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func tokenBody(id, secret, audience, grant string) string {
	b, _ := json.Marshal(map[string]string{"client_id": id, "client_secret": secret, "audience": audience, "grant_type": grant})
	return string(b)
}

func TestTokenEndpoint(t *testing.T) {
	srv := firstamltest.NewServer(t)
	good := tokenBody(srv.ClientID, srv.ClientSecret, firstamltest.Audience, "client_credentials")
	form := url.Values{"client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}, "audience": {firstamltest.Audience}, "grant_type": {"client_credentials"}}.Encode()

	for _, tc := range []struct {
		name, ct, ua, body string
		status             int
		code, mention      string
	}{
		{"form body", "application/x-www-form-urlencoded", ua, form, 400, "invalid_request", "must have a JSON body"},
		{"unknown audience", "application/json", ua, tokenBody(srv.ClientID, srv.ClientSecret, "https://api.firstaml.com/", "client_credentials"), 403, "access_denied", "Service not found: https://api.firstaml.com/"},
		{"wrong secret", "application/json", ua, tokenBody(srv.ClientID, "nope", firstamltest.Audience, "client_credentials"), 401, "access_denied", "Unauthorized"},
		{"password grant", "application/json", ua, tokenBody(srv.ClientID, srv.ClientSecret, firstamltest.Audience, "password"), 400, "invalid_request", "grant_type"},
		{"no User-Agent", "application/json", "", good, 400, "invalid_request", "User-Agent header is required"},
		{"Go's default User-Agent", "application/json", "Go-http-client/1.1", good, 400, "invalid_request", "must identify the integration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := post(t, srv.TokenURL(), tc.ct, tc.ua, "", tc.body)
			var e struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			if err := json.Unmarshal(body, &e); err != nil || h.Get("Content-Type") != "application/json" {
				t.Fatalf("body %s (%s) is not an OAuth error", body, h.Get("Content-Type"))
			}
			if status != tc.status || e.Error != tc.code || !strings.Contains(e.ErrorDescription, tc.mention) {
				t.Errorf("got %d %+v; want %d %s mentioning %q", status, e, tc.status, tc.code, tc.mention)
			}
		})
	}
	if n := srv.Issuer.Issued(); n != 0 {
		t.Errorf("%d tokens issued for refused requests", n)
	}

	status, _, body := post(t, srv.TokenURL(), "application/json", ua, "", good)
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	json.Unmarshal(body, &tok)
	if status != 200 || tok.AccessToken == "" || tok.ExpiresIn != 86400 || tok.TokenType != "Bearer" || tok.Scope != "case-management read-only" {
		t.Errorf("got %d %s", status, body)
	}
}

func token(t *testing.T, srv *firstamltest.Server) string {
	t.Helper()
	_, _, body := post(t, srv.TokenURL(), "application/json", ua, "", tokenBody(srv.ClientID, srv.ClientSecret, firstamltest.Audience, "client_credentials"))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no token: %s", body)
	}
	return tok.AccessToken
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Locations  []any          `json:"locations"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func graphql(t *testing.T, srv *firstamltest.Server, tok, userAgent string, req map[string]any) (int, string, gqlResponse) {
	t.Helper()
	b, _ := json.Marshal(req)
	status, h, body := post(t, srv.GraphQLURL(), "application/json", userAgent, tok, string(b))
	var gr gqlResponse
	if err := json.Unmarshal(body, &gr); err != nil {
		t.Fatalf("response %s is not JSON", body)
	}
	return status, h.Get("Content-Type"), gr
}

func TestGraphQLEndpointRefusals(t *testing.T) {
	clock := firstamltest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := firstamltest.NewServer(t, firstamltest.WithClock(clock))
	tok := token(t, srv)
	me := map[string]any{"query": "{ me { apiClientId } }"}

	for _, tc := range []struct {
		name    string
		tok, ua string
		req     map[string]any
		status  int
		code    string
		mention string
	}{
		{"no bearer token", "", ua, me, 401, "UNAUTHENTICATED", "missing bearer token"},
		{"unknown token", "faml-at-forged", ua, me, 401, "UNAUTHENTICATED", "not valid"},
		{"no User-Agent", tok, "", me, 400, "BAD_REQUEST", "User-Agent"},
		{"Go's default User-Agent", tok, "Go-http-client/2.0", me, 400, "BAD_REQUEST", "must identify the integration"},
		{"field outside the schema", tok, ua, map[string]any{"query": "{ me { apiClientId secret } }"}, 400, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "secret" on type "Me"`},
		{"mutation outside the schema", tok, ua, map[string]any{"query": `mutation { deleteCase(caseId: "1") { __typename } }`}, 400, "GRAPHQL_VALIDATION_FAILED", "deleteCase"},
		{"parse error", tok, ua, map[string]any{"query": "{ me { "}, 400, "GRAPHQL_PARSE_FAILED", "Expected Name"},
		{"empty query", tok, ua, map[string]any{"query": " "}, 400, "BAD_REQUEST", "no query"},
		{"unknown operation name", tok, ua, map[string]any{"query": "query A { me { scopes } }", "operationName": "B"}, 400, "BAD_REQUEST", `Unknown operation named "B"`},
		{"two operations, no name", tok, ua, map[string]any{"query": "query A { me { scopes } } query B { me { scopes } }"}, 400, "BAD_REQUEST", "operation name"},
		{"missing variable", tok, ua, map[string]any{"query": "query Q($id: String!) { caseDetails(caseId: $id) { __typename } }"}, 400, "BAD_USER_INPUT", "must be defined"},
		{"wrong variable type", tok, ua, map[string]any{"query": "query Q($id: String!) { caseDetails(caseId: $id) { __typename } }", "variables": map[string]any{"id": true}}, 400, "BAD_USER_INPUT", "cannot use bool as String"},
		{"unknown input field", tok, ua, map[string]any{
			"query":     "mutation M($in: CreateLiteCaseInput!) { createLiteCase(input: $in) { __typename } }",
			"variables": map[string]any{"in": map[string]any{"organizationId": "x", "individual": map[string]any{"preferredName": map[string]any{"firstName": "a", "lastName": "b"}}, "color": "red"}},
		}, 400, "BAD_USER_INPUT", "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, ct, gr := graphql(t, srv, tc.tok, tc.ua, tc.req)
			if status != tc.status || len(gr.Errors) == 0 || gr.Data != nil {
				t.Fatalf("got %d %+v; want %d with errors and no data", status, gr, tc.status)
			}
			// GraphQL-over-HTTP answers carry its media type; the 401s and
			// the contract check's 400 (no User-Agent) come from the shared
			// fake machinery, which answers application/json (both are in
			// the contract).
			wantCT := "application/graphql-response+json"
			if tc.status == 401 || tc.name == "no User-Agent" {
				wantCT = "application/json"
			}
			if ct != wantCT {
				t.Errorf("Content-Type %q; want %s", ct, wantCT)
			}
			if e := gr.Errors[0]; e.Extensions["code"] != tc.code || !strings.Contains(e.Message, tc.mention) {
				t.Errorf("error %+v; want code %s mentioning %q", e, tc.code, tc.mention)
			}
		})
	}

	clock.Advance(86400 * time.Second)
	if status, _, gr := graphql(t, srv, tok, ua, me); status != 401 || !strings.Contains(gr.Errors[0].Message, "expired") {
		t.Errorf("expired token: %d %+v", status, gr)
	}
}

func TestExecutor(t *testing.T) {
	srv := firstamltest.NewServer(t)
	tok := token(t, srv)
	query := `
query A { me { apiClientId } }
query B($id: String!, $withOffices: Boolean!) {
  who: me { ...Who }
  c: caseDetails(caseId: $id) {
    __typename
    ... on CaseInformation {
      caseId
      status: caseStatus
      office { name }
      amlProfile { cddLevel }
      individuals {
        individualId
        legalName { fullName }
        urls { verification { __typename ... on ValidUrl { url } ... on InvalidUrl { message } } }
      }
    }
    ... on ValidationErrors { errors { fieldPath } }
  }
  missing: caseDetails(caseId: "nope") {
    ... on CaseInformation { caseId }
    ... on ValidationErrors { errors { message fieldPath } }
  }
}
fragment Who on Me {
  friendlyApiClientName
  accessibleOrganizations { name offices @include(if: $withOffices) { name } ...Id }
  skipped: scopes @skip(if: true)
}
fragment Id on Organization { organizationId }`
	status, ct, gr := graphql(t, srv, tok, ua, map[string]any{
		"query": query, "operationName": "B",
		"variables": map[string]any{"id": firstamltest.SampleCaseID, "withOffices": false},
	})
	if status != 200 || ct != "application/graphql-response+json" || len(gr.Errors) != 0 {
		t.Fatalf("got %d %s %+v", status, ct, gr)
	}
	want := map[string]any{
		"who": map[string]any{
			"friendlyApiClientName": "Public API - complykit fake",
			"accessibleOrganizations": []any{
				map[string]any{"name": "Your org inc.", "organizationId": firstamltest.SampleOrganizationID},
				map[string]any{"name": "Solo Conveyancing Ltd", "organizationId": firstamltest.SampleNoOfficeOrganizationID},
			},
		},
		"c": map[string]any{
			"__typename": "CaseInformation",
			"caseId":     firstamltest.SampleCaseID,
			"status":     "IN_PROGRESS",
			"office":     map[string]any{"name": "Auckland"},
			"amlProfile": nil,
			"individuals": []any{
				map[string]any{"individualId": "ind-7f3a", "legalName": map[string]any{"fullName": "Aroha Mere Ngata"},
					"urls": map[string]any{"verification": map[string]any{"__typename": "InvalidUrl", "message": "The individual has already been verified."}}},
				map[string]any{"individualId": "ind-9c21", "legalName": map[string]any{"fullName": "James Ngata"},
					"urls": map[string]any{"verification": map[string]any{"__typename": "ValidUrl", "url": srv.URL + "/verify/ind-9c21"}}},
			},
		},
		"missing": map[string]any{"errors": []any{
			map[string]any{"message": "The case does not exist or is not accessible to this API client.", "fieldPath": []any{"caseId"}},
		}},
	}
	if !reflect.DeepEqual(gr.Data, want) {
		got, _ := json.MarshalIndent(gr.Data, "", " ")
		exp, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("data:\n%s\nwant:\n%s", got, exp)
	}

	// Introspection mixes with data (TestIntrospection covers it fully).
	status, _, gr = graphql(t, srv, tok, ua, map[string]any{"query": "{ __schema { queryType { name } } me { __typename } }"})
	if want := map[string]any{"__schema": map[string]any{"queryType": map[string]any{"name": "Query"}}, "me": map[string]any{"__typename": "Me"}}; status != 200 || len(gr.Errors) != 0 || !reflect.DeepEqual(gr.Data, want) {
		t.Errorf("introspection: %d %+v; want %v", status, gr, want)
	}

	// A mutation with literal arguments; no initialState makes a draft.
	status, _, gr = graphql(t, srv, tok, ua, map[string]any{"query": fmt.Sprintf(`mutation {
  createLiteCase(input: {organizationId: %q, reference: "lit", individual: {preferredName: {firstName: "A", lastName: "B"}, phoneNumber: "1"}}) {
    ... on CaseInformation { caseId caseStatus reference }
  }
}`, firstamltest.SampleNoOfficeOrganizationID)})
	created, _ := gr.Data["createLiteCase"].(map[string]any)
	if status != 200 || created["caseStatus"] != "DRAFT" || created["reference"] != "lit" {
		t.Fatalf("got %d %+v", status, gr)
	}
	if c, ok := srv.Case(created["caseId"].(string)); !ok || c.Individuals[0].PhoneNumber != "1" || !c.Individuals[0].IsCaseContact {
		t.Errorf("the fake holds %+v, %v", c, ok)
	}
}

func TestMissingScopeIsAFieldErrorWithNullPropagation(t *testing.T) {
	srv := firstamltest.NewServer(t, firstamltest.WithScopes("case-management"))
	tok := token(t, srv)

	// caseDetails is nullable: the field is null, the rest of data stays.
	status, _, gr := graphql(t, srv, tok, ua, map[string]any{"query": `{ me { scopes } caseDetails(caseId: "100234") { __typename } }`})
	if status != 200 || len(gr.Errors) != 1 || gr.Data == nil || gr.Data["caseDetails"] != nil || gr.Data["me"] == nil {
		t.Fatalf("got %d %+v", status, gr)
	}
	if e := gr.Errors[0]; fmt.Sprint(e.Path) != "[caseDetails]" || e.Extensions["code"] != "FORBIDDEN" || !strings.Contains(e.Message, "read-only") || len(e.Locations) != 1 {
		t.Errorf("error = %+v", e)
	}

	// createLiteCase is non-null: its null propagates to data.
	ro := firstamltest.NewServer(t, firstamltest.WithScopes("read-only"))
	status, _, gr = graphql(t, ro, token(t, ro), ua, map[string]any{"query": `mutation {
  createLiteCase(input: {organizationId: "x", individual: {preferredName: {firstName: "A", lastName: "B"}}}) { __typename }
}`})
	if status != 200 || len(gr.Errors) != 1 || gr.Data != nil || fmt.Sprint(gr.Errors[0].Path) != "[createLiteCase]" {
		t.Errorf("got %d %+v; want data null and the error at createLiteCase", status, gr)
	}
	if n := len(ro.Cases()); n != 1 {
		t.Errorf("%d cases; an unauthorized mutation must not create one", n)
	}
}

func TestSeedData(t *testing.T) {
	org := firstamltest.Organization{ID: "00000000000000000000000000000001", Name: "Seeded", Offices: []firstamltest.Office{{Key: "k1", Name: "Wellington"}}}
	cs := firstamltest.Case{ID: "1", OrganizationID: org.ID, OfficeKey: "k1", Status: "COMPLETED", Individuals: []firstamltest.Individual{{ID: "i1", EmailAddress: "x@example.com"}}}
	srv := firstamltest.NewServer(t, firstamltest.WithOrganizations(org), firstamltest.WithCases(cs))
	tok := token(t, srv)
	_, _, gr := graphql(t, srv, tok, ua, map[string]any{"query": `{ caseDetails(caseId: "1") { ... on CaseInformation { caseStatus office { name } organization { name } } } }`})
	want := map[string]any{"caseDetails": map[string]any{"caseStatus": "COMPLETED", "office": map[string]any{"name": "Wellington"}, "organization": map[string]any{"name": "Seeded"}}}
	if !reflect.DeepEqual(gr.Data, want) {
		t.Errorf("data = %v; want %v", gr.Data, want)
	}
	// The fake holds copies: changing what was passed in changes nothing.
	cs.Individuals[0].EmailAddress = "changed@example.com"
	if got, _ := srv.Case("1"); got.Individuals[0].EmailAddress != "x@example.com" {
		t.Errorf("the fake's case changed with the caller's copy: %+v", got)
	}
}

func TestStartStandalone(t *testing.T) {
	srv, err := firstamltest.Start(firstamltest.WithAddr("127.0.0.1:0"), firstamltest.WithClient("cli", "cli-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || srv.TokenURL() != srv.URL+"/oauth/token" || srv.GraphQLURL() != srv.URL+"/graphql/" {
		t.Errorf("URLs %s %s %s", srv.URL, srv.TokenURL(), srv.GraphQLURL())
	}
	if status, _, _ := post(t, srv.TokenURL(), "application/json", ua, "", tokenBody("cli", "cli-secret", firstamltest.Audience, "client_credentials")); status != 200 {
		t.Errorf("token status %d", status)
	}
}

func TestWebhookHelpers(t *testing.T) {
	for _, tc := range []struct {
		got  []byte
		want string
	}{
		{firstamltest.CaseCreatedPayload("100234", ""), `{"caseId":100234,"eventType":"CaseCreated","officeKey":null}`},
		{firstamltest.CaseStatusUpdatedPayload("case-x", "k"), `{"caseId":"case-x","eventType":"CaseStatusUpdated","officeKey":"k"}`},
		{firstamltest.PdfUpdatedPayload("7", "p1", "https://api.firstaml.com/pdf/document", "Failed"), `{"caseId":7,"eventType":"PdfUpdated","pdfId":"p1","pdfUrl":"https://api.firstaml.com/pdf/document","status":"Failed"}`},
		{firstamltest.VerificationReportGeneratedPayload("7", "", "e1"), `{"caseId":"7","entityId":"e1","eventType":"VerificationReportGenerated","individualId":null}`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("payload %s; want %s", tc.got, tc.want)
		}
	}

	key := firstamltest.NewWebhookKey()
	payload := []byte(`{"eventType":"CaseCreated","caseId":1}`)
	mac := hmac.New(sha256.New, key)
	mac.Write(payload)
	if got, want := key.Sign(payload), base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("Sign = %s; want %s", got, want)
	}
	parsed, err := firstamltest.ParseWebhookKey(key.Base64())
	if err != nil || !bytes.Equal(parsed, key) {
		t.Errorf("ParseWebhookKey round trip: %v", err)
	}
	if _, err := firstamltest.ParseWebhookKey("not base64!"); err == nil {
		t.Error("ParseWebhookKey accepted garbage")
	}
	req := key.NewRequest("http://127.0.0.1/hooks", payload)
	got, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || req.Header.Get("X-Faml-Signature") != key.Sign(payload) || !bytes.Equal(got, payload) || req.RequestURI != "" {
		t.Errorf("request %s %v %s", req.Method, req.Header, got)
	}
	for _, s := range []string{fmt.Sprint(key), fmt.Sprintf("%#v", key)} {
		if strings.Contains(s, key.Base64()) || !strings.Contains(s, "redacted") {
			t.Errorf("%q shows the key", s)
		}
	}
}

// Decimal travels as a JSON number: the fake refuses a string, as a
// GraphQL server's decimal scalar does, so an SDK that sends one fails
// here rather than against First AML.
func TestDecimalIsANumber(t *testing.T) {
	srv := firstamltest.NewServer(t)
	tok := token(t, srv)
	query := `mutation M($in: CreateCaseInput!) { createCase(input: $in) { __typename ... on CaseInformation { caseId } } }`
	input := func(value any) map[string]any {
		return map[string]any{"query": query, "variables": map[string]any{"in": map[string]any{
			"organizationId": firstamltest.SampleNoOfficeOrganizationID, "initialState": "DRAFT", "runVerificationChecks": "DO_NOT_RUN",
			"individuals":      []any{map[string]any{"preferredName": map[string]any{"firstName": "A", "lastName": "B"}}},
			"transactionValue": value,
		}}}
	}
	status, _, gr := graphql(t, srv, tok, ua, input("450000.10"))
	if status != 200 || gr.Data != nil || len(gr.Errors) != 1 || gr.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(gr.Errors[0].Message, "JSON number") {
		t.Errorf("a string Decimal: %d %+v; want a BAD_USER_INPUT error", status, gr)
	}
	status, _, gr = graphql(t, srv, tok, ua, input(450000.10))
	created, _ := gr.Data["createCase"].(map[string]any)
	if status != 200 || len(gr.Errors) != 0 || created["caseId"] == nil {
		t.Fatalf("a number Decimal: %d %+v", status, gr)
	}
	if c, _ := srv.Case(created["caseId"].(string)); c.AmlProfile == nil || c.AmlProfile.TransactionValue != "450000.1" {
		t.Errorf("the fake holds %+v", c.AmlProfile)
	}
}

func TestDocumentEndpoint(t *testing.T) {
	srv := firstamltest.NewServer(t)
	tok := token(t, srv)
	get := func(userAgent, token, target string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		req.Header["User-Agent"] = []string{userAgent}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	path := srv.URL + "/documents/" + firstamltest.SampleDocumentID
	for name, tc := range map[string]struct {
		ua, tok string
		status  int
	}{
		"no token":                {ua, "", 401},
		"no User-Agent":           {"", tok, 400},
		"Go's default User-Agent": {"Go-http-client/1.1", tok, 400},
	} {
		if status, _, body := get(tc.ua, tc.tok, path); status != tc.status {
			t.Errorf("%s: %d %s; want %d", name, status, body, tc.status)
		}
	}
	status, h, body := get(ua, tok, path)
	want := firstamltest.SampleCases()[0].Individuals[0].Documents[0].Files[0].Contents
	if status != 200 || h.Get("Content-Type") != "application/octet-stream" || !bytes.Equal(body, want) {
		t.Errorf("download: %d %s %x", status, h.Get("Content-Type"), body)
	}
	c := firstamltest.SampleCases()[0]
	c.Documents = []firstamltest.Document{{Files: []firstamltest.File{{DocumentID: "d1", RedirectURL: "https://storage.example/d1?sig=x"}}}}
	redirecting := firstamltest.NewServer(t, firstamltest.WithCases(c))
	if status, h, _ := get(ua, token(t, redirecting), redirecting.URL+"/documents/d1"); status != 302 || h.Get("Location") != "https://storage.example/d1?sig=x" {
		t.Errorf("redirect: %d Location %q", status, h.Get("Location"))
	}
}
