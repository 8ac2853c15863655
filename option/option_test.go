package option_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// provider is one of the four clients against its fake: how to build it
// with extra options, and what its escape hatches and typed calls reach.
type provider struct {
	pkg string
	// build returns a client's constructor error, and the client.
	build func(opts ...option.Option) (client, error)
	// requests is the fake's log.
	requests func() []fakeserver.Request
	// rawRequest is a request to an API operation, built by hand as a
	// user of Doer or HTTPClient would.
	rawRequest func(ctx context.Context) *http.Request
}

// client is what every provider client has in common.
type client interface {
	HTTPClient() *http.Client
}

type typedCall func(ctx context.Context, opts ...option.CallOption) error

func providers(t *testing.T) []provider {
	stems := stemstest.NewServer(t)
	stenn := stenntest.NewServer(t)
	cc := cloudcomplitest.NewServer(t)
	faml := firstamltest.NewServer(t)
	return []provider{
		{
			pkg: "stemsapi",
			build: func(opts ...option.Option) (client, error) {
				opts = append([]option.Option{stemsapi.WithTokenURL(stems.TokenURL()), stemsapi.WithCompany(stemstest.DefaultCompany)}, opts...)
				return stemsapi.NewClient(stems.URL, stemsapi.Password(stems.ClientID, stems.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword), opts...)
			},
			requests: stems.Requests,
			rawRequest: func(ctx context.Context) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, stems.URL+"/hazards", nil)
				req.Header.Set("X-Company-Context", stemstest.DefaultCompany)
				return req
			},
		},
		{
			pkg: "stennapi",
			build: func(opts ...option.Option) (client, error) {
				return stennapi.NewClient(stenn.ClientID, stenn.ClientSecret, append([]option.Option{stennapi.WithBaseURL(stenn.URL)}, opts...)...)
			},
			requests: stenn.Requests,
			rawRequest: func(ctx context.Context) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, stenn.URL+"/v1/companies", nil)
				return req
			},
		},
		{
			pkg: "cloudcompliapi",
			build: func(opts ...option.Option) (client, error) {
				return cloudcompliapi.NewClient(cc.URL, cloudcompliapi.ClientCredentials{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret}, opts...)
			},
			requests: cc.Requests,
			rawRequest: func(ctx context.Context) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cc.URL+"/api/v2/user", nil)
				return req
			},
		},
		{
			pkg: "firstamlapi",
			build: func(opts ...option.Option) (client, error) {
				opts = append([]option.Option{firstamlapi.WithTokenURL(faml.TokenURL()), firstamlapi.WithGraphQLURL(faml.GraphQLURL())}, opts...)
				return firstamlapi.NewClient(faml.ClientID, faml.ClientSecret, opts...)
			},
			requests: faml.Requests,
			rawRequest: func(ctx context.Context) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, faml.GraphQLURL(), bytes.NewReader([]byte(`{"query":"query Me { me { apiClientId } }"}`)))
				req.Header.Set("Content-Type", "application/json")
				return req
			},
		},
	}
}

// typed returns one typed call of c.
func typed(c client) typedCall {
	switch c := c.(type) {
	case *stemsapi.Client:
		return func(ctx context.Context, opts ...option.CallOption) error {
			_, err := c.ListHazards(ctx, opts...)
			return err
		}
	case *stennapi.Client:
		return func(ctx context.Context, opts ...option.CallOption) error {
			_, err := c.ListCompanies(ctx, opts...)
			return err
		}
	case *cloudcompliapi.Client:
		return func(ctx context.Context, opts ...option.CallOption) error {
			_, err := c.GetUser(ctx, opts...)
			return err
		}
	case *firstamlapi.Client:
		return func(ctx context.Context, opts ...option.CallOption) error { _, err := c.Me(ctx, opts...); return err }
	}
	panic("unknown client")
}

// A nil option is the same error in every package: it is almost always an
// option variable that was never set, and skipping it would hide that.
func TestNilOptionIsAnErrorInEveryPackage(t *testing.T) {
	for _, p := range providers(t) {
		_, err := p.build(nil)
		if err == nil || !strings.HasPrefix(err.Error(), p.pkg+": option ") || !strings.Contains(err.Error(), "is nil") {
			t.Errorf("%s: NewClient(..., nil) = %v; want %q...is nil", p.pkg, err, p.pkg+": option ")
		}
	}
}

// The shared options refuse the same bad values with the same message in
// all four packages.
func TestSharedOptionsBehaveTheSameInEveryPackage(t *testing.T) {
	for _, tc := range []struct {
		opt  option.Option
		want string
	}{
		{option.WithHTTPClient(nil), "WithHTTPClient: nil client"},
		{option.WithStore(nil), "WithStore: nil store"},
		{option.WithLogger(nil), "WithLogger: nil logger"},
		{option.WithUserAgent("acme\r\nX-Evil: 1"), "WithUserAgent: control character in product"},
		{option.WithMaxResponseBytes(0), "WithMaxResponseBytes: must be positive"},
		{option.WithTokenSource(nil), "WithTokenSource: nil source"},
	} {
		for _, p := range providers(t) {
			_, err := p.build(tc.opt)
			if want := p.pkg + ": " + tc.want; err == nil || err.Error() != want {
				t.Errorf("%s: got %v; want %q", p.pkg, err, want)
			}
		}
	}
}

// An option of one provider given to another's client is refused, naming
// both, rather than silently ignored.
func TestAnotherProvidersOptionIsRefused(t *testing.T) {
	foreign := map[string]option.Option{
		"stemsapi":       stennapi.WithSandbox(),
		"stennapi":       stemsapi.WithCompany("234"),
		"cloudcompliapi": firstamlapi.WithGraphQLURL("https://public-api-sandbox.firstaml.com/graphql/"),
		"firstamlapi":    stemsapi.WithScopes("openid"),
	}
	for _, p := range providers(t) {
		_, err := p.build(foreign[p.pkg])
		if err == nil || !strings.Contains(err.Error(), "an option of ") || !strings.Contains(err.Error(), "not of "+p.pkg) {
			t.Errorf("%s: got %v; want a refusal naming both packages", p.pkg, err)
		}
	}
}

// The escape hatches carry what the typed calls carry: the SDK's
// User-Agent (First AML refuses a request without one) and the token.
func TestEscapeHatchesSendTheUserAgent(t *testing.T) {
	ctx := context.Background()
	for _, p := range providers(t) {
		c, err := p.build(option.WithUserAgent("acme-escape/1.0"))
		if err != nil {
			t.Fatal(err)
		}
		send := map[string]func(*http.Request) (*http.Response, error){
			"HTTPClient": c.HTTPClient().Do,
			"Doer":       doerOf(c).Do,
		}
		for name, do := range send {
			before := len(p.requests())
			resp, err := do(p.rawRequest(ctx))
			if err != nil {
				t.Fatalf("%s %s: %v", p.pkg, name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: status %d; want 200", p.pkg, name, resp.StatusCode)
			}
			for _, r := range p.requests()[before:] {
				if r.Token {
					continue
				}
				if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "acme-escape/1.0 complykit-go/") {
					t.Errorf("%s %s: User-Agent %q; want the SDK's", p.pkg, name, ua)
				}
			}
		}
	}
}

type doer interface {
	Do(*http.Request) (*http.Response, error)
}

func doerOf(c client) doer {
	switch c := c.(type) {
	case *stemsapi.Client:
		return c.Doer()
	case *stennapi.Client:
		return c.Doer()
	case *cloudcompliapi.Client:
		return c.Doer()
	case *firstamlapi.Client:
		return c.Doer()
	}
	panic("unknown client")
}

// WithHeader reaches the request of every typed call; Authorization and
// broken headers are refused before anything is sent.
func TestWithHeaderOnEveryTypedCall(t *testing.T) {
	ctx := context.Background()
	for _, p := range providers(t) {
		c, err := p.build()
		if err != nil {
			t.Fatal(err)
		}
		call := typed(c)
		before := len(p.requests())
		if err := call(ctx, option.WithHeader("idempotency-key", "k-123")); err != nil {
			t.Fatalf("%s: %v", p.pkg, err)
		}
		found := false
		for _, r := range p.requests()[before:] {
			if !r.Token && r.Header.Get("Idempotency-Key") == "k-123" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the typed call did not send the header", p.pkg)
		}
		n := len(p.requests())
		for _, bad := range []option.CallOption{
			option.WithHeader("Authorization", "Bearer mine"),
			option.WithHeader("X-Bad Name", "v"),
			option.WithHeader("X-Ok", "line\r\nbreak"),
			nil,
		} {
			if err := call(ctx, bad); err == nil {
				t.Errorf("%s: a bad call option was accepted", p.pkg)
			}
		}
		if got := len(p.requests()); got != n {
			t.Errorf("%s: %d requests sent for refused call options; want 0", p.pkg, got-n)
		}
	}
}

// A call option of one provider is refused by another's typed call.
func TestAnotherProvidersCallOptionIsRefused(t *testing.T) {
	ctx := context.Background()
	for _, p := range providers(t) {
		if p.pkg == "stemsapi" {
			continue
		}
		c, err := p.build()
		if err != nil {
			t.Fatal(err)
		}
		err = typed(c)(ctx, stemsapi.Company("235"))
		if err == nil || !strings.Contains(err.Error(), "a call option of stemsapi, not of "+p.pkg) {
			t.Errorf("%s: got %v; want a refusal", p.pkg, err)
		}
	}
}

// A refused credential is never hammered: 20 callers for 3 s against a
// token endpoint that refuses every request make one sign-in attempt with
// a wrong Stems password, and one token request with wrong Stenn
// credentials (before the backoff: 1,228 and 1,052). Every caller gets the
// refusal, and the error says when the next attempt is allowed.
func TestRefusedCredentialsAreNotHammered(t *testing.T) {
	stems := stemstest.NewServer(t)
	stenn := stenntest.NewServer(t)
	wrongStems, err := stemsapi.NewClient(stems.URL, stemsapi.Password(stems.ClientID, stems.ClientSecret, stemstest.DefaultUsername, "wrong-password"),
		stems.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	wrongStenn, err := stennapi.NewClient(stenn.ClientID, "wrong-secret", stenn.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"stemsapi": func(ctx context.Context) error { _, err := wrongStems.ListHazards(ctx); return err },
		"stennapi": func(ctx context.Context) error { _, err := wrongStenn.ListCompanies(ctx); return err },
	}
	var mu sync.Mutex
	var total, withUntil atomic.Int64
	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for name, call := range calls {
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					err := call(context.Background())
					total.Add(1)
					var be *auth.BackoffError
					var te *auth.TokenError
					switch {
					case errors.As(err, &be) && errors.As(err, &te) && !be.Until.IsZero():
						withUntil.Add(1)
					case errors.As(err, &te):
					default:
						mu.Lock()
						t.Errorf("%s: %v; want the token endpoint's refusal", name, err)
						mu.Unlock()
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
	}
	wg.Wait()
	if n := stems.TokenRequests(); n != 1 {
		t.Errorf("Stems: %d sign-ins with a wrong password in 3 s from 20 callers; want 1", n)
	}
	if n := stenn.TokenRequests(); n != 1 {
		t.Errorf("Stenn: %d token requests with wrong credentials in 3 s from 20 callers; want 1", n)
	}
	if withUntil.Load() == 0 || total.Load() < 100 {
		t.Errorf("%d calls, %d of them told when to try again; the test did not exercise the backoff", total.Load(), withUntil.Load())
	}
}
