package stemstest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

func TestAuthorizeEndpoint(t *testing.T) {
	public := stemstest.NewServer(t, stemstest.WithClient("native-app", ""))
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := url.Values{"client_id": {"native-app"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/cb?keep=1"},
		"scope": {"openid resources_stems_api offline_access"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"response_mode": {"query"}}

	// Without a response mode the code comes in the fragment, as Stems'
	// docs say; with form_post, in a page that posts it.
	fragment := with(q, "response_mode", "")
	if status, _, h := call(t, http.MethodGet, public.AuthorizeURL()+"?"+fragment.Encode(), nil, ""); status != 302 {
		t.Errorf("no response_mode: status %d; want 302", status)
	} else if loc, _ := url.Parse(h.Get("Location")); loc.Query().Get("code") != "" || !strings.Contains(loc.Fragment, "code=") {
		t.Errorf("no response_mode: Location %s; want the code in the fragment only", loc)
	}
	if status, body, _ := call(t, http.MethodGet, public.AuthorizeURL()+"?"+with(q, "response_mode", "form_post").Encode(), nil, ""); status != 200 ||
		!strings.Contains(body, `<form method="post" action="http://127.0.0.1:9/cb?keep=1">`) || !strings.Contains(body, `name="code"`) {
		t.Errorf("form_post: %d %s; want a page that posts the code to the redirect URI", status, body)
	}

	status, _, h := call(t, http.MethodGet, public.AuthorizeURL()+"?"+q.Encode(), nil, "")
	loc, _ := url.Parse(h.Get("Location"))
	if status != 302 || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" || loc.Query().Get("keep") != "1" || loc.Host != "127.0.0.1:9" {
		t.Fatalf("authorize: %d Location %s; want a redirect with code and state, keeping the redirect URI's query", status, loc)
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

	noPKCE := url.Values{}
	for k, v := range q {
		if !strings.HasPrefix(k, "code_") {
			noPKCE[k] = v
		}
	}
	_, _, h = call(t, http.MethodGet, public.AuthorizeURL()+"?"+noPKCE.Encode(), nil, "")
	if loc, _ := url.Parse(h.Get("Location")); loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st" {
		t.Errorf("public client without PKCE: Location %s; want error=invalid_request with the state", loc)
	}

	badScope := url.Values{}
	for k, v := range q {
		badScope[k] = v
	}
	badScope.Set("scope", "openid everything")
	_, _, h = call(t, http.MethodGet, public.AuthorizeURL()+"?"+badScope.Encode(), nil, "")
	if loc, _ := url.Parse(h.Get("Location")); loc.Query().Get("error") != "invalid_scope" {
		t.Errorf("unknown scope: Location %s; want error=invalid_scope", loc)
	}

	formPost := url.Values{}
	for k, v := range q {
		formPost[k] = v
	}
	formPost.Set("response_mode", "form_post")
	status, body, h := call(t, http.MethodGet, public.AuthorizeURL()+"?"+formPost.Encode(), nil, "")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, `name="code"`) || !strings.Contains(body, `name="state" value="st"`) {
		t.Errorf("form_post: %d %s", status, body)
	}

	unknown := url.Values{}
	for k, v := range q {
		unknown[k] = v
	}
	unknown.Set("client_id", "someone-else")
	status, body, h = call(t, http.MethodGet, public.AuthorizeURL()+"?"+unknown.Encode(), nil, "")
	if status != 200 || h.Get("Location") != "" || !strings.Contains(body, "unauthorized_client") {
		t.Errorf("unknown client: %d Location %q; want an error page, never a redirect", status, h.Get("Location"))
	}

	missing := url.Values{"client_id": {"native-app"}, "redirect_uri": {"http://127.0.0.1:9/cb"}}
	if status, body, _ := call(t, http.MethodGet, public.AuthorizeURL()+"?"+missing.Encode(), nil, ""); status != 400 || !strings.Contains(body, "response_type") {
		t.Errorf("no response_type: %d %s; want a 400 naming it", status, body)
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
