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
//	client, _ := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL))
package stenntest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/internal/fakeserver"
)

// Re-exported machinery, so tests can script the fake.
type (
	// Clock is an injectable clock; advance it to expire tokens.
	Clock = fakeserver.Clock
	// Fault is a scripted failure.
	Fault = fakeserver.Fault
	// Target selects token calls or API calls.
	Target = fakeserver.Target
	// Request is one logged request.
	Request = fakeserver.Request
)

// Targets for Script.
const (
	TokenCalls = fakeserver.TokenCalls
	APICalls   = fakeserver.APICalls
)

// Scripted faults.
var (
	TooManyRequests = fakeserver.TooManyRequests
	Status          = fakeserver.Status
	Malformed       = fakeserver.Malformed
	HTML            = fakeserver.HTML
	Slow            = fakeserver.Slow
	Reset           = fakeserver.Reset
)

// NewClock returns a manual clock.
func NewClock(start time.Time) *Clock { return fakeserver.NewClock(start) }

// Default credentials of the registered test client.
const (
	DefaultClientID     = "stenn-test-client"
	DefaultClientSecret = "stenn-test-secret"
)

// Server is a running fake Stenn API.
type Server struct {
	*fakeserver.Server
	// ClientID and ClientSecret are the registered client's credentials.
	ClientID, ClientSecret string
	// Issuer mints and checks the fake's tokens.
	Issuer *fakeserver.Issuer

	clock     *Clock
	companies []stenn.Company
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

// WithClock makes token expiry follow clock.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithTokenLifetime sets expires_in of issued tokens (default 86400 s, as documented).
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.lifetime = d } }

// WithCompanies replaces the sample companies.
func WithCompanies(c []stenn.Company) Option { return func(o *options) { o.companies = c } }

// WithClient registers different client credentials.
func WithClient(id, secret string) Option { return func(o *options) { o.id, o.sec = id, secret } }

// WithAddr listens on addr (host:port) instead of a free loopback port.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithReporter receives contract violations of the fake's own responses
// (NewServer reports them with t.Errorf).
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
	o := options{lifetime: 86400 * time.Second, id: DefaultClientID, sec: DefaultClientSecret, companies: SampleCompanies()}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{ClientID: o.id, ClientSecret: o.sec, clock: o.clock, companies: o.companies}
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
	})
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return s, nil
}

// TokenURL is the fake's token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/auth/v1/token" }

// Clock returns the fake's clock (nil: real time).
func (s *Server) Clock() *Clock { return s.clock }

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
