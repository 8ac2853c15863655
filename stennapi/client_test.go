package stennapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

var fastRetry = option.WithRetryPolicy(auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

func newClient(t *testing.T, srv *stenntest.Server, opts ...option.Option) *stennapi.Client {
	t.Helper()
	opts = append([]option.Option{stennapi.WithBaseURL(srv.URL), fastRetry}, opts...)
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListCompaniesEndToEnd(t *testing.T) {
	srv := stenntest.NewServer(t)
	c := newClient(t, srv, option.WithUserAgent("acme-billing/2.1"))
	got, err := c.ListCompanies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Id != "company_ZYfeeV3qxdmYoG" || *got[0].Address.City != "London" {
		t.Fatalf("companies = %+v", got)
	}
	if ct := got[1].Contacts.Data[0]; *ct.Email != "hank@globex.example" || !*ct.IsSignatory {
		t.Errorf("contact = %+v", ct)
	}
	if bl := got[1].BuyerLimit; bl == nil || *bl.TotalLimit != 250000 {
		t.Errorf("buyer limit = %+v", bl)
	}
	c.ListCompanies(context.Background())
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for two calls; want 1", n)
	}
	reqs := srv.Requests()
	tokenReq, apiReq := reqs[0], reqs[1]
	form, _ := url.ParseQuery(string(tokenReq.Body))
	if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != srv.ClientID || form.Get("client_secret") != srv.ClientSecret {
		t.Errorf("token request form = %v", form)
	}
	if ua := apiReq.Header.Get("User-Agent"); !strings.HasPrefix(ua, "acme-billing/2.1 complykit-go/") {
		t.Errorf("User-Agent = %q; want the product then the SDK and its version", ua)
	}
	if ua := tokenReq.Header.Get("User-Agent"); !strings.Contains(ua, "complykit-go/") {
		t.Errorf("token request User-Agent = %q", ua)
	}
}

func TestTokenExpiryRefreshAheadAnd401(t *testing.T) {
	clock := stenntest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := stenntest.NewServer(t, stenntest.WithClock(clock), stenntest.WithTokenLifetime(100*time.Second))
	c := newClient(t, srv, option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	ctx := context.Background()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}

	// Refresh ahead: past 75% of the life the call is served at once and one
	// background fetch replaces the token.
	first, _ := c.Token(ctx)
	clock.Advance(80 * time.Second)
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	// Wait until the cache holds the new token: moving the fake clock while
	// the refresh is still in flight would date it on the wrong side.
	waitFor(t, func() bool { tok, _ := c.Token(ctx); return tok.AccessToken != first.AccessToken })
	if n := srv.TokenRequests(); n != 2 {
		t.Fatalf("%d token requests; want 2 (one background refresh)", n)
	}

	// Expiry: well past the new token's life, the call fetches a fresh token
	// before sending, so Stenn never sees an expired one.
	clock.Advance(200 * time.Second)
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("the fake answered 401 to %s: the client sent an expired token", r.Path)
		}
	}

	// Revoked token: a 401, one new token, the call replayed.
	before := srv.TokenRequests()
	srv.Issuer.RevokeAccessTokens()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := srv.TokenRequests() - before; n != 1 {
		t.Errorf("%d token requests to recover from a 401; want 1", n)
	}
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

func TestRetriesAndErrors(t *testing.T) {
	srv := stenntest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	c.ListCompanies(ctx) // warm the token

	srv.Script(stenntest.APICalls, 2, stenntest.TooManyRequests("0"))
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatalf("after two 429s: %v; want success on the third attempt", err)
	}

	for _, tc := range []struct {
		name   string
		fault  stenntest.Fault
		n      int
		status int
		want   string
	}{
		{"402 request failed", stenntest.Status(402), 1, 402, "scripted 402"},
		{"persistent 503", stenntest.Status(503), 4, 503, "Service Unavailable"},
		{"HTML error page", stenntest.HTML(500), 1, 500, "not JSON (text/html)"},
		{"malformed JSON", stenntest.Malformed(), 1, 200, "truncated or malformed"},
		{"wrong content type", stenntest.Fault{Status: 200, ContentType: "text/plain", Body: "ok"}, 1, 200, `Content-Type "text/plain"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Script(stenntest.APICalls, tc.n, tc.fault)
			_, err := c.ListCompanies(ctx)
			var se *stennapi.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T); want *stennapi.Error", err, err)
			}
			if se.StatusCode != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want status %d mentioning %q", err, tc.status, tc.want)
			}
			if se.RequestID == "" {
				t.Error("no request id")
			}
			if strings.Contains(err.Error(), srv.ClientSecret) {
				t.Error("the error carries the client secret")
			}
		})
	}
}

func TestTokenRefusedIsAuthError(t *testing.T) {
	srv := stenntest.NewServer(t)
	c, err := stennapi.NewClient(srv.ClientID, "wrong-secret-value", stennapi.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListCompanies(context.Background())
	var te *auth.TokenError
	if !errors.As(err, &te) || te.StatusCode != 401 || !strings.Contains(err.Error(), "Invalid client credentials") {
		t.Fatalf("err = %v; want the token endpoint's 401 as an *auth.TokenError", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Error("the error carries the secret")
	}
}

func TestSandboxSwitchesBothURLs(t *testing.T) {
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":86400}`))
			return
		}
		// A bare array: the client accepts it as well as the list wrapper.
		w.Write([]byte(`[{"id":"company_1","object":"company","name":"Bare"}]`))
	}))
	defer ts.Close()
	c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(ts.URL+"/sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListCompanies(context.Background())
	if err != nil || len(got) != 1 || *got[0].Name != "Bare" {
		t.Fatalf("got %v, %v", got, err)
	}
	if strings.Join(paths, ",") != "/sandbox/auth/v1/token,/sandbox/v1/companies" {
		t.Errorf("paths = %v; want the sandbox token and API paths", paths)
	}
	live, _ := stennapi.NewClient("id", "secret")
	sandbox, _ := stennapi.NewClient("id", "secret", stennapi.WithSandbox())
	if live.BaseURL() != stennapi.LiveBaseURL || sandbox.BaseURL() != stennapi.SandboxBaseURL {
		t.Errorf("base URLs %s / %s", live.BaseURL(), sandbox.BaseURL())
	}
}

// Stenn documents a company's contacts both as an array (the attribute
// table) and as a list wrapper (the example): ListCompanies reads either,
// and the caller finds them in Contacts.Data the same way.
func TestContactsInEitherDocumentedForm(t *testing.T) {
	srv := stenntest.NewServer(t)
	c := newClient(t, srv)
	for name, body := range map[string]string{
		"bare array": `{"object":"list","data":[{"id":"company_1","object":"company","name":"Bare",` +
			`"contacts":[{"id":"contact_1","object":"contact","email":"hank@globex.example","is_signatory":true}]}]}`,
		"list wrapper": `{"object":"list","data":[{"id":"company_1","object":"company","name":"Wrapped",` +
			`"contacts":{"object":"list","data":[{"id":"contact_1","object":"contact","email":"hank@globex.example","is_signatory":true}]}}]}`,
		"both, in one list": `[{"id":"company_1","object":"company","contacts":[{"id":"contact_1","object":"contact","email":"hank@globex.example","is_signatory":true}]},` +
			`{"id":"company_2","object":"company","contacts":{"object":"list","data":[{"id":"contact_2","object":"contact","email":"hank@globex.example","is_signatory":true}]}}]`,
	} {
		srv.Script(stenntest.APICalls, 1, stenntest.Fault{Status: 200, Body: body})
		got, err := c.ListCompanies(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, co := range got {
			if co.Contacts == nil || len(co.Contacts.Data) != 1 || *co.Contacts.Data[0].Email != "hank@globex.example" || !*co.Contacts.Data[0].IsSignatory {
				t.Errorf("%s: company %s contacts = %+v; want hank", name, co.Id, co.Contacts)
			}
		}
	}
	// Anything else is still a contract error, not a silent empty list.
	srv.Script(stenntest.APICalls, 1, stenntest.Fault{Status: 200, Body: `{"object":"list","data":[{"id":"company_1","object":"company","contacts":"hank"}]}`})
	var se *stennapi.Error
	if _, err := c.ListCompanies(context.Background()); !errors.As(err, &se) || !strings.Contains(se.Reason, "contacts") {
		t.Errorf("contacts as a string: err = %v; want an *Error naming contacts", err)
	}
}

// A long list is decoded company by company from the network (the body is
// never held whole): the result is the same as for a short one, contacts
// in either form included, and the size cap still holds.
func TestLongListsAreStreamedWithTheSameResult(t *testing.T) {
	var companies []stennapi.Company
	for i := 0; i < 3000; i++ {
		name, email, yes := fmt.Sprintf("Company %d", i), fmt.Sprintf("c%d@example.com", i), true
		companies = append(companies, stennapi.Company{Id: fmt.Sprintf("company_%d", i), Object: "company", Name: &name,
			Contacts: &stenn.ContactList{Object: "list", Data: []stenn.Contact{{Id: fmt.Sprintf("contact_%d", i), Object: "contact", Email: &email, IsSignatory: &yes}}}})
	}
	srv := stenntest.NewServer(t, stenntest.WithCompanies(companies))
	c := newClient(t, srv)
	got, err := c.ListCompanies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(companies) || *got[2999].Name != "Company 2999" || *got[2999].Contacts.Data[0].Email != "c2999@example.com" {
		t.Fatalf("got %d companies; want %d, the last one intact", len(got), len(companies))
	}
	if r := srv.Requests(); len(r) == 0 || len(r[len(r)-1].Header) == 0 {
		t.Fatal("no request logged")
	}

	// Bare contacts arrays in a long list, streamed.
	var b strings.Builder
	b.WriteString(`{"object":"list","data":[`)
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"company_%d","object":"company","contacts":[{"id":"contact_%d","object":"contact","email":"c%d@example.com"}]}`, i, i, i)
	}
	b.WriteString(`]}`)
	srv.Script(stenntest.APICalls, 1, stenntest.Fault{Status: 200, Body: b.String()})
	got, err = c.ListCompanies(context.Background())
	if err != nil || len(got) != 3000 || got[1234].Contacts == nil || *got[1234].Contacts.Data[0].Email != "c1234@example.com" {
		t.Fatalf("bare contacts, streamed: %d companies, %v", len(got), err)
	}

	// The cap applies to a streamed list too: nothing partial comes back.
	small := newClient(t, srv, option.WithMaxResponseBytes(100<<10))
	got, err = small.ListCompanies(context.Background())
	var se *stennapi.Error
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "exceeds the 102400-byte limit") || got != nil {
		t.Errorf("over the cap: %d companies, %v; want an *Error naming the limit", len(got), err)
	}
	// A contacts field of the wrong type in a streamed list names it.
	srv.Script(stenntest.APICalls, 1, stenntest.Fault{Status: 200, Body: strings.Replace(b.String(), `"contacts":[{"id":"contact_7"`, `"contacts":"x","y":[{"id":"contact_7"`, 1)})
	if _, err := c.ListCompanies(context.Background()); !errors.As(err, &se) || !strings.Contains(se.Reason, `contacts`) {
		t.Errorf("bad contacts, streamed: %v; want an *Error naming contacts", err)
	}
}

func TestConstructorRefusesBadInput(t *testing.T) {
	for name, opts := range map[string][]option.Option{
		"plain http":   {stennapi.WithBaseURL("http://api.stenn.com")},
		"nil client":   {option.WithHTTPClient(nil)},
		"zero maxbody": {option.WithMaxResponseBytes(0)},
		"nil source":   {option.WithTokenSource(nil)},
		"user agent":   {option.WithUserAgent("a\r\nX-Evil: 1")},
	} {
		if _, err := stennapi.NewClient("id", "secret", opts...); err == nil || !strings.HasPrefix(err.Error(), "stennapi: ") {
			t.Errorf("%s: err = %v; want a stennapi error", name, err)
		}
	}
	if _, err := stennapi.NewClient("", ""); err == nil {
		t.Error("no credentials accepted")
	}
}

func TestFakeRejectsRequestsOutsideTheContract(t *testing.T) {
	srv := stenntest.NewServer(t)
	resp, err := http.PostForm(srv.TokenURL(), url.Values{"grant_type": {"password"}, "client_id": {"a"}, "client_secret": {"b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(buf.String(), "grant_type") {
		t.Errorf("got %d %s; want a 400 naming grant_type", resp.StatusCode, buf.String())
	}
	resp, _ = http.Get(srv.URL + "/v1/companies")
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: status %d; want 401", resp.StatusCode)
	}
}

func TestDoerReachesUnmodelledEndpoints(t *testing.T) {
	srv := stenntest.NewServer(t)
	c := newClient(t, srv)
	resp, err := c.HTTPClient().Get(srv.URL + "/v1/companies")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d through HTTPClient; want 200", resp.StatusCode)
	}
}
