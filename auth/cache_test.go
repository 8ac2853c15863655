package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func ccFlow(t *testing.T, tokenURL string) *auth.ClientCredentialsFlow {
	t.Helper()
	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID: testClientID, ClientSecret: testClientSecret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams,
	}, auth.FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flow
}

func newCache(t *testing.T, src oauth2.TokenSource, opts auth.CacheOptions) *auth.Cache {
	t.Helper()
	c, err := auth.NewCache(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue answers with a numbered token of the given lifetime.
func issue(ts **tokenServer, expiresIn int) func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 200, map[string]any{"access_token": "access-" + itoa((*ts).requests.Load()), "expires_in": expiresIn})
	}
}

func TestCacheColdStampedeFetchesOnce(t *testing.T) {
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		time.Sleep(50 * time.Millisecond) // keep the fetch in flight while callers pile up
		issue(&ts, 3600)(w, r, form)
	})
	c := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{})
	const callers = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, err := c.TokenContext(context.Background())
			if err == nil && tok.AccessToken != "access-1" {
				err = errors.New("got " + tok.AccessToken)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := ts.requests.Load(); n != 1 {
		t.Errorf("%d callers caused %d token requests; want 1", callers, n)
	}
}

// blockingServer answers its first request at once and holds every later one
// until release is closed.
func blockingServer(t *testing.T, expiresIn int) (ts *tokenServer, started <-chan struct{}, release chan struct{}) {
	st := make(chan struct{}, 16)
	release = make(chan struct{})
	ts = newTokenServer(t, nil)
	ts.handle = func(w http.ResponseWriter, r *http.Request, form url.Values) {
		n := ts.requests.Load()
		if n > 1 {
			st <- struct{}{}
			<-release
		}
		writeJSON(w, 200, map[string]any{"access_token": "access-" + itoa(n), "expires_in": expiresIn})
	}
	return ts, st, release
}

func TestCacheRefreshesAheadWithoutMakingCallersWait(t *testing.T) {
	clock := newFakeClock()
	ts, started, release := blockingServer(t, 100)
	c := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{Now: clock.Now, RefreshAfter: 0.5, ExpiryMargin: 5 * time.Second})
	if tok, err := c.Token(); err != nil || tok.AccessToken != "access-1" {
		t.Fatalf("first token = %v, %v", tok, err)
	}
	clock.Advance(60 * time.Second) // past half of the 100 s life, well before expiry

	// Every caller gets the current token while the refresh is stuck in
	// the token endpoint: none of them waits on it.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.TokenContext(context.Background())
			if err != nil || tok.AccessToken != "access-1" {
				t.Errorf("during refresh: got %v, %v; want access-1 at once", tok, err)
			}
		}()
	}
	waitWithin(t, &wg, 5*time.Second) // the refresh is blocked: a caller waiting on it would hang here
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no background refresh reached the token endpoint")
	}
	// More callers, with the refresh still blocked: still no waiting.
	for i := 0; i < 10; i++ {
		if tok, _ := c.TokenContext(context.Background()); tok.AccessToken != "access-1" {
			t.Fatalf("got %v while refreshing", tok)
		}
	}
	close(release)
	waitFor(t, func() bool { tok, _ := c.Token(); return tok.AccessToken == "access-2" })
	if n := ts.requests.Load(); n != 2 {
		t.Errorf("%d token requests; want 2 (one background refresh)", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCacheWaitsOnlyWhenTokenIsAboutToExpire(t *testing.T) {
	clock := newFakeClock()
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) { issue(&ts, 100)(w, r, form) })
	c := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{Now: clock.Now, ExpiryMargin: 5 * time.Second})
	c.Token()
	clock.Advance(96 * time.Second) // inside the 5 s margin (capped at a tenth of the life: 10 s)
	tok, err := c.Token()
	if err != nil || tok.AccessToken != "access-2" {
		t.Fatalf("inside the margin: got %v, %v; want a new token", tok, err)
	}
}

func TestCacheBackgroundFailureBacksOffAndStaysHidden(t *testing.T) {
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
	flow, err := auth.ClientCredentials(ccConfig(ts.URL()), auth.FlowOptions{Retry: &auth.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now})
	c.Token()
	fail.Store(true)
	clock.Advance(800 * time.Second) // past 75%
	for i := 0; i < 20; i++ {
		tok, err := c.Token()
		if err != nil || tok.AccessToken != "access-1" {
			t.Fatalf("while refresh fails: got %v, %v; want the current token and no error", tok, err)
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(t, func() bool { return ts.requests.Load() == 2 })
	time.Sleep(20 * time.Millisecond)
	c.Token()
	if n := ts.requests.Load(); n != 2 {
		t.Errorf("%d token requests right after a failure; want 2 (backing off)", n)
	}
	clock.Advance(2 * time.Second) // past the first backoff (at most 1 s)
	c.Token()
	waitFor(t, func() bool { return ts.requests.Load() == 3 })

	clock.Advance(200 * time.Second) // the token has expired: now the error reaches callers
	_, err = c.Token()
	var te *auth.TokenError
	if !errors.As(err, &te) || te.StatusCode != 503 {
		t.Errorf("after expiry: err = %v; want the 503 TokenError", err)
	}
	fail.Store(false)
	// The failed blocking fetch makes the next one wait too.
	_, err = c.Token()
	var be *auth.BackoffError
	if !errors.As(err, &be) || !errors.As(err, &te) || te.StatusCode != 503 || be.Refused {
		t.Fatalf("right after a failed blocking fetch: err = %v; want a BackoffError wrapping the 503", err)
	}
	if n := ts.requests.Load(); n != 4 {
		t.Errorf("%d token requests; want 4 (no request while backing off)", n)
	}
	clock.Advance(be.Wait)
	if tok, err := c.Token(); err != nil || tok.AccessToken == "access-1" {
		t.Errorf("after recovery: got %v, %v", tok, err)
	}
}

func TestCallerContextBoundsOnlyItsOwnWait(t *testing.T) {
	ts, started, release := blockingServer(t, 3600)
	c := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{})
	ts.requests.Store(1) // make the first request block too
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.TokenContext(ctx); errc <- err }()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v; want context.Canceled", err)
	}
	// The shared fetch goes on for everyone else.
	got := make(chan *oauth2.Token, 1)
	go func() { tok, _ := c.TokenContext(context.Background()); got <- tok }()
	close(release)
	if tok := <-got; tok == nil || tok.AccessToken != "access-2" {
		t.Fatalf("second caller got %v; want the token of the fetch the first caller abandoned", tok)
	}
	if n := ts.requests.Load(); n != 2 {
		t.Errorf("token endpoint saw %d requests; want 1 fetch", n-1)
	}
}

func TestInvalidateDropsOnlyTheCachedToken(t *testing.T) {
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		time.Sleep(20 * time.Millisecond)
		issue(&ts, 3600)(w, r, form)
	})
	c := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{})
	old, _ := c.Token()
	var wg sync.WaitGroup
	var dropped atomic.Int32
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Invalidate(old) {
				dropped.Add(1)
			}
			if tok, err := c.Token(); err != nil || tok.AccessToken != "access-2" {
				t.Errorf("after invalidation: %v, %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if dropped.Load() != 1 || ts.requests.Load() != 2 {
		t.Errorf("dropped %d times, %d token requests; want 1 and 2", dropped.Load(), ts.requests.Load())
	}
	if c.Invalidate(old) {
		t.Error("invalidating a replaced token dropped the new one")
	}
}

func TestPanickingSourceGivesAnError(t *testing.T) {
	c := newCache(t, panicSource{}, auth.CacheOptions{})
	if _, err := c.Token(); err == nil {
		t.Fatal("no error from a panicking source")
	}
}

type panicSource struct{}

func (panicSource) Token() (*oauth2.Token, error) { panic("boom") }

// rotatingServer is a Stems-like token endpoint: every refresh token is
// single-use, and reusing one gives invalid_grant.
type rotatingServer struct {
	*tokenServer
	mu      sync.Mutex
	valid   map[string]bool
	n       int
	reuse   atomic.Int32
	refresh atomic.Int32
}

func newRotatingServer(t *testing.T, expiresIn int) *rotatingServer {
	rs := &rotatingServer{valid: map[string]bool{}}
	rs.tokenServer = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		switch form.Get("grant_type") {
		case "refresh_token":
			rs.refresh.Add(1)
			rt := form.Get("refresh_token")
			if !rs.valid[rt] {
				rs.reuse.Add(1)
				writeJSON(w, 400, map[string]any{"error": "invalid_grant"})
				return
			}
			delete(rs.valid, rt)
		case "password":
		default:
			writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type"})
			return
		}
		rs.n++
		rt := "rt-" + itoa(int64(rs.n))
		rs.valid[rt] = true
		writeJSON(w, 200, map[string]any{"access_token": "at-" + itoa(int64(rs.n)), "refresh_token": rt, "id_token": "id-" + itoa(int64(rs.n)), "expires_in": expiresIn})
	})
	return rs
}

func TestRotatedRefreshTokenIsNeverReused(t *testing.T) {
	clock := newFakeClock()
	rs := newRotatingServer(t, 1800)
	flow, _ := auth.Password(stemsConfig(rs.URL(), "offline_access"), testUser, testPassword, auth.FlowOptions{})
	store := auth.NewMemoryStore()
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now, Store: store})
	for cycle := 0; cycle < 20; cycle++ {
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Token(); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		clock.Advance(1790 * time.Second) // into the margin: callers wait on a refresh
	}
	if rs.reuse.Load() != 0 {
		t.Errorf("%d refresh tokens were reused", rs.reuse.Load())
	}
	if rs.refresh.Load() < 19 {
		t.Errorf("%d refreshes; want one per cycle", rs.refresh.Load())
	}
	tok, _ := c.Token()
	saved, _ := store.Load(context.Background(), c.Key())
	if saved == nil || saved.RefreshToken != tok.RefreshToken || auth.IDToken(saved) != auth.IDToken(tok) {
		t.Errorf("store holds %+v; want the latest rotated refresh token and id_token", saved)
	}
}

// failingStore fails Save while fail is set.
type failingStore struct {
	auth.Store
	fail atomic.Bool
}

func (s *failingStore) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	if s.fail.Load() {
		return errors.New("disk full")
	}
	return s.Store.Save(ctx, key, tok)
}

func TestRotatedRefreshTokenIsSavedBeforeUse(t *testing.T) {
	clock := newFakeClock()
	rs := newRotatingServer(t, 1800)
	flow, _ := auth.Password(stemsConfig(rs.URL(), "offline_access"), testUser, testPassword, auth.FlowOptions{})
	store := &failingStore{Store: auth.NewMemoryStore()}
	c := newCache(t, flow, auth.CacheOptions{Now: clock.Now, Store: store})
	if _, err := c.Token(); err != nil {
		t.Fatal(err)
	}
	store.fail.Store(true)
	clock.Advance(1795 * time.Second)
	_, err := c.Token()
	if err == nil {
		t.Fatal("a rotated refresh token that could not be saved was handed out")
	}
	if rs.refresh.Load() != 1 {
		t.Fatalf("%d refreshes; want 1", rs.refresh.Load())
	}
	// Still failing: the old refresh token must not be sent again.
	if _, err := c.Token(); err == nil {
		t.Fatal("no error while the save still fails")
	}
	if rs.refresh.Load() != 1 || rs.reuse.Load() != 0 {
		t.Fatalf("refreshes %d, reuses %d; the old refresh token was sent again", rs.refresh.Load(), rs.reuse.Load())
	}
	store.fail.Store(false)
	tok, err := c.Token()
	if err != nil || tok.AccessToken != "at-2" || tok.RefreshToken != "rt-2" {
		t.Fatalf("after the store recovered: %v, %v; want the token fetched earlier (at-2/rt-2)", tok, err)
	}
	saved, _ := store.Load(context.Background(), c.Key())
	if saved.RefreshToken != "rt-2" {
		t.Errorf("store holds %q; want rt-2", saved.RefreshToken)
	}
}

func TestCachesSharingAStoreFetchOnce(t *testing.T) {
	var ts *tokenServer
	ts = newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) { issue(&ts, 3600)(w, r, form) })
	store := auth.NewMemoryStore()
	a := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{Store: store})
	b := newCache(t, ccFlow(t, ts.URL()), auth.CacheOptions{Store: store})
	ta, _ := a.Token()
	tb, _ := b.Token()
	if ta.AccessToken != tb.AccessToken || ts.requests.Load() != 1 {
		t.Errorf("tokens %q/%q after %d requests; want one shared token", ta.AccessToken, tb.AccessToken, ts.requests.Load())
	}
	// A token invalidated by b is not adopted again from the store.
	b.Invalidate(tb)
	if tok, _ := b.Token(); tok.AccessToken == tb.AccessToken {
		t.Error("the invalidated token came back from the store")
	}
}

func TestCacheOptionsValidated(t *testing.T) {
	if _, err := auth.NewCache(nil, auth.CacheOptions{}); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := auth.NewCache(auth.StaticToken("x", time.Time{}), auth.CacheOptions{RefreshAfter: 1.5}); err == nil {
		t.Error("RefreshAfter 1.5 accepted")
	}
}

func waitWithin(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal("callers were still waiting after", d)
	}
}

// A token issued earlier (an exchange, a store) keeps its own expiry: the
// cache must not count its expires_in from now.
func TestInitialTokenKeepsItsExpiry(t *testing.T) {
	clock := newFakeClock()
	rs := newRotatingServer(t, 3600)
	flow, _ := auth.AuthorizationCode(&oauth2.Config{
		ClientID: testClientID, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: rs.URL(), AuthStyle: oauth2.AuthStyleInParams},
	}, auth.AuthCodeOptions{FlowOptions: auth.FlowOptions{Now: clock.Now}})
	issued := &oauth2.Token{AccessToken: "old", RefreshToken: "unknown-rt", ExpiresIn: 3600, Expiry: clock.Now().Add(10 * time.Minute)}
	c := newCache(t, flow.TokenSource(issued), auth.CacheOptions{Now: clock.Now})
	if tok, _ := c.Token(); tok.AccessToken != "old" {
		t.Fatalf("got %v", tok)
	}
	clock.Advance(11 * time.Minute)
	c.Token() // expired by its own expiry: a refresh is attempted (and refused: unknown refresh token)
	if rs.refresh.Load() != 1 {
		t.Errorf("%d refreshes after the initial token's own expiry; want 1", rs.refresh.Load())
	}
}

// A source that needs the user to sign in again is not asked again and
// again in the background: once is enough until the token expires.
func TestBackgroundRefreshStopsAtSignInRequired(t *testing.T) {
	clock := newFakeClock()
	flow, _ := auth.AuthorizationCode(&oauth2.Config{
		ClientID: testClientID, RedirectURL: "https://app.test/cb",
		Endpoint: oauth2.Endpoint{AuthURL: "https://x.test/authorize", TokenURL: "https://x.test/token", AuthStyle: oauth2.AuthStyleInParams},
	}, auth.AuthCodeOptions{FlowOptions: auth.FlowOptions{Now: clock.Now}})
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	noRefresh := &oauth2.Token{AccessToken: "only", Expiry: clock.Now().Add(time.Hour)}
	c := newCache(t, flow.TokenSource(noRefresh), auth.CacheOptions{Now: clock.Now, Logger: logger})
	c.Token()
	clock.Advance(56 * time.Minute) // refreshAt == blockAt for a token of unknown life: within the margin
	for i := 0; i < 5; i++ {
		clock.Advance(30 * time.Second)
		c.Token()
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	n := strings.Count(buf.String(), "token fetch failed")
	mu.Unlock()
	if n > 2 {
		t.Errorf("%d failed background fetches logged; want at most 2", n)
	}
}
