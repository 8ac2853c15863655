package auth_test

import (
	"encoding/json"
	"fmt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Secrets used by every test, so each can assert none of them leaks.
const (
	testClientID     = "client-123"
	testClientSecret = "s3cr3t-client-secret"
	testUser         = "john.smith@contoso.com"
	testPassword     = "P4ssw0rd-hunter2"
)

func assertNoSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range append([]string{testClientSecret, testPassword}, secrets...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains the secret %q: %s", what, sec, s)
		}
	}
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tokenServer is an httptest token endpoint that checks every request the
// way a strict OAuth server would and records what it received.
type tokenServer struct {
	t        *testing.T
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	forms    []url.Values
	// handle answers a request whose form has been checked; nil means
	// issue a fresh token.
	handle func(w http.ResponseWriter, r *http.Request, form url.Values)
	// wantAccept is the Accept header every request must carry.
	wantAccept string
}

func newTokenServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, form url.Values)) *tokenServer {
	t.Helper()
	ts := &tokenServer{t: t, handle: handle, wantAccept: "application/json"}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) URL() string { return ts.srv.URL + "/token" }

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	n := ts.requests.Add(1)
	if r.Method != http.MethodPost {
		ts.t.Errorf("token request method = %q; want POST", r.Method)
	}
	if r.URL.Path != "/token" {
		ts.t.Errorf("token request path = %q; want /token", r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		ts.t.Errorf("token request Content-Type = %q; want application/x-www-form-urlencoded", got)
	}
	if got := r.Header.Get("Accept"); got != ts.wantAccept {
		ts.t.Errorf("token request Accept = %q; want %q", got, ts.wantAccept)
	}
	if err := r.ParseForm(); err != nil {
		ts.t.Errorf("token request form: %v", err)
	}
	if len(r.URL.RawQuery) > 0 {
		ts.t.Errorf("token request has a query %q; credentials belong in the body", r.URL.RawQuery)
	}
	form := r.PostForm
	ts.mu.Lock()
	ts.forms = append(ts.forms, form)
	ts.mu.Unlock()
	if ts.handle != nil {
		ts.handle(w, r, form)
		return
	}
	writeJSON(w, 200, map[string]any{
		"access_token": "access-" + itoa(n),
		"token_type":   "Bearer",
		"expires_in":   3600,
	})
}

func (ts *tokenServer) form(i int) url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if i >= len(ts.forms) {
		ts.t.Fatalf("token server saw %d requests; want at least %d", len(ts.forms), i+1)
	}
	return ts.forms[i]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// checkForm asserts form has exactly the wanted fields.
func checkForm(t *testing.T, form url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("form %s = %q; want %q", k, got, v)
		}
	}
	for k := range form {
		if _, ok := want[k]; !ok {
			t.Errorf("form has unexpected field %s", k)
		}
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func ccConfig(tokenURL string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: testClientID, ClientSecret: testClientSecret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams,
	}
}
