package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// companiesBody is what every server here answers to GET /v1/companies:
// the fake's sample companies in Stenn's list wrapper.
var companiesBody = func() []byte {
	b, err := json.Marshal(stenn.CompanyList{Object: "list", Data: stenntest.SampleCompanies()})
	if err != nil {
		panic(err)
	}
	return b
}()

const benchToken = "bench-access-token"

// apiHandler serves the token endpoint and GET /v1/companies.
func apiHandler() http.Handler {
	tokenBody := []byte(`{"access_token":"` + benchToken + `","token_type":"Bearer","expires_in":86400}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth/v1/token":
			w.Header().Set("Content-Type", "application/json")
			w.Write(tokenBody)
		case "/v1/companies":
			if r.Header.Get("Authorization") != "Bearer "+benchToken {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(companiesBody)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// decodeCompanies is the raw and x/oauth2 contenders' decode: it reads
// the whole body (so the connection is reused, as stennapi's is) and
// unmarshals it into the generated model stennapi returns.
func decodeCompanies(resp *http.Response, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var list stenn.CompanyList
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, err
	}
	return len(list.Data), nil
}

// contender makes one GET /v1/companies and decodes it.
type contender struct {
	name  string
	setup func(b *testing.B, base string, hc *http.Client) func(ctx context.Context) (int, error)
}

var contenders = []contender{
	{"raw", func(b *testing.B, base string, hc *http.Client) func(context.Context) (int, error) {
		url := base + "/v1/companies"
		return func(ctx context.Context) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return 0, err
			}
			req.Header.Set("Authorization", "Bearer "+benchToken)
			return decodeCompanies(hc.Do(req))
		}
	}},
	{"xoauth2", func(b *testing.B, base string, hc *http.Client) func(context.Context) (int, error) {
		cfg := &clientcredentials.Config{ClientID: "id", ClientSecret: "secret", TokenURL: base + "/auth/v1/token", AuthStyle: oauth2.AuthStyleInParams}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		client := oauth2.NewClient(ctx, cfg.TokenSource(ctx))
		url := base + "/v1/companies"
		return func(ctx context.Context) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return 0, err
			}
			return decodeCompanies(client.Do(req))
		}
	}},
	{"oapicodegen", func(b *testing.B, base string, hc *http.Client) func(context.Context) (int, error) {
		c, err := stenn.NewClientWithResponses(base, stenn.WithHTTPClient(hc), stenn.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+benchToken)
			return nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) (int, error) {
			resp, err := c.ListCompaniesWithResponse(ctx)
			if err != nil {
				return 0, err
			}
			if resp.JSON200 == nil {
				return 0, fmt.Errorf("status %d", resp.StatusCode())
			}
			return len(resp.JSON200.Data), nil
		}
	}},
	{"complykit", func(b *testing.B, base string, hc *http.Client) func(context.Context) (int, error) {
		c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(base), option.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) (int, error) {
			list, err := c.ListCompanies(ctx)
			return len(list), err
		}
	}},
}

func runContender(b *testing.B, c contender, base string, hc *http.Client, parallel bool) {
	call := c.setup(b, base, hc)
	ctx := context.Background()
	if n, err := call(ctx); err != nil || n != 2 { // warm: token, connection
		b.Fatalf("%s: %d companies, %v", c.name, n, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for i := 0; i < b.N; i++ {
			if _, err := call(ctx); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := call(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func newTransportClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// BenchmarkListCompanies runs the four contenders against an in-process
// httptest server on loopback (its allocations are counted too).
func BenchmarkListCompanies(b *testing.B) {
	srv := httptest.NewServer(apiHandler())
	defer srv.Close()
	for _, mode := range []string{"serial", "parallel"} {
		for _, c := range contenders {
			b.Run("impl="+c.name+"/mode="+mode, func(b *testing.B) {
				runContender(b, c, srv.URL, newTransportClient(), mode == "parallel")
			})
		}
	}
}

// inProcessTransport answers without a network: what is left is the
// client's own overhead.
type inProcessTransport struct{ h http.Handler }

func (t inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/v1/companies" && req.Header.Get("Authorization") == "Bearer "+benchToken {
		return &http.Response{
			StatusCode:    200,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(bytes.NewReader(companiesBody)),
			ContentLength: int64(len(companiesBody)),
			Request:       req,
		}, nil
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// BenchmarkListCompaniesInProcess isolates client overhead with a
// RoundTripper that answers from memory.
func BenchmarkListCompaniesInProcess(b *testing.B) {
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	for _, mode := range []string{"serial", "parallel"} {
		for _, c := range contenders {
			b.Run("impl="+c.name+"/mode="+mode, func(b *testing.B) {
				runContender(b, c, "https://api.stenn.test", hc, mode == "parallel")
			})
		}
	}
}

// BenchmarkListCompaniesRemote puts the server in another process (this
// test binary re-executed), so allocs/op counts the client alone: exact
// figures where timings on a shared machine vary.
func BenchmarkListCompaniesRemote(b *testing.B) {
	base := startRemoteServer(b)
	for _, c := range contenders {
		b.Run("impl="+c.name+"/mode=serial", func(b *testing.B) {
			runContender(b, c, base, newTransportClient(), false)
		})
	}
}

var remoteBase atomic.Value

func startRemoteServer(b *testing.B) string {
	if v, ok := remoteBase.Load().(string); ok {
		return v
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeForBenchmarks$")
	cmd.Env = append(os.Environ(), "COMPLYKIT_BENCH_SERVER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var line [128]byte
	n, err := out.Read(line[:])
	if err != nil {
		b.Fatal(err)
	}
	base := strings.TrimSpace(string(line[:n]))
	if !strings.HasPrefix(base, "http://") {
		b.Fatalf("server said %q", base)
	}
	remoteBase.Store(base)
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return base
}

// TestServeForBenchmarks is the separate server process of
// BenchmarkListCompaniesRemote; it does nothing in a normal test run.
func TestServeForBenchmarks(t *testing.T) {
	if os.Getenv("COMPLYKIT_BENCH_SERVER") != "1" {
		t.Skip("runs only as BenchmarkListCompaniesRemote's server process")
	}
	srv := httptest.NewServer(apiHandler())
	fmt.Println(srv.URL)
	select {} // until the benchmark kills this process
}

// TestContendersAgree keeps the benchmark honest: every contender decodes
// the same two companies from the same server.
func TestContendersAgree(t *testing.T) {
	srv := httptest.NewServer(apiHandler())
	defer srv.Close()
	b := &testing.B{}
	for _, c := range contenders {
		call := c.setup(b, srv.URL, newTransportClient())
		if n, err := call(context.Background()); err != nil || n != 2 {
			t.Errorf("%s: %d companies, %v", c.name, n, err)
		}
	}
}
