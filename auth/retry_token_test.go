package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

// sleepRecorder is an injectable sleep that records the waits it is asked
// for and returns at once, so retry tests measure the schedule, not time.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// failThenIssue answers the first n requests with status and header, then
// issues a token.
func failThenIssue(n int64, status int, header http.Header) func(*tokenServer) func(http.ResponseWriter, *http.Request, url.Values) {
	return func(ts *tokenServer) func(http.ResponseWriter, *http.Request, url.Values) {
		return func(w http.ResponseWriter, r *http.Request, form url.Values) {
			if ts.requests.Load() <= n {
				for k, v := range header {
					w.Header()[k] = v
				}
				writeJSON(w, status, map[string]any{"error": "temporarily_unavailable"})
				return
			}
			writeJSON(w, 200, map[string]any{"access_token": "after-" + itoa(ts.requests.Load()), "expires_in": 60})
		}
	}
}

// Issue 13: told Retry-After: 3, the token request was retried after 200
// and 610 ms. The flow now waits what the server asks, within the policy.
func TestTokenRequestHonoursRetryAfter(t *testing.T) {
	clock := newFakeClock()
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"503 with seconds", 503, "3", 3 * time.Second},
		{"429 with seconds", 429, "3", 3 * time.Second},
		{"429 with an HTTP date", 429, clock.Now().Add(7 * time.Second).UTC().Format(http.TimeFormat), 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, nil)
			ts.handle = failThenIssue(1, tc.status, http.Header{"Retry-After": {tc.retryAfter}})(ts)
			rec := &sleepRecorder{}
			flow, err := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Sleep: rec.Sleep, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := flow.TokenContext(context.Background())
			if err != nil || tok.AccessToken != "after-2" {
				t.Fatalf("got %v, %v; want the token of the second request", tok, err)
			}
			if got := rec.Waits(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("waits = %v; want [%v] (Retry-After: %s)", got, tc.want, tc.retryAfter)
			}
		})
	}
}

func TestTokenRequestRetryPolicy(t *testing.T) {
	t.Run("default: 4 attempts, jittered backoff under the policy's bounds", func(t *testing.T) {
		ts := newTokenServer(t, nil)
		ts.handle = failThenIssue(100, 503, nil)(ts)
		rec := &sleepRecorder{}
		flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Sleep: rec.Sleep})
		_, err := flow.TokenContext(context.Background())
		var te *auth.TokenError
		if !errors.As(err, &te) || te.StatusCode != 503 {
			t.Fatalf("err = %v; want the 503", err)
		}
		if n := ts.requests.Load(); n != 4 {
			t.Errorf("%d requests; want 4 (RetryPolicy's default MaxAttempts)", n)
		}
		waits := rec.Waits()
		if len(waits) != 3 {
			t.Fatalf("waits = %v; want 3", waits)
		}
		for i, w := range waits {
			if limit := 200 * time.Millisecond << i; w < 0 || w > limit {
				t.Errorf("wait %d = %v; want within [0, %v] (full jitter)", i+1, w, limit)
			}
		}
	})
	t.Run("the policy's MaxAttempts", func(t *testing.T) {
		ts := newTokenServer(t, nil)
		ts.handle = failThenIssue(100, 502, nil)(ts)
		rec := &sleepRecorder{}
		flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Sleep: rec.Sleep, Retry: &auth.RetryPolicy{MaxAttempts: 2}})
		flow.TokenContext(context.Background())
		if n := ts.requests.Load(); n != 2 {
			t.Errorf("%d requests; want 2", n)
		}
	})
	t.Run("a Retry-After beyond MaxRetryAfter returns at once, with RetryAfter set", func(t *testing.T) {
		ts := newTokenServer(t, nil)
		ts.handle = failThenIssue(100, 429, http.Header{"Retry-After": {"3600"}})(ts)
		rec := &sleepRecorder{}
		flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Sleep: rec.Sleep})
		_, err := flow.TokenContext(context.Background())
		var te *auth.TokenError
		if !errors.As(err, &te) || te.RetryAfter != time.Hour {
			t.Fatalf("err = %v; want a TokenError with RetryAfter 1h", err)
		}
		if n, w := ts.requests.Load(), rec.Waits(); n != 1 || len(w) != 0 {
			t.Errorf("%d requests, waits %v; want 1 and none", n, w)
		}
	})
	t.Run("a wait that would outlive the context is not started", func(t *testing.T) {
		ts := newTokenServer(t, nil)
		ts.handle = failThenIssue(100, 503, http.Header{"Retry-After": {"20"}})(ts)
		rec := &sleepRecorder{}
		flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Sleep: rec.Sleep})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		flow.TokenContext(ctx)
		if n, w := ts.requests.Load(), rec.Waits(); n != 1 || len(w) != 0 {
			t.Errorf("%d requests, waits %v; want 1 and none", n, w)
		}
	})
	for _, status := range []int{400, 401, 403, 500} {
		t.Run("no retry of "+itoa(int64(status)), func(t *testing.T) {
			ts := newTokenServer(t, nil)
			ts.handle = failThenIssue(100, status, http.Header{"Retry-After": {"1"}})(ts)
			rec := &sleepRecorder{}
			flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Sleep: rec.Sleep})
			flow.TokenContext(context.Background())
			if n := ts.requests.Load(); n != 1 {
				t.Errorf("%d requests; want 1 (API calls do not retry %d either)", n, status)
			}
		})
	}
}

// A single-use grant is sent once, whatever the answer: a rotated refresh
// token or a code may have been spent by the request that failed.
func TestSingleUseGrantsAreNeverRetried(t *testing.T) {
	for _, status := range []int{400, 401, 429, 500, 502, 503} {
		for _, grant := range []string{"refresh_token (auth code source)", "refresh_token (password flow)", "authorization_code"} {
			t.Run(grant+" "+itoa(int64(status)), func(t *testing.T) {
				ts := newTokenServer(t, nil)
				ts.handle = func(w http.ResponseWriter, r *http.Request, form url.Values) {
					if form.Get("grant_type") == "password" {
						writeJSON(w, 200, map[string]any{"access_token": "signed-in"})
						return
					}
					w.Header().Set("Retry-After", "1")
					writeJSON(w, status, map[string]any{"error": "temporarily_unavailable"})
				}
				rec := &sleepRecorder{}
				fo := auth.FlowOptions{Sleep: rec.Sleep}
				ac, err := auth.AuthorizationCode(&oauth2.Config{
					ClientID: testClientID, RedirectURL: "https://app.test/cb",
					Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: ts.URL(), AuthStyle: oauth2.AuthStyleInParams},
				}, auth.AuthCodeOptions{FlowOptions: fo})
				if err != nil {
					t.Fatal(err)
				}
				pw, _ := auth.Password(stemsConfig(ts.URL()), testUser, testPassword, fo)
				ctx := context.Background()
				switch grant {
				case "refresh_token (auth code source)":
					_, err = ac.TokenSource(nil).Refresh(ctx, &oauth2.Token{RefreshToken: "rt-once-only"})
				case "refresh_token (password flow)":
					_, err = pw.Refresh(ctx, &oauth2.Token{RefreshToken: "rt-once-only"})
				default:
					_, err = ac.Exchange(ctx, "code-once-only", "")
				}
				var te *auth.TokenError
				if !errors.As(err, &te) || te.StatusCode != status {
					t.Fatalf("err = %v; want the %d", err, status)
				}
				if n := ts.requests.Load(); n != 1 {
					t.Errorf("%d requests; a single-use grant must be sent once", n)
				}
				if w := rec.Waits(); len(w) != 0 {
					t.Errorf("waits %v; want none", w)
				}
			})
		}
	}
}

// firstamlapi sends its own token request and retries it with
// RetryTemporary; the variant with a policy and a sleep honours
// Retry-After the same way.
func TestRetryTemporaryWith(t *testing.T) {
	calls := 0
	fetch := func(context.Context) (*oauth2.Token, error) {
		calls++
		if calls < 3 {
			return nil, &auth.TokenError{Grant: "client_credentials", StatusCode: 503, RetryAfter: 2 * time.Second}
		}
		return &oauth2.Token{AccessToken: "ok"}, nil
	}
	rec := &sleepRecorder{}
	tok, err := auth.RetryTemporaryWith(context.Background(), auth.RetryPolicy{}, rec.Sleep, fetch)
	if err != nil || tok.AccessToken != "ok" || calls != 3 {
		t.Fatalf("got %v, %v after %d calls", tok, err, calls)
	}
	if w := rec.Waits(); len(w) != 2 || w[0] != 2*time.Second || w[1] != 2*time.Second {
		t.Errorf("waits = %v; want [2s 2s]", w)
	}
	// An error that is not a temporary TokenError is returned at once.
	calls = 0
	plain := errors.New("not a token error")
	_, err = auth.RetryTemporaryWith(context.Background(), auth.RetryPolicy{}, rec.Sleep, func(context.Context) (*oauth2.Token, error) {
		calls++
		return nil, plain
	})
	if err != plain || calls != 1 {
		t.Errorf("err = %v after %d calls; want the error after 1", err, calls)
	}
	// The old signature still works (with real, short sleeps).
	calls = 0
	if _, err := auth.RetryTemporary(context.Background(), func(context.Context) (*oauth2.Token, error) {
		calls++
		if calls == 1 {
			return nil, &auth.TokenError{StatusCode: 502}
		}
		return &oauth2.Token{AccessToken: "ok"}, nil
	}); err != nil || calls != 2 {
		t.Errorf("RetryTemporary: %v after %d calls", err, calls)
	}
}
