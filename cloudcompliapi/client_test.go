package cloudcompliapi_test

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
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/option"
)

var fastRetry = option.WithRetryPolicy(auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

func creds(srv *cloudcomplitest.Server) cloudcompliapi.ClientCredentials {
	return cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret}
}

func newClient(t *testing.T, srv *cloudcomplitest.Server, opts ...option.Option) *cloudcompliapi.Client {
	t.Helper()
	opts = append([]option.Option{fastRetry}, opts...)
	c, err := cloudcompliapi.NewClient(srv.URL, creds(srv), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apiRequests(srv *cloudcomplitest.Server) []cloudcomplitest.Request {
	var out []cloudcomplitest.Request
	for _, r := range srv.Requests() {
		if !r.Token {
			out = append(out, r)
		}
	}
	return out
}

func TestClientCredentialsEndToEnd(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv, option.WithUserAgent("acme-inspections/2.1"))
	ctx := context.Background()
	projects, err := c.ListProjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 2 || projects[0].Id != cloudcomplitest.SampleProjectID || projects[0].ClassificationId != cloudcomplitest.SampleClassificationID {
		t.Fatalf("projects = %+v", projects)
	}
	if name, _ := projects[0].Get("name"); name != "Harbor Street Construction Site" {
		t.Errorf("project name = %v; want the additional property", name)
	}
	if _, err := c.GetCompany(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for two calls; want 1", n)
	}
	reqs := srv.Requests()
	tokenReq := reqs[0]
	if !tokenReq.Token || tokenReq.Path != "/oauth2/token" {
		t.Fatalf("first request = %s %s; want the token request", tokenReq.Method, tokenReq.Path)
	}
	if ct := tokenReq.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("token request Content-Type = %q", ct)
	}
	form, _ := url.ParseQuery(string(tokenReq.Body))
	want := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("token request form = %v; want %v (credentials in the body, as documented)", form, want)
	}
	if h := tokenReq.Header.Get("Authorization"); h != "" {
		t.Errorf("token request Authorization = %q; want none (AuthStyleInParams)", h)
	}
	api := reqs[1]
	if api.Path != "/api/v2/projects" || !strings.HasPrefix(api.Header.Get("Authorization"), "Bearer cc-at-") {
		t.Errorf("API request %s with Authorization %q", api.Path, api.Header.Get("Authorization"))
	}
	if ua := api.Header.Get("User-Agent"); !strings.HasPrefix(ua, "acme-inspections/2.1 complykit-go/") {
		t.Errorf("User-Agent = %q; want the product then the SDK", ua)
	}
	tok, err := c.Token(ctx)
	if err != nil || tok.ExpiresIn != 31536000 {
		t.Errorf("token = %+v, %v; want the documented one-year expires_in", tok, err)
	}
	if c.BaseURL() != srv.URL || c.TokenFetches() != 1 {
		t.Errorf("BaseURL %q, TokenFetches %d", c.BaseURL(), c.TokenFetches())
	}
}

// Each of the eight /api/v2 resources, end to end through auth/ and the
// spec-validating fake.
func TestResources(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	sample := cloudcomplitest.SampleData()

	user, err := c.GetUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if user["id"] != srv.ClientID || user["type"] != "api_client" {
		t.Errorf("user for a client credentials token = %v; want the API client's view", user)
	}
	company, err := c.GetCompany(ctx)
	if err != nil || company["name"] != sample.Company["name"] {
		t.Errorf("company = %v, %v", company, err)
	}
	projects, err := c.ListProjects(ctx)
	if err != nil || len(projects) != len(sample.Projects) {
		t.Fatalf("projects = %v, %v", projects, err)
	}
	cls, err := c.GetClassification(ctx, projects[0].ClassificationId)
	if err != nil {
		t.Fatal(err)
	}
	if len(cls.Forms) != 2 || cls.Forms[0].Name != cloudcomplitest.SampleFormName {
		t.Fatalf("classification forms = %+v", cls.Forms)
	}
	form, err := c.GetForm(ctx, cls.Forms[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if fields, _ := form["fields"].([]any); form["title"] != "Construction Site Inspection" || len(fields) != 4 {
		t.Errorf("form = %v", form)
	}
	pre, err := c.GetPrepopulateData(ctx, projects[0].Id, cls.Forms[0].Name)
	if err != nil || pre["inspector"] != "Ivy Inspector" {
		t.Errorf("prepopulate data = %v, %v", pre, err)
	}
	empty, err := c.GetPrepopulateData(ctx, projects[0].Id, "bmp-maintenance")
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("prepopulate data without suggestions = %#v, %v; want an empty non-nil map", empty, err)
	}

	entry, err := c.SubmitFormEntry(ctx, projects[0].Id, cls.Forms[0].Name, cloudcompliapi.FormEntryData{
		"inspector": "Ivy Inspector", "rain_event": true, "notes": "silt fence intact",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(entry.Id) != 24 {
		t.Errorf("entry id = %q; want a 24-hex id", entry.Id)
	}
	img := []byte("\x89PNG\r\n\x1a\n fake image bytes")
	photo, err := c.AttachPhoto(ctx, projects[0].Id, cls.Forms[0].Name, entry.Id, cloudcompliapi.PhotoAttachment{
		Image: img, MIMEType: "image/PNG; name=site.png", Description: "north outfall",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(photo.Data, img) {
		t.Errorf("photo data = %q; want the image back", photo.Data)
	}

	stored := srv.Entries()
	if len(stored) != 1 {
		t.Fatalf("fake stored %d entries; want 1", len(stored))
	}
	e := stored[0]
	if e.ID != entry.Id || e.Fields["rain_event"] != true || e.Fields["notes"] != "silt fence intact" {
		t.Errorf("stored entry = %+v", e)
	}
	if len(e.Photos) != 1 || e.Photos[0].MIMEType != "image/png" || e.Photos[0].Description != "north outfall" || !bytes.Equal(e.Photos[0].Data, img) {
		t.Errorf("stored photos = %+v", e.Photos)
	}
	// The wire format is the vendor sample's: a data: URI and its MIME type.
	var sent map[string]any
	last := apiRequests(srv)
	if err := json.Unmarshal(last[len(last)-1].Body, &sent); err != nil {
		t.Fatal(err)
	}
	if p, _ := sent["photo"].(string); !strings.HasPrefix(p, "data:image/png;base64,iVBORw0KGgo") || sent["mime_type"] != "image/png" {
		t.Errorf("photo request body = %v", sent)
	}

	// Unknown things are 404s with CloudCompli's error fields.
	for name, call := range map[string]func() error{
		"classification": func() error { _, err := c.GetClassification(ctx, "nope"); return err },
		"form":           func() error { _, err := c.GetForm(ctx, "nope"); return err },
		"project":        func() error { _, err := c.GetPrepopulateData(ctx, "nope", cloudcomplitest.SampleFormName); return err },
		"form of project": func() error {
			_, err := c.SubmitFormEntry(ctx, projects[0].Id, "industrial-inspection", nil)
			return err
		},
		"entry": func() error {
			_, err := c.AttachPhoto(ctx, projects[0].Id, cls.Forms[0].Name, "64b7f0c2a1e4d30000000099", cloudcompliapi.PhotoAttachment{Image: img, MIMEType: "image/png"})
			return err
		},
	} {
		err := call()
		var ce *cloudcompliapi.Error
		if !errors.As(err, &ce) || ce.StatusCode != 404 || ce.Code != "not_found" || ce.Description == "" || ce.RequestID == "" {
			t.Errorf("unknown %s: err = %v; want a 404 *Error with error fields and request id", name, err)
		}
	}
}

func TestTokenExpiryRefreshAheadAnd401(t *testing.T) {
	clock := cloudcomplitest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := cloudcomplitest.NewServer(t, cloudcomplitest.WithClock(clock), cloudcomplitest.WithTokenLifetime(100*time.Second))
	c := newClient(t, srv, option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	ctx := context.Background()
	if _, err := c.GetCompany(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Token(ctx)

	// Refresh ahead: past 75% of the life the call is served at once and
	// one background fetch replaces the token.
	clock.Advance(80 * time.Second)
	if _, err := c.GetCompany(ctx); err != nil {
		t.Fatal(err)
	}
	// Wait until the cache holds the new token, not merely until the fake
	// saw the request: the cache dates the token when it stores it.
	waitFor(t, func() bool { tok, err := c.Token(ctx); return err == nil && tok.AccessToken != first.AccessToken })
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests; want 2 (one refresh ahead)", n)
	}

	// Expiry: well past the new token's life, the call fetches a fresh
	// token before sending, so CloudCompli never sees an expired one.
	clock.Advance(200 * time.Second)
	if _, err := c.GetCompany(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("the fake answered 401 to %s: the client sent an expired token (%s)", r.Path, r.Error)
		}
	}

	// Revoked (Revoke All Tokens): a 401, one new token, the call replayed.
	before := srv.TokenRequests()
	srv.RevokeAllTokens()
	if _, err := c.GetCompany(ctx); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := srv.TokenRequests() - before; n != 1 {
		t.Errorf("%d token requests to recover from a 401; want 1", n)
	}

	// A POST is replayed after a 401 too: its body can be sent again.
	srv.RevokeAllTokens()
	entry, err := c.SubmitFormEntry(ctx, cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, cloudcompliapi.FormEntryData{"notes": "x"})
	if err != nil {
		t.Fatalf("POST after revocation: %v", err)
	}
	if got := srv.Entries(); len(got) != 1 || got[0].ID != entry.Id {
		t.Errorf("entries = %+v; want exactly the replayed one", got)
	}
}

// A token the fake does not know (say, the fake restarted) is a 401; the
// client gets a new one and the caller never notices.
func TestUnknownTokenRecovers(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	store := auth.NewMemoryStore()
	shared := option.WithCacheOptions(auth.CacheOptions{Key: "shared"})
	c := newClient(t, srv, option.WithStore(store), shared)
	if _, err := c.GetCompany(context.Background()); err != nil {
		t.Fatal(err)
	}
	other := cloudcomplitest.NewServer(t)
	// The same store and key, a server that never issued the stored token.
	c2, err := cloudcompliapi.NewClient(other.URL, creds(other), option.WithStore(store), shared, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.GetCompany(context.Background()); err != nil {
		t.Fatalf("with a token the server does not know: %v", err)
	}
	reqs := apiRequests(other)
	if len(reqs) != 2 || reqs[0].Status != 401 || reqs[1].Status != 200 || other.TokenRequests() != 1 {
		t.Errorf("requests: %+v, %d token requests; want a 401, one new token and a 200", reqs, other.TokenRequests())
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

func TestRetries(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.GetUser(ctx); err != nil { // warm the token
		t.Fatal(err)
	}

	srv.Script(cloudcomplitest.APICalls, 2, cloudcomplitest.TooManyRequests("0"))
	before := srv.APIRequests()
	if _, err := c.ListProjects(ctx); err != nil {
		t.Fatalf("after two 429s: %v; want success on the third attempt", err)
	}
	if n := srv.APIRequests() - before; n != 3 {
		t.Errorf("%d API requests; want 3 (two 429s, one success)", n)
	}

	// A POST that created nothing is still not retried on its own...
	srv.Script(cloudcomplitest.APICalls, 1, cloudcomplitest.TooManyRequests("7"))
	_, err := c.SubmitFormEntry(ctx, cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, cloudcompliapi.FormEntryData{"a": 1})
	var ce *cloudcompliapi.Error
	if !errors.As(err, &ce) || ce.StatusCode != 429 || ce.RetryAfter != 7*time.Second || !ce.Temporary() || ce.Code != "rate_limited" {
		t.Fatalf("err = %v; want a 429 *Error with RetryAfter 7s", err)
	}
	// ...unless the caller says a repeat is fine.
	srv.Script(cloudcomplitest.APICalls, 1, cloudcomplitest.TooManyRequests("0"))
	if _, err := c.SubmitFormEntry(auth.WithIdempotent(ctx), cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, cloudcompliapi.FormEntryData{"a": 1}); err != nil {
		t.Fatalf("idempotent POST after a 429: %v", err)
	}
	if n := len(srv.Entries()); n != 1 {
		t.Errorf("%d entries stored; want 1", n)
	}

	// A persistent 503 gives up after the policy's attempts.
	srv.Script(cloudcomplitest.APICalls, 4, cloudcomplitest.Status(503))
	before = srv.APIRequests()
	_, err = c.GetCompany(ctx)
	if !errors.As(err, &ce) || ce.StatusCode != 503 || ce.Code != "server_error" {
		t.Fatalf("err = %v; want a 503 *Error", err)
	}
	if n := srv.APIRequests() - before; n != 4 {
		t.Errorf("%d attempts; want 4", n)
	}
}

func TestUnusableResponses(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.GetUser(ctx); err != nil {
		t.Fatal(err)
	}
	big := `{"pad":"` + strings.Repeat("x", 4096) + `"}`
	small := newClient(t, srv, option.WithMaxResponseBytes(1024))
	for _, tc := range []struct {
		name   string
		client *cloudcompliapi.Client
		fault  cloudcomplitest.Fault
		status int
		want   string
	}{
		{"HTML error page", c, cloudcomplitest.HTML(500), 500, "not JSON (text/html)"},
		{"HTML 200 page", c, cloudcomplitest.HTML(200), 200, `Content-Type "text/html`},
		{"malformed JSON", c, cloudcomplitest.Malformed(), 200, "truncated or malformed"},
		{"wrong content type", c, cloudcomplitest.Fault{Status: 200, ContentType: "text/plain", Body: "ok"}, 200, `Content-Type "text/plain"`},
		{"null object", c, cloudcomplitest.Fault{Status: 200, Body: "null"}, 200, "null"},
		{"array for an object", c, cloudcomplitest.Fault{Status: 200, Body: `[1]`}, 200, "does not match the contract"},
		{"oversized body", small, cloudcomplitest.Fault{Status: 200, Body: big}, 200, "exceeds the 1024-byte limit"},
		{"empty error body", c, cloudcomplitest.Fault{Status: 400, Body: " "}, 400, "empty response body"},
		{"foreign error body", c, cloudcomplitest.Fault{Status: 400, Body: `{"message":"nope"}`}, 400, "not CloudCompli's error body"},
		{"connection reset mid-body", c, cloudcomplitest.Reset(), 200, "reading the response body failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Script(cloudcomplitest.APICalls, 1, tc.fault)
			_, err := tc.client.GetUser(ctx)
			var ce *cloudcompliapi.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T); want *cloudcompliapi.Error", err, err)
			}
			if ce.StatusCode != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want status %d mentioning %q", err, tc.status, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "cloudcompliapi: get user: ") {
				t.Errorf("err = %q; want the package and operation first", err)
			}
			if strings.Contains(err.Error(), srv.ClientSecret) {
				t.Error("the error carries the client secret")
			}
		})
	}

	// A slow server is bounded by the caller's context: no hang.
	srv.Script(cloudcomplitest.APICalls, 1, cloudcomplitest.Slow(10*time.Second))
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetUser(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: err = %v; want the context's deadline", err)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	const secret = "wrong-secret-value"
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background())
	var te *auth.TokenError
	if !errors.As(err, &te) || te.StatusCode != 401 || te.Code != "invalid_client" {
		t.Fatalf("err = %v; want the token endpoint's 401 as an *auth.TokenError", err)
	}
	if !strings.HasPrefix(err.Error(), "cloudcompliapi: get user: ") || strings.Contains(err.Error(), secret) {
		t.Errorf("err = %q; want the package first and no secret", err)
	}
	if n := srv.APIRequests(); n != 0 {
		t.Errorf("%d API requests without a token; want 0", n)
	}

	for _, tc := range []struct {
		name  string
		fault cloudcomplitest.Fault
		n     int // a temporary failure is retried by the default policy: 4 attempts
		want  string
	}{
		{"HTML page", cloudcomplitest.HTML(502), 4, "not JSON"},
		{"malformed token", cloudcomplitest.Malformed(), 1, "not valid JSON"},
		{"no access_token", cloudcomplitest.Fault{Status: 200, Body: `{"token_type":"Bearer","expires_in":31536000}`}, 1, "access_token"},
	} {
		good := newClient(t, srv) // a fresh cache: no backoff from the case before
		srv.Script(cloudcomplitest.TokenCalls, tc.n, tc.fault)
		before := srv.TokenRequests()
		_, err := good.Token(context.Background())
		if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want an *auth.TokenError mentioning %q", tc.name, err, tc.want)
		}
		if n := srv.TokenRequests() - before; n != tc.n {
			t.Errorf("%s: %d token requests; want %d", tc.name, n, tc.n)
		}
	}
	if _, err := newClient(t, srv).Token(context.Background()); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

func TestArgumentsCheckedBeforeSending(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	img := []byte{0xff, 0xd8, 0xff}
	p := cloudcomplitest.SampleProjectID
	f := cloudcomplitest.SampleFormName
	for name, call := range map[string]func() error{
		"empty classification id": func() error { _, err := c.GetClassification(ctx, ""); return err },
		"empty form name":         func() error { _, err := c.GetForm(ctx, ""); return err },
		"dot-dot project id":      func() error { _, err := c.GetPrepopulateData(ctx, "..", f); return err },
		"empty project id":        func() error { _, err := c.SubmitFormEntry(ctx, "", f, nil); return err },
		"empty entry id": func() error {
			_, err := c.AttachPhoto(ctx, p, f, "", cloudcompliapi.PhotoAttachment{Image: img, MIMEType: "image/jpeg"})
			return err
		},
		"empty image": func() error {
			_, err := c.AttachPhoto(ctx, p, f, "e1", cloudcompliapi.PhotoAttachment{MIMEType: "image/jpeg"})
			return err
		},
		"not an image type": func() error {
			_, err := c.AttachPhoto(ctx, p, f, "e1", cloudcompliapi.PhotoAttachment{Image: img, MIMEType: "application/pdf"})
			return err
		},
		"no MIME type": func() error {
			_, err := c.AttachPhoto(ctx, p, f, "e1", cloudcompliapi.PhotoAttachment{Image: img})
			return err
		},
		"unencodable field value": func() error {
			_, err := c.SubmitFormEntry(ctx, p, f, cloudcompliapi.FormEntryData{"ch": make(chan int)})
			return err
		},
		"wildcard image type": func() error {
			_, err := c.AttachPhoto(ctx, p, f, "e1", cloudcompliapi.PhotoAttachment{Image: img, MIMEType: "image/*"})
			return err
		},
	} {
		err := call()
		if !errors.Is(err, cloudcompliapi.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "cloudcompliapi: ") {
			t.Errorf("%s: err = %v; want an error wrapping ErrInvalidArgument", name, err)
		}
	}
	if n := srv.APIRequests() + srv.TokenRequests(); n != 0 {
		t.Errorf("%d requests sent for invalid arguments; want 0", n)
	}
}

func TestConstructorRefusesBadInput(t *testing.T) {
	good := cloudcompliapi.ClientCredentials{ClientID: "id", ClientSecret: "s3cr3t-good"}
	for name, tc := range map[string]struct {
		instance string
		creds    cloudcompliapi.Credentials
		opts     []option.Option
	}{
		"no instance":            {"", good, nil},
		"plain http":             {"http://example.compli.cloud", good, nil},
		"API path":               {"https://example.compli.cloud/api/v2", good, nil},
		"token path":             {"https://example.compli.cloud/oauth2/token", good, nil},
		"query":                  {"https://example.compli.cloud/?x=1", good, nil},
		"user info":              {"https://u:p@example.compli.cloud", good, nil},
		"no credentials":         {"https://example.compli.cloud", nil, nil},
		"no secret":              {"https://example.compli.cloud", cloudcompliapi.ClientCredentials{ClientID: "id"}, nil},
		"empty static token":     {"https://example.compli.cloud", cloudcompliapi.StaticToken{}, nil},
		"Bearer prefix":          {"https://example.compli.cloud", cloudcompliapi.StaticToken{Token: "Bearer abc"}, nil},
		"token with newline":     {"https://example.compli.cloud", cloudcompliapi.StaticToken{Token: "abc\r\nX-Evil: 1"}, nil},
		"user token without app": {"https://example.compli.cloud", cloudcompliapi.UserToken{Token: &oauth2Token}, nil},
		"user token without token": {"https://example.compli.cloud", cloudcompliapi.UserToken{App: cloudcompliapi.AuthCodeApp{
			ClientID: "a", ClientSecret: "b", RedirectURL: "https://app.example/cb"}}, nil},
		"credentials and source": {"https://example.compli.cloud", good, []option.Option{option.WithTokenSource(auth.StaticToken("t", time.Time{}))}},
		"nil source":             {"https://example.compli.cloud", nil, []option.Option{option.WithTokenSource(nil)}},
		"nil HTTP client":        {"https://example.compli.cloud", good, []option.Option{option.WithHTTPClient(nil)}},
		"zero max body":          {"https://example.compli.cloud", good, []option.Option{option.WithMaxResponseBytes(0)}},
		"user agent":             {"https://example.compli.cloud", good, []option.Option{option.WithUserAgent("a\r\nX-Evil: 1")}},
		"bad cache options":      {"https://example.compli.cloud", good, []option.Option{option.WithCacheOptions(auth.CacheOptions{RefreshAfter: 2})}},
	} {
		_, err := cloudcompliapi.NewClient(tc.instance, tc.creds, tc.opts...)
		if err == nil || !strings.HasPrefix(err.Error(), "cloudcompliapi: ") {
			t.Errorf("%s: err = %v; want a cloudcompliapi error", name, err)
			continue
		}
		for _, secret := range []string{"s3cr3t-good", "abc", "u:p"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: err = %q carries %q", name, err, secret)
			}
		}
	}

	// A bare host name means https; a trailing slash is dropped.
	for in, want := range map[string]string{
		"example.compli.cloud":          "https://example.compli.cloud",
		"https://example.compli.cloud/": "https://example.compli.cloud",
		"https://proxy.example/tenant/": "https://proxy.example/tenant",
	} {
		c, err := cloudcompliapi.NewClient(in, good)
		if err != nil || c.BaseURL() != want {
			t.Errorf("NewClient(%q): BaseURL %v, %v; want %s", in, c, err, want)
		}
	}
}

// The instance may sit under a path prefix (a proxy): every path,
// the token endpoint's included, is appended to it.
func TestInstanceUnderPathPrefix(t *testing.T) {
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/oauth2/token") {
			io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":31536000}`)
			return
		}
		io.WriteString(w, `{"_id":"e1","forms":[],"data":"aGk="}`)
	}))
	defer ts.Close()
	c, err := cloudcompliapi.NewClient(ts.URL+"/tenant/", cloudcompliapi.ClientCredentials{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetClassification(ctx, "c 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubmitFormEntry(ctx, "p/1", "f", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPhoto(ctx, "p1", "f", "e1", cloudcompliapi.PhotoAttachment{Image: []byte("x"), MIMEType: "image/gif"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /tenant/oauth2/token",
		"GET /tenant/api/v2/classifications/c%201",
		"POST /tenant/api/v2/projects/p%2F1/forms/f",
		"POST /tenant/api/v2/projects/p1/forms/f/photo/e1",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q; want %q", paths, want)
	}
}

// A 401 whose body is not JSON still says why, through its Bearer
// challenge (RFC 6750 section 3).
func TestErrorFromWWWAuthenticate(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "abc-1")
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="The token, it expired"`)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "<h1>401</h1>")
	}))
	defer ts.Close()
	c, err := cloudcompliapi.NewClient(ts.URL, cloudcompliapi.StaticToken{Token: "static-ui-token"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background())
	var ce *cloudcompliapi.Error
	if !errors.As(err, &ce) || !ce.TokenExpired() || ce.Code != "invalid_token" || ce.Description != "The token, it expired" || ce.RequestID != "abc-1" {
		t.Fatalf("err = %v (%+v); want the challenge's error fields", err, ce)
	}
	if !strings.Contains(err.Error(), "not JSON (text/html)") || strings.Contains(err.Error(), "static-ui-token") {
		t.Errorf("err = %q", err)
	}
}

// A server that echoes the token in its error body does not put it in the
// error.
func TestErrorScrubsEchoedToken(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"error": "forbidden", "error_description": "token " + r.Header.Get("Authorization") + " may not do this"})
	}))
	defer ts.Close()
	c, _ := cloudcompliapi.NewClient(ts.URL, cloudcompliapi.StaticToken{Token: "echoed-token-value"})
	_, err := c.GetCompany(context.Background())
	var ce *cloudcompliapi.Error
	if !errors.As(err, &ce) || ce.StatusCode != 403 || ce.Code != "forbidden" {
		t.Fatalf("err = %v; want a 403 *Error", err)
	}
	if strings.Contains(err.Error(), "echoed-token-value") || !strings.Contains(ce.Description, "[redacted]") {
		t.Errorf("err = %q; want the token redacted", err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret, token = "s3cr3t-value", "t0ken-value"
	app := cloudcompliapi.AuthCodeApp{ClientID: "app", ClientSecret: secret, RedirectURL: "https://app.example/cb"}
	values := []any{
		cloudcompliapi.ClientCredentials{ClientID: "id", ClientSecret: secret},
		&cloudcompliapi.ClientCredentials{ClientID: "id", ClientSecret: secret},
		cloudcompliapi.StaticToken{Token: token, Expiry: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		app,
		cloudcompliapi.UserToken{App: app, Token: &oauth2Token, Subject: "u1"},
		struct{ Creds cloudcompliapi.Credentials }{cloudcompliapi.ClientCredentials{ClientSecret: secret}},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, secret) || strings.Contains(s, token) || strings.Contains(s, oauth2Token.AccessToken) {
				t.Errorf("%s of %T = %s: carries a secret", verb, v, s)
			}
		}
	}
	if s := fmt.Sprint(values[0]); !strings.Contains(s, `ClientID:"id"`) || !strings.Contains(s, "[redacted]") {
		t.Errorf("String = %s; want the id shown and the secret redacted", s)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Token fetches, 401 replays, retries and failures are logged, and no log
// line carries a secret or a token.
func TestLogsCarryNoSecrets(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	var buf lockedBuffer
	logger := option.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()

	c := newClient(t, srv, logger)
	c.GetUser(ctx)
	srv.RevokeAllTokens()
	c.GetUser(ctx)
	srv.Script(cloudcomplitest.APICalls, 1, cloudcomplitest.TooManyRequests("0"))
	c.GetUser(ctx)
	static, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: srv.StaticToken}, logger)
	srv.RevokeAllTokens()
	static.GetUser(ctx)
	bad, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: "wrong-secret-value"}, logger)
	bad.GetUser(ctx)

	logs := buf.String()
	for _, want := range []string{"token fetched", "replaying once", "retrying"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	secrets := []string{srv.ClientSecret, "wrong-secret-value", srv.StaticToken}
	for _, r := range srv.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secrets = append(secrets, tok)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs carry a secret (%.6s...)", s)
		}
	}
}

func TestParseCallback(t *testing.T) {
	parse := func(raw, state string) (string, error) {
		u, _ := url.Parse(raw)
		return cloudcompliapi.ParseCallback(u, state)
	}
	if code, err := parse("https://app.example/cb?code=c1&state=s1", "s1"); err != nil || code != "c1" {
		t.Errorf("got %q, %v", code, err)
	}
	var ce *cloudcompliapi.Error
	_, err := parse("https://app.example/cb?error=access_denied&error_description=User+said+no&state=s1", "s1")
	if !errors.As(err, &ce) || ce.Code != "access_denied" || ce.Description != "User said no" || ce.Op != "authorize" {
		t.Errorf("refusal: err = %v", err)
	}
	if _, err := parse("https://app.example/cb?code=c1&state=evil", "s1"); !errors.As(err, &ce) || !strings.Contains(err.Error(), "state") {
		t.Errorf("state mismatch: err = %v", err)
	}
	if _, err := parse("https://app.example/cb?state=s1", "s1"); !errors.As(err, &ce) || !strings.Contains(err.Error(), "no code") {
		t.Errorf("no code: err = %v", err)
	}
	if _, err := cloudcompliapi.ParseCallback(nil, ""); !errors.Is(err, cloudcompliapi.ErrInvalidArgument) {
		t.Errorf("nil URL: err = %v", err)
	}
}

func TestFakeRejectsRequestsOutsideTheContract(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	post := func(path, ct, body, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := "application/x-www-form-urlencoded"
	cred := "&client_id=" + srv.ClientID + "&client_secret=" + srv.ClientSecret
	for name, tc := range map[string]struct {
		path, ct, body string
		status         int
		want           string
	}{
		"unsupported grant": {"/oauth2/token", form, "grant_type=password" + cred, 400, "grant_type"},
		"JSON token body":   {"/oauth2/token", "application/json", `{"grant_type":"client_credentials"}`, 400, "violates"},
		"exchange with response_type=token": {"/oauth2/token", form,
			"grant_type=authorization_code&response_type=token&code=x&redirect_uri=https%3A%2F%2Fapp.example%2Fcb" + cred, 400, "response_type"},
		"exchange without code": {"/oauth2/token", form, "grant_type=authorization_code&response_type=code" + cred, 400, "code and redirect_uri are required"},
		"photo not a data URI": {"/api/v2/projects/" + cloudcomplitest.SampleProjectID + "/forms/" + cloudcomplitest.SampleFormName + "/photo/e1",
			"application/json", `{"photo":"https://x/y.png","mime_type":"image/png"}`, 400, "photo"},
		"photo without mime_type": {"/api/v2/projects/" + cloudcomplitest.SampleProjectID + "/forms/" + cloudcomplitest.SampleFormName + "/photo/e1",
			"application/json", `{"photo":"data:image/png;base64,AAAA"}`, 400, "mime_type"},
		"form entry not an object": {"/api/v2/projects/" + cloudcomplitest.SampleProjectID + "/forms/" + cloudcomplitest.SampleFormName,
			"application/json", `["a"]`, 400, "violates"},
	} {
		status, body := post(tc.path, tc.ct, tc.body, srv.StaticToken)
		if status != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: got %d %s; want %d naming %q in an OAuth error body", name, status, body, tc.status, tc.want)
		}
	}
	resp, err := http.Get(srv.URL + "/api/v2/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestDoerReachesUnmodelledEndpoints(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv)
	resp, err := c.HTTPClient().Get(srv.URL + "/api/v2/company")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d through HTTPClient; want 200", resp.StatusCode)
	}
	if c.Doer().BaseURL().String() != srv.URL {
		t.Errorf("Doer origin %s; want %s", c.Doer().BaseURL(), srv.URL)
	}
}

// CloudCompli's documented requests (seed 003) send Accept: application/json,
// */* and Cache-Control: no-cache: so do the SDK's, token and API alike,
// and a caller's Accept on a call is not overridden.
func TestRequestsCarryTheDocumentedHeaders(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.GetUser(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, option.WithHeader("Accept", "application/json")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests; want a token request and two API requests", len(reqs))
	}
	for i, r := range reqs[:2] {
		if a, cc := r.Header.Get("Accept"), r.Header.Get("Cache-Control"); a != "application/json, */*" || cc != "no-cache" {
			t.Errorf("request %d (%s): Accept %q, Cache-Control %q; want the documented ones", i, r.Path, a, cc)
		}
	}
	if a := reqs[2].Header.Get("Accept"); a != "application/json" {
		t.Errorf("a call's own Accept was replaced: %q", a)
	}
}
