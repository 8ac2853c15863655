package cloudcompliapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
)

var oauth2Token = oauth2.Token{AccessToken: "user-access-token-value", TokenType: "Bearer"}

const redirectURL = "https://app.example/cloudcompli/callback"

func app(srv *cloudcomplitest.Server) cloudcompliapi.AuthCodeApp {
	return cloudcompliapi.AuthCodeApp{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, RedirectURL: redirectURL}
}

// noRedirects is the user's browser, stopped at the redirect back to the
// app: the test reads Location instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn runs the browser half of the flow: open the authorize URL, sign
// in on the fake's page and return where the fake sends the browser back.
func signIn(t *testing.T, srv *cloudcomplitest.Server, authURL string) *url.URL {
	t.Helper()
	req, err := srv.SignIn(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodGet {
		t.Fatalf("the callback is a %s; want CloudCompli's GET", req.Method)
	}
	return req.URL
}

// callback is the request the app's redirect URI receives once the
// browser comes back.
func callback(t *testing.T, loc *url.URL) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, loc.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Both observed forms of CloudCompli's grant work end to end against the
// fake, which accepts either: the vendor's own client's (the default: no
// secret on the authorize URL, no response_type in the exchange) and the
// help article's (DocumentedQuirks). PKCE and state are on in both.
func TestAuthorizationCodeEndToEnd(t *testing.T) {
	for _, form := range []struct {
		name   string
		opts   []option.Option
		quirks cloudcompliapi.AuthCodeQuirks
	}{
		{"the vendor client's form (default)", nil, cloudcompliapi.AuthCodeQuirks{}},
		{"the help article's form", []option.Option{cloudcompliapi.WithAuthCodeQuirks(cloudcompliapi.DocumentedQuirks())}, cloudcompliapi.DocumentedQuirks()},
	} {
		t.Run(form.name, func(t *testing.T) { authCodeEndToEnd(t, form.opts, form.quirks) })
	}
}

func authCodeEndToEnd(t *testing.T, opts []option.Option, quirks cloudcompliapi.AuthCodeQuirks) {
	srv := cloudcomplitest.NewServer(t)
	flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, app(srv), append(opts, option.WithUserAgent("acme-mobile/1.0"))...)
	if err != nil {
		t.Fatal(err)
	}
	authURL, state, verifier := flow.NewAuthCodeURL()
	if verifier == "" || state == "" {
		t.Errorf("verifier %q, state %q; want PKCE and a state", verifier, state)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if u.Path != "/oauth2/authorize" || q.Get("response_type") != "code" || q.Get("client_id") != srv.ClientID ||
		q.Get("redirect_uri") != redirectURL || q.Get("state") != state || q.Get("code_challenge_method") != "S256" {
		t.Fatalf("authorize URL = %s; want CloudCompli's parameters, PKCE and the state", authURL)
	}
	if got := q.Has("client_secret"); got != quirks.SecretInAuthURL {
		t.Errorf("client_secret on the authorize URL: %v; want %v", got, quirks.SecretInAuthURL)
	}

	loc := signIn(t, srv, authURL)
	if !strings.HasPrefix(loc.String(), redirectURL+"?") {
		t.Fatalf("redirected to %s; want the app's redirect URL", loc)
	}
	if _, err := flow.ReadCallback(callback(t, loc), "another-session's-state"); !errors.Is(err, auth.ErrStateMismatch) {
		t.Errorf("a callback for another session: %v; want auth.ErrStateMismatch", err)
	}
	code, err := flow.ReadCallback(callback(t, loc), state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.Exchange(context.Background(), code, strings.Repeat("x", 43)); !auth.IsInvalidGrant(err) {
		t.Fatalf("exchange with the wrong verifier: %v; want invalid_grant (the fake honours PKCE)", err)
	}
	loc = signIn(t, srv, authURL) // the failed exchange spent the code
	code, _ = flow.ReadCallback(callback(t, loc), state)
	tok, err := flow.Exchange(context.Background(), code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 31536000 || tok.RefreshToken != "" {
		t.Errorf("token = %+v; want a one-year token without a refresh token", tok)
	}
	var ex cloudcomplitest.Request
	for _, r := range srv.Requests() {
		if r.Token {
			ex = r
		}
	}
	form, _ := url.ParseQuery(string(ex.Body))
	for k, want := range map[string]string{
		"grant_type": "authorization_code", "code": code, "redirect_uri": redirectURL,
		"client_id": srv.ClientID, "client_secret": srv.ClientSecret, "code_verifier": verifier,
	} {
		if got := form.Get(k); got != want {
			t.Errorf("exchange %s = %q; want %q", k, got, want)
		}
	}
	if got := form.Has("response_type"); got != quirks.ResponseTypeInExchange {
		t.Errorf("response_type in the exchange: %v; want %v", got, quirks.ResponseTypeInExchange)
	}
	if ua := ex.Header.Get("User-Agent"); !strings.HasPrefix(ua, "acme-mobile/1.0 complykit-go/") {
		t.Errorf("exchange User-Agent = %q", ua)
	}

	// A code is single-use.
	if _, err := flow.Exchange(context.Background(), code, verifier); !auth.IsInvalidGrant(err) {
		t.Errorf("second exchange: err = %v; want invalid_grant", err)
	}

	// The token acts for the signed-in user.
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app(srv), Token: tok, Subject: "ivy"}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	user, err := c.GetUser(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if user["id"] != cloudcomplitest.SampleUserID || user["email"] != srv.User()["email"] {
		t.Errorf("user = %v; want the fake's signed-in user", user)
	}
	if got, _ := c.Token(context.Background()); got.AccessToken != tok.AccessToken {
		t.Errorf("client token %q; want the exchanged one", got.AccessToken)
	}
	if n := srv.TokenRequests(); n != 3 {
		t.Errorf("%d token requests; want the three exchanges only", n)
	}

	// Revoked, with no refresh token to fall back on: the user must sign
	// in again, and the error says so.
	srv.RevokeAllTokens()
	before := srv.APIRequests()
	_, err = c.GetUser(context.Background())
	if !errors.Is(err, auth.ErrSignInRequired) || !strings.HasPrefix(err.Error(), "cloudcompliapi: get user: ") {
		t.Errorf("after revocation: err = %v; want auth.ErrSignInRequired", err)
	}
	if n := srv.APIRequests() - before; n != 1 {
		t.Errorf("%d API requests after revocation; want 1", n)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	wrong := app(srv)
	wrong.ClientSecret = "not-the-secret"
	// With the secret on the authorize URL, the wrong one is refused there;
	// without it, at the exchange.
	flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, wrong, cloudcompliapi.WithAuthCodeQuirks(cloudcompliapi.DocumentedQuirks()))
	if err != nil {
		t.Fatal(err)
	}
	authURL, _ := flow.AuthCodeURL("s")
	resp, err := noRedirects.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("wrong secret: status %d, Location %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}

	flow, _ = cloudcompliapi.NewAuthCodeFlow(srv.URL, wrong)
	authURL, state, verifier := flow.NewAuthCodeURL()
	code, err := cloudcompliapi.ParseCallback(signIn(t, srv, authURL), state)
	if err != nil {
		t.Fatal(err)
	}
	var te *auth.TokenError
	if _, err := flow.Exchange(context.Background(), code, verifier); !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Errorf("wrong secret, not on the URL: exchange err = %v; want invalid_client", err)
	}

	// The user presses Deny: the redirect carries access_denied.
	good, _ := cloudcompliapi.NewAuthCodeFlow(srv.URL, app(srv))
	authURL, state, _ = good.NewAuthCodeURL()
	denied, err := srv.Deny(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	var ce *cloudcompliapi.Error
	if _, err := cloudcompliapi.ParseCallback(denied.URL, state); !errors.As(err, &ce) || ce.Code != "access_denied" {
		t.Errorf("denied: ParseCallback err = %v; want an *Error with access_denied", err)
	}
	var ae *auth.AuthorizationError
	if _, err := good.ReadCallback(denied, state); !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("denied: ReadCallback err = %v; want an *auth.AuthorizationError with access_denied", err)
	}

	// A code redeemed for another redirect URI is refused.
	authURL, state, verifier = good.NewAuthCodeURL()
	code, err = cloudcompliapi.ParseCallback(signIn(t, srv, authURL), state)
	if err != nil {
		t.Fatal(err)
	}
	other := app(srv)
	other.RedirectURL = "https://evil.example/cb"
	otherFlow, _ := cloudcompliapi.NewAuthCodeFlow(srv.URL, other)
	_, err = otherFlow.Exchange(context.Background(), code, verifier)
	if !errors.As(err, &te) || te.StatusCode != 400 || te.Code != "invalid_grant" {
		t.Errorf("exchange for another redirect URI: err = %v; want a 400 invalid_grant", err)
	}

	for name, a := range map[string]cloudcompliapi.AuthCodeApp{
		"no redirect":       {ClientID: "a", ClientSecret: "b"},
		"relative redirect": {ClientID: "a", ClientSecret: "b", RedirectURL: "/cb"},
		"no secret":         {ClientID: "a", RedirectURL: redirectURL},
		"http off loopback": {ClientID: "a", ClientSecret: "b", RedirectURL: "http://app.example/cb"},
		"javascript:":       {ClientID: "a", ClientSecret: "b", RedirectURL: "javascript:alert(1)"},
		"userinfo":          {ClientID: "a", ClientSecret: "b", RedirectURL: "https://user:pw@app.example/cb"},
		"fragment":          {ClientID: "a", ClientSecret: "b", RedirectURL: "https://app.example/cb#x"},
	} {
		if _, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, a); err == nil || !strings.HasPrefix(err.Error(), "cloudcompliapi: ") {
			t.Errorf("%s: err = %v; want a cloudcompliapi error", name, err)
		}
	}
	if _, err := cloudcompliapi.NewAuthCodeFlow("", app(srv)); err == nil {
		t.Error("no instance URL accepted")
	}
}

// The one-year token generated in CloudCompli's web UI: used as is, never
// fetched; once revoked, a typed 401 and no loop.
func TestStaticToken(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: srv.StaticToken}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ListProjects(ctx); err != nil {
		t.Fatal(err)
	}
	if got := apiRequests(srv)[0].Header.Get("Authorization"); got != "Bearer "+srv.StaticToken {
		t.Errorf("Authorization = %q; want the UI token", got)
	}
	if n := srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests with a static token; want 0", n)
	}

	srv.RevokeAllTokens()
	for i := 0; i < 2; i++ {
		before := srv.APIRequests()
		_, err = c.ListProjects(ctx)
		var ce *cloudcompliapi.Error
		if !errors.As(err, &ce) || !ce.TokenExpired() || ce.Code != "invalid_token" || !strings.Contains(ce.Description, "revoked") {
			t.Fatalf("call %d after Revoke All Tokens: err = %v; want a 401 *Error saying the token was revoked", i+1, err)
		}
		if strings.Contains(err.Error(), srv.StaticToken) {
			t.Error("the error carries the token")
		}
		// The Doer replays a 401 once; a static token cannot change, so
		// the replay is refused as well and the caller gets the 401.
		if n := srv.APIRequests() - before; n > 2 {
			t.Errorf("call %d: %d API requests; want at most 2 (no loop)", i+1, n)
		}
	}
	if n := srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests; a static token must never fetch", n)
	}

	// A newly generated token works again.
	c2, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: srv.GenerateToken()})
	if _, err := c2.ListProjects(ctx); err != nil {
		t.Errorf("with a newly generated token: %v", err)
	}
}

// A UI token expires one year after it was generated, on the fake's clock.
func TestStaticTokenExpires(t *testing.T) {
	clock := cloudcomplitest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := cloudcomplitest.NewServer(t, cloudcomplitest.WithClock(clock), cloudcomplitest.WithStaticToken("ui-token-2026"))
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: "ui-token-2026"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetCompany(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(cloudcomplitest.DefaultTokenLifetime)
	_, err = c.GetCompany(ctx)
	var ce *cloudcompliapi.Error
	if !errors.As(err, &ce) || ce.StatusCode != 401 || !strings.Contains(ce.Description, "expired") {
		t.Errorf("a year later: err = %v; want a 401 saying the token expired", err)
	}

	// A known expiry stops the client before it sends anything.
	past, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: "ui-token-2026", Expiry: time.Now().Add(-time.Hour)})
	before := srv.APIRequests()
	if _, err := past.GetCompany(ctx); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired static token: err = %v", err)
	}
	if srv.APIRequests() != before {
		t.Error("an expired static token was sent")
	}
}

// A user token restored from storage months after the exchange still
// expires a year after it was issued: the client stops using it then,
// without sending it, and says the user must sign in again.
func TestRestoredUserTokenKeepsItsExpiry(t *testing.T) {
	clock := cloudcomplitest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := cloudcomplitest.NewServer(t, cloudcomplitest.WithClock(clock))
	onClock := option.WithCacheOptions(auth.CacheOptions{Now: clock.Now})
	flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, app(srv), onClock)
	if err != nil {
		t.Fatal(err)
	}
	authURL, state, verifier := flow.NewAuthCodeURL()
	code, err := cloudcompliapi.ParseCallback(signIn(t, srv, authURL), state)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := flow.Exchange(context.Background(), code, verifier)
	if err != nil {
		t.Fatal(err)
	}

	clock.Advance(180 * 24 * time.Hour) // the app restarts half a year later
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app(srv), Token: tok}, onClock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(200 * 24 * time.Hour) // past the token's year
	before := srv.APIRequests()
	_, err = c.GetUser(context.Background())
	if !errors.Is(err, auth.ErrSignInRequired) {
		t.Errorf("after the token's year: err = %v; want auth.ErrSignInRequired", err)
	}
	if n := srv.APIRequests() - before; n != 0 {
		t.Errorf("%d API requests with an expired token; want 0", n)
	}
	if tok.ExpiresIn != 31536000 {
		t.Errorf("the caller's token was modified: ExpiresIn %d", tok.ExpiresIn)
	}
}

// Users sharing a Store keep their own tokens: the key is the Subject, or
// derived from the token when there is none.
func TestUserTokensKeptApartInASharedStore(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	store := auth.NewMemoryStore()
	exchange := func() *oauth2.Token {
		flow, _ := cloudcompliapi.NewAuthCodeFlow(srv.URL, app(srv))
		authURL, state, verifier := flow.NewAuthCodeURL()
		code, err := cloudcompliapi.ParseCallback(signIn(t, srv, authURL), state)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := flow.Exchange(context.Background(), code, verifier)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, subjects := range [][2]string{{"alice", "bob"}, {"", ""}} {
		t1, t2 := exchange(), exchange()
		c1, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app(srv), Token: t1, Subject: subjects[0]}, option.WithStore(store))
		c2, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app(srv), Token: t2, Subject: subjects[1]}, option.WithStore(store))
		g1, err1 := c1.Token(context.Background())
		g2, err2 := c2.Token(context.Background())
		if err1 != nil || err2 != nil || g1.AccessToken != t1.AccessToken || g2.AccessToken != t2.AccessToken {
			t.Errorf("subjects %q: tokens %v/%v, %v/%v; each client must keep its own user's token", subjects, g1, g2, err1, err2)
		}
	}
}
