package stemstest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/stemsapi/stemstest"
)

// call sends a request to the fake and returns the status, body and headers.
func call(t *testing.T, method, u string, header map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var formHeaders = map[string]string{"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
}

func token(t *testing.T, srv *stemstest.Server, form url.Values) (int, tokenResponse) {
	t.Helper()
	status, body, _ := call(t, http.MethodPost, srv.TokenURL(), formHeaders, form.Encode())
	var tr tokenResponse
	if err := json.Unmarshal([]byte(body), &tr); err != nil {
		t.Fatalf("token response %q: %v", body, err)
	}
	return status, tr
}

// with returns a copy of f with k set to v, or removed when v is "".
func with(f url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vals := range f {
		out[key] = append([]string(nil), vals...)
	}
	if v == "" {
		out.Del(k)
	} else {
		out.Set(k, v)
	}
	return out
}

func passwordForm(srv *stemstest.Server, scope string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret},
		"username": {stemstest.DefaultUsername}, "password": {stemstest.DefaultPassword}, "scope": {scope}}
}

func TestPasswordAndRefreshGrants(t *testing.T) {
	clock := stemstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := stemstest.NewServer(t, stemstest.WithClock(clock))

	status, tr := token(t, srv, passwordForm(srv, "openid resources_stems_api offline_access"))
	if status != 200 || tr.AccessToken == "" || tr.RefreshToken == "" || tr.IDToken != "" || tr.ExpiresIn != 1800 {
		t.Fatalf("password grant: %d %+v; want a 1800 s token with a refresh token and no id_token", status, tr)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}, "refresh_token": {tr.RefreshToken}}
	status, tr2 := token(t, srv, refresh)
	if status != 200 || tr2.IDToken == "" || tr2.RefreshToken == "" || tr2.RefreshToken == tr.RefreshToken {
		t.Fatalf("refresh grant: %d %+v; want a rotated refresh token and an id_token", status, tr2)
	}
	if status, again := token(t, srv, refresh); status != 400 || again.Error != "invalid_grant" {
		t.Errorf("reused refresh token: %d %+v; want 400 invalid_grant", status, again)
	}
	// Without openid, IdentityServer issues no id_token on refresh.
	_, plain := token(t, srv, passwordForm(srv, "resources_stems_api offline_access"))
	if status, tr3 := token(t, srv, with(refresh, "refresh_token", plain.RefreshToken)); status != 200 || tr3.IDToken != "" {
		t.Errorf("refresh without openid: %d %+v; want no id_token", status, tr3)
	}
	if srv.ReusedRefreshTokens() != 1 {
		t.Errorf("ReusedRefreshTokens = %d; want 1", srv.ReusedRefreshTokens())
	}

	pw := passwordForm(srv, "resources_stems_api")
	for name, tc := range map[string]struct {
		form   url.Values
		status int
		code   string
	}{
		"wrong password":     {with(pw, "password", "nope"), 400, "invalid_grant"},
		"unknown user":       {with(pw, "username", "x@y.z"), 400, "invalid_grant"},
		"wrong secret":       {with(pw, "client_secret", "nope"), 401, "invalid_client"},
		"no secret":          {with(pw, "client_secret", ""), 401, "invalid_client"},
		"unknown client":     {with(pw, "client_id", "other"), 401, "invalid_client"},
		"no scope":           {with(pw, "scope", ""), 400, "invalid_request"},
		"unknown scope":      {with(pw, "scope", "resources_stems_api admin"), 400, "invalid_scope"},
		"no refresh token":   {with(refresh, "refresh_token", ""), 400, "invalid_request"},
		"made-up code":       {url.Values{"grant_type": {"authorization_code"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}, "code": {"c"}, "redirect_uri": {"https://a.example/cb"}}, 400, "invalid_grant"},
		"code without redir": {url.Values{"grant_type": {"authorization_code"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}, "code": {"c"}}, 400, "invalid_request"},
	} {
		status, tr := token(t, srv, tc.form)
		if status != tc.status || tr.Error != tc.code {
			t.Errorf("%s: %d %q; want %d %q", name, status, tr.Error, tc.status, tc.code)
		}
	}

	// Tokens expire on the clock, with Stems' error body.
	hdr := map[string]string{"Authorization": "Bearer " + tr2.AccessToken, "X-Company-Context": stemstest.DefaultCompany}
	if status, _, _ := call(t, http.MethodGet, srv.URL+"/hazards", hdr, ""); status != 200 {
		t.Fatalf("fresh token: status %d", status)
	}
	clock.Advance(1800 * time.Second)
	status, body, h := call(t, http.MethodGet, srv.URL+"/hazards", hdr, "")
	if status != 401 || !strings.Contains(body, `"message":"The access token has expired"`) || h.Get("WWW-Authenticate") == "" {
		t.Errorf("expired token: %d %s; want 401 with Stems' error body", status, body)
	}
}

// requestID is the pending sign-in a sign-in page carries.
var requestID = regexp.MustCompile(`<input type="hidden" name="request" value="([^"]+)">`)

// page opens the authorize URL: the sign-in page, or a redirect.
func page(t *testing.T, authURL string) (int, string, http.Header) {
	t.Helper()
	return call(t, http.MethodGet, authURL, nil, "")
}

// submit answers the sign-in page as a person would: a username, a
// password and a button.
func submit(t *testing.T, srv *stemstest.Server, pageBody, username, password, button string) (int, string, http.Header) {
	t.Helper()
	m := requestID.FindStringSubmatch(pageBody)
	if m == nil {
		t.Fatalf("no sign-in form in %s", pageBody)
	}
	form := url.Values{"request": {m[1]}, "username": {username}, "password": {password}, "consent": {button}}
	return call(t, http.MethodPost, srv.URL+"/__complykit/signin", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
}

func TestAuthorizeEndpoint(t *testing.T) {
	public := stemstest.NewServer(t, stemstest.WithClient("native-app", ""))
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := url.Values{"client_id": {"native-app"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/cb?keep=1"},
		"scope": {"openid resources_stems_api offline_access"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"response_mode": {"query"}}

	// The authorize endpoint shows a sign-in page: username, password,
	// the consent, and what the client asks for.
	status, body, h := page(t, public.AuthorizeURL()+"?"+q.Encode())
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("Location") != "" {
		t.Fatalf("authorize: %d %q Location %q; want the sign-in page", status, h.Get("Content-Type"), h.Get("Location"))
	}
	for _, want := range []string{`<form id="signin" method="post" action="/__complykit/signin">`, `name="username"`, `type="password"`,
		`<button id="allow" type="submit" name="consent" value="allow">`, "native-app", "openid resources_stems_api offline_access"} {
		if !strings.Contains(body, want) {
			t.Errorf("sign-in page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "code=") || strings.Contains(body, stemstest.DefaultPassword) {
		t.Errorf("the page gives away a code or the password before the sign-in:\n%s", body)
	}

	// A wrong password: the page again, with an error, and the sign-in
	// still open; an unknown user likewise.
	for _, tc := range [][2]string{{stemstest.DefaultUsername, "wrong"}, {"nobody@example.com", stemstest.DefaultPassword}} {
		status, again, h := submit(t, public, body, tc[0], tc[1], "allow")
		if status != 200 || h.Get("Location") != "" || !strings.Contains(again, `id="error"`) || !strings.Contains(again, "Wrong username or password") ||
			!strings.Contains(again, `value="`+tc[0]+`"`) || requestID.FindStringSubmatch(again)[1] != requestID.FindStringSubmatch(body)[1] {
			t.Errorf("%s / %s: %d Location %q\n%s; want the page again with an error", tc[0], tc[1], status, h.Get("Location"), again)
		}
	}
	status, _, h = submit(t, public, body, stemstest.DefaultUsername, stemstest.DefaultPassword, "allow")
	loc, _ := url.Parse(h.Get("Location"))
	if status != 302 || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" || loc.Query().Get("keep") != "1" || loc.Host != "127.0.0.1:9" {
		t.Fatalf("sign-in: %d Location %s; want a redirect with code and state, keeping the redirect URI's query", status, loc)
	}
	// The page is single-use.
	if status, again, _ := submit(t, public, body, stemstest.DefaultUsername, stemstest.DefaultPassword, "allow"); status != 400 || !strings.Contains(again, "expired or was already used") {
		t.Errorf("the same sign-in twice: %d %s; want 400", status, again)
	}
	exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {"native-app"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:9/cb?keep=1"}, "code_verifier": {verifier}}
	status, tr := token(t, public, exchange)
	if status != 200 || tr.IDToken == "" || tr.RefreshToken == "" {
		t.Fatalf("exchange: %d %+v; want tokens with an id_token", status, tr)
	}
	if status, tr := token(t, public, exchange); status != 400 || tr.Error != "invalid_grant" {
		t.Errorf("second exchange of the code: %d %+v; want invalid_grant", status, tr)
	}

	// Deny: access_denied back to the app, with the state.
	_, body, _ = page(t, public.AuthorizeURL()+"?"+q.Encode())
	status, _, h = submit(t, public, body, "", "", "deny")
	if loc, _ := url.Parse(h.Get("Location")); status != 302 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st" || loc.Query().Has("code") {
		t.Errorf("deny: %d Location %s; want error=access_denied with the state", status, loc)
	}

	// Without a response mode the code comes in the fragment, as Stems'
	// docs say; with form_post, in a page that posts it.
	_, body, _ = page(t, public.AuthorizeURL()+"?"+with(q, "response_mode", "").Encode())
	if status, _, h := submit(t, public, body, stemstest.DefaultUsername, stemstest.DefaultPassword, "allow"); status != 302 {
		t.Errorf("no response_mode: status %d; want 302", status)
	} else if loc, _ := url.Parse(h.Get("Location")); loc.Query().Get("code") != "" || !strings.Contains(loc.Fragment, "code=") {
		t.Errorf("no response_mode: Location %s; want the code in the fragment only", loc)
	}
	_, body, _ = page(t, public.AuthorizeURL()+"?"+with(q, "response_mode", "form_post").Encode())
	status, body, h = submit(t, public, body, stemstest.DefaultUsername, stemstest.DefaultPassword, "allow")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `<form method="post" action="http://127.0.0.1:9/cb?keep=1">`) || !strings.Contains(body, `name="code"`) || !strings.Contains(body, `name="state" value="st"`) {
		t.Errorf("form_post: %d %s; want a page that posts the code and state to the redirect URI", status, body)
	}

	// Refusals the fake can send back to the app come at once, without a
	// page.
	noPKCE := url.Values{}
	for k, v := range q {
		if !strings.HasPrefix(k, "code_") {
			noPKCE[k] = v
		}
	}
	_, _, h = page(t, public.AuthorizeURL()+"?"+noPKCE.Encode())
	if loc, _ := url.Parse(h.Get("Location")); loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st" {
		t.Errorf("public client without PKCE: Location %s; want error=invalid_request with the state", loc)
	}
	_, _, h = page(t, public.AuthorizeURL()+"?"+with(q, "scope", "openid everything").Encode())
	if loc, _ := url.Parse(h.Get("Location")); loc.Query().Get("error") != "invalid_scope" {
		t.Errorf("unknown scope: Location %s; want error=invalid_scope", loc)
	}

	status, body, h = page(t, public.AuthorizeURL()+"?"+with(q, "client_id", "someone-else").Encode())
	if status != 200 || h.Get("Location") != "" || !strings.Contains(body, "unauthorized_client") || strings.Contains(body, "<form") {
		t.Errorf("unknown client: %d Location %q; want an error page, never a redirect or a sign-in", status, h.Get("Location"))
	}

	missing := url.Values{"client_id": {"native-app"}, "redirect_uri": {"http://127.0.0.1:9/cb"}}
	if status, body, _ := page(t, public.AuthorizeURL()+"?"+missing.Encode()); status != 400 || !strings.Contains(body, "response_type") {
		t.Errorf("no response_type: %d %s; want a 400 naming it", status, body)
	}
	// The sign-in endpoint refuses a made-up request and a form without
	// its button.
	if status, body, _ := call(t, http.MethodPost, public.URL+"/__complykit/signin", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		"request=made-up&consent=allow&username=u&password=p"); status != 400 || !strings.Contains(body, "expired") {
		t.Errorf("made-up sign-in: %d %s; want 400", status, body)
	}
	if status, _, _ := call(t, http.MethodPost, public.URL+"/__complykit/signin", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		"request=x"); status != 400 {
		t.Errorf("sign-in without consent: %d; want 400", status)
	}
}

// SignIn plays the user: the login_hint's user, or WithAuthorizeUser's;
// Deny refuses.
func TestSignInHelpers(t *testing.T) {
	ctx := t.Context()
	srv := stemstest.NewServer(t, stemstest.WithUser("ann@example.com", "ann-pw", "777"), stemstest.WithAuthorizeUser("ann@example.com"))
	q := url.Values{"client_id": {srv.ClientID}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"},
		"scope": {"openid resources_stems_api"}, "state": {"st"}, "response_mode": {"query"}}
	subject := func(req *http.Request) string {
		t.Helper()
		status, tr := token(t, srv, url.Values{"grant_type": {"authorization_code"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret},
			"code": {req.URL.Query().Get("code")}, "redirect_uri": {"https://app.example/cb"}})
		if status != 200 {
			t.Fatalf("exchange: %d %+v", status, tr)
		}
		claims, _ := base64.RawURLEncoding.DecodeString(strings.Split(tr.IDToken, ".")[1])
		var c struct{ Sub string }
		json.Unmarshal(claims, &c)
		return c.Sub
	}
	req, err := srv.SignIn(ctx, srv.AuthorizeURL()+"?"+q.Encode())
	if err != nil || req.Method != http.MethodGet || req.URL.Query().Get("state") != "st" {
		t.Fatalf("SignIn = %v, %v", req, err)
	}
	if sub := subject(req); sub != "ann@example.com" {
		t.Errorf("SignIn signed in %q; want WithAuthorizeUser's ann@example.com", sub)
	}
	req, err = srv.SignIn(ctx, srv.AuthorizeURL()+"?"+with(q, "login_hint", stemstest.DefaultUsername).Encode())
	if err != nil {
		t.Fatal(err)
	}
	if sub := subject(req); sub != stemstest.DefaultUsername {
		t.Errorf("SignIn with login_hint signed in %q; want %q", sub, stemstest.DefaultUsername)
	}
	req, err = srv.Deny(ctx, srv.AuthorizeURL()+"?"+q.Encode())
	if err != nil || req.URL.Query().Get("error") != "access_denied" {
		t.Errorf("Deny = %v, %v; want a callback with error=access_denied", req, err)
	}
	if _, err := srv.SignIn(ctx, srv.AuthorizeURL()+"?"+with(q, "client_id", "nobody").Encode()); err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
		t.Errorf("SignIn for an unknown client: %v; want an error naming the error page's code", err)
	}
}

func TestCompaniesAndUsers(t *testing.T) {
	srv := stemstest.NewServer(t, stemstest.WithUser("ann@example.com", "ann-pw", "777"))
	form := passwordForm(srv, "resources_stems_api")
	form.Set("username", "ann@example.com")
	form.Set("password", "ann-pw")
	_, tr := token(t, srv, form)
	get := func(company string) (int, string) {
		status, body, _ := call(t, http.MethodGet, srv.URL+"/hazards", map[string]string{"Authorization": "Bearer " + tr.AccessToken, "X-Company-Context": company}, "")
		return status, body
	}
	if status, body := get("777"); status != 200 || body != "[]" {
		t.Errorf("a company without data: %d %s; want an empty list", status, body)
	}
	if status, body := get(stemstest.DefaultCompany); status != 403 || !strings.Contains(body, `"error":"forbidden"`) {
		t.Errorf("another user's company: %d %s; want 403", status, body)
	}
	// X-Company-Context is a security scheme of the spec, not a parameter:
	// the contract still refuses a request without it.
	if status, body := get(""); status != 400 || !strings.Contains(body, "X-Company-Context is required") {
		t.Errorf("no company: %d %s; want a 400 naming X-Company-Context", status, body)
	}
}

// Every sample resource validates against the contract: NewServer's
// reporter fails the test on any response the spec does not allow.
func TestSampleDataAndConcurrentWrites(t *testing.T) {
	srv := stemstest.NewServer(t)
	_, tr := token(t, srv, passwordForm(srv, "resources_stems_api"))
	hdr := map[string]string{"Authorization": "Bearer " + tr.AccessToken, "Content-Type": "application/json"}
	for company, paths := range map[string][]string{
		stemstest.DefaultCompany: {"/hazards", "/hazards/approvaldata", "/hazards/1001/approvalData", "/hazards/1003/approvalData", "/events/2001/forms", "/events/lookup"},
		stemstest.OtherCompany:   {"/hazards", "/hazards/approvaldata", "/events/lookup"},
	} {
		hdr["X-Company-Context"] = company
		for _, p := range paths {
			if status, body, _ := call(t, http.MethodGet, srv.URL+p, hdr, ""); status != 200 {
				t.Errorf("GET %s for %s: %d %s", p, company, status, body)
			}
		}
	}
	// Companies see only their own data.
	hdr["X-Company-Context"] = stemstest.OtherCompany
	if status, _, _ := call(t, http.MethodGet, srv.URL+"/events/2001/forms", hdr, ""); status != 404 {
		t.Errorf("company %s sees company %s's event: status %d", stemstest.OtherCompany, stemstest.DefaultCompany, status)
	}
	hdr["X-Company-Context"] = stemstest.DefaultCompany

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range []struct{ method, body string }{{http.MethodPost, fmt.Sprintf(`{"title":"hazard %d"}`, i)}, {http.MethodGet, ""}} {
				req, _ := http.NewRequest(r.method, srv.URL+"/hazards", strings.NewReader(r.body))
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("%s /hazards: status %d", r.method, resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ids := map[any]bool{}
	for _, h := range srv.Hazards(stemstest.DefaultCompany) {
		ids[h["id"]] = true
	}
	if len(ids) != 22 {
		t.Errorf("%d distinct hazards after 20 concurrent creations; want 22", len(ids))
	}
	if status, _, _ := call(t, http.MethodPost, srv.URL+"/hazards", hdr, `{"id":5,"title":"x"}`); status != 400 {
		t.Errorf("POST of a hazard with an id: %d; want 400", status)
	}
	if status, _, _ := call(t, http.MethodPost, srv.URL+"/events/requireapproval", hdr, `{"eventDetails":{"subheading":"x"}}`); status != 400 {
		t.Errorf("event without eventFormId: %d; want 400", status)
	}
}

func TestStartOptions(t *testing.T) {
	for name, opts := range map[string][]stemstest.Option{
		"no client id":     {stemstest.WithClient("", "x")},
		"no lifetime":      {stemstest.WithTokenLifetime(0)},
		"unknown hint":     {stemstest.WithAuthorizeUser("nobody@example.com")},
		"user no password": {stemstest.WithUser("a@b.c", "")},
		"bad address":      {stemstest.WithAddr("256.0.0.1:0")},
	} {
		if srv, err := stemstest.Start(opts...); err == nil {
			srv.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
	srv, err := stemstest.Start(stemstest.WithAddr("127.0.0.1:0"), stemstest.WithTokenLifetime(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	status, tr := token(t, srv, passwordForm(srv, "resources_stems_api"))
	if status != 200 || tr.ExpiresIn != 60 {
		t.Errorf("standalone fake: %d %+v; want a 60 s token", status, tr)
	}
}
