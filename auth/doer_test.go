package auth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
)

// apiFixture is an API server that accepts one token at a time and a Doer
// wired to it through a Cache over a token server.
type apiFixture struct {
	tokens *tokenServer
	api    *httptest.Server
	cache  *auth.Cache
	doer   *auth.Doer
	// accept reports whether the API accepts the bearer token.
	accept func(token string) bool
	handle func(w http.ResponseWriter, r *http.Request)
	calls  atomic.Int64
}

func newAPIFixture(t *testing.T, retry *auth.RetryPolicy, logger *slog.Logger) *apiFixture {
	t.Helper()
	f := &apiFixture{accept: func(string) bool { return true }}
	f.tokens = newTokenServer(t, nil)
	f.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !f.accept(tok) {
			writeJSON(w, 401, map[string]any{"error": "invalid_token"})
			return
		}
		if f.handle != nil {
			f.handle(w, r)
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true})
	}))
	t.Cleanup(f.api.Close)
	flow, err := auth.ClientCredentials(ccConfig(f.tokens.URL()), auth.FlowOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	f.cache = newCache(t, flow, auth.CacheOptions{Logger: logger})
	f.doer, err = auth.NewDoer(f.cache, auth.DoerOptions{
		BaseURL: f.api.URL, Retry: retry, Logger: logger, OriginHeaders: []string{auth.HeaderCompanyContext},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *apiFixture) get(t *testing.T, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.api.URL+path, nil)
	resp, err := f.doer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDoerSetsBearerFromCache(t *testing.T) {
	f := newAPIFixture(t, nil, nil)
	var got string
	f.handle = func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }
	resp := f.get(t, "/v1/companies")
	resp.Body.Close()
	if got != "Bearer access-1" {
		t.Errorf("Authorization = %q; want %q", got, "Bearer access-1")
	}
	f.get(t, "/again").Body.Close()
	if n := f.tokens.requests.Load(); n != 1 {
		t.Errorf("%d token requests for 2 calls; want 1", n)
	}
}

func TestConcurrent401sCauseOneNewToken(t *testing.T) {
	f := newAPIFixture(t, nil, nil)
	var current atomic.Value
	current.Store("access-1")
	f.accept = func(tok string) bool { return tok == current.Load().(string) }
	f.get(t, "/warm").Body.Close() // cache access-1
	current.Store("access-2")      // the server revokes access-1

	const n = 100
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, f.api.URL+"/x", nil)
			resp, err := f.doer.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != n {
		t.Errorf("%d of %d requests succeeded after the 401s", ok.Load(), n)
	}
	if got := f.tokens.requests.Load(); got != 2 {
		t.Errorf("%d token requests; want 2 (the first and one after the 401s)", got)
	}
}

func TestDoer401ReplaysOnlyResendableBodies(t *testing.T) {
	f := newAPIFixture(t, nil, nil)
	var bodies []string
	var mu sync.Mutex
	f.accept = func(tok string) bool { return tok != "access-1" }
	f.handle = func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}
	req, _ := http.NewRequest(http.MethodPost, f.api.URL+"/hazards", strings.NewReader(`{"a":1}`))
	resp, err := f.doer.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST with GetBody: %v, %v; want a replay after the 401", resp, err)
	}
	if len(bodies) != 1 || bodies[0] != `{"a":1}` {
		t.Errorf("replayed bodies = %q; want the original body once", bodies)
	}
	// A body that cannot be rewound is not replayed: the caller sees the 401.
	f.accept = func(string) bool { return false }
	req, _ = http.NewRequest(http.MethodPost, f.api.URL+"/hazards", io.NopCloser(strings.NewReader("x")))
	resp, err = f.doer.Do(req)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("non-rewindable POST: %v, %v; want the 401", resp, err)
	}
	resp.Body.Close()
}

// Credentials go only to the configured origin: a redirect to another
// server carries neither the bearer token nor X-Company-Context.
func TestCredentialsStayOnTheirOrigin(t *testing.T) {
	var sawAuth, sawCompany atomic.Value
	sawAuth.Store("")
	sawCompany.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		sawCompany.Store(r.Header.Get(auth.HeaderCompanyContext))
		w.WriteHeader(200)
	}))
	defer other.Close()
	f := newAPIFixture(t, nil, nil)
	f.handle = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusTemporaryRedirect)
	}
	for _, c := range []struct {
		name string
		do   func(*http.Request) (*http.Response, error)
	}{
		{"Doer.Do", f.doer.Do},
		{"Doer.Client", f.doer.Client().Do},
	} {
		req, _ := http.NewRequest(http.MethodGet, f.api.URL+"/hazards", nil)
		auth.CompanyContext("234")(context.Background(), req)
		resp, err := c.do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d; want the other server's 200", c.name, resp.StatusCode)
		}
		if a, co := sawAuth.Load().(string), sawCompany.Load().(string); a != "" || co != "" {
			t.Errorf("%s: the other origin saw Authorization %q and X-Company-Context %q; want neither", c.name, a, co)
		}
	}
	// A request the caller aims at another origin goes out bare too.
	req, _ := http.NewRequest(http.MethodGet, other.URL+"/direct", nil)
	req.Header.Set("Authorization", "Bearer smuggled")
	resp, err := f.doer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if a := sawAuth.Load().(string); a != "" {
		t.Errorf("a direct request to another origin carried Authorization %q", a)
	}
}

func TestDoerRetries(t *testing.T) {
	fast := &auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	for _, tc := range []struct {
		name      string
		method    string
		ctx       func(context.Context) context.Context
		responses []int
		header    http.Header
		wantCalls int64
		wantFinal int
	}{
		{"429 with Retry-After 0", "GET", nil, []int{429, 200}, http.Header{"Retry-After": {"0"}}, 2, 200},
		{"503 then 502 then 504 then 200", "GET", nil, []int{503, 502, 504, 200}, nil, 4, 200},
		{"gives up after MaxAttempts", "GET", nil, []int{503, 503, 503, 503, 503}, nil, 4, 503},
		{"500 is not retried", "GET", nil, []int{500, 200}, nil, 1, 500},
		{"POST is not retried", "POST", nil, []int{503, 200}, nil, 1, 503},
		{"POST marked idempotent is retried", "POST", auth.WithIdempotent, []int{503, 200}, nil, 2, 200},
		{"Retry-After beyond the limit is not waited for", "GET", nil, []int{429, 200}, http.Header{"Retry-After": {"3600"}}, 1, 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIFixture(t, fast, nil)
			f.handle = func(w http.ResponseWriter, r *http.Request) {
				n := f.calls.Load()
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				if b, _ := io.ReadAll(r.Body); tc.method == "POST" && string(b) != "payload" {
					t.Errorf("attempt %d body = %q; want payload", n, b)
				}
				w.WriteHeader(tc.responses[n-1])
			}
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, tc.method, f.api.URL+"/r", bytes.NewReader([]byte("payload")))
			resp, err := f.doer.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantFinal || f.calls.Load() != tc.wantCalls {
				t.Errorf("final %d after %d calls; want %d after %d", resp.StatusCode, f.calls.Load(), tc.wantFinal, tc.wantCalls)
			}
		})
	}
}

func TestDoerRetryStopsWhenContextEnds(t *testing.T) {
	f := newAPIFixture(t, &auth.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}, nil)
	f.get(t, "/warm").Body.Close()
	f.handle = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }

	// Cancelled while waiting to retry: Do returns at once with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.api.URL+"/r", nil)
	start := time.Now()
	_, err := f.doer.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the retry wait outlived the context")
	}

	// A deadline shorter than the wait: the caller gets the 503 now rather
	// than an error later.
	ctx, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, f.api.URL+"/r", nil)
	resp, err := f.doer.Do(req)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("got %v, %v; want the 503 at once", resp, err)
	}
	resp.Body.Close()
}

func TestDoerRetriesConnectionErrors(t *testing.T) {
	f := newAPIFixture(t, &auth.RetryPolicy{BaseDelay: time.Millisecond, MaxAttempts: 3}, nil)
	f.get(t, "/warm").Body.Close()
	url := f.api.URL
	f.api.Close()
	req, _ := http.NewRequest(http.MethodGet, url+"/r", nil)
	_, err := f.doer.Do(req)
	if err == nil {
		t.Fatal("no error from a closed server")
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"5":                             5 * time.Second,
		"0":                             0,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
	} {
		got, ok := auth.RetryAfter(http.Header{"Retry-After": {v}}, now)
		if !ok || got != want {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "-3"} {
		if _, ok := auth.RetryAfter(http.Header{"Retry-After": {v}}, now); ok {
			t.Errorf("RetryAfter(%q) accepted", v)
		}
	}
}

func TestDoerRefusesInsecureBaseURL(t *testing.T) {
	c := newCache(t, auth.StaticToken("t", time.Time{}), auth.CacheOptions{})
	if _, err := auth.NewDoer(c, auth.DoerOptions{BaseURL: "http://api.example.com"}); !errors.Is(err, auth.ErrInsecureURL) {
		t.Errorf("err = %v; want ErrInsecureURL", err)
	}
	for _, u := range []string{"http://localhost:8080", "http://127.0.0.1:1", "http://[::1]:2", "https://api.example.com"} {
		if _, err := auth.NewDoer(c, auth.DoerOptions{BaseURL: u}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestLogsNeverCarrySecrets(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newAPIFixture(t, &auth.RetryPolicy{BaseDelay: time.Millisecond}, logger)
	f.accept = func(tok string) bool { return tok != "access-1" }
	f.handle = func(w http.ResponseWriter, r *http.Request) {
		if f.calls.Load() == 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
		}
	}
	f.get(t, "/x").Body.Close()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "401") || !strings.Contains(out, "retrying") || !strings.Contains(out, "token fetched") {
		t.Errorf("log lacks the 401 replay, the retry or the fetch:\n%s", out)
	}
	assertNoSecret(t, "log", out, "access-1", "access-2")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A static token refused with 401 is not replayed: the source has nothing
// newer, so the caller gets the 401 after one request, not two.
func TestDoerDoesNotReplayWhenTheTokenCannotChange(t *testing.T) {
	var calls atomic.Int32
	var gotUA atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		gotUA.Store(r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer api.Close()
	c := newCache(t, auth.StaticToken("revoked-ui-token", time.Time{}), auth.CacheOptions{})
	d, err := auth.NewDoer(c, auth.DoerOptions{BaseURL: api.URL, UserAgent: "complykit-go/test"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/api/v2/user", nil)
	resp, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || calls.Load() != 1 {
		t.Errorf("status %d after %d requests; want the 401 after 1", resp.StatusCode, calls.Load())
	}
	if ua := gotUA.Load().(string); ua != "complykit-go/test" {
		t.Errorf("User-Agent = %q; want the Doer's", ua)
	}
}
