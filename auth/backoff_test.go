package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

// hammer runs callers goroutines that ask c for a token over and over
// while the fake clock advances by span in small steps, and returns every
// error they saw. Nothing depends on how fast the machine is: the clock
// only moves forward, and the cache's schedule is on that clock.
func hammer(t *testing.T, c *auth.Cache, clock *fakeClock, callers int, span time.Duration) []error {
	t.Helper()
	var stop atomic.Bool
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, err := c.TokenContext(context.Background()); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	const step = 10 * time.Millisecond
	for elapsed := time.Duration(0); elapsed < span; elapsed += step {
		clock.Advance(step)
		time.Sleep(200 * time.Microsecond)
	}
	stop.Store(true)
	wg.Wait()
	return errs
}

// Issue 14: with a token endpoint that refuses every request and 20
// callers for 3 s, Stems made 1,228 wrong-password sign-ins and Stenn 1,052
// token requests. Now the cache backs off: a refused credential is asked
// for once, and a failing endpoint a few times.
func TestRefusingTokenEndpointIsNotHammered(t *testing.T) {
	const callers = 20
	const span = 3 * time.Second
	for _, tc := range []struct {
		name         string
		status       int
		body         map[string]any
		password     bool
		maxFetches   int64 // token fetches the cache may start in 3 s
		maxRequests  int64 // token requests, the flow's own retries included
		wantRefused  bool
		wantTokenErr int
	}{
		// Stems, wrong password: one sign-in, then the 15-minute cool-down.
		{"password invalid_grant", 400, map[string]any{"error": "invalid_grant", "error_description": "invalid_username_or_password"}, true, 1, 1, true, 400},
		// A wrong client secret: one request.
		{"client credentials invalid_client", 401, map[string]any{"error": "invalid_client"}, false, 1, 1, true, 401},
		// Stenn answers {message, exception_key} without an OAuth code.
		{"client credentials 401 without an OAuth code", 401, map[string]any{"message": "Unauthorized", "exception_key": "auth"}, false, 1, 1, true, 401},
		// An endpoint that is down: fetches at 0 s, then after at least
		// 0.5 s and 1 s more (backoff 1 s, 2 s, 4 s with equal jitter), so
		// at most 3 in 3 s. The first is 4 requests (the flow's own retries
		// absorb a blip); after that the cache's backoff is the retry, and
		// each fetch is one request: 6 in all.
		{"endpoint down (503)", 503, map[string]any{"error": "temporarily_unavailable"}, false, 3, 6, false, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
				writeJSON(w, tc.status, tc.body)
			})
			rec := &sleepRecorder{}
			fo := auth.FlowOptions{Now: clock.Now, Sleep: rec.Sleep}
			var src auth.ContextTokenSource
			if tc.password {
				src, _ = auth.Password(stemsConfig(ts.URL(), "offline_access"), testUser, testPassword, fo)
			} else {
				src, _ = auth.ClientCredentials(ccConfig(ts.URL()), fo)
			}
			c := newCache(t, src, auth.CacheOptions{Now: clock.Now})
			start := clock.Now()
			errs := hammer(t, c, clock, callers, span)

			requests := ts.requests.Load()
			fetches := requests - int64(len(rec.Waits())) // each retry within a fetch slept first
			t.Logf("%d callers for %v: %d calls refused, %d token requests", callers, span, len(errs), requests)
			if requests > tc.maxRequests || fetches > tc.maxFetches {
				t.Errorf("%d token requests (%d fetches) in %v; want at most %d (%d)", requests, fetches, span, tc.maxRequests, tc.maxFetches)
			}
			if len(errs) < callers {
				t.Fatalf("only %d errors; want every call to fail", len(errs))
			}
			backingOff := 0
			for _, err := range errs {
				var te *auth.TokenError
				if !errors.As(err, &te) || te.StatusCode != tc.wantTokenErr {
					t.Fatalf("err = %v; want it to wrap the %d TokenError", err, tc.wantTokenErr)
				}
				var be *auth.BackoffError
				if errors.As(err, &be) {
					backingOff++
					if be.Refused != tc.wantRefused || !be.Until.After(start) || be.Wait <= 0 {
						t.Fatalf("BackoffError %+v; want Refused %v and a wait", be, tc.wantRefused)
					}
				}
			}
			if backingOff == 0 {
				t.Error("no caller was told to back off")
			}
		})
	}
}

func TestRefusedCredentialsWaitForCooldownOrReset(t *testing.T) {
	clock := newFakeClock()
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 400, map[string]any{"error": "invalid_grant"})
	})
	flow, _ := auth.Password(stemsConfig(ts.URL()), testUser, testPassword, auth.FlowOptions{Now: clock.Now})
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now, RefusedCooldown: time.Minute})
	if _, err := c.Token(); !auth.IsInvalidGrant(err) {
		t.Fatalf("err = %v; want invalid_grant", err)
	}
	clock.Advance(59 * time.Second)
	_, err := c.Token()
	var be *auth.BackoffError
	if !errors.As(err, &be) || !be.Refused || be.Wait != time.Second || !auth.IsInvalidGrant(err) {
		t.Fatalf("within the cool-down: err = %v; want a refused BackoffError 1s before the next attempt, wrapping invalid_grant", err)
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("%d requests within the cool-down; want 1", n)
	}
	clock.Advance(2 * time.Second)
	c.Token()
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("%d requests after the cool-down; want 2", n)
	}
	// Corrected credentials: ResetBackoff lets the next call through at once.
	c.Token()
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("%d requests; want 2 (cooling down again)", n)
	}
	c.ResetBackoff()
	c.Token()
	if n := ts.requests.Load(); n != 3 {
		t.Fatalf("%d requests after ResetBackoff; want 3", n)
	}
}

// A Retry-After longer than the flow's MaxRetryAfter comes back at once
// on the TokenError, and the cache waits that long: the whole schedule.
func TestCacheHonoursRetryAfterOfTheTokenResponse(t *testing.T) {
	clock := newFakeClock()
	var fail atomic.Bool
	fail.Store(true)
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if fail.Load() {
			w.Header().Set("Retry-After", "120")
			writeJSON(w, 429, map[string]any{"error": "slow_down"})
			return
		}
		issue(&ts, 3600)(w, r, form)
	})
	flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Now: clock.Now})
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now})
	_, err := c.Token()
	var te *auth.TokenError
	if !errors.As(err, &te) || te.RetryAfter != 120*time.Second {
		t.Fatalf("err = %v; want a 429 TokenError with RetryAfter 2m0s", err)
	}
	start := clock.Now()
	fail.Store(false)
	clock.Advance(119 * time.Second)
	_, err = c.Token()
	var be *auth.BackoffError
	if !errors.As(err, &be) || !be.Until.Equal(start.Add(120*time.Second)) || be.Wait != time.Second {
		t.Fatalf("before Retry-After passed: err = %v; want a BackoffError until %v", err, start.Add(120*time.Second))
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("%d requests before Retry-After passed; want 1", n)
	}
	clock.Advance(time.Second)
	if tok, err := c.Token(); err != nil || tok.AccessToken != "access-2" {
		t.Fatalf("after Retry-After: %v, %v; want a new token", tok, err)
	}
}

// The backoff grows exponentially with jitter, is capped, and restarts
// after a success.
func TestCacheBackoffSchedule(t *testing.T) {
	clock := newFakeClock()
	var fail atomic.Bool
	fail.Store(true)
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if fail.Load() {
			writeJSON(w, 503, map[string]any{"error": "temporarily_unavailable"})
			return
		}
		issue(&ts, 3600)(w, r, form)
	})
	flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Now: clock.Now, Retry: &auth.RetryPolicy{MaxAttempts: 1}})
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now, FailureBackoff: time.Second, MaxFailureBackoff: 8 * time.Second})
	for failure := 1; failure <= 6; failure++ {
		if _, err := c.Token(); err == nil {
			t.Fatal("no error from a failing endpoint")
		}
		_, err := c.Token()
		var be *auth.BackoffError
		if !errors.As(err, &be) || be.Failures != failure {
			t.Fatalf("after failure %d: err = %v; want a BackoffError counting %d", failure, err, failure)
		}
		full := min(time.Second<<(failure-1), 8*time.Second)
		if be.Wait < full/2 || be.Wait > full {
			t.Errorf("after failure %d: wait %v; want within [%v, %v]", failure, be.Wait, full/2, full)
		}
		if n := ts.requests.Load(); n != int64(failure) {
			t.Fatalf("%d requests after %d failures; want one per failure", n, failure)
		}
		clock.Advance(be.Wait)
	}
	fail.Store(false)
	if _, err := c.Token(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// A success restarts the schedule: the next failure waits the base.
	fail.Store(true)
	c.Invalidate(&oauth2.Token{AccessToken: "access-7"})
	c.Token()
	_, err := c.Token()
	var be *auth.BackoffError
	if !errors.As(err, &be) || be.Failures != 1 || be.Wait > time.Second {
		t.Errorf("after a success and a new failure: err = %v; want the first backoff again", err)
	}
}

// The background refresh and the blocking path share one schedule: after
// a failed background refresh, a caller whose token was invalidated does
// not send another request before the backoff ends.
func TestBackgroundAndBlockingShareTheSchedule(t *testing.T) {
	clock := newFakeClock()
	var fail atomic.Bool
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if fail.Load() {
			writeJSON(w, 503, map[string]any{"error": "temporarily_unavailable"})
			return
		}
		issue(&ts, 1000)(w, r, form)
	})
	flow, _ := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Now: clock.Now, Retry: &auth.RetryPolicy{MaxAttempts: 1}})
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now})
	tok, _ := c.Token()
	fail.Store(true)
	clock.Advance(800 * time.Second) // past 75%: one background refresh
	c.Token()
	waitFor(t, func() bool { return strings.Contains(c.String(), "Failures:1") }) // the refresh has failed
	c.Invalidate(tok)                                                             // the API refused the token meanwhile
	_, err := c.Token()
	var be *auth.BackoffError
	if !errors.As(err, &be) || be.Failures != 1 {
		t.Fatalf("after the background failure: err = %v; want the same backoff", err)
	}
	if n := ts.requests.Load(); n != 2 {
		t.Errorf("%d requests; want 2", n)
	}
}

func TestCacheBackoffOptionsValidated(t *testing.T) {
	src := auth.StaticToken("static-token", time.Time{})
	for name, o := range map[string]auth.CacheOptions{
		"negative backoff":       {FailureBackoff: -time.Second},
		"negative cool-down":     {RefusedCooldown: -time.Second},
		"backoff beyond its cap": {FailureBackoff: time.Minute, MaxFailureBackoff: time.Second},
	} {
		if _, err := auth.NewCache(src, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
