package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

var updateReport = flag.Bool("update", false, "rewrite docs/fault-matrix.md from this run")

// subject is one provider client wired to its fake, with what the fault
// matrix needs to drive it.
type subject struct {
	name     string
	call     func(ctx context.Context) error // a typical read
	fake     *fakeserver.Server
	issuer   *fakeserver.Issuer
	clock    *fakeserver.Clock // the fake's clock (the client runs on real time)
	lifetime time.Duration
	secrets  []string
	// refresh forces a refresh-token grant; nil: the flow has no refresh token.
	refresh func(ctx context.Context) error
	tokens  func(ctx context.Context) []string // access tokens the client holds, to check none leaks
}

const faultClientTimeout = 3 * time.Second

func faultHTTPClient() *http.Client { return &http.Client{Timeout: faultClientTimeout} }

var faultRetry = auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func newSubjects(t *testing.T) []*subject {
	t.Helper()
	lifetime := time.Hour
	var out []*subject

	{ // Stems: password grant with refresh-token rotation.
		clock := stemstest.NewClock(time.Now())
		srv := stemstest.NewServer(t, stemstest.WithClock(clock), stemstest.WithTokenLifetime(lifetime))
		cacheClock := stemstest.NewClock(time.Now())
		c, err := stemsapi.NewClient(srv.URL,
			stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
			stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany(stemstest.DefaultCompany),
			option.WithHTTPClient(faultHTTPClient()), option.WithRetryPolicy(faultRetry),
			option.WithCacheOptions(auth.CacheOptions{Now: cacheClock.Now}))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &subject{
			name: "stems", fake: srv.Server, issuer: srv.Issuer, clock: clock, lifetime: lifetime,
			call:    func(ctx context.Context) error { _, err := c.ListHazards(ctx); return err },
			secrets: []string{srv.ClientSecret, stemstest.DefaultPassword},
			refresh: func(ctx context.Context) error {
				clock.Advance(lifetime)
				cacheClock.Advance(lifetime)
				_, err := c.ListHazards(ctx)
				return err
			},
			tokens: func(ctx context.Context) []string {
				tok, _ := c.Token(ctx)
				return []string{tok.AccessToken, tok.RefreshToken}
			},
		})
	}
	{ // Stenn: client credentials, form body.
		clock := stenntest.NewClock(time.Now())
		srv := stenntest.NewServer(t, stenntest.WithClock(clock), stenntest.WithTokenLifetime(lifetime))
		c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL),
			option.WithHTTPClient(faultHTTPClient()), option.WithRetryPolicy(faultRetry))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &subject{
			name: "stenn", fake: srv.Server, issuer: srv.Issuer, clock: clock, lifetime: lifetime,
			call:    func(ctx context.Context) error { _, err := c.ListCompanies(ctx); return err },
			secrets: []string{srv.ClientSecret},
			tokens:  func(ctx context.Context) []string { tok, _ := c.Token(ctx); return []string{tok.AccessToken} },
		})
	}
	{ // CloudCompli: client credentials on a customer instance.
		clock := cloudcomplitest.NewClock(time.Now())
		srv := cloudcomplitest.NewServer(t, cloudcomplitest.WithClock(clock), cloudcomplitest.WithTokenLifetime(lifetime))
		c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret},
			option.WithHTTPClient(faultHTTPClient()), option.WithRetryPolicy(faultRetry))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &subject{
			name: "cloudcompli", fake: srv.Server, issuer: srv.Issuer, clock: clock, lifetime: lifetime,
			call:    func(ctx context.Context) error { _, err := c.GetUser(ctx); return err },
			secrets: []string{srv.ClientSecret},
			tokens:  func(ctx context.Context) []string { tok, _ := c.Token(ctx); return []string{tok.AccessToken} },
		})
	}
	{ // First AML: JSON-body client credentials, GraphQL.
		clock := firstamltest.NewClock(time.Now())
		srv := firstamltest.NewServer(t, firstamltest.WithClock(clock), firstamltest.WithTokenLifetime(lifetime))
		c, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
			firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()),
			option.WithHTTPClient(faultHTTPClient()), option.WithRetryPolicy(faultRetry))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &subject{
			name: "firstaml", fake: srv.Server, issuer: srv.Issuer, clock: clock, lifetime: lifetime,
			call:    func(ctx context.Context) error { _, err := c.Me(ctx); return err },
			secrets: []string{srv.ClientSecret},
			tokens:  func(ctx context.Context) []string { tok, _ := c.Token(ctx); return []string{tok.AccessToken} },
		})
	}
	return out
}

// fault is one row of the matrix: it sets the fault up and runs the call.
type fault struct {
	name string
	run  func(ctx context.Context, s *subject) error
}

func scripted(f fakeserver.Fault, n int) func(context.Context, *subject) error {
	return func(ctx context.Context, s *subject) error {
		s.fake.Script(fake.APICalls, n, f)
		return s.call(ctx)
	}
}

var faults = []fault{
	{"429 with Retry-After", scripted(fake.TooManyRequests("0"), 1)},
	{"500", scripted(fake.Status(500), 1)},
	{"502", scripted(fake.Status(502), 1)},
	{"503", scripted(fake.Status(503), 1)},
	{"HTML instead of JSON", scripted(fake.HTML(200), 1)},
	{"truncated JSON", scripted(fake.Malformed(), 1)},
	{"10 MiB body", scripted(fakeserver.Fault{Status: 200, Body: `"` + strings.Repeat("x", 10<<20) + `"`}, 1)},
	{"wrong Content-Type", scripted(fakeserver.Fault{Status: 200, ContentType: "text/plain", Body: `{"data":{}}`}, 1)},
	{"reset mid-body", scripted(fake.Reset(), 1)},
	{"slow body past the timeout", scripted(fakeserver.Fault{Status: 200, Body: `{"data":{"x":"` + strings.Repeat("y", 4096) + `"}}`, StallBody: 2 * faultClientTimeout}, 1)},
	{"expired token", func(ctx context.Context, s *subject) error {
		s.clock.Advance(s.lifetime + time.Minute) // the server's clock: the client still thinks it is valid
		return s.call(ctx)
	}},
	{"revoked refresh token", func(ctx context.Context, s *subject) error {
		if s.refresh == nil {
			return errNotApplicable
		}
		s.issuer.RevokeRefreshTokens()
		return s.refresh(ctx)
	}},
	{"connection refused", func(ctx context.Context, s *subject) error {
		s.fake.Close()
		return s.call(ctx)
	}},
}

var errNotApplicable = errors.New("not applicable")

// TestFaultMatrix drives every client through every fault and writes the
// outcomes to docs/fault-matrix.md (-update), or checks they are still what
// that report says. Each outcome must be a success (after a retry or a 401
// replay) or a typed error, within a bounded time, with no secret and no
// token in the message.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("fault matrix skipped in -short mode")
	}
	subjects := newSubjects(t)
	outcome := map[string]map[string]string{}
	for _, s := range subjects {
		outcome[s.name] = map[string]string{}
		warm, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.call(warm); err != nil {
			t.Fatalf("%s: warm-up call: %v", s.name, err)
		}
		cancel()
		for _, f := range faults {
			held := s.tokens(context.Background())
			apiBefore, tokBefore := s.fake.APIRequests(), s.fake.TokenRequests()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			start := time.Now()
			err := f.run(ctx, s)
			took := time.Since(start)
			cancel()
			s.fake.ClearScript(fake.APICalls)
			if took > 2*faultClientTimeout+5*time.Second {
				t.Errorf("%s / %s: took %v: a hang", s.name, f.name, took)
			}
			if err != nil && !errors.Is(err, errNotApplicable) {
				for _, secret := range append(append([]string{}, s.secrets...), held...) {
					if secret != "" && strings.Contains(err.Error(), secret) {
						t.Errorf("%s / %s: error carries a secret or token: %v", s.name, f.name, err)
					}
				}
				if !strings.HasPrefix(err.Error(), s.name+"api: ") {
					t.Errorf("%s / %s: error %q does not start with the package name", s.name, f.name, err)
				}
			}
			if os.Getenv("FAULT_DEBUG") != "" && err != nil {
				t.Logf("%s / %s: %v", s.name, f.name, err)
			}
			o := classify(s.name, err, s.fake.APIRequests()-apiBefore, s.fake.TokenRequests()-tokBefore)
			if strings.HasPrefix(o, "UNTYPED") {
				t.Errorf("%s / %s: %s", s.name, f.name, o)
			}
			outcome[s.name][f.name] = o
		}
	}
	report := renderFaultReport(subjects, outcome)
	const path = "../docs/fault-matrix.md"
	if *updateReport {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./bench -run TestFaultMatrix -update)", err)
	}
	if string(want) != report {
		t.Errorf("outcomes differ from %s; if the change is intended, run: go test ./bench -run TestFaultMatrix -update\n%s", path, report)
	}
}

// classify names an outcome without anything that varies between runs.
func classify(provider string, err error, apiCalls, tokenCalls int) string {
	calls := fmt.Sprintf("%d API request(s)", apiCalls)
	if tokenCalls > 0 {
		calls += fmt.Sprintf(", %d token request(s)", tokenCalls)
	}
	if err == nil {
		return "ok: " + calls
	}
	if errors.Is(err, errNotApplicable) {
		return "n/a: no refresh token in this flow"
	}
	status := 0
	typ := ""
	var stE *stennapi.Error
	var smE *stemsapi.Error
	var ccE *cloudcompliapi.Error
	var faE *firstamlapi.Error
	switch {
	case errors.As(err, &smE):
		typ, status = "*stemsapi.Error", smE.StatusCode
	case errors.As(err, &stE):
		typ, status = "*stennapi.Error", stE.StatusCode
	case errors.As(err, &ccE):
		typ, status = "*cloudcompliapi.Error", ccE.StatusCode
	case errors.As(err, &faE) && faE.StatusCode != 0:
		typ, status = "*firstamlapi.Error", faE.StatusCode
	}
	var te *auth.TokenError
	var oe *net.OpError
	switch {
	case typ != "":
		return fmt.Sprintf("%s %d (%s): %s", typ, status, reason(err), calls)
	case errors.As(err, &te):
		return "*auth.TokenError: " + calls
	case errors.As(err, &oe):
		return "network error (" + reason(err) + "): " + calls
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded: " + calls
	}
	return fmt.Sprintf("UNTYPED %T: %v", err, err)
}

func reason(err error) string {
	msg := err.Error()
	for _, k := range []struct{ needle, name string }{
		{"Content-Type", "not JSON by Content-Type"},
		{"not JSON", "not JSON"},
		{"truncated or malformed", "malformed JSON"},
		{"not valid JSON", "malformed JSON"},
		{"does not match the contract", "wrong shape"},
		{"not a GraphQL response", "wrong shape"},
		{"not a list", "wrong shape"},
		{"exceeds", "body over the limit"},
		{"Client.Timeout", "client timeout"},
		{"deadline exceeded", "timeout"},
		{"unexpected EOF", "cut off"},
		{"connection reset", "reset"},
		{"connection refused", "connection refused"},
		{"reading", "body unreadable"},
	} {
		if strings.Contains(msg, k.needle) {
			return k.name
		}
	}
	if strings.Contains(msg, "status") {
		return "error status"
	}
	return "error"
}

func renderFaultReport(subjects []*subject, outcome map[string]map[string]string) string {
	var b strings.Builder
	b.WriteString("# Fault matrix\n\n")
	b.WriteString("Every client driven through every fault, against its fake (`go test ./bench -run TestFaultMatrix`; regenerate\n")
	b.WriteString("this file with `-update`). Each call is a typical read: Stems `ListHazards`, Stenn `ListCompanies`,\n")
	b.WriteString("CloudCompli `GetUser`, First AML `Me`. The client has a 3 s HTTP timeout and the default retry policy\n")
	b.WriteString("(4 attempts, shortened backoff). The test fails on a panic, a call over 11 s, an untyped error, or an error\n")
	b.WriteString("message carrying the client secret, the password or a token the client held.\n\n")
	b.WriteString("| fault |")
	for _, s := range subjects {
		b.WriteString(" " + s.name + " |")
	}
	b.WriteString("\n|---|")
	for range subjects {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, f := range faults {
		b.WriteString("| " + f.name + " |")
		for _, s := range subjects {
			b.WriteString(" " + outcome[s.name][f.name] + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}
