package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"golang.org/x/oauth2"
)

// tokenPathServer issues tokens slowly (tokenDelay) that live lifetime,
// named tok-1, tok-2, ... in order, and serves GET /v1/companies only to
// a token that has not expired. It counts what the benchmarks assert.
type tokenPathServer struct {
	srv        *httptest.Server
	tokenCalls atomic.Int64
	mu         sync.Mutex
	expiry     map[string]time.Time
	rejected   atomic.Int64 // 401s served
	newest     atomic.Int64 // the newest token a successful call used
	rollovers  atomic.Int64 // how often the token in use changed

	// hold, if set, keeps every 401 until that many requests are waiting
	// for one, then answers them all at once: a real 401 storm.
	hold     int64
	held     atomic.Int64
	release  chan struct{}
	timedOut atomic.Bool // the storm did not gather in time
}

func newTokenPathServer(tokenDelay time.Duration, lifetime int) *tokenPathServer {
	// staticToken never expires: the raw floor uses it.
	s := &tokenPathServer{expiry: map[string]time.Time{staticToken: time.Now().Add(time.Hour)}, release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth/v1/token":
			n := s.tokenCalls.Add(1)
			time.Sleep(tokenDelay)
			tok := "tok-" + strconv.FormatInt(n, 10)
			s.mu.Lock()
			s.expiry[tok] = time.Now().Add(time.Duration(lifetime) * time.Second)
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d}`, tok, lifetime)
		case "/v1/companies":
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			s.mu.Lock()
			exp, ok := s.expiry[tok]
			s.mu.Unlock()
			if !ok || time.Now().After(exp) {
				s.reject(w)
				return
			}
			s.used(tok)
			w.Header().Set("Content-Type", "application/json")
			w.Write(companiesBody)
		}
	}))
	return s
}

func (s *tokenPathServer) reject(w http.ResponseWriter) {
	if s.hold > 0 {
		if s.held.Add(1) == s.hold {
			close(s.release)
		}
		select {
		case <-s.release:
		case <-time.After(10 * time.Second):
			s.timedOut.Store(true)
		}
	}
	s.rejected.Add(1)
	w.WriteHeader(http.StatusUnauthorized)
}

// used counts a rollover the first time a successful call carries a token
// newer than any before it.
func (s *tokenPathServer) used(tok string) {
	n, err := strconv.ParseInt(strings.TrimPrefix(tok, "tok-"), 10, 64)
	if err != nil {
		return // the static token
	}
	for {
		cur := s.newest.Load()
		if n <= cur {
			return
		}
		if s.newest.CompareAndSwap(cur, n) {
			if cur != 0 {
				s.rollovers.Add(1)
			}
			return
		}
	}
}

const staticToken = "static-token"

type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(float64(len(l))*p/100+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(l) {
		i = len(l) - 1
	}
	return l[i]
}

const (
	tokenPathWorkers = 32
	tokenDelay       = 200 * time.Millisecond
	// refreshShare is when complykit starts a background refresh: after
	// 75% of a token's life (auth.CacheOptions.RefreshAfter's default).
	refreshShare = 0.75
)

// tokenPathImpls are the token path's contenders and the token lifetimes
// (seconds) each runs with.
var tokenPathImpls = []struct {
	name  string
	lives []int
}{
	{"raw", []int{3, 12}},
	{"xoauth2", []int{3, 12}},
	{"xoauth2-default", []int{12}},
	{"complykit", []int{3, 12}},
}

// tokenPathDuration is how long each run lasts: 24 s, or
// COMPLYKIT_TOKENPATH_SECONDS.
func tokenPathDuration() time.Duration {
	if v, err := strconv.Atoi(os.Getenv("COMPLYKIT_TOKENPATH_SECONDS")); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return 24 * time.Second
}

// period is how long a contender uses each token before the next one is
// in use, and so how many rollovers a run has: complykit refreshes in the
// background after 75% of the token's life; xoauth2 is given the same
// point (oauth2.ReuseTokenSourceWithExpiry with a quarter of the life)
// and then waits for the token endpoint; xoauth2-default treats a token as
// expired 10 s early, its default. raw never changes its token.
func period(impl string, life int) time.Duration {
	lt := time.Duration(life) * time.Second
	switch impl {
	case "raw":
		return 0
	case "xoauth2-default":
		return lt - 10*time.Second + tokenDelay
	default:
		return time.Duration(float64(lt)*refreshShare) + tokenDelay
	}
}

// expectedRollovers bounds the rollovers of a run of d: d/period, less a
// quarter (a busy machine answers the token request late) and one (where
// the run started in the first token's life), plus one.
func expectedRollovers(impl string, life int, d time.Duration) (lo, hi int64) {
	p := period(impl, life)
	if p == 0 {
		return 0, 0
	}
	n := float64(d) / float64(p)
	return int64(math.Max(0, math.Floor(n*0.75)-1)), int64(math.Ceil(n)) + 1
}

// BenchmarkTokenPath: 32 workers for 24 s against a token endpoint that
// takes 200 ms, with tokens that live 3 s and 12 s. Every contender that
// refreshes does the same work: it replaces its token after 75% of the
// token's life, so in a run they have the same number of rollovers (the
// token in use changed), which is reported and asserted; xoauth2-default,
// x/oauth2 as it comes (10 s early expiry), has more. raw, a hand-set
// bearer that never expires, is the floor: what this machine gives 32
// workers on loopback with no token path at all. Run it with -benchtime
// 1x; the figures are the reported metrics. COMPLYKIT_TOKENPATH_SECONDS
// shortens the run.
func BenchmarkTokenPath(b *testing.B) {
	duration := tokenPathDuration()
	for _, impl := range tokenPathImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			for _, life := range impl.lives {
				b.Run(fmt.Sprintf("life=%ds", life), func(b *testing.B) {
					runTokenPath(b, impl.name, life, duration)
				})
			}
		})
	}
}

func runTokenPath(b *testing.B, impl string, life int, duration time.Duration) {
	srv := newTokenPathServer(tokenDelay, life)
	defer srv.srv.Close()
	call := tokenPathClient(b, impl, life, srv.srv.URL, newTransportClient())
	if err := call(context.Background()); err != nil { // the first token: every SDK waits for it once
		b.Fatal(err)
	}
	startTokens, startRollovers := srv.tokenCalls.Load(), srv.rollovers.Load()
	b.ResetTimer()
	var mu sync.Mutex
	var all latencies
	var failures atomic.Int64
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < tokenPathWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for time.Now().Before(deadline) {
				start := time.Now()
				if err := call(context.Background()); err != nil {
					failures.Add(1)
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	slow := 0
	for _, d := range all {
		if d > 100*time.Millisecond {
			slow++
		}
	}
	tokens, rollovers := srv.tokenCalls.Load()-startTokens, srv.rollovers.Load()-startRollovers
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(float64(len(all)), "requests")
	b.ReportMetric(ms(all.pct(50)), "p50-ms")
	b.ReportMetric(ms(all.pct(99)), "p99-ms")
	b.ReportMetric(ms(all.pct(99.9)), "p99.9-ms")
	b.ReportMetric(ms(all.pct(99.99)), "p99.99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(float64(slow), "over-100ms")
	b.ReportMetric(float64(tokens), "token-requests")
	b.ReportMetric(float64(rollovers), "rollovers")
	b.ReportMetric(float64(srv.rejected.Load()), "401s")
	b.ReportMetric(float64(failures.Load()), "failures")

	if n := failures.Load(); n != 0 {
		b.Errorf("%d failed requests, want 0", n)
	}
	if lo, hi := expectedRollovers(impl, life, duration); rollovers < lo || rollovers > hi {
		b.Errorf("%d rollovers in %v with %d s tokens, want %d to %d", rollovers, duration, life, lo, hi)
	}
	// One token request per rollover, and perhaps one more whose token
	// came too late to be used before the end.
	if tokens < rollovers || tokens > rollovers+1 {
		b.Errorf("%d token requests for %d rollovers", tokens, rollovers)
	}
}

func tokenPathClient(tb testing.TB, impl string, life int, base string, hc *http.Client) func(context.Context) error {
	get := func(ctx context.Context, client *http.Client, setToken bool) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/companies", nil)
		if err != nil {
			return err
		}
		if setToken {
			req.Header.Set("Authorization", "Bearer "+staticToken)
		}
		resp, err := client.Do(req)
		_, err = decode(bodyStenn, readAll, resp, err)
		return err
	}
	switch impl {
	case "raw":
		// The floor: a hand-set bearer that never expires, the same decode.
		return func(ctx context.Context) error { return get(ctx, hc, true) }
	case "xoauth2", "xoauth2-default":
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, withoutTimeout(hc))
		src := xoauth2Config(base).TokenSource(ctx)
		if impl == "xoauth2" {
			// The same point as complykit's: a quarter of the life early.
			src = oauth2.ReuseTokenSourceWithExpiry(nil, src, time.Duration(float64(life)*(1-refreshShare)*float64(time.Second)))
		}
		client := oauth2.NewClient(ctx, src)
		return func(ctx context.Context) error { return get(ctx, client, false) }
	case "complykit":
		c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(base), option.WithHTTPClient(hc))
		if err != nil {
			tb.Fatal(err)
		}
		return func(ctx context.Context) error {
			_, err := c.ListCompanies(ctx)
			return err
		}
	}
	tb.Fatalf("no contender %q", impl)
	return nil
}

// stormImpls are the contenders of the cold-callers and 401-storm runs.
var stormImpls = []string{"xoauth2", "complykit"}

// BenchmarkColdCallers: 1000 callers arrive at a fresh client at once, with
// a token endpoint that takes 50 ms. Asserted: complykit and x/oauth2 both
// make 1 token request, and no call fails.
func BenchmarkColdCallers(b *testing.B) {
	for _, impl := range stormImpls {
		b.Run("impl="+impl, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				tokens, failures := coldCallers(b, impl, 1000)
				b.ReportMetric(float64(tokens), "token-requests")
				b.ReportMetric(float64(failures), "failures")
				if tokens != 1 || failures != 0 {
					b.Errorf("%d token requests and %d failures for 1000 cold callers, want 1 and 0", tokens, failures)
				}
			}
		})
	}
}

func coldCallers(tb testing.TB, impl string, n int) (tokens, failures int64) {
	srv := newTokenPathServer(50*time.Millisecond, 3600)
	defer srv.srv.Close()
	call := tokenPathClient(tb, impl, 3600, srv.srv.URL, newTransportClient())
	var wg sync.WaitGroup
	var failed atomic.Int64
	for j := 0; j < n; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := call(context.Background()); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	return srv.tokenCalls.Load(), failed.Load()
}

// stormSize is how many requests get a 401 at once.
const stormSize = 100

type storm struct {
	rejected, tokens, successes int64
	gathered                    bool // all stormSize requests were held before any 401
}

// runStorm: a client holds a token, the server revokes it, and stormSize
// requests are sent at once; the server holds every 401 until all of them
// have arrived, then answers them together, so the client sees stormSize
// concurrent 401s for the same token.
func runStorm(tb testing.TB, impl string) storm {
	srv := newTokenPathServer(20*time.Millisecond, 3600)
	defer srv.srv.Close()
	srv.hold = stormSize
	call := tokenPathClient(tb, impl, 3600, srv.srv.URL, newTransportClient())
	if err := call(context.Background()); err != nil {
		tb.Fatal(err)
	}
	srv.mu.Lock()
	for t := range srv.expiry {
		srv.expiry[t] = time.Time{} // revoke
	}
	srv.mu.Unlock()
	before := srv.tokenCalls.Load()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for j := 0; j < stormSize; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := call(context.Background()); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return storm{rejected: srv.rejected.Load(), tokens: srv.tokenCalls.Load() - before, successes: ok.Load(), gathered: !srv.timedOut.Load()}
}

// wantStorm is what each contender must show. complykit invalidates the
// refused token once, fetches one new token for all 100 and replays each
// request once. x/oauth2 has no 401 handling: it keeps the refused token
// (it has not expired), so all 100 calls fail and no token is fetched.
var wantStorm = map[string]storm{
	"complykit": {rejected: stormSize, tokens: 1, successes: stormSize, gathered: true},
	"xoauth2":   {rejected: stormSize, tokens: 0, successes: 0, gathered: true},
}

// BenchmarkConcurrent401s: a real 401 storm (runStorm). Reported and
// asserted: 401s served, token requests, successes.
func BenchmarkConcurrent401s(b *testing.B) {
	for _, impl := range stormImpls {
		b.Run("impl="+impl, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				got := runStorm(b, impl)
				b.ReportMetric(float64(got.rejected), "401s")
				b.ReportMetric(float64(got.tokens), "token-requests")
				b.ReportMetric(float64(got.successes), "successes")
				if got != wantStorm[impl] {
					b.Errorf("storm: got %+v; want %+v", got, wantStorm[impl])
				}
			}
		})
	}
}

// TestConcurrent401s runs the storm once per contender in the ordinary
// test run (it waits for requests, not for time).
func TestConcurrent401s(t *testing.T) {
	for _, impl := range stormImpls {
		if got := runStorm(t, impl); got != wantStorm[impl] {
			t.Errorf("%s storm: got %+v; want %+v", impl, got, wantStorm[impl])
		}
	}
}
