package specs_test

import (
	"errors"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/complykit/complykit-go/internal/contract"
	"github.com/complykit/complykit-go/specs"
)

// auditOpenAPIOperations checks the conventions every operation of a
// handwritten spec follows: a unique camelCase operationId, a summary and a
// description, provenance (x-source and x-source-ref) and, for inferred
// operations, an x-decision; and a document-wide info.x-decisions list. It
// returns the operations by operationId.
func auditOpenAPIOperations(t *testing.T, doc *openapi3.T) map[string]*openapi3.Operation {
	t.Helper()
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	sources := []string{"seed", "docs", "code", "inferred"}
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if !camel.MatchString(op.OperationID) {
				t.Errorf("%s: operationId = %q; want camelCase", where, op.OperationID)
			}
			if _, dup := ops[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is not unique", where, op.OperationID)
			}
			ops[op.OperationID] = op
			if strings.TrimSpace(op.Summary) == "" {
				t.Errorf("%s: no summary", where)
			}
			if strings.TrimSpace(op.Description) == "" {
				t.Errorf("%s: no description", where)
			}
			src, _ := op.Extensions["x-source"].(string)
			if !slices.Contains(sources, src) {
				t.Errorf("%s: x-source = %q; want one of %q", where, src, sources)
			}
			if ref, _ := op.Extensions["x-source-ref"].(string); strings.TrimSpace(ref) == "" {
				t.Errorf("%s: no x-source-ref", where)
			}
			if d, ok := op.Extensions["x-decision"]; ok {
				if s, _ := d.(string); strings.TrimSpace(s) == "" {
					t.Errorf("%s: x-decision is not a non-empty string", where)
				}
			} else if src == "inferred" {
				t.Errorf("%s: x-source is inferred but there is no x-decision", where)
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("the spec has no operations")
	}
	decisions, _ := doc.Info.Extensions["x-decisions"].([]any)
	if len(decisions) == 0 {
		t.Error("info has no x-decisions list")
	}
	for i, d := range decisions {
		if s, _ := d.(string); strings.TrimSpace(s) == "" {
			t.Errorf("info.x-decisions[%d] is not a non-empty string", i)
		}
	}
	return ops
}

// stemsHTTPExample reads a raw HTTP request as the Stems docs print
// it: a request line, header lines and a form body that the docs break
// before every '&' (and, as crawled, without a blank line after the
// headers). The body lines are joined into the one line sent on the wire.
// The Host header is dropped: the contract routes on the path alone.
func stemsHTTPExample(t *testing.T, file string) example {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	requestLine := strings.Fields(lines[0])
	if len(requestLine) != 3 || !strings.HasPrefix(requestLine[2], "HTTP/") {
		t.Fatalf("%s: bad request line %q", file, lines[0])
	}
	e := example{name: file, method: requestLine[0], target: requestLine[1], header: map[string]string{}}
	headerLine := regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*): (.*)$`)
	i := 1
	for ; i < len(lines); i++ {
		m := headerLine.FindStringSubmatch(lines[i])
		if m == nil {
			break
		}
		if !strings.EqualFold(m[1], "Host") {
			e.header[m[1]] = m[2]
		}
	}
	e.body = strings.Join(lines[i:], "")
	return e
}

func readSeedFixture(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestStemsSpec(t *testing.T) {
	doc, err := specs.Load("stems.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops := auditOpenAPIOperations(t, doc)

	want := []string{
		"requestToken", "authorize",
		"listHazards", "createHazard", "updateHazard",
		"listHazardApprovalData", "getHazardApprovalData",
		"createHazardForApproval", "updateHazardForApproval",
		"createEventRequiringApproval", "updateEventRequiringApproval",
		"listEventForms", "getEventLookup",
	}
	for _, id := range want {
		if ops[id] == nil {
			t.Errorf("no operation %q", id)
		}
	}
	if len(ops) != len(want) {
		t.Errorf("got %d operations; want %d", len(ops), len(want))
	}

	// The API base URL is not public: one server, a variable the user overrides.
	if len(doc.Servers) != 1 || doc.Servers[0].Variables["apiBaseUrl"] == nil {
		t.Fatalf("servers = %v; want one server with the variable apiBaseUrl", doc.Servers)
	}
	if got := doc.Servers[0].URL; got != "{apiBaseUrl}" {
		t.Errorf("server url = %q; want %q", got, "{apiBaseUrl}")
	}

	// Token and authorize live on Stems Accounts and need no bearer token.
	for _, id := range []string{"requestToken", "authorize"} {
		op := ops[id]
		if op == nil {
			continue
		}
		if op.Servers == nil || len(*op.Servers) != 1 || (*op.Servers)[0].URL != "https://accounts.stems.com.au" {
			t.Errorf("%s: servers = %v; want https://accounts.stems.com.au", id, op.Servers)
		}
		if op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("%s: security = %v; want [] (no bearer token)", id, op.Security)
		}
	}
	if op := ops["requestToken"]; op != nil {
		p := op.Parameters.GetByInAndName("header", "Accept")
		if p == nil || !p.Required || p.Schema == nil || !slices.Equal(p.Schema.Value.Enum, []any{"application/json"}) {
			t.Errorf("requestToken: want a required Accept header parameter with enum [application/json]; got %+v", p)
		}
		if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded") == nil {
			t.Error("requestToken: want an application/x-www-form-urlencoded body")
		}
		for _, status := range []int{200, 400, 401, 429, 500, 503} {
			if op.Responses.Status(status) == nil {
				t.Errorf("requestToken: no %d response", status)
			}
		}
	}
}

func TestStemsResourceOperations(t *testing.T) {
	doc := validator(t, "stems.yaml").Doc()
	cc := doc.Components.SecuritySchemes["companyContext"]
	if cc == nil || cc.Value.Type != "apiKey" || cc.Value.In != "header" || cc.Value.Name != "X-Company-Context" {
		t.Fatalf("securitySchemes.companyContext = %+v; want an apiKey in the X-Company-Context header", cc)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		if strings.HasPrefix(path, "/auth/") {
			continue
		}
		for method, op := range item.Operations() {
			n++
			where := method + " " + path
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			// One requirement with both schemes: the bearer token and the
			// company (X-Company-Context, required on every request).
			if len(security) != 1 || security[0]["bearer"] == nil || security[0]["companyContext"] == nil {
				t.Errorf("%s: security = %v; want bearer and companyContext together", where, security)
			}
			if src, _ := op.Extensions["x-source"].(string); src != "docs" {
				t.Errorf("%s: x-source = %q; want docs (the migration guides)", where, src)
			}
			for _, status := range []int{200, 400, 401, 403, 404, 429, 500, 503} {
				r := op.Responses.Status(status)
				if r == nil {
					t.Errorf("%s: no %d response", where, status)
					continue
				}
				if status >= 400 {
					mt := r.Value.Content.Get("application/json")
					if mt == nil || mt.Schema.Ref != "#/components/schemas/Error" {
						t.Errorf("%s: %d is not the Stems Error body", where, status)
					}
				}
			}
			if h := op.Responses.Status(429).Value.Headers["Retry-After"]; h == nil {
				t.Errorf("%s: 429 declares no Retry-After header", where)
			}
		}
	}
	if n != 11 {
		t.Errorf("got %d resource operations; want 11", n)
	}
}

// TestStemsSeedExamples validates the literal examples of the vendor's docs:
// the files in testdata/stems are verbatim copies (see SOURCES.md there).
func TestStemsSeedExamples(t *testing.T) {
	// Seed 001_9c24b35d6c60ce39.txt: the Resource Owner Password Credentials
	// request and its response.
	ropc := stemsHTTPExample(t, "testdata/stems/ropc_request.http")
	ropc.status = 200
	ropc.respBody = readSeedFixture(t, "testdata/stems/ropc_response.json")

	// Seed 000_df95d27194205bf7.txt: the refresh_token request and its
	// response, which adds an id_token and a rotated refresh_token.
	refresh := stemsHTTPExample(t, "testdata/stems/refresh_request.http")
	refresh.status = 200
	refresh.respBody = readSeedFixture(t, "testdata/stems/refresh_response.json")

	for _, e := range []example{ropc, refresh} {
		t.Run(e.name, func(t *testing.T) {
			if e.method != http.MethodPost || e.target != "/auth/connect/token" {
				t.Errorf("request = %s %s; want POST /auth/connect/token", e.method, e.target)
			}
			if got := e.header["Accept"]; got != "application/json" {
				t.Errorf("Accept = %q; want application/json", got)
			}
			if err := e.check(t, "stems.yaml"); err != nil {
				t.Error(err)
			}
		})
	}

	if want := "grant_type=password&username=john.smith%40contoso.com&client_id=your_client_id&client_secret=your_client_secret&scope=email+resources_stems_api&password=P4ssw0rd"; ropc.body != want {
		t.Errorf("ROPC body = %q; want %q", ropc.body, want)
	}
}

// stemsTokenExample is a valid token request: seed 001's, with body
// replaced when given.
func stemsTokenExample(t *testing.T, body string) example {
	t.Helper()
	e := stemsHTTPExample(t, "testdata/stems/ropc_request.http")
	if body != "" {
		e.body = body
	}
	return e
}

func stemsResourceExample(method, target, body string) example {
	h := map[string]string{
		"Authorization":     "Bearer 0565812445g545gac3a27a5ca8",
		"X-Company-Context": "234",
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	return example{method: method, target: target, header: h, body: body}
}

func TestStemsValidExamples(t *testing.T) {
	pkce := stemsTokenExample(t, "grant_type=authorization_code&client_id=native_app"+
		"&code=8a3fe2c1&redirect_uri=com.example.app%3A%2Fcallback"+
		"&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	pkce.status, pkce.respBody = 200, `{"access_token":"a","token_type":"Bearer","expires_in":1800,"id_token":"h.p.s","refresh_token":"r","scope":"openid offline_access"}`

	tokenError := stemsTokenExample(t, "grant_type=refresh_token&client_id=c&client_secret=s&refresh_token=reused")
	tokenError.status, tokenError.respBody = 400, `{"error":"invalid_grant"}`

	tokenThrottled := stemsTokenExample(t, "")
	tokenThrottled.status, tokenThrottled.respHeader, tokenThrottled.respBody = 429, map[string]string{"Retry-After": "2"}, `{"error":"too_many_requests"}`

	tokenUnavailable := stemsTokenExample(t, "")
	tokenUnavailable.status, tokenUnavailable.respBody = 503, `{"error":"temporarily_unavailable","error_description":"maintenance"}`

	authorize := example{
		method: http.MethodGet,
		target: "/auth/connect/authorize?client_id=native_app&response_type=code&redirect_uri=com.example.app%3A%2Fcallback" +
			"&scope=openid+resources_stems_api+offline_access&state=xyz&nonce=n1&response_mode=form_post&ui_locales=en-AU" +
			"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		status:     302,
		respHeader: map[string]string{"Location": "https://accounts.stems.com.au/auth/account/login"},
	}

	listHazards := stemsResourceExample(http.MethodGet, "/hazards", "")
	listHazards.status, listHazards.respBody = 200, `[{"id":17,"name":"Wet floor"},{"id":"18"}]`

	approvalData := stemsResourceExample(http.MethodGet, "/hazards/approvaldata", "")
	approvalData.status, approvalData.respBody = 200, `[{"id":17,"actions":[{"description":"Mop"}],"suggestedActions":[]}]`

	oneApproval := stemsResourceExample(http.MethodGet, "/hazards/17/approvalData", "")
	oneApproval.status, oneApproval.respBody = 200, `{"id":17,"actions":[],"suggestedActions":[{"description":"Sign"}]}`

	createHazard := stemsResourceExample(http.MethodPost, "/hazards", `{"name":"Wet floor"}`)
	createHazard.status, createHazard.respBody = 200, `{"id":17,"name":"Wet floor"}`

	updateHazard := stemsResourceExample(http.MethodPut, "/hazards", `{"id":17,"name":"Dry floor"}`)
	updateHazard.status, updateHazard.respBody = 200, `{"id":17,"name":"Dry floor"}`

	forApproval := stemsResourceExample(http.MethodPost, "/hazards/approval", `{"reportedDate":"2024-05-01T09:30:00"}`)
	forApproval.status, forApproval.respBody = 200, `{"id":18,"reportedDate":"2024-05-01T09:30:00"}`

	updateForApproval := stemsResourceExample(http.MethodPut, "/hazards/approval", `{"id":18}`)
	updateForApproval.status, updateForApproval.respBody = 200, `{"id":18}`

	event := `{"eventDetails":{"eventFormId":3,"subheading":"Slip","additionalInformation":"Near the door",` +
		`"selectedChecklists":[1,2],"questionnaireAnswers":[{"questionId":1,"answer":"Yes"}],` +
		`"freeText1":"a","freeText2":"b","freeText3":"c","freeText4":"d","freeText5":"e","freeText6":"f"}}`
	createEvent := stemsResourceExample(http.MethodPost, "/events/requireapproval", event)
	createEvent.status, createEvent.respBody = 200, `{"id":90,`+event[1:]

	updateEvent := stemsResourceExample(http.MethodPut, "/events/90/requireapproval", strings.Replace(event, `"eventFormId":3`, `"eventFormId":"injury-3"`, 1))
	updateEvent.status, updateEvent.respBody = 200, `{"id":90,`+event[1:]

	forms := stemsResourceExample(http.MethodGet, "/events/90/forms", "")
	forms.status, forms.respBody = 200, `[{"id":3,"subheading":"Injury","additionalInformation":""}]`

	lookup := stemsResourceExample(http.MethodGet, "/events/lookup", "")
	lookup.status, lookup.respBody = 200, `{"eventRecordForms":[{"id":3,"name":"injury"}]}`

	// The fake servers' scripted failures.
	throttled := stemsResourceExample(http.MethodGet, "/hazards", "")
	throttled.status, throttled.respHeader, throttled.respBody = 429, map[string]string{"Retry-After": "1"}, `{"error":"too_many_requests","message":"Slow down"}`
	serverError := stemsResourceExample(http.MethodGet, "/events/lookup", "")
	serverError.status, serverError.respBody = 500, `{"error":"server_error"}`
	unavailable := stemsResourceExample(http.MethodPost, "/hazards", `{}`)
	unavailable.status, unavailable.respBody = 503, `{"error":"service_unavailable","error_description":"maintenance"}`
	expired := stemsResourceExample(http.MethodGet, "/hazards", "")
	expired.status, expired.respBody = 401, `{"error":"invalid_token","error_description":"The access token expired"}`
	forbidden := stemsResourceExample(http.MethodGet, "/hazards", "")
	forbidden.status, forbidden.respBody = 403, `{"error":"forbidden","message":"No access to company 234"}`

	for name, e := range map[string]example{
		"token authorization_code with PKCE, no secret": pkce,
		"token 400 invalid_grant":                       tokenError,
		"token 429":                                     tokenThrottled,
		"token 503":                                     tokenUnavailable,
		"authorize redirect":                            authorize,
		"listHazards":                                   listHazards,
		"listHazardApprovalData":                        approvalData,
		"getHazardApprovalData":                         oneApproval,
		"createHazard":                                  createHazard,
		"updateHazard":                                  updateHazard,
		"createHazardForApproval":                       forApproval,
		"updateHazardForApproval":                       updateForApproval,
		"createEventRequiringApproval":                  createEvent,
		"updateEventRequiringApproval":                  updateEvent,
		"listEventForms":                                forms,
		"getEventLookup":                                lookup,
		"resource 429":                                  throttled,
		"resource 500":                                  serverError,
		"resource 503":                                  unavailable,
		"resource 401":                                  expired,
		"resource 403":                                  forbidden,
	} {
		t.Run(name, func(t *testing.T) {
			if err := e.check(t, "stems.yaml"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestStemsBrokenExamplesRejected makes sure the contract can fail: each
// example breaks one rule and must be rejected for that reason.
func TestStemsBrokenExamplesRejected(t *testing.T) {
	noAccept := stemsTokenExample(t, "")
	delete(noAccept.header, "Accept")

	htmlAccept := stemsTokenExample(t, "")
	htmlAccept.header["Accept"] = "text/html"

	// The docs' body exactly as printed, line breaks included, is not a valid
	// form body: grant_type would be "password\n".
	unjoined := stemsTokenExample(t, "")
	unjoined.body = strings.ReplaceAll(unjoined.body, "&", "\n&")

	noAccessToken := stemsTokenExample(t, "")
	noAccessToken.status, noAccessToken.respBody = 200, `{"token_type":"Bearer","expires_in":1800}`

	stringExpiry := stemsTokenExample(t, "")
	stringExpiry.status, stringExpiry.respBody = 200, `{"access_token":"a","expires_in":"1800"}`

	errorWithoutCode := stemsTokenExample(t, "")
	errorWithoutCode.status, errorWithoutCode.respBody = 400, `{"message":"bad request"}`

	noContext := stemsResourceExample(http.MethodGet, "/hazards", "")
	delete(noContext.header, "X-Company-Context")

	noContextOnEvent := stemsResourceExample(http.MethodPut, "/events/90/requireapproval", `{}`)
	delete(noContextOnEvent.header, "X-Company-Context")

	undeclaredStatus := stemsResourceExample(http.MethodGet, "/hazards", "")
	undeclaredStatus.status, undeclaredStatus.respBody = 418, `{"error":"teapot"}`

	resourceErrorWithoutCode := stemsResourceExample(http.MethodGet, "/hazards", "")
	resourceErrorWithoutCode.status, resourceErrorWithoutCode.respBody = 404, `{"message":"not found"}`

	hazardsNotArray := stemsResourceExample(http.MethodGet, "/hazards", "")
	hazardsNotArray.status, hazardsNotArray.respBody = 200, `{"data":[]}`

	badFreeText := stemsResourceExample(http.MethodPost, "/events/requireapproval", `{"eventDetails":{"freeText1":7}}`)
	badFormID := stemsResourceExample(http.MethodPost, "/events/requireapproval", `{"eventDetails":{"eventFormId":{"id":3}}}`)

	for _, c := range []struct {
		name string
		e    example
		want string // a fragment of the error
	}{
		{"token without Accept", noAccept, "Accept"},
		{"token with Accept: text/html", htmlAccept, "Accept"},
		{"token with grant_type=client_credentials", stemsTokenExample(t, "grant_type=client_credentials&client_id=c&client_secret=s"), "grant_type"},
		{"token without client_id", stemsTokenExample(t, "grant_type=password&username=u&password=p&scope=email"), "client_id"},
		{"token with a short code_verifier", stemsTokenExample(t, "grant_type=authorization_code&client_id=c&code=x&redirect_uri=r&code_verifier=short"), "code_verifier"},
		{"token body with the docs' line breaks", unjoined, "grant_type"},
		{"token response without access_token", noAccessToken, "access_token"},
		{"token response with expires_in as a string", stringExpiry, "expires_in"},
		{"token error without error", errorWithoutCode, `property "error" is missing`},
		{"authorize without redirect_uri", example{method: http.MethodGet, target: "/auth/connect/authorize?client_id=c&response_type=code&scope=openid"}, "redirect_uri"},
		{"authorize with response_type=token", example{method: http.MethodGet, target: "/auth/connect/authorize?client_id=c&response_type=token&redirect_uri=r&scope=openid"}, "response_type"},
		{"authorize with code_challenge_method=S512", example{method: http.MethodGet, target: "/auth/connect/authorize?client_id=c&response_type=code&redirect_uri=r&scope=openid&code_challenge=x&code_challenge_method=S512"}, "code_challenge_method"},
		{"authorize redirect without Location", example{method: http.MethodGet, target: "/auth/connect/authorize?client_id=c&response_type=code&redirect_uri=r&scope=openid", status: 302}, "Location"},
		{"GET /hazards without X-Company-Context", noContext, "X-Company-Context"},
		{"PUT /events/{id}/requireapproval without X-Company-Context", noContextOnEvent, "X-Company-Context"},
		{"undeclared status", undeclaredStatus, "418"},
		{"resource error without error", resourceErrorWithoutCode, `property "error" is missing`},
		{"GET /hazards answering an object", hazardsNotArray, "array"},
		{"eventDetails.freeText1 as a number", badFreeText, "freeText1"},
		{"eventDetails.eventFormId as an object", badFormID, "eventFormId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.e.check(t, "stems.yaml")
			if err == nil {
				t.Fatal("accepted; want an error")
			}
			// Match the first line only: kin-openapi appends schema and value dumps.
			if head, _, _ := strings.Cut(err.Error(), "\n"); !strings.Contains(head, c.want) {
				t.Errorf("error = %s; want it to mention %q", head, c.want)
			}
		})
	}
}

func TestStemsRoutes(t *testing.T) {
	v := validator(t, "stems.yaml")
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/auth/connect/token", "requestToken"},
		{"GET", "/auth/connect/authorize", "authorize"},
		{"GET", "/hazards", "listHazards"},
		{"POST", "/hazards", "createHazard"},
		{"PUT", "/hazards", "updateHazard"},
		{"GET", "/hazards/approvaldata", "listHazardApprovalData"},
		{"GET", "/hazards/17/approvalData", "getHazardApprovalData"},
		{"POST", "/hazards/approval", "createHazardForApproval"},
		{"PUT", "/hazards/approval", "updateHazardForApproval"},
		{"POST", "/events/requireapproval", "createEventRequiringApproval"},
		{"PUT", "/events/90/requireapproval", "updateEventRequiringApproval"},
		{"GET", "/events/90/forms", "listEventForms"},
		{"GET", "/events/lookup", "getEventLookup"},
	} {
		rt, _, err := v.FindRoute(c.method, c.path)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		if rt.Operation.OperationID != c.want {
			t.Errorf("%s %s = %s; want %s", c.method, c.path, rt.Operation.OperationID, c.want)
		}
	}
	// Pre-migration paths are gone.
	for _, c := range []struct{ method, path string }{
		{"GET", "/hazards/17"},
		{"GET", "/events/90/groups"},
		{"DELETE", "/hazards"},
	} {
		if _, _, err := v.FindRoute(c.method, c.path); !errors.Is(err, contract.ErrNoRoute) {
			t.Errorf("%s %s: err = %v; want ErrNoRoute", c.method, c.path, err)
		}
	}
}
