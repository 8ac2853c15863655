package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

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

// contender makes one GET /v1/companies and decodes it into the model of
// its body, returning the number of companies.
type contender struct {
	name string
	// bodies the contender decodes into; oapi-codegen decodes into its
	// own generated model only.
	bodies []body
	// setup returns the call, decoding into the model of kind (at most
	// one; none: bodyStenn, the generated model).
	setup func(tb testing.TB, base string, hc *http.Client, kind ...body) func(ctx context.Context) (int, error)
}

// kindOf is setup's body: the one given, else bodyStenn.
func kindOf(kind []body) body {
	if len(kind) == 0 {
		return bodyStenn
	}
	return kind[0]
}

// rawCall is the raw contenders' call: a hand-set bearer, then read.
func rawCall(base string, hc *http.Client, kind body, read reader) func(context.Context) (int, error) {
	url := base + "/v1/companies"
	return func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+benchToken)
		resp, err := hc.Do(req)
		return decode(kind, read, resp, err)
	}
}

// xoauth2Call sends through client, an oauth2.NewClient.
func xoauth2Call(base string, client *http.Client, kind body) func(context.Context) (int, error) {
	url := base + "/v1/companies"
	return func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		return decode(kind, readAll, resp, err)
	}
}

func xoauth2Config(base string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: "id", ClientSecret: "secret", TokenURL: base + "/auth/v1/token", AuthStyle: oauth2.AuthStyleInParams}
}

// withoutTimeout is hc without its Timeout.
func withoutTimeout(hc *http.Client) *http.Client {
	return &http.Client{Transport: hc.Transport}
}

var contenders = []contender{
	{"raw", bodies, func(tb testing.TB, base string, hc *http.Client, kinds ...body) func(context.Context) (int, error) {
		kind := kindOf(kinds)
		return rawCall(base, hc, kind, readAll)
	}},
	{"rawpool", bodies, func(tb testing.TB, base string, hc *http.Client, kinds ...body) func(context.Context) (int, error) {
		kind := kindOf(kinds)
		return rawCall(base, hc, kind, readPooled)
	}},
	{"xoauth2", bodies, func(tb testing.TB, base string, hc *http.Client, kinds ...body) func(context.Context) (int, error) {
		kind := kindOf(kinds)
		// clientcredentials.Config.Client: oauth2.NewClient over the
		// context's client, whose Timeout it copies (see clientSettings).
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		return xoauth2Call(base, xoauth2Config(base).Client(ctx), kind)
	}},
	{"oapicodegen", []body{bodyStenn}, func(tb testing.TB, base string, hc *http.Client, _ ...body) func(context.Context) (int, error) {
		c, err := stenn.NewClientWithResponses(base, stenn.WithHTTPClient(hc), stenn.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+benchToken)
			return nil
		}))
		if err != nil {
			tb.Fatal(err)
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
	{"complykit", bodies, func(tb testing.TB, base string, hc *http.Client, kinds ...body) func(context.Context) (int, error) {
		kind := kindOf(kinds)
		c, err := stennapi.NewClient("id", "secret", stennapi.WithBaseURL(base), option.WithHTTPClient(hc))
		if err != nil {
			tb.Fatal(err)
		}
		if kind == bodyStenn {
			return func(ctx context.Context) (int, error) {
				list, err := c.ListCompanies(ctx)
				return len(list), err
			}
		}
		// Your own type: a hand-built request through the client's Doer
		// (token, origin check, retry policy, User-Agent), decoded the
		// floor's way.
		url := base + "/v1/companies"
		return func(ctx context.Context) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return 0, err
			}
			resp, err := c.Doer().Do(req)
			return decode(kind, readPooled, resp, err)
		}
	}},
}

func (c contender) decodes(kind body) bool {
	for _, k := range c.bodies {
		if k == kind {
			return true
		}
	}
	return false
}

func runContender(b *testing.B, c contender, base string, hc *http.Client, kind body, parallel bool) {
	call := c.setup(b, base, hc, kind)
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

// newTransportClient is a transport of its own with the 30 s Timeout a
// careful user sets (complykit's default client has one too).
func newTransportClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// clientSettings are the *http.Client every contender is given, in turn:
//
//   - timeout: newTransportClient, with a 30 s Timeout. net/http enforces
//     it with a context deadline for an *http.Transport (raw, rawpool,
//     oapicodegen, complykit, which wraps the client, not its transport).
//     oauth2.NewClient copies the Timeout onto a client whose transport is
//     oauth2.Transport, which net/http does not know, so for x/oauth2 it
//     starts a goroutine and a timer per request (setRequestCancel).
//   - bare: the same transport without a Timeout, how x/oauth2's docs use
//     it; nothing bounds a request but its context.
var clientSettings = []struct {
	name string
	new  func() *http.Client
}{
	{"timeout", newTransportClient},
	{"bare", func() *http.Client { return withoutTimeout(newTransportClient()) }},
}

// forEach runs each contender (impl first in the name, so that one
// process can run one contender: bench/run.sh) for each body it decodes
// among kinds and each mode; with clients, also for each client setting
// (run gets a new client), otherwise run gets nil and brings its own.
func forEach(b *testing.B, clients bool, kinds []body, modes []string, run func(b *testing.B, c contender, hc *http.Client, kind body, parallel bool)) {
	settings := clientSettings
	if !clients {
		settings = settings[:1]
	}
	for _, c := range contenders {
		b.Run("impl="+c.name, func(b *testing.B) {
			for _, cs := range settings {
				for _, kind := range kinds {
					if !c.decodes(kind) {
						continue
					}
					for _, mode := range modes {
						name := "body=" + string(kind) + "/mode=" + mode
						if clients {
							name = "client=" + cs.name + "/" + name
						}
						b.Run(name, func(b *testing.B) {
							var hc *http.Client
							if clients {
								hc = cs.new()
							}
							run(b, c, hc, kind, mode == "parallel")
						})
					}
				}
			}
		})
	}
}

// BenchmarkListCompanies runs the contenders against an httptest server
// on loopback in the same process (whose allocations are counted too).
func BenchmarkListCompanies(b *testing.B) {
	srv := httptest.NewServer(apiHandler())
	defer srv.Close()
	forEach(b, true, []body{bodyStenn}, []string{"serial", "parallel"}, func(b *testing.B, c contender, hc *http.Client, kind body, parallel bool) {
		runContender(b, c, srv.URL, hc, kind, parallel)
	})
}

// inProcessTransport answers GET /v1/companies from memory, without a
// network, with the peer benchmarks' body, and anything else from h.
type inProcessTransport struct{ h http.Handler }

func (t inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return listTransport{h: t.h}.RoundTrip(req)
}

// listTransport is inProcessTransport with a body of its own (nil: the
// peer body), sized (with its Content-Length) or, if chunked, of unknown
// length, as a chunked response is.
type listTransport struct {
	h       http.Handler
	body    []byte
	chunked bool
}

// bodyReader hides bytes.Reader's WriteTo, as a network body would.
type bodyReader struct{ r *bytes.Reader }

func (b bodyReader) Read(p []byte) (int, error) { return b.r.Read(p) }
func (bodyReader) Close() error                 { return nil }

func (t listTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/v1/companies" && req.Header.Get("Authorization") == "Bearer "+benchToken {
		body := t.body
		if body == nil {
			body = companiesBody
		}
		resp := &http.Response{
			StatusCode:    200,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          bodyReader{bytes.NewReader(body)},
			ContentLength: int64(len(body)),
			Request:       req,
		}
		if t.chunked {
			resp.ContentLength = -1
			resp.TransferEncoding = []string{"chunked"}
		}
		return resp, nil
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// BenchmarkListCompaniesInProcess isolates client overhead with a
// RoundTripper that answers from memory. Its client has no Timeout: net/http
// would enforce one with a goroutine per request for a transport it does
// not know, such as this one, for every contender alike.
func BenchmarkListCompaniesInProcess(b *testing.B) {
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	forEach(b, false, bodies, []string{"serial", "parallel"}, func(b *testing.B, c contender, _ *http.Client, kind body, parallel bool) {
		runContender(b, c, "https://api.stenn.test", hc, kind, parallel)
	})
}

// BenchmarkListCompaniesRemote puts the server in another process (this
// test binary re-executed), so allocs/op counts the client alone: exact
// figures where timings on a shared machine vary.
func BenchmarkListCompaniesRemote(b *testing.B) {
	base := startRemoteServer(b)
	forEach(b, true, bodies, []string{"serial"}, func(b *testing.B, c contender, hc *http.Client, kind body, parallel bool) {
		runContender(b, c, base, hc, kind, parallel)
	})
}

// startRemoteServer starts the server process of
// BenchmarkListCompaniesRemote, until b ends.
func startRemoteServer(b *testing.B) string {
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
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var line [128]byte
	n, err := out.Read(line[:])
	if err != nil {
		b.Fatal(err)
	}
	base := strings.TrimSpace(string(line[:n]))
	if !strings.HasPrefix(base, "http://") {
		b.Fatalf("server said %q", base)
	}
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

// TestContendersAgree keeps the benchmarks honest: every contender
// decodes the same two companies from the same server, into each of its
// models.
func TestContendersAgree(t *testing.T) {
	srv := httptest.NewServer(apiHandler())
	defer srv.Close()
	for _, c := range contenders {
		for _, cs := range clientSettings {
			for _, kind := range c.bodies {
				call := c.setup(t, srv.URL, cs.new(), kind)
				if n, err := call(context.Background()); err != nil || n != 2 {
					t.Errorf("%s, client %s, body %s: %d companies, %v", c.name, cs.name, kind, n, err)
				}
			}
		}
	}
}

// alternatingBatch is how many calls one contender makes before the next
// takes its turn in BenchmarkListCompaniesAlternating: about a millisecond.
const alternatingBatch = 32

// BenchmarkListCompaniesAlternating times the contenders of
// ListCompaniesInProcess (serial, the generated model) in one process, in
// turns of alternatingBatch calls each: A B C D E, A B C D E, ... A busy
// machine slows all of them alike at that scale, where a process per
// contender can land in a quiet or a busy second, so the ratios of one run
// are tight even when the absolute times are not. The figures are the
// <impl>-ns/call metrics; ns/op is a turn of all of them.
func BenchmarkListCompaniesAlternating(b *testing.B) {
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	ctx := context.Background()
	calls := make([]func(context.Context) (int, error), len(contenders))
	for i, c := range contenders {
		calls[i] = c.setup(b, "https://api.stenn.test", hc, bodyStenn)
		if n, err := calls[i](ctx); err != nil || n != 2 {
			b.Fatalf("%s: %d companies, %v", c.name, n, err)
		}
	}
	spent := make([]time.Duration, len(calls))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, call := range calls {
			start := time.Now()
			for k := 0; k < alternatingBatch; k++ {
				if _, err := call(ctx); err != nil {
					b.Fatal(err)
				}
			}
			spent[j] += time.Since(start)
		}
	}
	b.StopTimer()
	for j, c := range contenders {
		b.ReportMetric(float64(spent[j])/float64(b.N*alternatingBatch), c.name+"-ns/call")
	}
}
