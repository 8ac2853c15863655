package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestClientCredentialsFormBody(t *testing.T) {
	ts := newTokenServer(t, nil)
	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID:       testClientID,
		ClientSecret:   testClientSecret,
		TokenURL:       ts.URL(),
		Scopes:         []string{"read", "write"},
		EndpointParams: url.Values{"audience": {"aud"}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}, auth.FlowOptions{UserAgent: "complykit-test/1"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := flow.TokenContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "access-1" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Errorf("token = %+v; want access-1, Bearer, 3600", tok)
	}
	if d := time.Until(tok.Expiry); d < 3590*time.Second || d > 3600*time.Second {
		t.Errorf("expiry in %v; want about 1h", d)
	}
	checkForm(t, ts.form(0), map[string]string{
		"grant_type":    "client_credentials",
		"client_id":     testClientID,
		"client_secret": testClientSecret,
		"scope":         "read write",
		"audience":      "aud",
	})
}

func TestClientCredentialsBasicAuth(t *testing.T) {
	var gotUser, gotPass string
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		gotUser, gotPass, _ = r.BasicAuth()
		writeJSON(w, 200, map[string]any{"access_token": "a", "expires_in": 60})
	})
	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID: "id with space", ClientSecret: "p@ss", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInHeader,
	}, auth.FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.TokenContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gotUser != "id+with+space" || gotPass != "p%40ss" {
		t.Errorf("basic auth = %q:%q; want the RFC 6749 2.3.1 form-encoded pair", gotUser, gotPass)
	}
	checkForm(t, ts.form(0), map[string]string{"grant_type": "client_credentials"})
}

func TestFlowsRefuseBadConfig(t *testing.T) {
	ok := "https://example.com/token"
	for name, cfg := range map[string]*clientcredentials.Config{
		"auto-detect auth style": {ClientID: "a", TokenURL: ok},
		"plain http":             {ClientID: "a", TokenURL: "http://example.com/token", AuthStyle: oauth2.AuthStyleInParams},
		"no client id":           {TokenURL: ok, AuthStyle: oauth2.AuthStyleInParams},
		"relative URL":           {ClientID: "a", TokenURL: "/token", AuthStyle: oauth2.AuthStyleInParams},
		"grant_type override":    {ClientID: "a", TokenURL: ok, AuthStyle: oauth2.AuthStyleInParams, EndpointParams: url.Values{"grant_type": {"password"}}},
	} {
		cfg.ClientSecret = testClientSecret
		if _, err := auth.ClientCredentials(cfg, auth.FlowOptions{}); err == nil {
			t.Errorf("%s: got no error", name)
		} else {
			assertNoSecret(t, name, err.Error())
		}
	}
	if _, err := auth.ClientCredentials(&clientcredentials.Config{ClientID: "a", TokenURL: "http://127.0.0.1:9/token", AuthStyle: oauth2.AuthStyleInParams}, auth.FlowOptions{}); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
	_, err := auth.ClientCredentials(&clientcredentials.Config{ClientID: "a", TokenURL: "http://example.com/token", AuthStyle: oauth2.AuthStyleInParams}, auth.FlowOptions{})
	if !errors.Is(err, auth.ErrInsecureURL) {
		t.Errorf("plain http error = %v; want ErrInsecureURL", err)
	}
}

func TestFlowStringsHideSecrets(t *testing.T) {
	cc, _ := auth.ClientCredentials(&clientcredentials.Config{ClientID: "a", ClientSecret: testClientSecret, TokenURL: "https://x.test/t", AuthStyle: oauth2.AuthStyleInParams}, auth.FlowOptions{})
	pw, _ := auth.Password(&oauth2.Config{ClientID: "a", ClientSecret: testClientSecret, Endpoint: oauth2.Endpoint{TokenURL: "https://x.test/t", AuthStyle: oauth2.AuthStyleInParams}}, testUser, testPassword, auth.FlowOptions{})
	st := auth.StaticToken("static-token-value", time.Time{})
	for _, v := range []any{cc, pw, st} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assertNoSecret(t, verb, sprintf(verb, v), "static-token-value")
		}
	}
}

func stemsConfig(tokenURL string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:       scopes,
	}
}

func TestPasswordThenRefreshWithRotation(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		switch form.Get("grant_type") {
		case "password":
			writeJSON(w, 200, map[string]any{"access_token": "at-1", "expires_in": 1800, "token_type": "Bearer", "refresh_token": "rt-1"})
		case "refresh_token":
			writeJSON(w, 200, map[string]any{"id_token": "eyJ.id.token", "access_token": "at-2", "expires_in": 1800, "token_type": "Bearer", "refresh_token": "rt-2"})
		}
	})
	flow, err := auth.Password(stemsConfig(ts.URL(), "email", "resources_stems_api", "offline_access"), testUser, testPassword, auth.FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := flow.TokenContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkForm(t, ts.form(0), map[string]string{
		"grant_type": "password", "username": testUser, "password": testPassword,
		"client_id": testClientID, "client_secret": testClientSecret, "scope": "email resources_stems_api offline_access",
	})
	tok2, err := flow.Refresh(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	checkForm(t, ts.form(1), map[string]string{
		"grant_type": "refresh_token", "refresh_token": "rt-1", "client_id": testClientID, "client_secret": testClientSecret,
	})
	if tok2.RefreshToken != "rt-2" || tok2.AccessToken != "at-2" {
		t.Errorf("refreshed token = %q/%q; want at-2/rt-2", tok2.AccessToken, tok2.RefreshToken)
	}
	if got := auth.IDToken(tok2); got != "eyJ.id.token" {
		t.Errorf("IDToken = %q; want eyJ.id.token", got)
	}
}

func TestPasswordFallsBackWhenRefreshRevoked(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if form.Get("grant_type") == "refresh_token" {
			writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "refresh token revoked"})
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "fresh", "expires_in": 1800, "refresh_token": "rt-new"})
	})
	flow, _ := auth.Password(stemsConfig(ts.URL(), "offline_access"), testUser, testPassword, auth.FlowOptions{})
	tok, err := flow.Refresh(context.Background(), &oauth2.Token{AccessToken: "old", RefreshToken: "rt-revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "fresh" || ts.requests.Load() != 2 {
		t.Errorf("got %q after %d requests; want a password sign-in after the refused refresh", tok.AccessToken, ts.requests.Load())
	}
}

func TestRefreshFailureIsNeverRetried(t *testing.T) {
	for _, status := range []int{400, 401, 500, 503} {
		ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
			writeJSON(w, status, map[string]any{"error": "server_error"})
		})
		flow, _ := auth.AuthorizationCode(&oauth2.Config{
			ClientID: testClientID, RedirectURL: "https://app.test/cb",
			Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams},
		}, auth.AuthCodeOptions{})
		_, err := flow.TokenSource(nil).Refresh(context.Background(), &oauth2.Token{RefreshToken: "rt-once"})
		var te *auth.TokenError
		if !errors.As(err, &te) || te.StatusCode != status {
			t.Errorf("status %d: err = %v; want a TokenError with that status", status, err)
		}
		if n := ts.requests.Load(); n != 1 {
			t.Errorf("status %d: %d refresh requests; a single-use refresh token must be sent once", status, n)
		}
	}
}

func TestClientCredentialsRetriesTemporaryFailures(t *testing.T) {
	ts := newTokenServer(t, nil)
	ts.handle = func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if ts.requests.Load() == 1 {
			w.WriteHeader(503)
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "after-503"})
	}
	flow, _ := auth.ClientCredentials(&clientcredentials.Config{ClientID: "a", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams}, auth.FlowOptions{})
	tok, err := flow.TokenContext(context.Background())
	if err != nil || tok.AccessToken != "after-503" {
		t.Fatalf("got %v, %v; want the token after one retried 503", tok, err)
	}
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 200, map[string]any{"access_token": "at", "id_token": "idt", "refresh_token": "rt", "expires_in": 1800, "token_type": "Bearer"})
	})
	flow, err := auth.AuthorizationCode(&oauth2.Config{
		ClientID:    testClientID,
		RedirectURL: "https://app.test/callback",
		Scopes:      []string{"openid", "offline_access"},
		Endpoint:    oauth2.Endpoint{AuthURL: "https://accounts.test/auth/connect/authorize", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams},
	}, auth.AuthCodeOptions{PKCE: true})
	if err != nil {
		t.Fatal(err)
	}
	authURL, verifier := flow.AuthCodeURL("state-xyz")
	u, _ := url.Parse(authURL)
	q := u.Query()
	if len(verifier) < 43 || len(verifier) > 128 {
		t.Errorf("verifier length %d; RFC 7636 wants 43-128", len(verifier))
	}
	for k, want := range map[string]string{
		"client_id": testClientID, "response_type": "code", "redirect_uri": "https://app.test/callback",
		"scope": "openid offline_access", "state": "state-xyz", "code_challenge_method": "S256",
		"code_challenge": oauth2.S256ChallengeFromVerifier(verifier),
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q; want %q", k, got, want)
		}
	}
	if q.Has("client_secret") {
		t.Error("authorize URL carries client_secret without SecretInAuthURL")
	}
	if _, err := flow.Exchange(context.Background(), "the-code", ""); err == nil {
		t.Error("exchange without the PKCE verifier succeeded")
	}
	tok, err := flow.Exchange(context.Background(), "the-code", verifier)
	if err != nil {
		t.Fatal(err)
	}
	checkForm(t, ts.form(0), map[string]string{
		"grant_type": "authorization_code", "code": "the-code", "redirect_uri": "https://app.test/callback",
		"code_verifier": verifier, "client_id": testClientID,
	})
	if auth.IDToken(tok) != "idt" || tok.RefreshToken != "rt" {
		t.Errorf("token = %+v; want id_token and refresh_token kept", tok)
	}
}

// CloudCompli's documented variant: the secret on the authorize URL and
// response_type=code in the exchange body.
func TestAuthorizationCodeCloudCompliQuirks(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 200, map[string]any{"access_token": "SzmD1ujg3pHKfm0PjUWTFbfEQXbGEwYzFeyWafDF", "token_type": "Bearer", "expires_in": 31536000})
	})
	flow, err := auth.AuthorizationCode(&oauth2.Config{
		ClientID: "MY_CLIENT", ClientSecret: "MY_SECRET", RedirectURL: "https://app.test/endpoint",
		Endpoint: oauth2.Endpoint{AuthURL: "https://example.compli.cloud/oauth2/authorize", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams},
	}, auth.AuthCodeOptions{SecretInAuthURL: true, ResponseTypeInExchange: true})
	if err != nil {
		t.Fatal(err)
	}
	authURL, verifier := flow.AuthCodeURL("")
	if verifier != "" {
		t.Errorf("verifier = %q without PKCE", verifier)
	}
	u, _ := url.Parse(authURL)
	if got := u.Query().Get("client_secret"); got != "MY_SECRET" {
		t.Errorf("authorize client_secret = %q; want MY_SECRET (vendor quirk)", got)
	}
	if _, err := flow.Exchange(context.Background(), "MY_CODE_FROM_REDIRECT_URI", ""); err != nil {
		t.Fatal(err)
	}
	checkForm(t, ts.form(0), map[string]string{
		"response_type": "code", "client_id": "MY_CLIENT", "client_secret": "MY_SECRET",
		"redirect_uri": "https://app.test/endpoint", "grant_type": "authorization_code", "code": "MY_CODE_FROM_REDIRECT_URI",
	})
}

func TestStaticToken(t *testing.T) {
	src := auth.StaticToken("ui-token", time.Now().Add(365*24*time.Hour))
	tok, err := src.Token()
	if err != nil || tok.AccessToken != "ui-token" || tok.Type() != "Bearer" {
		t.Fatalf("got %v, %v", tok, err)
	}
	if _, err := auth.StaticToken("old", time.Now().Add(-time.Hour)).Token(); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired static token: err = %v", err)
	}
}

func TestTokenRequestNeverFollowsRedirectToAnotherOrigin(t *testing.T) {
	other := newTokenServer(t, nil)
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		http.Redirect(w, r, other.URL(), http.StatusTemporaryRedirect)
	})
	flow, _ := auth.ClientCredentials(&clientcredentials.Config{ClientID: "a", ClientSecret: testClientSecret, TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams}, auth.FlowOptions{})
	_, err := flow.TokenContext(context.Background())
	var te *auth.TokenError
	if !errors.As(err, &te) || te.StatusCode != 307 {
		t.Fatalf("err = %v; want a TokenError for the 307", err)
	}
	if n := other.requests.Load(); n != 0 {
		t.Errorf("the other origin saw %d token requests; want 0", n)
	}
}

// Two users of one client must not share a store entry: the key names the
// user (the id_token's sub), never the raw token.
func TestAuthCodeTokenSourceKeyedPerUser(t *testing.T) {
	flow, _ := auth.AuthorizationCode(&oauth2.Config{
		ClientID: testClientID, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: "https://x.test/token", AuthStyle: oauth2.AuthStyleInParams},
	}, auth.AuthCodeOptions{})
	idFor := func(sub string) string {
		return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+sub+`"}`)) + ".sig"
	}
	tokFor := func(sub, rt string) *oauth2.Token {
		return (&oauth2.Token{AccessToken: "at-" + rt, RefreshToken: rt}).WithExtra(map[string]any{"id_token": idFor(sub)})
	}
	alice1 := flow.TokenSource(tokFor("alice", "rt-1")).CacheKey()
	alice2 := flow.TokenSource(tokFor("alice", "rt-2")).CacheKey()
	bob := flow.TokenSource(tokFor("bob", "rt-3")).CacheKey()
	noID := flow.TokenSource(&oauth2.Token{RefreshToken: "rt-secret-value"}).CacheKey()
	if alice1 != alice2 || alice1 == bob {
		t.Errorf("keys alice %s/%s bob %s: want one key per user", alice1, alice2, bob)
	}
	if strings.Contains(noID, "rt-secret-value") || noID == alice1 {
		t.Errorf("key without an id_token = %q", noID)
	}
}
