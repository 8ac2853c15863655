// Package stenntest is a fake Stenn API for tests, in the spirit of
// net/http/httptest: an in-process server on loopback, served from
// specs/stenn.yaml through the generated strict server, that validates
// every request and every response against the contract.
//
// It acts like the real thing: client credentials with a registered client,
// tokens that expire on an injectable clock, 401 with Stenn's error body for
// an expired or unknown token, a 400 naming the violation for a request the
// contract does not allow. Tests can script failures (429 with Retry-After,
// 5xx, malformed or slow answers), read the request log and count token
// requests.
//
//	srv := stenntest.NewServer(t)
//	client, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
//
// The same scripting is there over HTTP, under ControlURL, for tests in
// other languages: see package fake.
package stenntest

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
)

// Re-exported from package fake, which documents them once for all four
// fakes: a test of several providers can use either name.
type (
	// Clock is fake.Clock, the fake's injectable clock: advance it to
	// expire tokens.
	Clock = fake.Clock
	// Fault is fake.Fault, a scripted misbehaviour of the fake.
	Fault = fake.Fault
	// Target is fake.Target: TokenCalls or APICalls.
	Target = fake.Target
	// Request is fake.Request, one entry of the request log.
	Request = fake.Request
)

// Targets for Script: TokenCalls are requests to the token endpoints
// (/auth/v1/token, /sandbox/auth/v1/token); APICalls are all others.
const (
	TokenCalls = fake.TokenCalls
	APICalls   = fake.APICalls
)

// TooManyRequests is a 429 with Stenn's error body and a Retry-After
// header of retryAfter (seconds or an HTTP date; "" sends none).
func TooManyRequests(retryAfter string) Fault { return fake.TooManyRequests(retryAfter) }

// Status answers with code and Stenn's error body ({message,
// exception_key}).
func Status(code int) Fault { return fake.Status(code) }

// Malformed answers 200 with truncated JSON.
func Malformed() Fault { return fake.Malformed() }

// HTML answers code with an HTML error page, as a proxy in front of the
// API does.
func HTML(code int) Fault { return fake.HTML(code) }

// Slow lets the request through after d.
func Slow(d time.Duration) Fault { return fake.Slow(d) }

// Reset cuts the connection in the middle of the body.
func Reset() Fault { return fake.Reset() }

// NewClock returns a manual clock that reads start until Advance moves it.
func NewClock(start time.Time) *Clock { return fake.NewClock(start) }

// Default credentials of the registered test client.
const (
	DefaultClientID     = "stenn-test-client"
	DefaultClientSecret = "stenn-test-secret"
)

// Server is a running fake Stenn API.
type Server struct {
	// URL is the fake's base URL, e.g. http://127.0.0.1:41234: the API
	// root, with the token endpoint at /auth/v1/token.
	URL string
	// ClientID and ClientSecret are the registered client's credentials.
	ClientID, ClientSecret string
	// Issuer mints and checks the fake's tokens. Its package is internal:
	// call RevokeAccessTokens and RevokeToken instead.
	Issuer *fakeserver.Issuer
	// Server is the machinery the four fakes share, for this module's own
	// benchmarks. Its package is internal: call the methods of Server
	// instead.
	Server *fakeserver.Server

	clock     *Clock
	companies []stenn.Company
	samples   []fake.Sample
}

type options struct {
	clock     *Clock
	lifetime  time.Duration
	companies []stenn.Company
	id, sec   string
	addr      string
	reporter  func(string)
}

// Option configures the fake.
type Option func(*options)

// WithClock makes token expiry and the request log's times follow clock.
// Optional. Default: a clock that follows real time, which Advance (and
// the control API) moves ahead; nil is real time, which nothing can
// advance.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithTokenLifetime sets expires_in of issued tokens. Optional. Default
// 86400 s, as documented.
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.lifetime = d } }

// WithCompanies replaces the sample companies. Optional. Default
// SampleCompanies.
func WithCompanies(c []stenn.Company) Option { return func(o *options) { o.companies = c } }

// WithClient registers different client credentials. Optional. Default
// DefaultClientID and DefaultClientSecret.
func WithClient(id, secret string) Option { return func(o *options) { o.id, o.sec = id, secret } }

// WithAddr listens on addr (host:port) instead of a free loopback port.
// Optional.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithReporter receives contract violations of the fake's own responses.
// Optional. Default: the standard logger (NewServer reports them with
// t.Errorf).
func WithReporter(f func(string)) Option { return func(o *options) { o.reporter = f } }

// NewServer starts a fake for the test and closes it when the test ends.
// A response of the fake that breaks the contract fails the test.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithReporter(func(msg string) { t.Errorf("%s", msg) })}, opts...)
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("stenntest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake that runs until Close (the CLI's `complykit fake`).
func Start(opts ...Option) (*Server, error) {
	o := options{clock: &Clock{}, lifetime: 86400 * time.Second, id: DefaultClientID, sec: DefaultClientSecret, companies: SampleCompanies()}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{ClientID: o.id, ClientSecret: o.sec, clock: o.clock, companies: o.companies, samples: samples(o.companies)}
	s.Issuer = fakeserver.NewIssuer("stenn-", o.clock, o.lifetime)
	isToken := func(p string) bool { return strings.HasSuffix(p, "/auth/v1/token") }
	strict := stenn.NewStrictHandlerWithOptions(&api{s}, nil, stenn.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  fakeserver.ErrorHandler("stenntest", http.StatusBadRequest, "invalid_request", errorBody, isToken),
		ResponseErrorHandlerFunc: fakeserver.ErrorHandler("stenntest", http.StatusInternalServerError, "server_error", errorBody, isToken),
	})
	handler := stenn.HandlerWithOptions(strict, stenn.StdHTTPServerOptions{
		ErrorHandlerFunc: fakeserver.ErrorHandler("stenntest", http.StatusBadRequest, "invalid_request", errorBody, isToken),
	})
	srv, err := fakeserver.Start(fakeserver.Config{
		Name:        "stenntest",
		Spec:        "stenn.yaml",
		Handler:     handler,
		IsTokenPath: isToken,
		ErrorBody:   errorBody,
		Issuer:      s.Issuer,
		Reporter:    o.reporter,
		Addr:        o.addr,
		Clock:       o.clock,
		Samples:     s.samples,
		Info: func() map[string]any {
			return map[string]any{"token_url": s.TokenURL(), "client_id": s.ClientID, "client_secret": s.ClientSecret}
		},
	})
	if err != nil {
		return nil, err
	}
	s.Server, s.URL = srv, srv.URL
	return s, nil
}

// TokenURL is the fake's token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/auth/v1/token" }

// ClientOptions returns the options that point a stennapi.Client at the
// fake, API root and token endpoint, followed by extra:
//
//	client, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
func (s *Server) ClientOptions(extra ...option.Option) []option.Option {
	return append([]option.Option{stennapi.WithBaseURL(s.URL), stennapi.WithTokenURL(s.TokenURL())}, extra...)
}

// Clock returns the fake's clock: the one WithClock gave, or by default
// one that follows real time and that Advance moves ahead.
func (s *Server) Clock() *Clock { return s.clock }

// Close shuts the fake down, dropping open connections.
func (s *Server) Close() { s.Server.Close() }

// Script makes the next n requests of target fail with f, after the
// faults scripted before.
func (s *Server) Script(target Target, n int, f Fault) { s.Server.Script(target, n, f) }

// ClearScript drops the faults scripted for target that no request has
// consumed yet.
func (s *Server) ClearScript(target Target) { s.Server.ClearScript(target) }

// Requests returns a copy of the request log, in the order the fake
// answered the requests.
func (s *Server) Requests() []Request { return s.Server.Requests() }

// RequestsSince returns the entries of the request log whose Seq is
// greater than seq: give the Seq of the last entry seen to read only what
// came after it.
func (s *Server) RequestsSince(seq int) []Request { return s.Server.RequestsSince(seq) }

// ResetRequests empties the request log and zeroes TokenRequests and
// APIRequests.
func (s *Server) ResetRequests() { s.Server.ResetRequests() }

// TokenRequests counts requests to the token endpoints since the start or
// the last ResetRequests.
func (s *Server) TokenRequests() int { return s.Server.TokenRequests() }

// APIRequests counts all other requests since the start or the last
// ResetRequests.
func (s *Server) APIRequests() int { return s.Server.APIRequests() }

// RevokeAccessTokens revokes every token issued so far: the next API call
// with one gets a 401.
func (s *Server) RevokeAccessTokens() { s.Issuer.RevokeAccessTokens() }

// RevokeToken revokes one token and reports whether the fake issued it.
func (s *Server) RevokeToken(token string) bool { return s.Issuer.Revoke(token) }

// ControlURL is the root of the fake's control API, URL + "/__complykit/"
// (see package fake): what the methods of Server do, over HTTP.
func (s *Server) ControlURL() string { return s.Server.ControlURL() }

// Samples returns the records the fake was started with: the companies
// and their contacts.
func (s *Server) Samples() []fake.Sample { return slices.Clone(s.samples) }

func samples(companies []stenn.Company) []fake.Sample {
	var out []fake.Sample
	for _, c := range companies {
		out = append(out, fake.Sample{Kind: "company", ID: c.Id, Name: deref(c.Name)})
	}
	for _, c := range companies {
		if c.Contacts == nil {
			continue
		}
		for _, ct := range c.Contacts.Data {
			name := strings.TrimSpace(deref(ct.FirstName) + " " + deref(ct.LastName))
			out = append(out, fake.Sample{Kind: "contact", ID: ct.Id, Name: name, Parent: "company " + c.Id})
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func errorBody(token bool, status int, code, message string) any {
	msg := message
	if status == http.StatusUnauthorized && strings.Contains(message, "expired") {
		msg = "Access token has expired" // the documented 401 for an expired token
	}
	return stenn.Error{Message: &msg, ExceptionKey: &code}
}

// api implements the generated strict server.
type api struct{ s *Server }

func (a *api) RequestToken(ctx context.Context, req stenn.RequestTokenRequestObject) (stenn.RequestTokenResponseObject, error) {
	b := req.Body
	if b.ClientId != a.s.ClientID || b.ClientSecret != a.s.ClientSecret {
		msg, key := "Invalid client credentials", "invalid_client"
		return stenn.RequestToken401JSONResponse{UnauthorizedJSONResponse: stenn.UnauthorizedJSONResponse{Message: &msg, ExceptionKey: &key}}, nil
	}
	issued := a.s.Issuer.Issue(fakeserver.Grant{ClientID: b.ClientId}, false, false)
	typ := "Bearer"
	return stenn.RequestToken200JSONResponse{AccessToken: issued.AccessToken, TokenType: &typ, ExpiresIn: &issued.ExpiresIn}, nil
}

func (a *api) ListCompanies(ctx context.Context, _ stenn.ListCompaniesRequestObject) (stenn.ListCompaniesResponseObject, error) {
	return stenn.ListCompanies200JSONResponse{Object: "list", Data: a.s.companies}, nil
}

// SampleCompanies returns the companies the fake serves by default: a
// supplier and a buyer with contacts, addresses and a buyer limit.
func SampleCompanies() []stenn.Company {
	str := func(s string) *string { return &s }
	yes, no := true, false
	created := time.Date(2020, 8, 12, 2, 12, 33, 231e6, time.UTC)
	limit, avail := 250000.0, 180000.0
	status := "approved"
	return []stenn.Company{
		{
			Id: "company_ZYfeeV3qxdmYoG", Object: "company", Name: str("Acme Supplies Ltd"),
			Address: &stenn.Address{City: str("London"), CountryCode: str("GB"), State: str("England"), Street: str("1 King Street")},
			Website: str("https://acme.example"), Created: &created,
			Contacts: &stenn.ContactList{Object: "list", Data: []stenn.Contact{
				{Id: "contact_CYfeeV3qxdmYoZ", Object: "contact", FirstName: str("Jane"), LastName: str("Doe"),
					Email: str("jane@acme.example"), Phone: nil, IsSignatory: &yes, IsRequestRecipient: &no},
			}},
		},
		{
			Id: "company_BuyerQ7xk2Lm9", Object: "company", Name: str("Globex Trading Inc"),
			Address: &stenn.Address{City: str("Austin"), CountryCode: str("US"), State: str("TX"), Street: str("500 Congress Ave")},
			Website: str("https://globex.example"), Created: &created,
			BuyerLimit: &stenn.BuyerLimit{Id: "bl_8f2k", Company: str("company_BuyerQ7xk2Lm9"), TotalLimit: &limit, AvailableLimit: &avail, Status: &status},
			Contacts: &stenn.ContactList{Object: "list", Data: []stenn.Contact{
				{Id: "contact_Buyer1", Object: "contact", FirstName: str("Hank"), LastName: str("Scorpio"),
					Email: str("hank@globex.example"), Phone: str("+1 512 555 0100"), IsSignatory: &yes, IsRequestRecipient: &yes},
			}},
		},
	}
}
