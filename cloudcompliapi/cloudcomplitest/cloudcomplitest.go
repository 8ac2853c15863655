// Package cloudcomplitest is a fake CloudCompli instance for tests, in the
// spirit of net/http/httptest: an in-process server on loopback, served
// from specs/cloudcompli.yaml through the generated strict server, that
// validates every request and every response against the contract.
//
// It acts like the real thing, as far as CloudCompli documents it:
//
//   - client credentials at /oauth2/token, for one registered API client;
//   - the authorization code grant: GET /oauth2/authorize (with client_id,
//     client_secret and redirect_uri, CloudCompli's documented URL, or
//     without the secret, as the vendor's PHP client sends it) shows a
//     sign-in page (username, password, and a consent button "Sign in and
//     allow", or "Deny"); the user's email and DefaultPassword with
//     consent answer 302 to redirect_uri with a single-use code (and the
//     state), which /oauth2/token redeems with or without
//     response_type=code; a refusal comes back as error=access_denied, a
//     wrong password shows the page again with an error. SignIn plays the
//     browser and the user; the page's form posts to /__complykit/signin,
//     a path of the fake's own that no spec describes;
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
//	client, err := cloudcompliapi.NewClient(srv.URL, srv.Credentials())
//
// The same scripting is there over HTTP, under ControlURL, for tests in
// other languages: see package fake.
package cloudcomplitest

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/specs"
	"github.com/getkin/kin-openapi/openapi3"
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

// Targets for Script. TokenCalls are requests to /oauth2/token; APICalls
// are all others, /oauth2/authorize included.
const (
	TokenCalls = fake.TokenCalls
	APICalls   = fake.APICalls
)

// TooManyRequests is a 429 with CloudCompli's error body and a
// Retry-After header of retryAfter (seconds or an HTTP date; "" sends
// none).
func TooManyRequests(retryAfter string) Fault { return fake.TooManyRequests(retryAfter) }

// Status answers with code and CloudCompli's error body ({error,
// error_description}).
func Status(code int) Fault { return fake.Status(code) }

// Malformed answers 200 with truncated JSON.
func Malformed() Fault { return fake.Malformed() }

// HTML answers code with an HTML error page, as a proxy in front of the
// instance does.
func HTML(code int) Fault { return fake.HTML(code) }

// Slow lets the request through after d.
func Slow(d time.Duration) Fault { return fake.Slow(d) }

// Reset cuts the connection in the middle of the body.
func Reset() Fault { return fake.Reset() }

// NewClock returns a manual clock that reads start until Advance moves it.
func NewClock(start time.Time) *Clock { return fake.NewClock(start) }

// Defaults of the fake: the registered API client (used for both grants),
// the token "generated in the web UI" and the documented token lifetime
// (expires_in 31536000, one year; UI tokens also last a year).
const (
	DefaultClientID      = "cloudcompli-test-client"
	DefaultClientSecret  = "cloudcompli-test-secret"
	DefaultStaticToken   = "cloudcompli-test-ui-token"
	DefaultTokenLifetime = 31536000 * time.Second
	// DefaultPassword is the password of the user (Data.User, whose
	// username on the sign-in page is its "email") on the sign-in page of
	// the authorize endpoint.
	DefaultPassword = "Insp3ct0r"
)

const (
	tokenPath     = "/oauth2/token"
	authorizePath = "/oauth2/authorize"
)

// Server is a running fake CloudCompli instance. Its URL is the instance
// URL (the fake serves /oauth2/... and /api/v2/... under it).
type Server struct {
	// URL is the fake's instance URL, e.g. http://127.0.0.1:41234, for
	// cloudcompliapi.NewClient.
	URL string
	// ClientID and ClientSecret are the registered API client's
	// credentials, for client credentials and the authorization code grant.
	ClientID, ClientSecret string
	// StaticToken is the token "generated in the web UI" at start, valid
	// for one token lifetime on the clock ("" if WithStaticToken("")).
	StaticToken string
	// Issuer mints and checks the fake's tokens and authorization codes.
	// Its package is internal: call GenerateToken, RevokeAllTokens and
	// RevokeToken instead.
	Issuer *fakeserver.Issuer
	// Server is the machinery the four fakes share, for this module's own
	// benchmarks. Its package is internal: call the methods of Server
	// instead.
	Server *fakeserver.Server

	samples  []fake.Sample
	signIn   *fakeserver.SignInPage
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

// WithClock makes token and code expiry, and the request log's times,
// follow clock. Optional. Default: a clock that follows real time, which
// Advance (and the control API) moves ahead; nil is real time, which
// nothing can advance.
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
	o := options{clock: &Clock{}, lifetime: DefaultTokenLifetime, id: DefaultClientID, sec: DefaultClientSecret, static: DefaultStaticToken}
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
	s.samples = s.data.samples()
	s.signIn = &fakeserver.SignInPage{Title: "CloudCompli", Clock: o.clock, Approve: s.approve, Deny: s.deny,
		Check: func(username, password string) bool { return username == s.Username() && password == DefaultPassword }}
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
		Clock:        o.clock,
		Revoker:      revoker{s},
		Samples:      s.samples,
		Control: []fakeserver.ControlEndpoint{
			{Method: http.MethodPost, Path: "tokens/generate", Serve: s.controlGenerate},
			{Method: http.MethodGet, Path: "entries", Serve: s.controlEntries},
			s.signIn.Endpoint(),
		},
		Info: func() map[string]any {
			return map[string]any{"token_url": s.TokenURL(), "authorize_url": s.AuthorizeURL(),
				"client_id": s.ClientID, "client_secret": s.ClientSecret, "static_token": s.StaticToken,
				"username": s.Username(), "password": DefaultPassword}
		},
	})
	if err != nil {
		return nil, err
	}
	s.Server, s.URL = srv, srv.URL
	return s, nil
}

// TokenURL is the fake's token endpoint.
func (s *Server) TokenURL() string { return s.URL + tokenPath }

// AuthorizeURL is the fake's authorize endpoint.
func (s *Server) AuthorizeURL() string { return s.URL + authorizePath }

// Credentials returns the registered API client's client credentials,
// for cloudcompliapi.NewClient (whose instance URL is URL):
//
//	client, err := cloudcompliapi.NewClient(srv.URL, srv.Credentials())
func (s *Server) Credentials() cloudcompliapi.ClientCredentials {
	return cloudcompliapi.ClientCredentials{ClientID: s.ClientID, ClientSecret: s.ClientSecret}
}

// AuthCodeApp returns the registered API client as the app of
// cloudcompliapi.NewAuthCodeFlow, coming back to redirectURL (any
// absolute URL: once the user signs in on the fake's sign-in page, see
// SignIn, the fake redirects there with a code):
//
//	flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, srv.AuthCodeApp("https://app.example/callback"))
func (s *Server) AuthCodeApp(redirectURL string) cloudcompliapi.AuthCodeApp {
	return cloudcompliapi.AuthCodeApp{ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURL: redirectURL}
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

// TokenRequests counts requests to /oauth2/token since the start or the
// last ResetRequests.
func (s *Server) TokenRequests() int { return s.Server.TokenRequests() }

// APIRequests counts all other requests since the start or the last
// ResetRequests.
func (s *Server) APIRequests() int { return s.Server.APIRequests() }

// RevokeToken revokes one token, one from the token endpoint or one
// generated in the web UI, and reports whether the fake knew it.
func (s *Server) RevokeToken(token string) bool { return revoker{s}.Revoke(token) }

// ControlURL is the root of the fake's control API, URL + "/__complykit/"
// (see package fake): what the methods of Server do, over HTTP.
func (s *Server) ControlURL() string { return s.Server.ControlURL() }

// Samples returns the records the fake was started with: the user, the
// company, the projects, their classifications and the forms.
func (s *Server) Samples() []fake.Sample { return slices.Clone(s.samples) }

// User returns the user who signs in on the authorize endpoint's page.
func (s *Server) User() cloudcompli.User { return cloneMap(s.data.User) }

// Username is the user's username on the sign-in page: its "email"
// (ivy.inspector@example.com in SampleData), or its "id" if it has none.
// The password is DefaultPassword.
func (s *Server) Username() string {
	if e, _ := s.data.User["email"].(string); e != "" {
		return e
	}
	id, _ := s.data.User["id"].(string)
	return id
}

// GenerateToken does what "Generate a Token" does in CloudCompli's API
// client settings: it returns a new bearer token for the API client, valid
// for one token lifetime from now on the fake's clock.
func (s *Server) GenerateToken() string {
	return s.Issuer.Issue(fakeserver.Grant{ClientID: s.ClientID}, false, false).AccessToken
}

// RevokeAllTokens does what "Revoke All Tokens" does in CloudCompli's API
// client settings: every token issued so far, UI tokens included, gets 401
// from now on. Tokens issued afterwards work.
func (s *Server) RevokeAllTokens() { revoker{s}.RevokeAll(true, false) }

// revoker revokes the Issuer's tokens and the UI tokens, for the control
// API.
type revoker struct{ s *Server }

func (r revoker) Revoke(token string) bool {
	s := r.s
	s.mu.Lock()
	st, ok := s.static[token]
	if ok {
		st.revoked = true
	}
	s.mu.Unlock()
	return ok || s.Issuer.Revoke(token)
}

func (r revoker) RevokeAll(access, refresh bool) int {
	s := r.s
	n := s.Issuer.RevokeAll(access, refresh)
	if !access {
		return n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for _, st := range s.static {
		if !st.revoked && now.Before(st.expiry) {
			n++
		}
		st.revoked = true
	}
	return n
}

// controlGenerate is GenerateToken over HTTP.
func (s *Server) controlGenerate(_ *http.Request, body []byte) (any, error) {
	if err := fakeserver.DecodeJSON(body, &struct{}{}); err != nil {
		return nil, err
	}
	return map[string]any{"access_token": s.GenerateToken(), "token_type": "Bearer",
		"expires_in": int(s.Issuer.Lifetime() / time.Second)}, nil
}

// controlEntries is Entries over HTTP; a photo's data is base64.
func (s *Server) controlEntries(*http.Request, []byte) (any, error) {
	type photo struct {
		MIMEType    string `json:"mime_type"`
		Description string `json:"description"`
		Data        []byte `json:"data"`
	}
	type entry struct {
		ID        string         `json:"id"`
		ProjectID string         `json:"project_id"`
		FormName  string         `json:"form_name"`
		Fields    map[string]any `json:"fields"`
		Photos    []photo        `json:"photos"`
	}
	out := []entry{}
	for _, e := range s.Entries() {
		photos := []photo{}
		for _, p := range e.Photos {
			photos = append(photos, photo(p))
		}
		out = append(out, entry{ID: e.ID, ProjectID: e.ProjectID, FormName: e.FormName, Fields: e.Fields, Photos: photos})
	}
	return map[string]any{"entries": out}, nil
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
