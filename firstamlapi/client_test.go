package firstamlapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/option"
)

var fastRetry = option.WithRetryPolicy(auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

func newClient(t *testing.T, srv *firstamltest.Server, opts ...option.Option) *firstamlapi.Client {
	t.Helper()
	opts = append([]option.Option{
		firstamlapi.WithTokenURL(srv.TokenURL()),
		firstamlapi.WithGraphQLURL(srv.GraphQLURL()),
		fastRetry,
	}, opts...)
	c, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTokenIsJSONWithAudienceAndEveryRequestHasAUserAgent(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv, option.WithUserAgent("acme-onboarding/2.1"))
	ctx := context.Background()
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.ApiClientId != srv.ClientID+"@clients" || len(me.AccessibleOrganizations) != 2 {
		t.Fatalf("me = %+v", me)
	}
	org := me.AccessibleOrganizations[0]
	if org.OrganizationId != firstamltest.SampleOrganizationID || len(org.Offices) != 2 || org.Offices[1].Key != firstamltest.SampleOfficeKey {
		t.Errorf("organization = %+v", org)
	}
	if strings.Join(me.Scopes, " ") != "case-management read-only" {
		t.Errorf("scopes = %q", me.Scopes)
	}
	if _, err := c.CaseDetails(ctx, firstamltest.SampleCaseID); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for two calls; want 1", n)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests; want a token request and two GraphQL requests", len(reqs))
	}
	tokenReq := reqs[0]
	if !tokenReq.Token || tokenReq.Status != http.StatusOK {
		t.Fatalf("first request = %s %s %d; want the token request", tokenReq.Method, tokenReq.Path, tokenReq.Status)
	}
	if ct := tokenReq.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("token request Content-Type = %q; want application/json, never a form", ct)
	}
	var body map[string]string
	if err := json.Unmarshal(tokenReq.Body, &body); err != nil {
		t.Fatalf("token request body %q is not JSON: %v", tokenReq.Body, err)
	}
	want := map[string]string{"client_id": srv.ClientID, "client_secret": srv.ClientSecret, "audience": "https://api.firstaml.com", "grant_type": "client_credentials"}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("token request body = %v; want %v", body, want)
	}
	for _, r := range reqs {
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "acme-onboarding/2.1 complykit-go/") {
			t.Errorf("%s: User-Agent = %q; want the product, then the SDK and its version", r.Path, ua)
		}
		if r.Token {
			continue
		}
		if a := r.Header.Get("Accept"); !strings.Contains(a, "application/graphql-response+json") || !strings.Contains(a, "application/json") {
			t.Errorf("%s: Accept = %q", r.Path, a)
		}
		if r.Header.Get("Authorization") == "" {
			t.Errorf("%s: no Authorization", r.Path)
		}
	}
}

func TestTokenExpiryAndRecoveryFrom401(t *testing.T) {
	clock := firstamltest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := firstamltest.NewServer(t, firstamltest.WithClock(clock), firstamltest.WithTokenLifetime(100*time.Second))
	c := newClient(t, srv, option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	ctx := context.Background()
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}

	// Past the token's life the client fetches a fresh token before
	// sending, so First AML never sees an expired one.
	clock.Advance(200 * time.Second)
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests after expiry; want 2", n)
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("the fake answered 401 to %s: the client sent an expired token", r.Path)
		}
	}

	// Revoked tokens: a 401, one new token, the call replayed (a mutation
	// too: the server refused it, so replaying cannot duplicate it).
	for _, call := range []func() error{
		func() error { _, err := c.Me(ctx); return err },
		func() error { _, err := c.CreateLiteCase(ctx, liteInput()); return err },
	} {
		before, apiBefore := srv.TokenRequests(), srv.APIRequests()
		srv.Issuer.RevokeAccessTokens()
		if err := call(); err != nil {
			t.Fatalf("after revocation: %v", err)
		}
		if n := srv.TokenRequests() - before; n != 1 {
			t.Errorf("%d token requests to recover from a 401; want 1", n)
		}
		if n := srv.APIRequests() - apiBefore; n != 2 {
			t.Errorf("%d API requests; want the refused one and its replay", n)
		}
	}
	if n := len(srv.Cases()); n != 2 {
		t.Errorf("%d cases; want the sample and the one created", n)
	}
}

func TestRefreshAhead(t *testing.T) {
	clock := firstamltest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := firstamltest.NewServer(t, firstamltest.WithClock(clock))
	c := newClient(t, srv, option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	ctx := context.Background()
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Hour) // past 75% of the documented 24 hours
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	// The call was served with the current token; one background fetch
	// replaced it.
	waitFor(t, func() bool { return c.TokenFetches() == 2 })
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests; want 2", n)
	}
}

func TestCaseDetails(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()

	res, err := c.CaseDetails(ctx, firstamltest.SampleCaseID)
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := res.(*firstamlapi.CaseDetailsResultCaseInformation)
	if !ok {
		t.Fatalf("result = %T; want the case", res)
	}
	want := firstamltest.SampleCases()[0]
	if cs.CaseId != want.ID || *cs.Reference != want.Reference || cs.CaseStatus != want.Status || *cs.Notes != want.Notes {
		t.Errorf("case = %+v", cs.CaseSummary)
	}
	if cs.Organization == nil || cs.Organization.Name != "Your org inc." || cs.Office == nil || cs.Office.Name != "Auckland" {
		t.Errorf("organization %+v, office %+v", cs.Organization, cs.Office)
	}
	if cs.CaseDetails == nil || *cs.CaseDetails.CaseLead.FullName != want.Lead.FullName {
		t.Errorf("participants = %+v", cs.CaseDetails)
	}
	if len(cs.Entities) != 1 || *cs.Entities[0].LegalName != "Ngata Family Trust" {
		t.Errorf("entities = %+v", cs.Entities)
	}
	if len(cs.Individuals) != 2 {
		t.Fatalf("individuals = %+v", cs.Individuals)
	}
	verified, pending := cs.Individuals[0], cs.Individuals[1]
	if *verified.LegalName.FullName != "Aroha Mere Ngata" || !*verified.IsCaseContact || *verified.IndividualVerificationChecksStatus.Overall != "PASS" {
		t.Errorf("individual = %+v", verified)
	}
	if _, ok := verified.Urls.Verification.(*firstamlapi.VerificationUrlInvalidUrl); !ok {
		t.Errorf("a verified individual's link = %T; want InvalidUrl", verified.Urls.Verification)
	}
	if u, ok := pending.Urls.Verification.(*firstamlapi.VerificationUrlValidUrl); !ok || !strings.HasPrefix(u.Url, srv.URL+"/verify/") {
		t.Errorf("a pending individual's link = %#v; want a ValidUrl", pending.Urls.Verification)
	}
	if pending.IndividualVerificationChecksStatus != nil || pending.PhoneNumber != nil {
		t.Errorf("null fields must stay nil: %+v", pending)
	}

	res, err = c.CaseDetails(ctx, "999999")
	if err != nil {
		t.Fatal(err)
	}
	ve, ok := res.(*firstamlapi.CaseDetailsResultValidationErrors)
	if !ok || len(ve.Errors) != 1 || !slices.Equal(ve.Errors[0].FieldPath, []string{"caseId"}) {
		t.Fatalf("unknown case: %#v; want ValidationErrors on caseId", res)
	}
}

func liteInput() firstamlapi.CreateLiteCaseInput {
	return firstamlapi.CreateLiteCaseInput{
		OrganizationId: firstamltest.SampleOrganizationID,
		OfficeId:       firstamlapi.Ptr(firstamltest.SampleOfficeKey),
		Reference:      firstamlapi.Ptr("ONB-7"),
		InitialState:   firstamlapi.Ptr(firstamlapi.InitialCaseStateSubmitToFirstAml),
		Individual: firstamlapi.LiteCaseIndividualInput{
			PreferredName: firstamlapi.NameInput{FirstName: "Ana", LastName: "Silva"},
			EmailAddress:  firstamlapi.Ptr("ana@example.com"),
		},
	}
}

// fieldPaths lists the field paths of a validation result, each joined
// with "/" (["individuals","1","emailAddress"] is individuals/1/emailAddress),
// or fails.
func fieldPaths(t *testing.T, res firstamlapi.CreateCaseResult) []string {
	t.Helper()
	ve, ok := res.(*firstamlapi.CreateCaseResultValidationErrors)
	if !ok {
		t.Fatalf("result = %T; want validation errors", res)
	}
	var paths []string
	for _, e := range ve.Errors {
		if e.Message == "" || len(e.FieldPath) == 0 || e.Typename != "ValidationError" {
			t.Errorf("validation error %+v: want a message, a field path and the error's type", e)
			continue
		}
		paths = append(paths, strings.Join(e.FieldPath, "/"))
	}
	return paths
}

func TestCreateLiteCase(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()

	res, err := c.CreateLiteCase(ctx, liteInput())
	if err != nil {
		t.Fatal(err)
	}
	created, ok := res.(*firstamlapi.CreateCaseResultCaseInformation)
	if !ok {
		t.Fatalf("result = %#v; want the case", res)
	}
	if created.CaseStatus != "IN_PROGRESS" || *created.Reference != "ONB-7" || len(created.Individuals) != 1 {
		t.Errorf("case = %+v", created.CaseSummary)
	}
	if ind := created.Individuals[0]; !*ind.IsCaseContact || *ind.PreferredName.FullName != "Ana Silva" || ind.LegalName != nil {
		t.Errorf("individual = %+v", ind)
	}
	stored, ok := srv.Case(created.CaseId)
	if !ok || stored.OfficeKey != firstamltest.SampleOfficeKey || stored.Individuals[0].EmailAddress != "ana@example.com" {
		t.Errorf("the fake holds %+v, %v", stored, ok)
	}
	// The request left out every nil input field (officeId must be omitted,
	// not null, for organizations without offices).
	reqs := srv.Requests()
	if body := string(reqs[len(reqs)-1].Body); strings.Contains(body, "null") {
		t.Errorf("mutation body sends nulls: %s", body)
	}
	details, err := c.CaseDetails(ctx, created.CaseId)
	if _, ok := details.(*firstamlapi.CaseDetailsResultCaseInformation); err != nil || !ok {
		t.Errorf("CaseDetails of the new case: %T, %v", details, err)
	}

	// Validation errors: missing office and no way to reach the contact.
	in := liteInput()
	in.OfficeId = nil
	in.Individual.EmailAddress = nil
	res, err = c.CreateLiteCase(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fieldPaths(t, res), ","); got != "officeId,individual/emailAddress" {
		t.Errorf("field paths = %s", got)
	}
	// An office for an organization without offices.
	in = liteInput()
	in.OrganizationId = firstamltest.SampleNoOfficeOrganizationID
	res, _ = c.CreateLiteCase(ctx, in)
	if got := strings.Join(fieldPaths(t, res), ","); got != "officeId" {
		t.Errorf("field paths = %s", got)
	}
	if n := len(srv.Cases()); n != 2 {
		t.Errorf("%d cases; a refused create must not create one", n)
	}
}

func TestCreateCaseForIndividuals(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	yes, no := true, false
	in := firstamlapi.CreateCaseForIndividualsInput{
		OrganizationId: firstamltest.SampleNoOfficeOrganizationID,
		Name:           firstamlapi.Ptr("Smith purchase"),
		InitialState:   firstamlapi.Ptr(firstamlapi.InitialCaseStateSubmitToFirstAml),
		Individuals: []firstamlapi.IndividualDetailsInput{
			{LegalName: &firstamlapi.NameInput{FirstName: "Jo", MiddleName: firstamlapi.Ptr("Ann"), LastName: "Smith"}, PhoneNumber: firstamlapi.Ptr("+64 21 000"), IsCaseContact: &yes},
			{PreferredName: &firstamlapi.NameInput{FirstName: "Sam", LastName: "Smith"}, NeedsVerification: &no},
		},
	}
	res, err := c.CreateCaseForIndividuals(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	created, ok := res.(*firstamlapi.CreateCaseResultCaseInformation)
	if !ok {
		t.Fatalf("result = %#v; want the case", res)
	}
	if *created.Name != "Smith purchase" || len(created.Individuals) != 2 || *created.Individuals[0].LegalName.FullName != "Jo Ann Smith" {
		t.Errorf("case = %+v", created.CaseSummary)
	}
	if *created.Individuals[1].IsCaseContact || *created.Individuals[1].RequiresCDD {
		t.Errorf("second individual = %+v; want no contact, no CDD", created.Individuals[1])
	}

	// SUBMIT_TO_FIRST_AML without a case contact, and a second contact
	// without email or phone.
	bad := in
	bad.Individuals = []firstamlapi.IndividualDetailsInput{in.Individuals[1], {LegalName: in.Individuals[1].PreferredName, IsCaseContact: &no}}
	res, err = c.CreateCaseForIndividuals(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fieldPaths(t, res), ","); got != "initialState" {
		t.Errorf("field paths = %s", got)
	}
	bad.Individuals = []firstamlapi.IndividualDetailsInput{in.Individuals[0], {PreferredName: in.Individuals[1].PreferredName, IsCaseContact: &yes}}
	res, _ = c.CreateCaseForIndividuals(ctx, bad)
	if got := strings.Join(fieldPaths(t, res), ","); got != "individuals/1/emailAddress" {
		t.Errorf("field paths = %s", got)
	}
	// A nil list is sent as [] (the field is non-null), so the answer is a
	// validation error rather than a GraphQL 400.
	bad.Individuals = nil
	res, err = c.CreateCaseForIndividuals(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fieldPaths(t, res), ","); got != "individuals,initialState" {
		t.Errorf("field paths = %s", got)
	}

	// Scripted validation errors.
	srv.ScriptValidationErrors(1, firstamltest.ValidationError{Message: "Duplicate reference.", FieldPath: []string{"reference"}})
	res, _ = c.CreateCaseForIndividuals(ctx, in)
	if got := strings.Join(fieldPaths(t, res), ","); got != "reference" {
		t.Errorf("field paths = %s", got)
	}
}

// First AML documents fieldPath as a list of strings
// (https://docs.firstaml.com/docs/validation/: ["individuals", "1",
// "emailAddress"]). An answer in that shape must reach the caller as the
// ValidationErrors result, with the path intact, not as an error: the
// caller needs the list exactly then.
func TestValidationErrorFieldPathIsAListOfStrings(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()

	// The documented answer, verbatim in shape.
	srv.Script(firstamltest.APICalls, 1, firstamltest.Fault{Status: 200, ContentType: "application/graphql-response+json",
		Body: `{"data":{"createLiteCase":{"__typename":"ValidationErrors","errors":[` +
			`{"__typename":"ValidationError","message":"Email address is not valid","fieldPath":["individuals","1","emailAddress"]},` +
			`{"__typename":"ValidationError","message":"Something is wrong","fieldPath":null}]}}}`})
	res, err := c.CreateLiteCase(ctx, liteInput())
	if err != nil {
		t.Fatalf("a documented validation answer failed the call: %v", err)
	}
	ve, ok := res.(*firstamlapi.CreateCaseResultValidationErrors)
	if !ok || len(ve.Errors) != 2 {
		t.Fatalf("result = %#v; want two validation errors", res)
	}
	if got := ve.Errors[0].FieldPath; !slices.Equal(got, []string{"individuals", "1", "emailAddress"}) {
		t.Errorf("fieldPath = %q; want [individuals 1 emailAddress]", got)
	}
	if got := firstamlapi.FormatFieldPath(ve.Errors[0].FieldPath); got != "individuals[1].emailAddress" {
		t.Errorf("FormatFieldPath = %q", got)
	}
	if ve.Errors[1].FieldPath != nil || ve.Errors[1].Message != "Something is wrong" {
		t.Errorf("second error = %+v; want a message and a null path", ve.Errors[1])
	}

	// The fake answers its own validation failures in the same shape.
	yes := true
	res, err = c.CreateCaseForIndividuals(ctx, firstamlapi.CreateCaseForIndividualsInput{
		OrganizationId: firstamltest.SampleNoOfficeOrganizationID,
		Individuals: []firstamlapi.IndividualDetailsInput{
			{LegalName: &firstamlapi.NameInput{FirstName: "Jo", LastName: "Smith"}, EmailAddress: firstamlapi.Ptr("jo@example.com"), IsCaseContact: &yes},
			{LegalName: &firstamlapi.NameInput{FirstName: "Sam", LastName: "Smith"}, IsCaseContact: &yes},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldPaths(t, res); !slices.Equal(got, []string{"individuals/1/emailAddress"}) {
		t.Errorf("field paths = %q; want individuals/1/emailAddress", got)
	}
}

func TestMutationsAreNeverRetriedQueriesAre(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Me(ctx); err != nil { // warm the token
		t.Fatal(err)
	}

	for name, mctx := range map[string]context.Context{
		"plain context":             ctx,
		"context marked idempotent": auth.WithIdempotent(ctx),
	} {
		t.Run(name, func(t *testing.T) {
			before := srv.APIRequests()
			srv.Script(firstamltest.APICalls, 1, firstamltest.Status(http.StatusServiceUnavailable))
			_, err := c.CreateLiteCase(mctx, liteInput())
			var fe *firstamlapi.Error
			if !errors.As(err, &fe) || fe.StatusCode != http.StatusServiceUnavailable || !fe.Temporary() {
				t.Fatalf("err = %v; want a 503 *firstamlapi.Error", err)
			}
			if n := srv.APIRequests() - before; n != 1 {
				t.Errorf("the fake saw %d requests; a mutation must be sent once", n)
			}
		})
	}
	if n := len(srv.Cases()); n != 1 {
		t.Errorf("%d cases; want only the sample", n)
	}

	before := srv.APIRequests()
	srv.Script(firstamltest.APICalls, 2, firstamltest.Status(http.StatusServiceUnavailable))
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("after two 503s: %v; want the third attempt to succeed", err)
	}
	if n := srv.APIRequests() - before; n != 3 {
		t.Errorf("the fake saw %d requests; want 3", n)
	}

	srv.Script(firstamltest.APICalls, 1, firstamltest.TooManyRequests("0"))
	if _, err := c.CaseDetails(ctx, firstamltest.SampleCaseID); err != nil {
		t.Errorf("after a 429: %v", err)
	}
}

func TestGraphQL400ThroughTheDoer(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	body := strings.NewReader(`{"query":"{ me { apiClientId secret } }"}`)
	req, err := http.NewRequest(http.MethodPost, c.BaseURL(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "doer-test/1.0")
	resp, err := c.Doer().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var gr struct {
		Data   any `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Locations  []any          `json:"locations"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	json.NewDecoder(resp.Body).Decode(&gr)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/graphql-response+json" {
		t.Errorf("status %d, Content-Type %q; want 400 application/graphql-response+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if len(gr.Errors) != 1 || !strings.Contains(gr.Errors[0].Message, `"secret"`) || len(gr.Errors[0].Locations) == 0 || gr.Data != nil {
		t.Errorf("body = %+v; want one error naming the field, with its location, and no data", gr)
	}
}

func TestErrors(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("GraphQL 400 through GraphQLClient", func(t *testing.T) {
		var out struct{}
		err := c.GraphQLClient().MakeRequest(ctx, &graphql.Request{Query: "query Bad { me { secret } }", OpName: "Bad"}, &graphql.Response{Data: &out})
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v (%T); want *firstamlapi.Error", err, err)
		}
		if fe.Op != "Bad" || fe.StatusCode != 400 || len(fe.Errors) != 1 || fe.Errors[0].Code != "GRAPHQL_VALIDATION_FAILED" || fe.RequestID == "" {
			t.Errorf("err = %+v", fe)
		}
		if !strings.HasPrefix(err.Error(), "firstamlapi: Bad: status 400 Bad Request: Cannot query field") {
			t.Errorf("message = %q", err)
		}
	})

	t.Run("GraphQL errors in a 200", func(t *testing.T) {
		ro := firstamltest.NewServer(t, firstamltest.WithScopes("read-only"))
		rc := newClient(t, ro)
		_, err := rc.CreateLiteCase(ctx, liteInput())
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || fe.StatusCode != 200 || len(fe.Errors) != 1 {
			t.Fatalf("err = %v; want the field error of a 200", err)
		}
		if ge := fe.Errors[0]; ge.Path != "createLiteCase" || ge.Code != "FORBIDDEN" || !strings.Contains(ge.Message, "case-management") {
			t.Errorf("GraphQL error = %+v", ge)
		}
		if fe.RequestID == "" || fe.Temporary() {
			t.Errorf("err = %+v", fe)
		}
	})

	for _, tc := range []struct {
		name   string
		fault  firstamltest.Fault
		n      int // requests the call makes
		status int
		want   string
	}{
		{"HTML error page", firstamltest.HTML(502), 1, 502, "not JSON (text/html)"},
		{"malformed JSON", firstamltest.Malformed(), 1, 200, "truncated or malformed"},
		{"wrong content type", firstamltest.Fault{Status: 200, ContentType: "text/plain", Body: `{"data":{}}`}, 1, 200, `Content-Type "text/plain"`},
		{"JSON that is not GraphQL", firstamltest.Fault{Status: 200, Body: `{"ok":true}`}, 1, 200, "neither data nor errors"},
		{"unknown union member", firstamltest.Fault{Status: 200, Body: `{"data":{"createLiteCase":{"__typename":"Surprise"}}}`}, 1, 200, "does not match the operation"},
		{"null result", firstamltest.Fault{Status: 200, Body: `{"data":{"createLiteCase":null}}`}, 1, 200, "no createLiteCase result"},
		{"429 with Retry-After", firstamltest.TooManyRequests("7"), 1, 429, "Too Many Requests"},
		{"401 on the replay too", firstamltest.Status(401), 2, 401, "scripted 401"},
		{"empty 500", firstamltest.Fault{Status: 500, Body: " "}, 1, 500, "empty response body"},
		{"connection reset", firstamltest.Reset(), 1, 200, "reading the response body failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Script(firstamltest.APICalls, tc.n, tc.fault)
			before := srv.APIRequests()
			_, err := c.CreateLiteCase(ctx, liteInput())
			if n := srv.APIRequests() - before; n != tc.n {
				t.Errorf("%d requests; want %d", n, tc.n)
			}
			var fe *firstamlapi.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T); want *firstamlapi.Error", err, err)
			}
			if fe.StatusCode != tc.status || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "firstamlapi: CreateLiteCase: ") {
				t.Errorf("err = %v; want status %d mentioning %q", err, tc.status, tc.want)
			}
			if fe.RequestID == "" && !tc.fault.Reset {
				t.Error("no request id")
			}
			if tc.status == 429 && (fe.RetryAfter != 7*time.Second || !fe.Temporary()) {
				t.Errorf("RetryAfter = %v, Temporary = %v", fe.RetryAfter, fe.Temporary())
			}
			if tc.status == 401 && !fe.TokenExpired() {
				t.Error("TokenExpired = false for a 401")
			}
			if strings.Contains(err.Error(), srv.ClientSecret) {
				t.Error("the error carries the client secret")
			}
		})
	}
	if n := len(srv.Cases()); n != 1 {
		t.Errorf("%d cases; no failed call may create one", n)
	}

	t.Run("data without me", func(t *testing.T) {
		srv.Script(firstamltest.APICalls, 1, firstamltest.Fault{Status: 200, Body: `{"data":{"other":1}}`})
		_, err := c.Me(ctx)
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "no me result") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("oversized body", func(t *testing.T) {
		small := newClient(t, srv, option.WithMaxResponseBytes(64))
		_, err := small.Me(ctx)
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || fe.StatusCode != 200 || !strings.Contains(fe.Reason, "exceeds the 64-byte limit") {
			t.Errorf("err = %v; want a body error", err)
		}
	})

	t.Run("slow answer, caller's deadline", func(t *testing.T) {
		srv.Script(firstamltest.APICalls, 1, firstamltest.Slow(time.Minute))
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.CreateLiteCase(dctx, liteInput())
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want an *Error wrapping context.DeadlineExceeded", err)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.Me(cctx)
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || !errors.Is(err, context.Canceled) || fe.StatusCode != 0 {
			t.Errorf("err = %v; want an *Error wrapping context.Canceled", err)
		}
	})
}

func TestTokenErrors(t *testing.T) {
	srv := firstamltest.NewServer(t)
	ctx := context.Background()

	t.Run("refused credentials", func(t *testing.T) {
		const secret = "wrong-secret-value"
		c, err := firstamlapi.NewClient(srv.ClientID, secret, firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Me(ctx)
		var te *auth.TokenError
		var fe *firstamlapi.Error
		if !errors.As(err, &te) || te.StatusCode != 401 || te.Code != "access_denied" || !errors.As(err, &fe) {
			t.Fatalf("err = %v; want the token endpoint's 401 as an *auth.TokenError inside an *Error", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Error("the error carries the secret")
		}
	})

	t.Run("malformed token response", func(t *testing.T) {
		c := newClient(t, srv)
		srv.Script(firstamltest.TokenCalls, 1, firstamltest.Malformed())
		_, err := c.Token(ctx)
		var te *auth.TokenError
		if !errors.As(err, &te) || !strings.Contains(te.Reason, "not valid JSON") {
			t.Fatalf("err = %v; want a TokenError about the body", err)
		}
	})

	t.Run("HTML error page, retried", func(t *testing.T) {
		c := newClient(t, srv)
		srv.Script(firstamltest.TokenCalls, 1, firstamltest.HTML(503))
		before := srv.TokenRequests()
		tok, err := c.Token(ctx)
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("token = %v, %v; want the second attempt to succeed", tok, err)
		}
		if n := srv.TokenRequests() - before; n != 2 {
			t.Errorf("%d token requests; want 2", n)
		}
	})
}

func TestTokenRequestDoesNotFollowRedirectToAnotherOrigin(t *testing.T) {
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"x","token_type":"Bearer","expires_in":60}`)
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/oauth/token", http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	c, err := firstamlapi.NewClient("id", "the-secret", firstamlapi.WithTokenURL(api.URL+"/oauth/token"), firstamlapi.WithGraphQLURL(api.URL+"/graphql/"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Token(context.Background())
	var te *auth.TokenError
	if !errors.As(err, &te) || te.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(te.Reason, "not followed") {
		t.Errorf("err = %v; want a TokenError about the redirect", err)
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the other origin received %d token requests", n)
	}
}

func TestHTTPClientAuthenticatesAndSetsUserAgent(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	body, _ := json.Marshal(map[string]string{"query": "{ me { apiClientId } }"})
	resp, err := c.HTTPClient().Post(c.BaseURL(), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(got), srv.ClientID+"@clients") {
		t.Errorf("status %d, body %s", resp.StatusCode, got)
	}
}

func TestConstructor(t *testing.T) {
	c, err := firstamlapi.NewClient("id", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != firstamlapi.SandboxGraphQLURL || c.TokenURL() != firstamlapi.SandboxTokenURL {
		t.Errorf("default URLs %s, %s; want the sandbox", c.BaseURL(), c.TokenURL())
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "secret") {
			t.Errorf("%q shows the secret", s)
		}
	}
	for name, opts := range map[string][]option.Option{
		"token URL alone":            {firstamlapi.WithTokenURL("https://example.com/oauth/token")},
		"GraphQL URL alone":          {firstamlapi.WithGraphQLURL("https://example.com/graphql/")},
		"plain http":                 {firstamlapi.WithTokenURL("http://example.com/oauth/token"), firstamlapi.WithGraphQLURL("https://example.com/graphql/")},
		"token URL not /oauth/token": {firstamlapi.WithTokenURL("https://example.com/token"), firstamlapi.WithGraphQLURL("https://example.com/graphql/")},
		"nil client":                 {option.WithHTTPClient(nil)},
		"zero max body":              {option.WithMaxResponseBytes(0)},
		"line break in product":      {option.WithUserAgent("a\r\nX-Evil: 1")},
	} {
		if _, err := firstamlapi.NewClient("id", "secret", opts...); err == nil || !strings.HasPrefix(err.Error(), "firstamlapi: ") {
			t.Errorf("%s: err = %v; want a firstamlapi error", name, err)
		}
	}
	if _, err := firstamlapi.NewClient("", ""); err == nil {
		t.Error("no credentials accepted")
	}
	if _, err := firstamlapi.NewClient("", "", option.WithTokenSource(auth.StaticToken("tok", time.Time{}))); err != nil {
		t.Errorf("a token source needs no credentials: %v", err)
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		go func() { _, err := c.Me(ctx); errs <- err }()
		go func() { _, err := c.CaseDetails(ctx, firstamltest.SampleCaseID); errs <- err }()
	}
	for i := 0; i < 40; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for 40 concurrent calls; want 1", n)
	}
}

func TestLegacyApplicationJSONAnswers(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	// Before 2025-10-07 First AML answered application/json, and 200 even
	// for invalid requests; both must still work.
	srv.Script(firstamltest.APICalls, 1, firstamltest.Fault{Status: 200, ContentType: "application/json",
		Body: `{"data":{"me":{"apiClientId":"old@clients","friendlyApiClientName":"Old","scopes":[],"accessibleOrganizations":[]}}}`})
	me, err := c.Me(ctx)
	if err != nil || me.ApiClientId != "old@clients" {
		t.Fatalf("me = %+v, %v", me, err)
	}
	srv.Script(firstamltest.APICalls, 1, firstamltest.Fault{Status: 200, ContentType: "application/json",
		Body: `{"errors":[{"message":"Cannot query field \"x\" on type \"Me\".","locations":[{"line":1,"column":7}]}]}`})
	_, err = c.Me(ctx)
	var fe *firstamlapi.Error
	if !errors.As(err, &fe) || fe.StatusCode != 200 || len(fe.Errors) != 1 || !strings.Contains(fe.Errors[0].Message, `"x"`) {
		t.Errorf("err = %v; want the GraphQL error of the 200", err)
	}
}

func TestNoSecretInLogs(t *testing.T) {
	srv := firstamltest.NewServer(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, srv, option.WithLogger(logger))
	ctx := context.Background()
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Issuer.RevokeAccessTokens()
	srv.Script(firstamltest.APICalls, 2, firstamltest.Status(503))
	if _, err := c.Me(ctx); err != nil { // a 401 replay, two retries
		t.Fatal(err)
	}
	srv.Script(firstamltest.TokenCalls, 1, firstamltest.Malformed())
	srv.Issuer.RevokeAccessTokens()
	if _, err := c.Me(ctx); err == nil { // the token fetch fails
		t.Fatal("a malformed token response was accepted")
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	for _, secret := range []string{srv.ClientSecret, tok.AccessToken} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs contain a secret:\n%s", logs.String())
		}
	}
}
