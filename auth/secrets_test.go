package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Secrets with the characters that encodings change: + / = & < > " \ and
// spaces (real base64 secrets contain + / =).
const (
	symClientSecret = `s3cr3t/Key+With=Sym&bols`
	symPassword     = `P<a>ss "w\rd& 1+2=3/x`
	symAccess       = `at+/=&<>" \ access-token-0001`
	symRefresh      = `rt+/=&<>" \ refresh-token-0001`
	symIDToken      = `eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEifQ.sig+/=<&>`
	symStatic       = `ui-token+/=&<>"\ static-0001`
)

// Every exported struct type of auth is listed here (the test fails for a
// new one that is not); those whose fields suggest a secret must redact it
// under every fmt verb, in JSON and in slog.
func TestEveryTypeHoldingASecretRedactsIt(t *testing.T) {
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 200, map[string]any{"access_token": symAccess, "refresh_token": symRefresh, "id_token": symIDToken, "expires_in": 3600})
	})
	red := auth.NewRedactor(symClientSecret)
	fo := auth.FlowOptions{Redactor: red, Header: http.Header{"X-Trace": {"t"}}}

	cc, err := auth.ClientCredentials(&clientcredentials.Config{ClientID: testClientID, ClientSecret: symClientSecret, TokenURL: ts.URL(),
		AuthStyle: oauth2.AuthStyleInHeader}, fo)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := auth.Password(&oauth2.Config{ClientID: testClientID, ClientSecret: symClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams}}, testUser, symPassword, fo)
	if err != nil {
		t.Fatal(err)
	}
	acOpts := auth.AuthCodeOptions{FlowOptions: fo, PKCE: true, SecretInAuthURL: true}
	ac, err := auth.AuthorizationCode(&oauth2.Config{ClientID: testClientID, ClientSecret: symClientSecret, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams}}, acOpts)
	if err != nil {
		t.Fatal(err)
	}
	issued := (&oauth2.Token{AccessToken: symAccess, RefreshToken: symRefresh, Expiry: time.Now().Add(time.Hour)}).
		WithExtra(map[string]any{"id_token": symIDToken})
	rts := ac.TokenSource(issued)
	static := auth.StaticToken(symStatic, time.Now().Add(time.Hour))

	store := auth.NewMemoryStore()
	store.Save(context.Background(), "k", issued)
	cacheOpts := auth.CacheOptions{Redactor: red, Store: store, Key: "k"}
	cache, err := auth.NewCache(cc, auth.CacheOptions{Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Token(); err != nil {
		t.Fatal(err)
	}
	doer, err := auth.NewDoer(cache, auth.DoerOptions{BaseURL: "https://api.test"})
	if err != nil {
		t.Fatal(err)
	}
	fileStore, err := auth.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tokenErr, ok := red.Error(&auth.TokenError{Grant: "password", StatusCode: 400, Code: "invalid_request",
		Description: "could not parse: client_secret=" + url.QueryEscape(symClientSecret), Err: errors.New("echo " + symClientSecret)}).(*auth.TokenError)
	if !ok {
		t.Fatal("Redactor.Error did not keep the *TokenError")
	}
	backoff := &auth.BackoffError{Until: time.Now(), Failures: 2, Err: tokenErr}
	tokens := []string{symAccess, symRefresh, symIDToken}

	tel, err := auth.NewTelemetry(auth.TelemetryOptions{Provider: "stenn", Flow: "client_credentials"})
	if err != nil {
		t.Fatal(err)
	}
	authtest.CheckPackage(t, ".", []authtest.Sample{
		{Value: ac, Secrets: append([]string{symClientSecret}, tokens...)},
		{Value: &acOpts, Secrets: []string{symClientSecret}},
		{Value: &auth.AuthorizationError{Code: "access_denied", Description: "no"}},
		{Value: backoff, Secrets: []string{symClientSecret}},
		{Value: cache, Secrets: append([]string{symClientSecret}, tokens...)},
		{Value: &cacheOpts, Secrets: append([]string{symClientSecret}, tokens...)},
		{Value: cc, Secrets: []string{symClientSecret}},
		{Value: doer, Secrets: append([]string{symClientSecret}, tokens...)},
		{Value: &auth.DoerOptions{BaseURL: "https://api.test"}},
		{Value: fileStore},
		{Value: &fo, Secrets: []string{symClientSecret}},
		{Value: store, Secrets: tokens},
		{Value: &auth.ParseOptions{Redactor: red}, Secrets: []string{symClientSecret}},
		{Value: pw, Secrets: []string{symClientSecret, symPassword}},
		{Value: red, Secrets: append([]string{symClientSecret, symPassword}, tokens...)},
		{Value: rts, Secrets: append([]string{symClientSecret}, tokens...)},
		{Value: &auth.RetryPolicy{}},
		{Value: &auth.Safe{Type: "x.Creds", Fields: []auth.SafeField{auth.Public("ID", "id"), auth.Secret("Secret", symClientSecret)}}, Secrets: []string{symClientSecret}},
		{Value: &auth.SafeField{}},
		{Value: static, Secrets: []string{symStatic}},
		{Value: tokenErr, Secrets: []string{symClientSecret}},
		{Value: tel},
		{Value: &auth.TelemetryOptions{Provider: "stenn", Flow: "client_credentials"}},
		{Value: &auth.CallSpan{}},
	}, map[string]string{
		"TelemetryOptions.PropagateToTokenRequests": "a flag: whether token requests carry trace context",
		"CacheOptions.Key":                          "the store key: a hash of the token URL, client id, subject and scopes, never a secret",
		"Cache.key":                                 "the store key, as CacheOptions.Key",
		"SafeField.secret":                          "a flag: whether the field is a secret; the secret itself is never kept",
	})
	if fmt.Sprint(rts) == "" {
		t.Error("empty description")
	}
}

// fmt handles %p before any method: for a struct value it prints the
// fields. The flows keep their secrets behind pointers, so even that shows
// only addresses.
func TestPercentPOfFlowValuesShowsNoSecret(t *testing.T) {
	cc, _ := auth.ClientCredentials(&clientcredentials.Config{ClientID: testClientID, ClientSecret: symClientSecret, TokenURL: "https://x.test/t",
		AuthStyle: oauth2.AuthStyleInParams}, auth.FlowOptions{})
	pw, _ := auth.Password(stemsConfig("https://x.test/t"), testUser, symPassword, auth.FlowOptions{})
	ac, _ := auth.AuthorizationCode(&oauth2.Config{ClientID: testClientID, ClientSecret: symClientSecret, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: "https://x.test/t", AuthStyle: oauth2.AuthStyleInParams}}, auth.AuthCodeOptions{})
	rts := ac.TokenSource(&oauth2.Token{AccessToken: symAccess, RefreshToken: symRefresh})
	forms := authtest.AllForms(symClientSecret, symPassword, testClientSecret, symAccess, symRefresh, symStatic)
	for _, v := range []any{*cc, *pw, *ac, *rts, *auth.StaticToken(symStatic, time.Time{})} {
		authtest.CheckText(t, fmt.Sprintf("%%p of %T", v), fmt.Sprintf("%p", v), forms)
	}
}
