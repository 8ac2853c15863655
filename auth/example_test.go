package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// exampleTokenServer is a tiny token endpoint for the examples: it answers
// every grant with a numbered token, a rotated refresh token for the
// password and refresh grants, and an id_token on refresh.
func exampleTokenServer() *httptest.Server {
	n := 0
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		n++
		body := fmt.Sprintf(`{"access_token":"at-%d","token_type":"Bearer","expires_in":1800`, n)
		switch r.PostForm.Get("grant_type") {
		case "password", "authorization_code":
			body += fmt.Sprintf(`,"refresh_token":"rt-%d"`, n)
		case "refresh_token":
			body += fmt.Sprintf(`,"refresh_token":"rt-%d","id_token":"eyJ.id-%d.sig"`, n, n)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body+"}")
	}))
}

// The client credentials grant with the credentials in the form body, as
// Stenn and CloudCompli document it, behind a Cache.
func ExampleClientCredentials() {
	srv := exampleTokenServer()
	defer srv.Close()

	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID:     "my-client",
		ClientSecret: "my-secret",
		TokenURL:     srv.URL + "/token",
		AuthStyle:    oauth2.AuthStyleInParams,
	}, auth.FlowOptions{})
	if err != nil {
		log.Fatal(err)
	}
	cache, err := auth.NewCache(flow, auth.CacheOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		tok, _ := cache.TokenContext(context.Background())
		fmt.Println(tok.AccessToken)
	}
	fmt.Println("fetches:", cache.Fetches())
	// Output:
	// at-1
	// at-1
	// at-1
	// fetches: 1
}

// The password grant, then a refresh with rotation, as Stems Accounts does
// it: the new refresh token replaces the old one and the id_token is kept.
func ExamplePassword() {
	srv := exampleTokenServer()
	defer srv.Close()

	flow, err := auth.Password(&oauth2.Config{
		ClientID:     "my-client",
		ClientSecret: "my-secret",
		Endpoint:     oauth2.Endpoint{TokenURL: srv.URL + "/auth/connect/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:       []string{"email", "resources_stems_api", "offline_access"},
	}, "john.smith@contoso.com", "P4ssw0rd", auth.FlowOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tok, _ := flow.TokenContext(ctx)
	fmt.Println(tok.AccessToken, tok.RefreshToken)
	tok, _ = flow.Refresh(ctx, tok)
	fmt.Println(tok.AccessToken, tok.RefreshToken, auth.IDToken(tok))
	// Output:
	// at-1 rt-1
	// at-2 rt-2 eyJ.id-2.sig
}

// The authorization code flow with PKCE: send the user to the authorize
// URL, then exchange the code that comes back to the redirect URI.
func ExampleAuthorizationCode() {
	srv := exampleTokenServer()
	defer srv.Close()

	flow, err := auth.AuthorizationCode(&oauth2.Config{
		ClientID:    "my-client",
		RedirectURL: "https://app.example/callback",
		Scopes:      []string{"openid", "offline_access"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   "https://accounts.example/auth/connect/authorize",
			TokenURL:  srv.URL + "/auth/connect/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}, auth.AuthCodeOptions{PKCE: true})
	if err != nil {
		log.Fatal(err)
	}
	authURL, verifier := flow.AuthCodeURL("state-123")
	u, _ := url.Parse(authURL)
	fmt.Println(u.Query().Get("code_challenge_method"), len(verifier))

	// ... the user signs in; the redirect brings ?code=...&state=state-123
	tok, err := flow.Exchange(context.Background(), "code-from-redirect", verifier)
	if err != nil {
		log.Fatal(err)
	}
	// Keep it fresh: a Cache over the flow's TokenSource refreshes it.
	cache, _ := auth.NewCache(flow.TokenSource(tok), auth.CacheOptions{})
	cur, _ := cache.Token()
	fmt.Println(cur.AccessToken, cur.RefreshToken)
	// Output:
	// S256 43
	// at-1 rt-1
}

// A token generated in a provider's web UI (CloudCompli's one-year token).
func ExampleStaticToken() {
	src := auth.StaticToken("token-from-the-ui", time.Now().AddDate(1, 0, 0))
	tok, _ := src.Token()
	fmt.Println(tok.Type(), tok.AccessToken)
	// Output: Bearer token-from-the-ui
}

// A Doer applies the cached token to API requests, only for its origin.
func ExampleDoer() {
	tokens := exampleTokenServer()
	defer tokens.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s sent %q", r.URL.Path, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	flow, _ := auth.ClientCredentials(&clientcredentials.Config{
		ClientID: "my-client", ClientSecret: "my-secret", TokenURL: tokens.URL + "/token", AuthStyle: oauth2.AuthStyleInParams,
	}, auth.FlowOptions{})
	cache, _ := auth.NewCache(flow, auth.CacheOptions{})
	doer, err := auth.NewDoer(cache, auth.DoerOptions{BaseURL: api.URL})
	if err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/v1/companies", nil)
	resp, err := doer.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	fmt.Fprint(&b, resp.Status, " ")
	buf := make([]byte, 100)
	n, _ := resp.Body.Read(buf)
	fmt.Println(b.String() + string(buf[:n]))
	// Output: 200 OK /v1/companies sent "Bearer at-1"
}

// Persist tokens across restarts: the file store writes 0600 files
// atomically.
func ExampleNewFileStore() {
	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)
	store, err := auth.NewFileStore(dir)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	store.Save(ctx, "stenn", &oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Unix(2e9, 0)})
	tok, _ := store.Load(ctx, "stenn")
	fi, _ := os.Stat(dir + "/stenn.token.json")
	fmt.Println(tok.RefreshToken, fi.Mode().Perm())
	// Output: r -rw-------
}

// One Redactor per client: the flow registers its secrets and the cache
// every token, and the provider passes the text it copies from responses
// into its own errors through it.
func ExampleRedactor() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl","expires_in":3600}`)
	}))
	defer srv.Close()

	red := auth.NewRedactor()
	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID: "my-client", ClientSecret: "s3cr3t/Key+With=Sym&bols", TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams,
	}, auth.FlowOptions{Redactor: red})
	if err != nil {
		log.Fatal(err)
	}
	cache, _ := auth.NewCache(flow, auth.CacheOptions{Redactor: red})
	tok, _ := cache.Token()

	// An API error body that echoes the request, as some servers do.
	body := `bad request: client_secret=s3cr3t%2FKey%2BWith%3DSym%26bols, token ` + tok.AccessToken + "\n\tat line 2"
	fmt.Println(red.Field(body))
	fmt.Println(red.Header(http.Header{"Authorization": {"Bearer " + tok.AccessToken}}).Get("Authorization"))
	// Output:
	// bad request: client_secret=[redacted], token [redacted]  at line 2
	// Bearer [redacted]
}

// A provider's credential type shows no secret under any fmt verb, in JSON
// or in slog: four one-line methods over auth.Safe.
func ExampleSafe() {
	fmt.Printf("%v\n%d\n", exampleCredentials{ClientID: "my-client", ClientSecret: "hunter2-secret"}, exampleCredentials{ClientID: "x"})
	b, _ := json.Marshal(exampleCredentials{ClientID: "my-client", ClientSecret: "hunter2-secret"})
	fmt.Println(string(b))
	// Output:
	// acmeapi.Credentials{ClientID:"my-client" ClientSecret:[redacted]}
	// acmeapi.Credentials{ClientID:"x" ClientSecret:""}
	// {"ClientID":"my-client","ClientSecret":"[redacted]"}
}

type exampleCredentials struct{ ClientID, ClientSecret string }

func (c exampleCredentials) safe() auth.Safe {
	return auth.Safe{Type: "acmeapi.Credentials", Fields: []auth.SafeField{
		auth.Public("ClientID", c.ClientID), auth.Secret("ClientSecret", c.ClientSecret),
	}}
}
func (c exampleCredentials) String() string                { return c.safe().String() }
func (c exampleCredentials) Format(f fmt.State, verb rune) { c.safe().Format(f, verb) }
func (c exampleCredentials) MarshalJSON() ([]byte, error)  { return c.safe().MarshalJSON() }
func (c exampleCredentials) LogValue() slog.Value          { return c.safe().LogValue() }

// The server-side authorization code flow with response_mode=form_post:
// the code comes back in a POSTed form, and ReadCallback checks its state.
func ExampleAuthCodeFlow_ReadCallback() {
	flow, err := auth.AuthorizationCode(&oauth2.Config{
		ClientID:    "my-client",
		RedirectURL: "https://app.example/callback",
		Endpoint: oauth2.Endpoint{
			AuthURL:   "https://accounts.example/authorize",
			TokenURL:  "https://accounts.example/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}, auth.AuthCodeOptions{PKCE: true})
	if err != nil {
		log.Fatal(err)
	}
	authURL, state, verifier := flow.NewAuthCodeURL(auth.ResponseMode(auth.ResponseModeFormPost))
	u, _ := url.Parse(authURL)
	fmt.Println(u.Query().Get("response_mode"), u.Query().Get("state") == state, len(verifier))
	// Keep state and verifier in the user's session; the browser comes
	// back with a POST to the redirect URL:
	form := url.Values{"code": {"code-from-the-server"}, "state": {state}}
	req := httptest.NewRequest(http.MethodPost, "https://app.example/callback", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, err := flow.ReadCallback(req, state)
	fmt.Println(code, err)
	// A forged redirect carries another state:
	_, err = flow.ReadCallback(httptest.NewRequest(http.MethodGet, "https://app.example/callback?code=x&state=forged", nil), state)
	fmt.Println(errors.Is(err, auth.ErrStateMismatch))
	// Output:
	// form_post true 43
	// code-from-the-server <nil>
	// true
}

// While a cache backs off after failed fetches, callers get a
// *BackoffError at once, saying when the next attempt is allowed.
func ExampleBackoffError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"invalid_username_or_password"}`)
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	flow, _ := auth.Password(&oauth2.Config{
		ClientID: "my-client", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}, "john.smith@contoso.com", "wrong-password", auth.FlowOptions{})
	cache, _ := auth.NewCache(flow, auth.CacheOptions{Now: func() time.Time { return now }})

	_, err := cache.Token() // one sign-in, refused
	fmt.Println(err)
	_, err = cache.Token() // no second sign-in: the account is not hammered
	var be *auth.BackoffError
	if errors.As(err, &be) {
		fmt.Println(be.Refused, be.Until.Format(time.Kitchen), auth.IsInvalidGrant(err))
	}
	// Output:
	// auth: token request (password grant) failed: status 400: invalid_grant: invalid_username_or_password
	// true 3:19AM true
}
