package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

func authCodeConfig(redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: testClientID, ClientSecret: testClientSecret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: "https://accounts.test/authorize", TokenURL: "https://accounts.test/token", AuthStyle: oauth2.AuthStyleInParams},
	}
}

// Issue 14: 22 to 26 of 26 bad redirect URIs were accepted. Each kind is
// refused at construction, with an error that names the problem.
func TestRedirectURLsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
	}{
		{"http off loopback", "http://app.example/cb", "not a loopback host"},
		{"http on a loopback-looking domain", "http://localhost.evil.example/cb", "not a loopback host"},
		{"http on a name that resolves to loopback", "http://127.0.0.1.nip.io/cb", "not a loopback host"},
		{"http on the unspecified address", "http://0.0.0.0:8080/cb", "not a loopback host"},
		{"http on a private address", "http://192.168.1.10/cb", "not a loopback host"},
		{"http on a shortened loopback address", "http://127.1/cb", "not a loopback host"},
		{"javascript:", "javascript:alert(document.cookie)", `scheme "javascript"`},
		{"javascript: upper case", "JavaScript:alert(1)//https://app.example/cb", `scheme "javascript"`},
		{"data:", "data:text/html,<script>alert(1)</script>", `scheme "data"`},
		{"file:", "file:///etc/passwd", `scheme "file"`},
		{"ftp:", "ftp://app.example/cb", `scheme "ftp"`},
		{"ws:", "ws://app.example/cb", `scheme "ws"`},
		{"private-use scheme", "com.example.app:/oauth2redirect", `scheme "com.example.app"`},
		{"custom scheme with a host", "myapp://callback", `scheme "myapp"`},
		{"userinfo with a password", "https://user:pass@app.example/cb", "userinfo"},
		{"userinfo, user only", "https://attacker.example@app.example/cb", "userinfo"},
		{"empty userinfo", "https://@app.example/cb", "userinfo"},
		{"fragment", "https://app.example/cb#frag", "fragment"},
		{"empty fragment", "https://app.example/cb#", "fragment"},
		{"empty host", "https:///cb", "no host"},
		{"port without host", "https://:443/cb", "no host"},
		{"opaque https", "https:app.example/cb", "no host"},
		{"relative path", "/cb", "not absolute"},
		{"scheme-relative", "//app.example/cb", "not absolute"},
		{"no scheme", "app.example/cb", "not absolute"},
		{"empty", "", "empty"},
		{"space in the path", "https://app.example/c b", "space"},
		{"space in the host", "https://app .example/cb", "space"},
		{"leading space", " https://app.example/cb", "space"},
		{"newline", "https://app.example/cb\n", "control character"},
		{"tab", "https://app.example/\tcb", "control character"},
		{"NUL", "https://app.example/cb\x00", "control character"},
		{"DEL", "https://app.example/cb\x7f", "control character"},
		{"backslash", `https://app.example\@evil.example/cb`, "backslash"},
		{"non-ASCII host", "https://exämple.com/cb", "non-ASCII"},
		{"percent-encoded host", "https://app%2Eexample/cb", "does not parse"},
		{"IPv6 zone", "http://[::1%25eth0]/cb", "percent-encoded host or an IPv6 zone"},
		{"port out of range", "https://app.example:99999/cb", "port"},
		{"port not a number", "https://app.example:http/cb", "does not parse"},
		{"empty port", "https://app.example:/cb", "empty port"},
		{"wildcard host", "https://*.example/cb", "not a valid host name"},
		{"bad IP in brackets", "https://[not-an-ip]/cb", "does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.CheckRedirectURL(tc.url)
			if err == nil {
				t.Fatalf("CheckRedirectURL(%q) accepted it", tc.url)
			}
			if !errors.Is(err, auth.ErrInvalidRedirectURL) || !strings.HasPrefix(err.Error(), "auth: redirect URL: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q; want ErrInvalidRedirectURL, starting auth: redirect URL: and naming %q", err, tc.want)
			}
			if _, err := auth.AuthorizationCode(authCodeConfig(tc.url), auth.AuthCodeOptions{}); err == nil {
				t.Errorf("AuthorizationCode accepted redirect URL %q", tc.url)
			} else {
				assertNoSecret(t, "error", err.Error())
			}
		})
	}
}

func TestRedirectURLsAccepted(t *testing.T) {
	for _, u := range []string{
		"https://app.example/cb",
		"https://app.example:8443/oauth/callback?tenant=1",
		"https://APP.example/Callback",
		"https://127.0.0.1/cb",
		"http://127.0.0.1/cb",
		"http://127.0.0.1:53412/callback",
		"http://127.0.0.2:8080/cb",
		"http://[::1]:8080/cb",
		"http://[::1]/cb",
		"http://localhost:8080/cb",
		"http://LOCALHOST/cb",
		"https://app.example",
		"https://my_app.example/cb",
	} {
		if _, err := auth.CheckRedirectURL(u); err != nil {
			t.Errorf("CheckRedirectURL(%q): %v", u, err)
		}
		if _, err := auth.AuthorizationCode(authCodeConfig(u), auth.AuthCodeOptions{}); err != nil {
			t.Errorf("AuthorizationCode with %q: %v", u, err)
		}
	}
}

func TestStateIsRandomAndCheckedInConstantTime(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s := auth.NewState()
		if len(s) < 22 || seen[s] {
			t.Fatalf("state %q: want at least 128 bits, never repeated", s)
		}
		seen[s] = true
	}
	s := auth.NewState()
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{s, s, true}, {s, s + "x", false}, {s, s[:len(s)-1], false}, {s, "", false}, {"", "", false}, {"", "x", false},
	} {
		if got := auth.CheckState(tc.want, tc.got); got != tc.ok {
			t.Errorf("CheckState(%q, %q) = %v; want %v", tc.want, tc.got, got, tc.ok)
		}
	}
}

// The CloudCompli variant (secret on the authorize URL, response_type in
// the exchange) works with PKCE and state, and response_mode passes
// through the extra options (the Stems provider asks for form_post).
func TestAuthCodeURLWithPKCEStateAndResponseMode(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 200, map[string]any{"access_token": "user-token-value", "token_type": "Bearer", "expires_in": 31536000})
	})
	cfg := authCodeConfig("https://app.test/endpoint")
	cfg.Endpoint.TokenURL = ts.URL()
	flow, err := auth.AuthorizationCode(cfg, auth.AuthCodeOptions{PKCE: true, SecretInAuthURL: true, ResponseTypeInExchange: true})
	if err != nil {
		t.Fatal(err)
	}
	authURL, state, verifier := flow.NewAuthCodeURL(auth.ResponseMode(auth.ResponseModeFormPost))
	u, _ := url.Parse(authURL)
	q := u.Query()
	for k, want := range map[string]string{
		"state": state, "response_mode": "form_post", "code_challenge_method": "S256",
		"code_challenge": oauth2.S256ChallengeFromVerifier(verifier), "client_secret": testClientSecret, "response_type": "code",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q; want %q", k, got, want)
		}
	}
	if state == "" || verifier == "" {
		t.Fatalf("state %q, verifier %q", state, verifier)
	}
	_, state2, _ := flow.NewAuthCodeURL()
	if state2 == state {
		t.Error("two authorize URLs share a state")
	}
	req := httptest.NewRequest(http.MethodGet, "https://app.test/endpoint?code=the-code&state="+url.QueryEscape(state), nil)
	code, err := flow.ReadCallback(req, state)
	if err != nil || code != "the-code" {
		t.Fatalf("ReadCallback = %q, %v", code, err)
	}
	if _, err := flow.Exchange(context.Background(), code, verifier); err != nil {
		t.Fatal(err)
	}
	checkForm(t, ts.form(0), map[string]string{
		"grant_type": "authorization_code", "code": "the-code", "redirect_uri": "https://app.test/endpoint",
		"code_verifier": verifier, "response_type": "code", "client_id": testClientID, "client_secret": testClientSecret,
	})
}

func TestReadCallback(t *testing.T) {
	flow, err := auth.AuthorizationCode(authCodeConfig("https://app.test/cb"), auth.AuthCodeOptions{PKCE: true})
	if err != nil {
		t.Fatal(err)
	}
	const state = "state-value-123"
	form := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "https://app.test/cb", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	get := func(query string) *http.Request {
		return httptest.NewRequest(http.MethodGet, "https://app.test/cb?"+query, nil)
	}
	parsed := form("code=from-parsed-form&state=" + state)
	parsed.ParseForm()

	for _, tc := range []struct {
		name     string
		req      *http.Request
		want     string // the code
		wantErr  string // substring of the error
		wantIs   error
		wantAuth string // AuthorizationError.Code
	}{
		{name: "query (GET)", req: get("code=abc&state=" + state), want: "abc"},
		{name: "form_post", req: form("code=def&state=" + state), want: "def"},
		{name: "form_post with a charset", req: func() *http.Request {
			r := form("state=" + state + "&code=ghi")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
			return r
		}(), want: "ghi"},
		{name: "form already parsed", req: parsed, want: "from-parsed-form"},
		{name: "form_post ignores the query", req: func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://app.test/cb?code=injected&state="+state, strings.NewReader("state="+state))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), wantIs: auth.ErrNoCode},
		{name: "wrong state", req: get("code=abc&state=other"), wantIs: auth.ErrStateMismatch},
		{name: "no state", req: get("code=abc"), wantIs: auth.ErrStateMismatch},
		{name: "wrong state in a form", req: form("code=abc&state=" + state + "x"), wantIs: auth.ErrStateMismatch},
		{name: "state twice", req: get("code=abc&state=" + state + "&state=" + state), wantErr: "state is given more than once"},
		{name: "code twice", req: get("code=abc&code=def&state=" + state), wantErr: "code is given more than once"},
		{name: "no code", req: get("state=" + state), wantIs: auth.ErrNoCode},
		{name: "refused", req: get("error=access_denied&error_description=The+user+said+no&state=" + state), wantAuth: "access_denied", wantErr: "The user said no"},
		{name: "refused in a form", req: form("error=login_required&state=" + state), wantAuth: "login_required"},
		{name: "refusal with a forged state", req: get("error=access_denied&state=forged"), wantIs: auth.ErrStateMismatch},
		{name: "refusal with control characters", req: get("error=access_denied&error_description=a%0d%0aINFO+forged+log+line&state=" + state),
			wantAuth: "access_denied", wantErr: "a  INFO forged log line"},
		{name: "JSON POST", req: func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://app.test/cb", strings.NewReader(`{"code":"x"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), wantErr: "application/x-www-form-urlencoded"},
		{name: "PUT", req: httptest.NewRequest(http.MethodPut, "https://app.test/cb?code=abc&state="+state, nil), wantErr: "method PUT"},
		{name: "oversized form", req: form("state=" + state + "&code=abc&pad=" + strings.Repeat("x", auth.MaxCallbackBytes)), wantErr: "exceeds"},
		{name: "malformed form", req: form("state=" + state + "&code=%zz"), wantErr: "not valid form data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, err := flow.ReadCallback(tc.req, state)
			if tc.want != "" {
				if err != nil || code != tc.want {
					t.Fatalf("got %q, %v; want %q", code, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got code %q; want an error", code)
			}
			if !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("err = %q; want the package first", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v; want %v", err, tc.wantIs)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q; want it to mention %q", err, tc.wantErr)
			}
			var ae *auth.AuthorizationError
			if tc.wantAuth != "" && (!errors.As(err, &ae) || ae.Code != tc.wantAuth) {
				t.Errorf("err = %v; want an AuthorizationError %q", err, tc.wantAuth)
			}
		})
	}
	if _, err := flow.ReadCallback(get("code=abc&state="), ""); err == nil {
		t.Error("ReadCallback without a state to check against accepted the redirect")
	}
}

// A refusal that echoes the client secret (CloudCompli's variant puts it
// on the authorize URL, so a server may echo it back) is redacted.
func TestCallbackErrorIsRedacted(t *testing.T) {
	flow, _ := auth.AuthorizationCode(authCodeConfig("https://app.test/cb"), auth.AuthCodeOptions{SecretInAuthURL: true})
	echo := url.Values{"error": {"invalid_request"}, "state": {"s-123"},
		"error_description": {"bad request: client_secret=" + url.QueryEscape(testClientSecret)}}
	_, err := flow.ParseCallback(echo, "s-123")
	var ae *auth.AuthorizationError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v; want an AuthorizationError", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		assertNoSecret(t, verb, sprintf(verb, err))
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %q; want the secret replaced", err)
	}
}
