package stemsapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"golang.org/x/oauth2"
)

var fastRetry = option.WithRetryPolicy(auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

func passwordCreds(srv *stemstest.Server) stemsapi.Credentials {
	return stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword)
}

// newClient returns a password-grant client for the default company.
func newClient(t *testing.T, srv *stemstest.Server, opts ...option.Option) *stemsapi.Client {
	t.Helper()
	opts = append([]option.Option{stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany(stemstest.DefaultCompany), fastRetry}, opts...)
	c, err := stemsapi.NewClient(srv.URL, passwordCreds(srv), opts...)
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

func tokenForms(srv *stemstest.Server) []url.Values {
	var out []url.Values
	for _, r := range srv.Requests() {
		if r.Path == "/auth/connect/token" {
			f, _ := url.ParseQuery(string(r.Body))
			out = append(out, f)
		}
	}
	return out
}

func grants(srv *stemstest.Server) []string {
	var out []string
	for _, f := range tokenForms(srv) {
		out = append(out, f.Get("grant_type"))
	}
	return out
}

func TestFirstCallEndToEnd(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv, option.WithUserAgent("acme-safety/2.1"))
	ctx := context.Background()
	got, err := c.ListHazards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := srv.Hazards(stemstest.DefaultCompany)
	if len(got) != len(want) || len(got) == 0 || got[0]["title"] != want[0]["title"] || got[0]["id"] != want[0]["id"] {
		t.Fatalf("hazards = %v; want %v", got, want)
	}
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for two calls; want 1", n)
	}

	reqs := srv.Requests()
	tokenReq, apiReq := reqs[0], reqs[1]
	form, _ := url.ParseQuery(string(tokenReq.Body))
	for k, v := range map[string]string{
		"grant_type": "password", "client_id": srv.ClientID, "client_secret": srv.ClientSecret,
		"username": stemstest.DefaultUsername, "password": stemstest.DefaultPassword,
		"scope": "openid resources_stems_api offline_access",
	} {
		if form.Get(k) != v {
			t.Errorf("token request %s = %q; want %q", k, form.Get(k), v)
		}
	}
	if a := tokenReq.Header.Get("Accept"); a != "application/json" {
		t.Errorf("token request Accept = %q; want application/json", a)
	}
	if ct := tokenReq.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("token request Content-Type = %q", ct)
	}
	if tokenReq.Header.Get(auth.HeaderCompanyContext) != "" {
		t.Error("the token request carries X-Company-Context")
	}
	if h := apiReq.Header.Get(auth.HeaderCompanyContext); h != stemstest.DefaultCompany {
		t.Errorf("X-Company-Context = %q; want %q", h, stemstest.DefaultCompany)
	}
	if az := apiReq.Header.Get("Authorization"); !strings.HasPrefix(az, "Bearer stems-at-") {
		t.Errorf("Authorization = %q; want a bearer token from the fake", az)
	}
	if ua := apiReq.Header.Get("User-Agent"); !strings.HasPrefix(ua, "acme-safety/2.1 complykit-go/") {
		t.Errorf("User-Agent = %q; want the product then the SDK", ua)
	}
	tok, err := c.Token(ctx)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("token %v, %v: want a refresh token (offline_access is a default scope)", tok, err)
	}
	if id, _ := c.IDToken(ctx); id != "" {
		t.Errorf("IDToken = %q after the password grant; the documented response has none", id)
	}
	if c.TokenFetches() != 1 {
		t.Errorf("TokenFetches = %d; want 1", c.TokenFetches())
	}
}

func TestExpiryRefreshAheadAndRotation(t *testing.T) {
	clock := stemstest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := stemstest.NewServer(t, stemstest.WithClock(clock), stemstest.WithTokenLifetime(100*time.Second))
	c := newClient(t, srv, option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	ctx := context.Background()
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Token(ctx)

	// Refresh ahead: past 75% of the life, the call is served with the
	// current token and one background refresh_token grant replaces it.
	clock.Advance(80 * time.Second)
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	var second *oauth2.Token
	waitFor(t, func() bool { // the background refresh replaces the token
		second, _ = c.Token(ctx)
		return second.AccessToken != first.AccessToken
	})
	if n := c.TokenFetches(); n != 2 {
		t.Errorf("TokenFetches = %d; want 2", n)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Error("the refresh token did not rotate")
	}
	idToken1 := stemsIDToken(t, c)
	if idToken1 == "" {
		t.Fatal("no id_token after a refresh; Stems sends one with every refresh")
	}

	// Expiry: well past the new token's life, the call refreshes before
	// sending, so the fake never sees an expired token.
	clock.Advance(200 * time.Second)
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	if idToken2 := stemsIDToken(t, c); idToken2 == "" || idToken2 == idToken1 {
		t.Errorf("id_token after the second refresh = %q; want a new one", idToken2)
	}
	if got := strings.Join(grants(srv), ","); got != "password,refresh_token,refresh_token" {
		t.Errorf("grants = %s; want one sign-in, then refreshes", got)
	}
	forms := tokenForms(srv)
	if forms[1].Get("refresh_token") != first.RefreshToken || forms[2].Get("refresh_token") != second.RefreshToken {
		t.Error("each refresh did not present the newest refresh token")
	}
	if forms[1].Get("client_secret") != srv.ClientSecret {
		t.Error("the refresh grant lacks client_secret (the docs require it)")
	}
	if n := srv.ReusedRefreshTokens(); n != 0 {
		t.Errorf("%d spent refresh tokens were presented again", n)
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("the fake answered 401 to %s: the client sent an expired token", r.Path)
		}
	}
}

// IdentityServer issues an id_token only to a grant with the openid scope,
// so DefaultScopes asks for it: without it, IDToken stays empty after a
// refresh, as it would against Stems.
func TestIDTokenNeedsTheOpenIDScope(t *testing.T) {
	if !slices.Contains(stemsapi.DefaultScopes(), "openid") {
		t.Fatal("DefaultScopes lacks openid: IDToken would stay empty")
	}
	for _, tc := range []struct {
		scopes []string
		want   bool
	}{
		{stemsapi.DefaultScopes(), true},
		{[]string{"resources_stems_api", "offline_access"}, false},
	} {
		clock := stemstest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		srv := stemstest.NewServer(t, stemstest.WithClock(clock), stemstest.WithTokenLifetime(100*time.Second))
		c := newClient(t, srv, stemsapi.WithScopes(tc.scopes...), option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
		ctx := context.Background()
		if _, err := c.ListHazards(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(200 * time.Second) // expired: the next call refreshes first
		if _, err := c.ListHazards(ctx); err != nil {
			t.Fatal(err)
		}
		if got := stemsIDToken(t, c) != ""; got != tc.want {
			t.Errorf("scopes %v: id_token after a refresh = %v; want %v", tc.scopes, got, tc.want)
		}
	}
}

func stemsIDToken(t *testing.T, c *stemsapi.Client) string {
	t.Helper()
	id, err := c.IDToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func Test401RecoveryAfterRevocation(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Issuer.RevokeAccessTokens()
	before := srv.TokenRequests()
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := srv.TokenRequests() - before; n != 1 {
		t.Errorf("%d token requests to recover from a 401; want 1", n)
	}
	reqs := srv.Requests()
	if last401 := reqs[len(reqs)-3]; last401.Status != http.StatusUnauthorized {
		t.Errorf("request before the new token: status %d; want the 401", last401.Status)
	}
	if g := grants(srv); g[len(g)-1] != "refresh_token" {
		t.Errorf("recovered with the %s grant; want refresh_token", g[len(g)-1])
	}

	// A POST is replayed after a 401 too, body included, and stored once.
	srv.Issuer.RevokeAccessTokens()
	before = len(srv.Hazards(stemstest.DefaultCompany))
	h, err := c.CreateHazard(ctx, stemsapi.Hazard{"title": "Trip hazard"})
	if err != nil || h["title"] != "Trip hazard" {
		t.Fatalf("POST after revocation: %v, %v", h, err)
	}
	if n := len(srv.Hazards(stemstest.DefaultCompany)) - before; n != 1 {
		t.Errorf("%d hazards stored by one replayed POST; want 1", n)
	}

	// Both tokens refused: the refresh token too. A password client signs in again.
	srv.Issuer.RevokeAccessTokens()
	srv.Issuer.RevokeRefreshTokens()
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatalf("after revoking the refresh token too: %v", err)
	}
	if g := grants(srv); strings.Join(g[len(g)-2:], ",") != "refresh_token,password" {
		t.Errorf("grants = %v; want a refused refresh, then a sign-in", g)
	}
}

func TestUnrecoverable401IsError(t *testing.T) {
	srv := stemstest.NewServer(t)
	// A static token the fake never issued: 401, no way to a new one.
	c, err := stemsapi.NewClient(srv.URL, stemsapi.TokenSource(auth.StaticToken("made-up", time.Time{})), stemsapi.WithCompany("234"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListHazards(context.Background())
	var se *stemsapi.Error
	if !errors.As(err, &se) || !se.TokenExpired() || se.Code != "invalid_token" || se.Message == "" {
		t.Fatalf("err = %v; want a 401 *stemsapi.Error with Stems' error body", err)
	}
}

func TestRetries(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.ListHazards(ctx); err != nil { // warm the token
		t.Fatal(err)
	}

	srv.Script(stemstest.APICalls, 2, stemstest.TooManyRequests("0"))
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatalf("after two 429s: %v; want success on the third attempt", err)
	}

	// A POST is not repeated on its own: it could create the hazard twice.
	srv.Script(stemstest.APICalls, 1, stemstest.TooManyRequests("7"))
	before := srv.APIRequests()
	_, err := c.CreateHazard(ctx, stemsapi.Hazard{"title": "Loose handrail"})
	var se *stemsapi.Error
	if !errors.As(err, &se) || se.StatusCode != 429 || se.RetryAfter != 7*time.Second || !se.Temporary() {
		t.Fatalf("err = %v; want the 429 with Retry-After 7s", err)
	}
	if n := srv.APIRequests() - before; n != 1 {
		t.Errorf("a POST was sent %d times after a 429; want 1", n)
	}
	srv.Script(stemstest.APICalls, 1, stemstest.TooManyRequests("0"))
	if _, err := c.CreateHazard(auth.WithIdempotent(ctx), stemsapi.Hazard{"title": "Loose handrail"}); err != nil {
		t.Fatalf("idempotent POST after a 429: %v", err)
	}
}

func TestBadResponses(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	huge := `[{"title":"` + strings.Repeat("x", 2048) + `"}]`
	small := newClient(t, srv, option.WithMaxResponseBytes(1024))
	for _, tc := range []struct {
		name   string
		client *stemsapi.Client
		fault  stemstest.Fault
		n      int
		status int
		want   string
	}{
		{"400 with Stems' body", c, stemstest.Status(400), 1, 400, "invalid_request: stemstest: scripted 400"},
		{"persistent 503", c, stemstest.Status(503), 4, 503, "Service Unavailable"},
		{"HTML error page", c, stemstest.HTML(502), 4, 502, "not JSON (text/html)"},
		{"malformed JSON", c, stemstest.Malformed(), 1, 200, "truncated or malformed"},
		{"wrong content type", c, stemstest.Fault{Status: 200, ContentType: "text/plain", Body: "ok"}, 1, 200, `Content-Type "text/plain"`},
		{"wrong shape", c, stemstest.Fault{Status: 200, Body: `{"hazards":[]}`}, 1, 200, "does not match the contract"},
		{"oversized body", small, stemstest.Fault{Status: 200, Body: huge}, 1, 200, "exceeds the 1024-byte limit"},
		{"empty error body", c, stemstest.Fault{Status: 404, Body: " "}, 1, 404, "empty response body"},
		{"foreign JSON error", c, stemstest.Fault{Status: 500, Body: `{"detail":"boom"}`}, 1, 500, "not Stems' error body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Script(stemstest.APICalls, tc.n, tc.fault)
			_, err := tc.client.ListHazards(ctx)
			var se *stemsapi.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T); want *stemsapi.Error", err, err)
			}
			if se.StatusCode != tc.status || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "stemsapi: list hazards: ") {
				t.Errorf("err = %v; want status %d mentioning %q", err, tc.status, tc.want)
			}
			if se.RequestID == "" {
				t.Error("no request id")
			}
			assertNoSecret(t, err.Error(), srv)
		})
	}

	t.Run("connection cut mid-body", func(t *testing.T) {
		srv.Script(stemstest.APICalls, 1, stemstest.Reset())
		_, err := c.ListHazards(ctx)
		var se *stemsapi.Error
		if !errors.As(err, &se) || !strings.Contains(se.Reason, "reading the response body failed") {
			t.Fatalf("err = %v; want an *Error saying the body was cut off", err)
		}
	})
	t.Run("server gone", func(t *testing.T) {
		gone := stemstest.NewServer(t)
		gc := newClient(t, gone)
		if _, err := gc.Token(ctx); err != nil {
			t.Fatal(err)
		}
		gone.Close()
		_, err := gc.ListHazards(ctx)
		var se *stemsapi.Error
		if err == nil || errors.As(err, &se) || !strings.HasPrefix(err.Error(), "stemsapi: list hazards: ") {
			t.Fatalf("err = %v; want a stemsapi transport error", err)
		}
	})
	t.Run("slow server and a deadline", func(t *testing.T) {
		srv.Script(stemstest.APICalls, 1, stemstest.Slow(2*time.Second))
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.ListHazards(dctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want the deadline", err)
		}
	})
}

func assertNoSecret(t *testing.T, s string, srv *stemstest.Server) {
	t.Helper()
	for _, secret := range []string{srv.ClientSecret, stemstest.DefaultPassword} {
		if strings.Contains(s, secret) {
			t.Errorf("%q carries a secret", s)
		}
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	srv := stemstest.NewServer(t)
	ctx := context.Background()

	wrong, err := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, "wrong-password-value"),
		stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany("234"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.ListHazards(ctx)
	var te *auth.TokenError
	if !errors.As(err, &te) || te.StatusCode != 400 || te.Code != "invalid_grant" || !auth.IsInvalidGrant(err) {
		t.Fatalf("err = %v; want the token endpoint's invalid_grant as an *auth.TokenError", err)
	}
	if strings.Contains(err.Error(), "wrong-password-value") || strings.Contains(err.Error(), srv.ClientSecret) {
		t.Errorf("the error carries a secret: %v", err)
	}

	for _, tc := range []struct {
		name  string
		fault stemstest.Fault
		n     int // token requests sent
		want  string
	}{
		{"HTML page (a WAF)", stemstest.HTML(403), 1, "error response is not JSON (text/html)"},
		{"malformed JSON", stemstest.Fault{Status: 200, Body: `{"access_token":`}, 1, "truncated or malformed"},
		{"no access token", stemstest.Fault{Status: 200, Body: `{"token_type":"Bearer"}`}, 1, "no access_token"},
		{"expires_in not a number", stemstest.Fault{Status: 200, Body: `{"access_token":"a","expires_in":"soon"}`}, 1, "expires_in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv) // a fresh cache: no backoff from the case before
			srv.Script(stemstest.TokenCalls, tc.n, tc.fault)
			before := srv.TokenRequests()
			_, err := c.ListHazards(ctx)
			var te *auth.TokenError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (%T); want an *auth.TokenError mentioning %q", err, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "stemsapi: list hazards: auth: token request (password grant) failed") {
				t.Errorf("err = %v", err)
			}
			if n := srv.TokenRequests() - before; n != tc.n {
				t.Errorf("%d token requests; want %d", n, tc.n)
			}
			// Right after a failure the client backs off: the next call
			// fails at once, says until when, and sends nothing.
			_, err = c.ListHazards(ctx)
			var be *auth.BackoffError
			if !errors.As(err, &be) || !errors.As(err, &te) || be.Until.IsZero() {
				t.Errorf("the call right after: %v; want an *auth.BackoffError wrapping the *auth.TokenError", err)
			}
			if n := srv.TokenRequests() - before; n != tc.n {
				t.Errorf("the call right after sent %d more token requests; want none", n-tc.n)
			}
		})
	}
	for _, r := range srv.Requests() {
		if !r.Token {
			t.Errorf("an API request was sent (%s %s) without a token", r.Method, r.Path)
		}
	}
}

func TestNoCompanyFailsBeforeSending(t *testing.T) {
	srv := stemstest.NewServer(t)
	c, err := stemsapi.NewClient(srv.URL, passwordCreds(srv), stemsapi.WithTokenURL(srv.TokenURL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := map[string]func(...option.CallOption) error{
		"ListHazards": func(o ...option.CallOption) error { _, err := c.ListHazards(ctx, o...); return err },
		"CreateHazard": func(o ...option.CallOption) error {
			_, err := c.CreateHazard(ctx, stemsapi.Hazard{"title": "x"}, o...)
			return err
		},
		"UpdateHazard": func(o ...option.CallOption) error {
			_, err := c.UpdateHazard(ctx, stemsapi.Hazard{"id": 1}, o...)
			return err
		},
		"ListHazardApprovalData": func(o ...option.CallOption) error { _, err := c.ListHazardApprovalData(ctx, o...); return err },
		"GetHazardApprovalData": func(o ...option.CallOption) error {
			_, err := c.GetHazardApprovalData(ctx, "1001", o...)
			return err
		},
		"CreateHazardForApproval": func(o ...option.CallOption) error {
			_, err := c.CreateHazardForApproval(ctx, &stemsapi.HazardApproval{}, o...)
			return err
		},
		"UpdateHazardForApproval": func(o ...option.CallOption) error {
			_, err := c.UpdateHazardForApproval(ctx, &stemsapi.HazardApproval{}, o...)
			return err
		},
		"CreateEventRequiringApproval": func(o ...option.CallOption) error {
			_, err := c.CreateEventRequiringApproval(ctx, &stemsapi.EventRecord{}, o...)
			return err
		},
		"UpdateEventRequiringApproval": func(o ...option.CallOption) error {
			_, err := c.UpdateEventRequiringApproval(ctx, "2001", &stemsapi.EventRecord{}, o...)
			return err
		},
		"ListEventForms": func(o ...option.CallOption) error { _, err := c.ListEventForms(ctx, "2001", o...); return err },
		"GetEventLookup": func(o ...option.CallOption) error { _, err := c.GetEventLookup(ctx, o...); return err },
	}
	for name, call := range calls {
		for _, opts := range [][]option.CallOption{nil, {stemsapi.Company("")}} {
			err := call(opts...)
			if !errors.Is(err, stemsapi.ErrNoCompany) || !errors.Is(err, auth.ErrNoCompany) {
				t.Errorf("%s%v: err = %v; want ErrNoCompany", name, opts, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "stemsapi: ") {
				t.Errorf("%s: err = %q", name, err)
			}
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the fake received %d requests; want none: a call without a company must fail before a token is even fetched", n)
	}
	if _, err := c.ListHazards(ctx, stemsapi.Company("2\r\nX-Evil: 1")); err == nil || errors.Is(err, stemsapi.ErrNoCompany) {
		t.Errorf("a company id with CRLF: err = %v; want an invalid company error", err)
	}
	if _, err := c.ListHazards(ctx, stemsapi.Company(stemstest.DefaultCompany)); err != nil {
		t.Errorf("with a per-call company: %v", err)
	}
}

func TestPerCallCompany(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	def, err := c.ListHazards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.ListHazards(ctx, stemsapi.Company(stemstest.OtherCompany))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(other) != fmt.Sprint(srv.Hazards(stemstest.OtherCompany)) || fmt.Sprint(other) == fmt.Sprint(def) {
		t.Errorf("hazards of company %s = %v; want that company's own", stemstest.OtherCompany, other)
	}
	var sent []string
	for _, r := range srv.Requests() {
		if !r.Token {
			sent = append(sent, r.Header.Get(auth.HeaderCompanyContext))
		}
	}
	if strings.Join(sent, ",") != stemstest.DefaultCompany+","+stemstest.OtherCompany {
		t.Errorf("X-Company-Context sent: %v", sent)
	}
	if c.Company() != stemstest.DefaultCompany {
		t.Errorf("the per-call company changed the default to %q", c.Company())
	}

	_, err = c.ListHazards(ctx, stemsapi.Company(stemstest.ForeignCompany))
	var se *stemsapi.Error
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden || se.Code != "forbidden" || !strings.Contains(se.Message, stemstest.ForeignCompany) {
		t.Fatalf("err = %v; want a 403 for a company the user is not a member of", err)
	}
	if se.Temporary() || se.TokenExpired() {
		t.Error("a 403 reported as temporary or as an expired token")
	}
}

func TestOperationsRoundTrip(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()

	created, err := c.CreateHazard(ctx, stemsapi.Hazard{"title": "Loose handrail", "location": "Stairwell B"})
	if err != nil {
		t.Fatal(err)
	}
	if created["id"] == nil || created["title"] != "Loose handrail" {
		t.Fatalf("created = %v; want the stored hazard with an id", created)
	}
	created["riskRating"] = "High"
	updated, err := c.UpdateHazard(ctx, created)
	if err != nil || updated["riskRating"] != "High" {
		t.Fatalf("update: %v, %v", updated, err)
	}
	list, err := c.ListHazards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := list[len(list)-1]; last["id"] != created["id"] || last["riskRating"] != "High" {
		t.Errorf("the list ends with %v; want the updated hazard", last)
	}
	if _, err := c.UpdateHazard(ctx, stemsapi.Hazard{"id": 424242}); !isStatus(err, 404) {
		t.Errorf("update of an unknown hazard: %v; want 404", err)
	}

	when := "2026-03-01T09:30:00Z"
	pending := stemsapi.HazardApproval{ReportedDate: &when}
	pending.Set("title", "Exposed wiring")
	sub, err := c.CreateHazardForApproval(ctx, &pending)
	if err != nil {
		t.Fatal(err)
	}
	rawID, ok := sub.Get("id")
	if !ok || sub.ReportedDate == nil || *sub.ReportedDate != when {
		t.Fatalf("submitted = %+v; want an id and the reportedDate", sub)
	}
	id := fmt.Sprint(rawID)
	got, err := c.GetHazardApprovalData(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if title, _ := got.Get("title"); title != "Exposed wiring" || got.Actions == nil {
		t.Errorf("approval data = %+v", got)
	}
	sub.Set("title", "Exposed wiring, plant room")
	if again, err := c.UpdateHazardForApproval(ctx, sub); err != nil {
		t.Fatal(err)
	} else if title, _ := again.Get("title"); title != "Exposed wiring, plant room" {
		t.Errorf("updated for approval = %+v", again)
	}
	all, err := c.ListHazardApprovalData(ctx)
	if err != nil || len(all) < 2 {
		t.Fatalf("approval data list: %v, %v", all, err)
	}
	if all[0].SuggestedActions == nil || len(*all[0].SuggestedActions) == 0 {
		t.Errorf("sample approval data lacks suggestedActions: %+v", all[0])
	}
	if _, err := c.GetHazardApprovalData(ctx, "no-such-id"); !isStatus(err, 404) {
		t.Errorf("unknown hazard: %v; want 404", err)
	}

	var formID stemsapi.EventFormId
	if err := formID.FromNumericId(2); err != nil {
		t.Fatal(err)
	}
	sh, info := "Pallet dropped from racking", "No injuries."
	ev, err := c.CreateEventRequiringApproval(ctx, &stemsapi.EventRecord{EventDetails: &stemsapi.EventDetails{
		EventFormId: &formID, Subheading: &sh, AdditionalInformation: &info,
	}})
	if err != nil {
		t.Fatal(err)
	}
	evID, ok := ev.Get("id")
	if !ok || ev.EventDetails == nil || *ev.EventDetails.Subheading != sh {
		t.Fatalf("event = %+v", ev)
	}
	if n, err := ev.EventDetails.EventFormId.AsNumericId(); err != nil || n != 2 {
		t.Errorf("eventFormId = %v, %v; want 2", n, err)
	}
	sh2 := "Pallet dropped from racking, aisle 4"
	ev.EventDetails.Subheading = &sh2
	upd, err := c.UpdateEventRequiringApproval(ctx, fmt.Sprint(evID), ev)
	if err != nil || *upd.EventDetails.Subheading != sh2 {
		t.Fatalf("update event: %+v, %v", upd, err)
	}
	forms, err := c.ListEventForms(ctx, fmt.Sprint(evID))
	if err != nil || len(forms) != 1 || *forms[0].Subheading != sh2 {
		t.Fatalf("forms: %+v, %v", forms, err)
	}
	if _, err := c.ListEventForms(ctx, "999999"); !isStatus(err, 404) {
		t.Errorf("forms of an unknown event: %v; want 404", err)
	}
	if evs := srv.Events(stemstest.DefaultCompany); len(evs) != 2 {
		t.Errorf("the fake holds %d events; want the sample and the new one", len(evs))
	}
	lookup, err := c.GetEventLookup(ctx)
	if err != nil || lookup.EventRecordForms == nil || len(*lookup.EventRecordForms) == 0 {
		t.Fatalf("lookup: %+v, %v", lookup, err)
	}

	// Ids that would change the path are refused before anything is sent.
	for _, bad := range []string{"", ".", ".."} {
		before := len(srv.Requests())
		if _, err := c.GetHazardApprovalData(ctx, bad); err == nil {
			t.Errorf("id %q accepted", bad)
		}
		if len(srv.Requests()) != before {
			t.Errorf("id %q: a request was sent", bad)
		}
	}
}

func TestIDsAreEscaped(t *testing.T) {
	var uris []string
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/auth/connect/token" {
			w.Write([]byte(`{"access_token":"tok-123456","token_type":"Bearer","expires_in":1800}`))
			return
		}
		mu.Lock()
		uris = append(uris, r.RequestURI)
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/forms"):
			w.Write([]byte(`[]`))
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer ts.Close()
	c, err := stemsapi.NewClient(ts.URL+"/v3", stemsapi.Password("id", "secret", "u", "p"),
		stemsapi.WithTokenURL(ts.URL+"/auth/connect/token"), stemsapi.WithCompany("234"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ListEventForms(ctx, "a/b?c"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetHazardApprovalData(ctx, "7 8"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateEventRequiringApproval(ctx, "../x", &stemsapi.EventRecord{}); err != nil {
		t.Fatal(err)
	}
	want := "/v3/events/a%2Fb%3Fc/forms,/v3/hazards/7%208/approvalData,/v3/events/..%2Fx/requireapproval"
	if got := strings.Join(uris, ","); got != want {
		t.Errorf("request URIs = %s; want %s", got, want)
	}
}

func isStatus(err error, status int) bool {
	var se *stemsapi.Error
	return errors.As(err, &se) && se.StatusCode == status
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	clock := stemstest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := stemstest.NewServer(t, stemstest.WithClock(clock), stemstest.WithClient("stems-native-app", ""))
	ctx := context.Background()
	const redirect = "http://127.0.0.1:7777/callback"
	flow, err := stemsapi.NewAuthCodeFlow(srv.ClientID, "", redirect,
		stemsapi.WithAuthURL(srv.AuthorizeURL()), stemsapi.WithTokenURL(srv.TokenURL()))
	if err != nil {
		t.Fatal(err)
	}
	authURL, verifier := flow.AuthCodeURL("state-123")
	u, _ := url.Parse(authURL)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || verifier == "" {
		t.Errorf("authorize URL %s: want an S256 PKCE challenge", authURL)
	}
	if q.Get("scope") != "openid resources_stems_api offline_access" || q.Get("response_type") != "code" || q.Get("redirect_uri") != redirect {
		t.Errorf("authorize URL query = %v", q)
	}

	code := authorize(t, srv, flow, authURL, "state-123")
	if _, err := flow.Exchange(ctx, code, strings.Repeat("x", 43)); !auth.IsInvalidGrant(err) {
		t.Fatalf("exchange with the wrong verifier: %v; want invalid_grant", err)
	}
	code = authorize(t, srv, flow, authURL, "state-123") // a code is single-use, even after a failed exchange
	tok, err := flow.Exchange(ctx, code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if auth.IDToken(tok) == "" || tok.RefreshToken == "" {
		t.Fatalf("exchange gave %v; want an id_token and a refresh token", tok)
	}
	forms := tokenForms(srv)
	if f := forms[len(forms)-1]; f.Get("code_verifier") != verifier || f.Get("redirect_uri") != redirect || f.Has("client_secret") {
		t.Errorf("exchange form = %v; want the verifier, the redirect URI and no secret (public client)", f)
	}

	c, err := stemsapi.NewClient(srv.URL, stemsapi.AuthorizedUser(flow, tok), stemsapi.WithCompany("234"),
		option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(tokenForms(srv)); n != len(forms) {
		t.Errorf("%d token requests after the exchange; the client must use the exchanged token", n-len(forms))
	}
	id1 := stemsIDToken(t, c)
	clock.Advance(31 * time.Minute)
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if g := grants(srv); g[len(g)-1] != "refresh_token" {
		t.Errorf("renewed with %s; want refresh_token", g[len(g)-1])
	}
	if id2 := stemsIDToken(t, c); id2 == "" || id2 == id1 {
		t.Error("the id_token did not change with the refresh")
	}

	if srv.ReusedRefreshTokens() != 0 {
		t.Errorf("%d refresh tokens reused", srv.ReusedRefreshTokens())
	}

	// With the refresh token revoked, the user has to sign in again.
	srv.Issuer.RevokeRefreshTokens()
	clock.Advance(31 * time.Minute)
	if _, err := c.ListHazards(ctx); !auth.IsInvalidGrant(err) {
		t.Errorf("after the refresh token was revoked: %v; want invalid_grant", err)
	}
}

// authorize plays the browser: it opens the authorize URL and returns the
// code from the redirect, checking state.
// authorize signs the fake's user in as a browser would and reads the code
// from the callback the way an app does, with the flow's ReadCallback.
func authorize(t *testing.T, srv *stemstest.Server, flow *auth.AuthCodeFlow, authURL, state string) string {
	t.Helper()
	callback, err := srv.SignIn(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	code, err := flow.ReadCallback(callback, state)
	if err != nil {
		t.Fatalf("callback %s %s: %v", callback.Method, callback.URL, err)
	}
	return code
}

// Stems answers the code in the URL fragment without a response mode,
// which never reaches a server: the flow asks for form_post by default,
// query on request, and ReadCallback reads either.
func TestAuthorizationCodeResponseModes(t *testing.T) {
	srv := stemstest.NewServer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		opts   []option.Option
		mode   string
		method string
	}{
		{nil, "form_post", http.MethodPost},
		{[]option.Option{stemsapi.WithResponseMode(auth.ResponseModeQuery)}, "query", http.MethodGet},
	} {
		flow, err := stemsapi.NewAuthCodeFlow(srv.ClientID, srv.ClientSecret, "https://app.example/callback",
			append(tc.opts, stemsapi.WithAuthURL(srv.AuthorizeURL()), stemsapi.WithTokenURL(srv.TokenURL()))...)
		if err != nil {
			t.Fatal(err)
		}
		authURL, state, verifier := flow.NewAuthCodeURL()
		u, _ := url.Parse(authURL)
		if got := u.Query().Get("response_mode"); got != tc.mode {
			t.Errorf("authorize URL response_mode = %q; want %q", got, tc.mode)
		}
		callback, err := srv.SignIn(ctx, authURL)
		if err != nil {
			t.Fatal(err)
		}
		if callback.Method != tc.method {
			t.Errorf("%s: the callback is a %s; want %s", tc.mode, callback.Method, tc.method)
		}
		code, err := flow.ReadCallback(callback, state)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if _, err := flow.Exchange(ctx, code, verifier); err != nil {
			t.Errorf("%s: exchange: %v", tc.mode, err)
		}
		if _, err := flow.ReadCallback(callback, "another-session's-state"); !errors.Is(err, auth.ErrStateMismatch) {
			t.Errorf("%s: a callback for another state: %v; want ErrStateMismatch", tc.mode, err)
		}
	}
	// Without a response mode, a server sees no code at all: why the
	// default is form_post.
	flow, _ := stemsapi.NewAuthCodeFlow(srv.ClientID, srv.ClientSecret, "https://app.example/callback",
		stemsapi.WithAuthURL(srv.AuthorizeURL()), stemsapi.WithTokenURL(srv.TokenURL()))
	authURL, state, _ := flow.NewAuthCodeURL()
	bare, _ := url.Parse(authURL)
	q := bare.Query()
	q.Del("response_mode")
	bare.RawQuery = q.Encode()
	callback, err := srv.SignIn(ctx, bare.String())
	if err != nil {
		t.Fatal(err)
	}
	if code, err := flow.ReadCallback(callback, state); err == nil || callback.URL.Query().Has("code") {
		t.Errorf("fragment answer: code %q, %v; want no code and an error (it stayed in the fragment)", code, err)
	}
	if _, err := stemsapi.NewAuthCodeFlow(srv.ClientID, "", "https://app.example/cb", stemsapi.WithResponseMode("fragment")); err == nil {
		t.Error("WithResponseMode(fragment) accepted")
	}
	if _, err := stemsapi.NewClient(srv.URL, srv.Credentials(), append(srv.ClientOptions(), stemsapi.WithResponseMode("query"))...); err == nil {
		t.Error("NewClient accepted WithResponseMode, which applies to NewAuthCodeFlow only")
	}
}

func TestAuthorizedUsersSharingAStore(t *testing.T) {
	srv := stemstest.NewServer(t, stemstest.WithUser("ann@example.com", "ann-password", "234"))
	ctx := context.Background()
	flow, err := stemsapi.NewAuthCodeFlow(srv.ClientID, srv.ClientSecret, "https://app.example/callback",
		stemsapi.WithAuthURL(srv.AuthorizeURL()), stemsapi.WithTokenURL(srv.TokenURL()))
	if err != nil {
		t.Fatal(err)
	}
	store := auth.NewMemoryStore()
	var access []string
	for _, user := range []string{stemstest.DefaultUsername, "ann@example.com"} {
		authURL, verifier := flow.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", user))
		tok, err := flow.Exchange(ctx, authorize(t, srv, flow, authURL, "s"), verifier)
		if err != nil {
			t.Fatal(err)
		}
		c, err := stemsapi.NewClient(srv.URL, stemsapi.AuthorizedUser(flow, tok), stemsapi.WithCompany("234"), option.WithStore(store))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		access = append(access, got.AccessToken)
		if got.AccessToken != tok.AccessToken {
			t.Errorf("%s's client uses another token from the shared store", user)
		}
	}
	if access[0] == access[1] {
		t.Error("two users got the same access token")
	}
}

func TestConstructorRefusesBadInput(t *testing.T) {
	creds := stemsapi.Password("id", "client-secret-1", "user@example.com", "password-1")
	flowOK, err := stemsapi.NewAuthCodeFlow("id", "", "https://app.example/cb")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		base  string
		creds stemsapi.Credentials
		opts  []option.Option
	}{
		"no base URL":           {"", creds, nil},
		"plain http":            {"http://api.comply-one.com/v3", creds, nil},
		"base with query":       {"https://api.example/v3?x=1", creds, nil},
		"relative base":         {"/v3", creds, nil},
		"nil credentials":       {"https://api.example", nil, nil},
		"nil password creds":    {"https://api.example", (*stemsapi.PasswordCredentials)(nil), nil},
		"missing password":      {"https://api.example", stemsapi.Password("id", "secret", "user", ""), nil},
		"missing client secret": {"https://api.example", stemsapi.Password("id", "", "user", "pw"), nil},
		"nil token source":      {"https://api.example", stemsapi.TokenSource(nil), nil},
		"nil flow":              {"https://api.example", stemsapi.AuthorizedUser(nil, &oauth2.Token{AccessToken: "a"}), nil},
		"nil token":             {"https://api.example", stemsapi.AuthorizedUser(flowOK, nil), nil},
		"empty company":         {"https://api.example", creds, []option.Option{stemsapi.WithCompany("")}},
		"company with newline":  {"https://api.example", creds, []option.Option{stemsapi.WithCompany("234\n")}},
		"http token URL":        {"https://api.example", creds, []option.Option{stemsapi.WithTokenURL("http://accounts.stems.com.au/auth/connect/token")}},
		"no scopes":             {"https://api.example", creds, []option.Option{stemsapi.WithScopes()}},
		"scope with space":      {"https://api.example", creds, []option.Option{stemsapi.WithScopes("a b")}},
		"nil http client":       {"https://api.example", creds, []option.Option{option.WithHTTPClient(nil)}},
		"zero max body":         {"https://api.example", creds, []option.Option{option.WithMaxResponseBytes(0)}},
		"user agent CRLF":       {"https://api.example", creds, []option.Option{option.WithUserAgent("a\r\nb")}},
		"auth URL on a client":  {"https://api.example", creds, []option.Option{stemsapi.WithAuthURL("https://x.example")}},
		"token URL for a flow":  {"https://api.example", stemsapi.AuthorizedUser(flowOK, &oauth2.Token{AccessToken: "a"}), []option.Option{stemsapi.WithTokenURL("https://x.example/t")}},
		"bad refresh share":     {"https://api.example", creds, []option.Option{option.WithCacheOptions(auth.CacheOptions{RefreshAfter: 2})}},
		"nil option":            {"https://api.example", creds, []option.Option{nil}},
	} {
		c, err := stemsapi.NewClient(tc.base, tc.creds, tc.opts...)
		if err == nil || c != nil || !strings.HasPrefix(err.Error(), "stemsapi: ") {
			t.Errorf("%s: err = %v; want a stemsapi error", name, err)
		}
		if err != nil && (strings.Contains(err.Error(), "client-secret-1") || strings.Contains(err.Error(), "password-1")) {
			t.Errorf("%s: error carries a secret: %v", name, err)
		}
	}
	for name, opts := range map[string][]option.Option{
		"company":      {stemsapi.WithCompany("234")},
		"store":        {option.WithStore(auth.NewMemoryStore())},
		"missing auth": {stemsapi.WithAuthURL("http://example.com/authorize")},
	} {
		if _, err := stemsapi.NewAuthCodeFlow("id", "", "https://app.example/cb", opts...); err == nil || !strings.HasPrefix(err.Error(), "stemsapi: auth code flow: ") {
			t.Errorf("NewAuthCodeFlow with %s: err = %v", name, err)
		}
	}
	if _, err := stemsapi.NewAuthCodeFlow("", "", "https://app.example/cb"); err == nil {
		t.Error("NewAuthCodeFlow without a client id accepted")
	}
	c, err := stemsapi.NewClient("https://api.example/v3/", creds)
	if err != nil || c.BaseURL() != "https://api.example/v3" {
		t.Errorf("BaseURL = %v, %v; want the trailing slash trimmed", c, err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	creds := stemsapi.Password("client-1", "client-secret-value", "user@example.com", "password-value")
	var logs bytes.Buffer
	srv := stemstest.NewServer(t)
	c, err := stemsapi.NewClient(srv.URL, stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
		stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany("234"),
		option.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	srv.Issuer.RevokeAccessTokens()
	c.ListHazards(context.Background())
	srv.Issuer.RevokeAccessTokens()
	c.ListHazards(context.Background())
	tok, _ := c.Token(context.Background())
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s %v %+v %#v", creds, creds, creds, creds, *creds, *creds, *creds),
		fmt.Sprintf("%v %+v", []stemsapi.Credentials{creds}, map[string]any{"c": creds}),
		fmt.Sprintf("%v %#v", stemsapi.AuthorizedUser(nil, &oauth2.Token{AccessToken: "access-token-value"}), stemsapi.AuthorizedUser(nil, &oauth2.Token{AccessToken: "access-token-value"})),
		logs.String(),
	} {
		for _, secret := range []string{"client-secret-value", "password-value", "access-token-value", srv.ClientSecret, stemstest.DefaultPassword, tok.AccessToken, tok.RefreshToken} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows a secret", s)
			}
		}
	}
	if !strings.Contains(logs.String(), "token") {
		t.Error("no token log line; the logger was not used")
	}
}

func TestScopesWithoutOfflineAccess(t *testing.T) {
	clock := stemstest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	srv := stemstest.NewServer(t, stemstest.WithClock(clock))
	c := newClient(t, srv, stemsapi.WithScopes("resources_stems_api"), option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	ctx := context.Background()
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(grants(srv), ","); got != "password,password" {
		t.Errorf("grants = %s; without offline_access there is no refresh token, so the client signs in again", got)
	}
	bad := newClient(t, srv, stemsapi.WithScopes("resources_stems_api", "admin"))
	var te *auth.TokenError
	if _, err := bad.ListHazards(ctx); !errors.As(err, &te) || te.Code != "invalid_scope" {
		t.Errorf("unknown scope: %v; want invalid_scope", err)
	}
}

func TestHTTPClientAddsCompanyAndCredentials(t *testing.T) {
	srv := stemstest.NewServer(t)
	c := newClient(t, srv)
	resp, err := c.HTTPClient().Get(srv.URL + "/events/lookup")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d through HTTPClient; want 200", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/hazards", nil)
	req.Header.Set(auth.HeaderCompanyContext, stemstest.OtherCompany)
	resp, err = c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := srv.Requests()
	if h := reqs[len(reqs)-1].Header.Get(auth.HeaderCompanyContext); h != stemstest.OtherCompany {
		t.Errorf("X-Company-Context = %q; the caller's header must win", h)
	}
	if ua := reqs[len(reqs)-1].Header.Get("User-Agent"); !strings.Contains(ua, "complykit-go/") {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestCompanyAndTokenStayOnTheOrigin(t *testing.T) {
	var leaked atomic.Value
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") + "|" + r.Header.Get(auth.HeaderCompanyContext))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	defer elsewhere.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/connect/token" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"tok-123456","token_type":"Bearer","expires_in":1800}`))
			return
		}
		http.Redirect(w, r, elsewhere.URL+"/hazards", http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	c, err := stemsapi.NewClient(api.URL, stemsapi.Password("id", "secret", "u", "p"),
		stemsapi.WithTokenURL(api.URL+"/auth/connect/token"), stemsapi.WithCompany("234"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListHazards(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := leaked.Load().(string); got != "|" {
		t.Errorf("the other origin received Authorization|X-Company-Context = %q; want neither", got)
	}
}

func TestFakeRejectsRequestsOutsideTheContract(t *testing.T) {
	srv := stemstest.NewServer(t)
	post := func(form url.Values, header map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return send(t, req)
	}
	good := url.Values{"grant_type": {"password"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret},
		"username": {stemstest.DefaultUsername}, "password": {stemstest.DefaultPassword}, "scope": {"resources_stems_api"}}
	if status, body := post(good, nil); status != 400 || !strings.Contains(body, "Accept") {
		t.Errorf("no Accept: %d %s; want a 400 naming Accept", status, body)
	}
	if status, body := post(good, map[string]string{"Accept": "application/json"}); status != 200 || !strings.Contains(body, "access_token") || strings.Contains(body, "refresh_token") {
		t.Errorf("with Accept: %d %s; want a token without a refresh token (no offline_access)", status, body)
	}
	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ClientID}}
	if status, body := post(bad, map[string]string{"Accept": "application/json"}); status != 400 || !strings.Contains(body, "grant_type") {
		t.Errorf("client_credentials: %d %s; want a 400 naming grant_type", status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(`{"grant_type":"password"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if status, _ := send(t, req); status != 400 {
		t.Errorf("JSON token request: status %d; want 400", status)
	}

	c := newClient(t, srv)
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/hazards", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if status, body := send(t, req); status != 400 || !strings.Contains(body, "X-Company-Context") {
		t.Errorf("no X-Company-Context: %d %s; want a 400 naming it", status, body)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/hazards", nil)
	req.Header.Set(auth.HeaderCompanyContext, "234")
	if status, body := send(t, req); status != 401 || !strings.Contains(body, `"error":"invalid_token"`) {
		t.Errorf("no token: %d %s; want 401 with Stems' error body", status, body)
	}
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/hazards", strings.NewReader(`[1,2]`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set(auth.HeaderCompanyContext, "234")
	req.Header.Set("Content-Type", "application/json")
	if status, _ := send(t, req); status != 400 {
		t.Errorf("an array as a hazard: status %d; want 400", status)
	}
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
