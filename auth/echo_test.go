package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	symCode     = `code+/=&<>" \ from-redirect`
	symIssued   = `issued+/=&<>"\ access-0002` // what the echoing server issues
	echoID      = "client id+1"                // form-encoded in Basic
	echoTimeout = 5 * time.Second
)

// echoServer is a token endpoint that echoes the request it got (raw body,
// headers, query, decoded form, a JSON encoding of it) in every place a
// server puts text: error_description and message, X-Request-Id and
// Content-Type, expires_in, a plain-text body; or cut short, as a server
// that truncates does.
func echoServer(t *testing.T, mode string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		var headers []string
		for k, v := range r.Header {
			headers = append(headers, k+": "+strings.Join(v, ","))
		}
		sort.Strings(headers)
		asJSON, _ := json.Marshal(form)
		var decoded []string
		for k := range form {
			decoded = append(decoded, k+"="+form.Get(k))
		}
		sort.Strings(decoded)
		user, pass, _ := r.BasicAuth()
		echo := fmt.Sprintf("could not parse request: %s | headers: %s | query: %s | json: %s | decoded: %s | basic: %s:%s",
			raw, strings.Join(headers, "; "), r.URL.RawQuery, asJSON, strings.Join(decoded, " "), user, pass)
		oneLine := strings.NewReplacer("\r", " ", "\n", " ").Replace(echo)
		w.Header().Set("X-Request-Id", oneLine)
		switch mode {
		case "error fields":
			w.Header().Set("Content-Type", "application/json; echo="+string(raw))
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]any{"error": "invalid_request", "error_description": echo,
				"message": "authorization was " + r.Header.Get("Authorization") + " and " + base64.URLEncoding.EncodeToString([]byte(user+":"+pass))})
		case "expires_in":
			writeJSON(w, 200, map[string]any{"access_token": symIssued, "expires_in": symIssued + " " + echo})
		case "token type":
			writeJSON(w, 200, map[string]any{"access_token": symIssued, "token_type": string(raw)})
		case "plain text 503":
			w.Header().Set("Content-Type", "text/plain; "+string(raw))
			w.WriteHeader(503)
			io.WriteString(w, echo)
		case "cut short":
			// A server that keeps the first bytes of what it echoes:
			// the cut falls inside every secret in turn.
			var cuts []string
			for _, v := range form {
				for _, s := range v {
					if enc := url.QueryEscape(s); len(enc) > 16 {
						if i := strings.Index(string(raw), enc); i >= 0 {
							cuts = append(cuts, string(raw)[:i+len(enc)*2/3])
						}
					}
				}
			}
			writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": strings.Join(cuts, " ... ")})
		default:
			t.Errorf("unknown mode %q", mode)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// lockedBuffer collects log output from several goroutines.
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

// Issue 14: a token endpoint echoing the request put the client secret and
// password, form-encoded, into TokenError and the cache's slog warning.
// For every flow and every place a server echoes the request, no form of
// any secret appears in the error's message, under any fmt verb, in its
// JSON, or in the cache's text and JSON logs.
func TestEchoedSecretsNeverSurvive(t *testing.T) {
	flows := []struct {
		name    string
		secrets []string
		// start makes the flow and returns a call that fails against the
		// server, and the cache that made it (nil for an Exchange).
		start func(t *testing.T, tokenURL string, fo auth.FlowOptions, co auth.CacheOptions) (func() error, *auth.Cache)
	}{
		{"client credentials, form body", []string{symClientSecret},
			func(t *testing.T, tokenURL string, fo auth.FlowOptions, co auth.CacheOptions) (func() error, *auth.Cache) {
				flow, err := auth.ClientCredentials(&clientcredentials.Config{ClientID: echoID, ClientSecret: symClientSecret, TokenURL: tokenURL,
					Scopes: []string{"read"}, AuthStyle: oauth2.AuthStyleInParams}, fo)
				if err != nil {
					t.Fatal(err)
				}
				return cacheCall(t, flow, co)
			}},
		{"client credentials, HTTP Basic", []string{symClientSecret},
			func(t *testing.T, tokenURL string, fo auth.FlowOptions, co auth.CacheOptions) (func() error, *auth.Cache) {
				flow, err := auth.ClientCredentials(&clientcredentials.Config{ClientID: echoID, ClientSecret: symClientSecret, TokenURL: tokenURL,
					AuthStyle: oauth2.AuthStyleInHeader}, fo)
				if err != nil {
					t.Fatal(err)
				}
				return cacheCall(t, flow, co)
			}},
		{"password", []string{symClientSecret, symPassword},
			func(t *testing.T, tokenURL string, fo auth.FlowOptions, co auth.CacheOptions) (func() error, *auth.Cache) {
				flow, err := auth.Password(&oauth2.Config{ClientID: echoID, ClientSecret: symClientSecret,
					Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}, testUser, symPassword, fo)
				if err != nil {
					t.Fatal(err)
				}
				return cacheCall(t, flow, co)
			}},
		{"refresh token, from a store", []string{symClientSecret, symRefresh, symAccess, symIDToken},
			func(t *testing.T, tokenURL string, fo auth.FlowOptions, co auth.CacheOptions) (func() error, *auth.Cache) {
				flow, err := auth.AuthorizationCode(&oauth2.Config{ClientID: echoID, ClientSecret: symClientSecret, RedirectURL: "http://127.0.0.1:9/cb",
					Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}},
					auth.AuthCodeOptions{FlowOptions: fo})
				if err != nil {
					t.Fatal(err)
				}
				// An expired token in the store: the cache loads it and
				// sends its refresh token, which the server echoes.
				expired := (&oauth2.Token{AccessToken: symAccess, RefreshToken: symRefresh, Expiry: co.Now().Add(-time.Hour)}).
					WithExtra(map[string]any{"id_token": symIDToken})
				src := flow.TokenSource(nil)
				co.Store.Save(context.Background(), src.CacheKey(), expired)
				return cacheCall(t, src, co)
			}},
		{"authorization code exchange", []string{symClientSecret, symCode},
			func(t *testing.T, tokenURL string, fo auth.FlowOptions, co auth.CacheOptions) (func() error, *auth.Cache) {
				flow, err := auth.AuthorizationCode(&oauth2.Config{ClientID: echoID, ClientSecret: symClientSecret, RedirectURL: "https://app.test/cb",
					Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}},
					auth.AuthCodeOptions{FlowOptions: fo, PKCE: true, SecretInAuthURL: true})
				if err != nil {
					t.Fatal(err)
				}
				_, verifier := flow.AuthCodeURL("state-1")
				return func() error {
					_, err := flow.Exchange(context.Background(), symCode, verifier)
					return err
				}, nil
			}},
	}
	modes := []string{"error fields", "expires_in", "token type", "plain text 503", "cut short"}
	for _, fl := range flows {
		for _, mode := range modes {
			t.Run(fl.name+"/"+mode, func(t *testing.T) {
				srv := echoServer(t, mode)
				var text, js lockedBuffer
				logger := slog.New(fanout{slog.NewTextHandler(&text, &slog.HandlerOptions{Level: slog.LevelDebug}),
					slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slog.LevelDebug})})
				red := auth.NewRedactor() // one per client, shared by flow and cache
				clock := newFakeClock()
				fo := auth.FlowOptions{Redactor: red, Logger: logger, Sleep: (&sleepRecorder{}).Sleep}
				co := auth.CacheOptions{Redactor: red, Logger: logger, Store: auth.NewMemoryStore(), Now: clock.Now}
				call, cache := fl.start(t, srv.URL+"/token", fo, co)

				forms := authtest.AllForms(append(fl.secrets, symIssued)...)
				forms = append(forms, authtest.BasicForms(echoID, symClientSecret)...)
				var errs []error
				err := call()
				if err == nil {
					t.Fatal("no error from the echoing server")
				}
				errs = append(errs, err)
				if cache != nil {
					// During the backoff: a BackoffError wrapping the echo.
					err2 := call()
					var be *auth.BackoffError
					if !errors.As(err2, &be) {
						t.Fatalf("second call: %v; want a BackoffError", err2)
					}
					errs = append(errs, err2)
				}
				for _, err := range errs {
					var te *auth.TokenError
					if !errors.As(err, &te) {
						t.Fatalf("err = %v (%T); want a *TokenError", err, err)
					}
					if !strings.HasPrefix(err.Error(), "auth: ") {
						t.Errorf("err = %q; want the package first", err)
					}
					authtest.CheckValue(t, err, forms)
					authtest.CheckValue(t, te, forms)
					for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
						authtest.CheckText(t, "a wrapped cause", e.Error(), forms)
					}
					logger.Error("the caller logs it", "err", err, "text", err.Error())
				}
				if cache != nil && !strings.Contains(text.String(), "token fetch failed") {
					t.Errorf("the cache logged no failure:\n%s", text.String())
				}
				authtest.CheckText(t, "slog text output", text.String(), forms)
				authtest.CheckText(t, "slog JSON output", js.String(), forms)
				if mode == "error fields" && !strings.Contains(errs[0].Error(), "[redacted]") {
					t.Errorf("err = %q; want the echo kept, with the secrets replaced", errs[0])
				}
			})
		}
	}
}

func cacheCall(t *testing.T, src oauth2.TokenSource, co auth.CacheOptions) (func() error, *auth.Cache) {
	t.Helper()
	c, err := auth.NewCache(src, co)
	if err != nil {
		t.Fatal(err)
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), echoTimeout)
		defer cancel()
		_, err := c.TokenContext(ctx)
		return err
	}, c
}

// fanout sends every record to each handler.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		h.Handle(ctx, r.Clone())
	}
	return nil
}
func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}
func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// The same echo through ParseTokenResponseWith, as First AML's flow reads
// its JSON-body token response.
func TestParseTokenResponseWithRedactsEchoes(t *testing.T) {
	red := auth.NewRedactor(symClientSecret)
	body, _ := json.Marshal(map[string]any{"error": "invalid_client",
		"error_description": `{"client_id":"c","client_secret":` + string(mustJSON(symClientSecret)) + `}`})
	resp := &http.Response{StatusCode: 401, Body: io.NopCloser(bytes.NewReader(body)),
		Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {base64.StdEncoding.EncodeToString([]byte("c:" + symClientSecret))}}}
	_, err := auth.ParseTokenResponseWith(resp, "client_credentials", auth.ParseOptions{Redactor: red})
	var te *auth.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Fatalf("err = %v", err)
	}
	authtest.CheckValue(t, err, append(authtest.Forms(symClientSecret), authtest.Base64Forms("c:"+symClientSecret)...))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
