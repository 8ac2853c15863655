// Package cloudcomplitest is a fake CloudCompli instance for tests, in the
// spirit of net/http/httptest: an in-process server on loopback, served
// from specs/cloudcompli.yaml through the generated strict server, that
// validates every request and every response against the contract.
//
// It acts like the real thing, as far as CloudCompli documents it:
//
//   - client credentials at /oauth2/token, for one registered API client;
//   - the authorization code grant: GET /oauth2/authorize (with client_id,
//     client_secret and redirect_uri, CloudCompli's documented URL) signs in
//     the test user without a login page and answers 302 to redirect_uri
//     with a single-use code, which /oauth2/token redeems when the exchange
//     carries response_type=code, as CloudCompli's docs show it;
//   - a token "generated in the web UI" (StaticToken, GenerateToken) and
//     "Revoke All Tokens" (RevokeAllTokens);
//   - tokens that live one year (DefaultTokenLifetime) on an injectable
//     clock, and 401 with {error, error_description} for an expired,
//     revoked or unknown token;
//   - sample users, company, projects, classifications, forms and
//     pre-population data that match the contract (SampleData), form entries
//     that are stored and get an _id, photos attached to them (404 for an
//     unknown entry);
//   - a 400 naming the violation for a request the contract does not allow.
//
// Tests can script failures (429 with Retry-After, 5xx, malformed, HTML or
// slow answers), read the request log and count token requests.
//
//	srv := cloudcomplitest.NewServer(t)
//	client, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{
//		ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
package cloudcomplitest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/specs"
	"github.com/getkin/kin-openapi/openapi3"
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

// Targets for Script. TokenCalls are requests to /oauth2/token; APICalls
// are all others, /oauth2/authorize included.
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

// Defaults of the fake: the registered API client (used for both grants),
// the token "generated in the web UI" and the documented token lifetime
// (expires_in 31536000, one year; UI tokens also last a year).
const (
	DefaultClientID      = "cloudcompli-test-client"
	DefaultClientSecret  = "cloudcompli-test-secret"
	DefaultStaticToken   = "cloudcompli-test-ui-token"
	DefaultTokenLifetime = 31536000 * time.Second
)

const (
	tokenPath     = "/oauth2/token"
	authorizePath = "/oauth2/authorize"
)

// Server is a running fake CloudCompli instance. Its URL is the instance
// URL (the fake serves /oauth2/... and /api/v2/... under it).
type Server struct {
	*fakeserver.Server
	// ClientID and ClientSecret are the registered API client's
	// credentials, for client credentials and the authorization code grant.
	ClientID, ClientSecret string
	// StaticToken is the token "generated in the web UI" at start, valid
	// for one token lifetime on the clock ("" if WithStaticToken("")).
	StaticToken string
	// Issuer mints and checks the fake's tokens and authorization codes.
	Issuer *fakeserver.Issuer

	clock    *Clock
	lifetime time.Duration
	doc      *openapi3.T
	data     Data

	mu       sync.Mutex
	static   map[string]*staticToken
	entries  []*Entry
	entryIDs map[string]*Entry
}

type staticToken struct {
	expiry  time.Time
	revoked bool
}

type options struct {
	clock    *Clock
	lifetime time.Duration
	id, sec  string
	static   string
	data     *Data
	addr     string
	reporter func(string)
}

// Option configures the fake.
type Option func(*options)

// WithClock makes token and code expiry follow clock. Optional. Default:
// the real clock.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithTokenLifetime sets expires_in of issued tokens and the life of UI
// tokens. Optional. Default DefaultTokenLifetime (31536000 s, as
// documented).
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.lifetime = d } }

// WithClient registers different API client credentials. Optional.
// Default DefaultClientID and DefaultClientSecret.
func WithClient(id, secret string) Option { return func(o *options) { o.id, o.sec = id, secret } }

// WithStaticToken registers token as generated in the web UI at start; ""
// registers none. Optional. Default DefaultStaticToken.
func WithStaticToken(token string) Option { return func(o *options) { o.static = token } }

// WithData replaces the sample data (SampleData). Optional.
func WithData(d Data) Option { return func(o *options) { o.data = &d } }

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
		t.Fatalf("cloudcomplitest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake that runs until Close (the CLI's `complykit fake`).
func Start(opts ...Option) (*Server, error) {
	o := options{lifetime: DefaultTokenLifetime, id: DefaultClientID, sec: DefaultClientSecret, static: DefaultStaticToken}
	for _, opt := range opts {
		opt(&o)
	}
	if o.data == nil {
		d := SampleData()
		o.data = &d
	}
	doc, err := specs.Load("cloudcompli.yaml")
	if err != nil {
		return nil, err
	}
	s := &Server{
		ClientID:     o.id,
		ClientSecret: o.sec,
		StaticToken:  o.static,
		clock:        o.clock,
		lifetime:     o.lifetime,
		doc:          doc,
		data:         o.data.clone(),
		static:       map[string]*staticToken{},
		entryIDs:     map[string]*Entry{},
	}
	s.Issuer = fakeserver.NewIssuer("cc-", o.clock, o.lifetime)
	if o.static != "" {
		s.registerStatic(o.static)
	}
	strict := cloudcompli.NewStrictHandlerWithOptions(&api{s}, nil, cloudcompli.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  fakeserver.ErrorHandler("cloudcomplitest", http.StatusBadRequest, "invalid_request", errorBody, isTokenPath),
		ResponseErrorHandlerFunc: fakeserver.ErrorHandler("cloudcomplitest", http.StatusInternalServerError, "server_error", errorBody, isTokenPath),
	})
	handler := cloudcompli.HandlerWithOptions(strict, cloudcompli.StdHTTPServerOptions{
		ErrorHandlerFunc: fakeserver.ErrorHandler("cloudcomplitest", http.StatusBadRequest, "invalid_request", errorBody, isTokenPath),
	})
	srv, err := fakeserver.Start(fakeserver.Config{
		Name:         "cloudcomplitest",
		Spec:         "cloudcompli.yaml",
		Handler:      s.withGrant(handler),
		IsTokenPath:  isTokenPath,
		ErrorBody:    errorBody,
		Issuer:       s.Issuer,
		Reporter:     o.reporter,
		Addr:         o.addr,
		Authenticate: s.authenticate,
	})
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return s, nil
}

// TokenURL is the fake's token endpoint.
func (s *Server) TokenURL() string { return s.URL + tokenPath }

// AuthorizeURL is the fake's authorize endpoint.
func (s *Server) AuthorizeURL() string { return s.URL + authorizePath }

// Clock returns the fake's clock (nil: real time).
func (s *Server) Clock() *Clock { return s.clock }

// User returns the user the authorize endpoint signs in.
func (s *Server) User() cloudcompli.User { return cloneMap(s.data.User) }

// GenerateToken does what "Generate a Token" does in CloudCompli's API
// client settings: it returns a new bearer token for the API client, valid
// for one token lifetime from now on the fake's clock.
func (s *Server) GenerateToken() string {
	return s.Issuer.Issue(fakeserver.Grant{ClientID: s.ClientID}, false, false).AccessToken
}

// RevokeAllTokens does what "Revoke All Tokens" does in CloudCompli's API
// client settings: every token issued so far, UI tokens included, gets 401
// from now on. Tokens issued afterwards work.
func (s *Server) RevokeAllTokens() {
	s.Issuer.RevokeAccessTokens()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.static {
		st.revoked = true
	}
}

func (s *Server) registerStatic(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.static[token] = &staticToken{expiry: s.clock.Now().Add(s.lifetime)}
}

// grant returns who token was issued to: a UI token, or one the Issuer
// minted.
func (s *Server) grant(token string) (fakeserver.Grant, error) {
	s.mu.Lock()
	st, ok := s.static[token]
	var revoked bool
	var expiry time.Time
	if ok {
		revoked, expiry = st.revoked, st.expiry
	}
	s.mu.Unlock()
	if !ok {
		return s.Issuer.Authenticate(token)
	}
	switch {
	case revoked:
		return fakeserver.Grant{}, fakeserver.ErrRevokedToken
	case !s.clock.Now().Before(expiry):
		return fakeserver.Grant{}, fakeserver.ErrExpiredToken
	}
	return fakeserver.Grant{ClientID: s.ClientID, Expiry: expiry}, nil
}

// authenticate replaces the machinery's bearer check so that UI tokens,
// which the Issuer did not mint, are accepted too.
func (s *Server) authenticate(r *http.Request, op *openapi3.Operation) (int, string, string) {
	if !fakeserver.RequiresBearer(s.doc, op) {
		return 0, "", ""
	}
	tok, ok := fakeserver.BearerToken(r)
	if !ok {
		return http.StatusUnauthorized, "invalid_token", "missing bearer token"
	}
	if _, err := s.grant(tok); err != nil {
		return http.StatusUnauthorized, "invalid_token", err.Error()
	}
	return 0, "", ""
}

type grantKey struct{}

// withGrant puts the caller's grant into the request context for the
// handlers (GET /api/v2/user answers for the token's user). The machinery
// has already refused requests without a valid token.
func (s *Server) withGrant(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := fakeserver.BearerToken(r); ok {
			if g, err := s.grant(tok); err == nil {
				r = r.WithContext(context.WithValue(r.Context(), grantKey{}, g))
			}
		}
		h.ServeHTTP(w, r)
	})
}

func grantFrom(ctx context.Context) fakeserver.Grant {
	g, _ := ctx.Value(grantKey{}).(fakeserver.Grant)
	return g
}

func isTokenPath(p string) bool { return p == tokenPath }

func errorBody(_ bool, _ int, code, message string) any {
	return cloudcompli.OAuthError{Error: code, ErrorDescription: &message}
}

func oauthError(code, message string) cloudcompli.OAuthError {
	return cloudcompli.OAuthError{Error: code, ErrorDescription: &message}
}
