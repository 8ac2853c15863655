package bench

import (
	"context"
	"fmt"
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
	"golang.org/x/oauth2/clientcredentials"
)

// tokenPathServer issues tokens slowly (tokenDelay) that live lifetime,
// and serves GET /v1/companies only to a token that has not expired.
type tokenPathServer struct {
	srv        *httptest.Server
	tokenCalls atomic.Int64
	mu         sync.Mutex
	expiry     map[string]time.Time
	rejected   atomic.Int64
}

func newTokenPathServer(tokenDelay time.Duration, lifetime int) *tokenPathServer {
	// staticToken never expires: the raw floor uses it.
	s := &tokenPathServer{expiry: map[string]time.Time{staticToken: time.Now().Add(time.Hour)}}
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
				s.rejected.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(companiesBody)
		}
	}))
	return s
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

// BenchmarkTokenPath: 32 workers for 20 s against a token endpoint that
// takes 200 ms and tokens that live 12 s, so tokens roll over several
// times (x/oauth2 treats a token as expired 10 s early, so it refreshes
// every 2 s). raw, a hand-set bearer that never expires, is the floor:
// what this machine gives 32 workers on loopback with no token path at
// all. Run it with -benchtime 1x; the figures are the reported
// metrics. COMPLYKIT_TOKENPATH_SECONDS shortens the run.
func BenchmarkTokenPath(b *testing.B) {
	duration := 20 * time.Second
	if v, err := strconv.Atoi(os.Getenv("COMPLYKIT_TOKENPATH_SECONDS")); err == nil && v > 0 {
		duration = time.Duration(v) * time.Second
	}
	const workers, lifetime = 32, 12
	for _, impl := range []string{"raw", "xoauth2", "complykit"} {
		b.Run("impl="+impl, func(b *testing.B) {
			srv := newTokenPathServer(200*time.Millisecond, lifetime)
			defer srv.srv.Close()
			hc := newTransportClient()
			call := tokenPathClient(b, impl, srv.srv.URL, hc)
			call(context.Background()) // the first token: every SDK waits for it once
			b.ResetTimer()
			var mu sync.Mutex
			var all latencies
			var failures atomic.Int64
			deadline := time.Now().Add(duration)
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
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
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(float64(len(all)), "requests")
			b.ReportMetric(ms(all.pct(50)), "p50-ms")
			b.ReportMetric(ms(all.pct(99)), "p99-ms")
			b.ReportMetric(ms(all.pct(99.9)), "p99.9-ms")
			b.ReportMetric(ms(all.pct(99.99)), "p99.99-ms")
			b.ReportMetric(ms(all[len(all)-1]), "max-ms")
			b.ReportMetric(float64(slow), "over-100ms")
			b.ReportMetric(float64(srv.tokenCalls.Load()), "token-requests")
			b.ReportMetric(float64(failures.Load()), "failures")
		})
	}
}

func tokenPathClient(b testing.TB, impl, base string, hc *http.Client) func(context.Context) error {
	switch impl {
	case "raw":
		// The floor: a hand-set bearer that never expires, the same decode.
		return func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/companies", nil)
			req.Header.Set("Authorization", "Bearer "+staticToken)
			resp, err := hc.Do(req)
			_, err = decode(bodyStenn, readAll, resp, err)
			return err
		}
	case "xoauth2":
		cfg := &clientcredentials.Config{ClientID: "id", ClientSecret: "secret", TokenURL: base + "/auth/v1/token", AuthStyle: oauth2.AuthStyleInParams}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		client := oauth2.NewClient(ctx, cfg.TokenSource(ctx))
		return func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/companies", nil)
			resp, err := client.Do(req)
			_, err = decode(bodyStenn, readAll, resp, err)
			return err
		}
	default:
		c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(base), option.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) error {
			_, err := c.ListCompanies(ctx)
			return err
		}
	}
}

// BenchmarkColdCallers: 1000 callers arrive at a fresh client at once;
// token-requests is the figure (target 1).
func BenchmarkColdCallers(b *testing.B) {
	for i := 0; i < b.N; i++ {
		srv := newTokenPathServer(50*time.Millisecond, 3600)
		c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(srv.srv.URL), option.WithHTTPClient(newTransportClient()))
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		var failures atomic.Int64
		for j := 0; j < 1000; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.ListCompanies(context.Background()); err != nil {
					failures.Add(1)
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(srv.tokenCalls.Load()), "token-requests")
		b.ReportMetric(float64(failures.Load()), "failures")
		srv.srv.Close()
	}
}

// BenchmarkConcurrent401s: 100 requests in flight get a 401 for the same
// revoked token; token-requests counts the new tokens (target 1) and
// successes the requests that went through after the replay (target 100).
func BenchmarkConcurrent401s(b *testing.B) {
	for i := 0; i < b.N; i++ {
		srv := newTokenPathServer(20*time.Millisecond, 3600)
		c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(srv.srv.URL), option.WithHTTPClient(newTransportClient()))
		if err != nil {
			b.Fatal(err)
		}
		c.ListCompanies(context.Background())
		srv.mu.Lock()
		for t := range srv.expiry {
			srv.expiry[t] = time.Time{} // revoke
		}
		srv.mu.Unlock()
		before := srv.tokenCalls.Load()
		var wg sync.WaitGroup
		var ok atomic.Int64
		for j := 0; j < 100; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.ListCompanies(context.Background()); err == nil {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(srv.tokenCalls.Load()-before), "token-requests")
		b.ReportMetric(float64(ok.Load()), "successes")
		b.ReportMetric(float64(srv.rejected.Load()), "401s")
		srv.srv.Close()
	}
}
