// Package stemstest is a fake Stems Comply One API, with its Stems Accounts
// token and authorize endpoints, for tests, in the spirit of
// net/http/httptest: an in-process server on loopback, served from
// specs/stems.yaml through the generated strict server, that validates every
// request and every response against the contract.
//
// It acts like the real thing as far as the public docs go:
//
//   - a registered API client and users (username and password), each a
//     member of some companies;
//   - the password grant (a refresh token only when the scope includes
//     offline_access), the refresh_token grant with rotation and an id_token
//     on every refresh (reusing a spent refresh token gives invalid_grant),
//     and the authorization code grant with PKCE: GET /auth/connect/authorize
//     shows a sign-in page (username, password, and a consent button
//     "Sign in and allow", or "Deny"); a known user's password and consent
//     send the browser back to redirect_uri with code and state, in the
//     response mode asked for (form_post, query, or the fragment by
//     default), a refusal with error=access_denied, a wrong password shows
//     the page again with an error. SignIn plays the browser and the user;
//     the page's form posts to /__complykit/signin, a path of the fake's
//     own that no spec describes, as a real sign-in page's form posts to
//     the identity provider's own pages;
//   - Accept: application/json is required at the token endpoint (a 400
//     naming Accept otherwise);
//   - access tokens expire on an injectable clock (default lifetime 1800 s,
//     as documented); an expired or unknown token gets 401 with Stems'
//     {error, message} body;
//   - every API request needs X-Company-Context (a 400 from the contract
//     otherwise), and a company the user is not a member of gets 403;
//   - sample hazards, approval data, events and lookup data for companies
//     "234" and "235", which the API's write operations change.
//
// Tests can script failures (429 with Retry-After, 5xx, malformed or slow
// answers), read the request log and count token requests.
//
//	srv := stemstest.NewServer(t)
//	client, err := stemsapi.NewClient(srv.URL, srv.Credentials(), srv.ClientOptions()...)
//
// ClientOptions points the token endpoint at the fake too: without it the
// password grant would go to the real Stems Accounts. The same scripting
// is there over HTTP, under ControlURL, for tests in other languages: see
// package fake.
//
// The fake serves the Stems Accounts paths (/auth/connect/...) and the API
// paths (/hazards, /events/...) on one loopback origin.
package stemstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/gen/stems"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
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

// Targets for Script. TokenCalls are the Stems Accounts endpoints (token and
// authorize); APICalls are all others.
const (
	TokenCalls = fake.TokenCalls
	APICalls   = fake.APICalls
)

// TooManyRequests is a 429 with Stems' error body and a Retry-After header
// of retryAfter (seconds or an HTTP date; "" sends none).
func TooManyRequests(retryAfter string) Fault { return fake.TooManyRequests(retryAfter) }

// Status answers with code and Stems' error body ({error, message} from
// the API, {error, error_description} from Stems Accounts).
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

// Default credentials and companies. The user and company are the docs'
// own examples (john.smith@contoso.com, X-Company-Context: 234).
const (
	DefaultClientID     = "stems-test-client"
	DefaultClientSecret = "stems-test-secret"
	DefaultUsername     = "john.smith@contoso.com"
	DefaultPassword     = "P4ssw0rd"
	// DefaultCompany and OtherCompany are the default user's companies,
	// each with its own sample data.
	DefaultCompany = "234"
	OtherCompany   = "235"
	// ForeignCompany exists but the default user is not a member: a
	// request for it gets 403.
	ForeignCompany = "999"
)

// Scopes the registered client may request.
var allowedScopes = []string{"openid", "email", "profile", "resources_stems_api", "offline_access"}

// user is a Stems Accounts user of the fake.
type user struct {
	username  string
	password  string
	companies []string
}

// Server is a running fake Stems API and Stems Accounts.
type Server struct {
	// URL is the fake's base URL, e.g. http://127.0.0.1:41234: the API
	// root (NewClient's baseURL), with Stems Accounts under /auth/connect/.
	URL string
	// ClientID and ClientSecret are the registered API client's
	// credentials; ClientSecret is "" for a public client (PKCE only).
	ClientID, ClientSecret string
	// Issuer mints and checks the fake's tokens. Its package is internal:
	// call RevokeAccessTokens, RevokeRefreshTokens and RevokeToken
	// instead.
	Issuer *fakeserver.Issuer
	// Server is the machinery the four fakes share, for this module's own
	// benchmarks. Its package is internal: call the methods of Server
	// instead.
	Server *fakeserver.Server

	clock         *Clock
	authorizeUser string
	samples       []fake.Sample
	signIn        *fakeserver.SignInPage

	mu    sync.Mutex
	users map[string]user
	data  map[string]*companyData
	seq   int64
}

type options struct {
	clock         *Clock
	lifetime      time.Duration
	id, sec       string
	users         []user
	authorizeUser string
	addr          string
	reporter      func(string)
}

// Option configures the fake.
type Option func(*options)

// WithClock makes token and code expiry, and the request log's times,
// follow clock. Optional. Default: a clock that follows real time, which
// Advance (and the control API) moves ahead; nil is real time, which
// nothing can advance.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithTokenLifetime sets expires_in of issued tokens. Optional. Default
// 1800 s, as documented.
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.lifetime = d } }

// WithClient registers different client credentials. Optional. Default
// DefaultClientID and DefaultClientSecret. An empty secret makes a public
// client: it sends no secret, and the authorize endpoint requires a PKCE
// code challenge from it.
func WithClient(id, secret string) Option { return func(o *options) { o.id, o.sec = id, secret } }

// WithUser adds a user (or replaces the one with the same username), a
// member of companies. Optional: the default user is DefaultUsername,
// a member of DefaultCompany and OtherCompany.
func WithUser(username, password string, companies ...string) Option {
	return func(o *options) {
		o.users = append(o.users, user{username: username, password: password, companies: append([]string(nil), companies...)})
	}
}

// WithAuthorizeUser names the user SignIn signs in as on the sign-in
// page. Optional. Default DefaultUsername. A login_hint naming another
// known user overrides it for one request (and fills the page's username
// field, for a person or a browser driven by a test).
func WithAuthorizeUser(username string) Option {
	return func(o *options) { o.authorizeUser = username }
}

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
		t.Fatalf("stemstest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake that runs until Close (the CLI's `complykit fake`).
func Start(opts ...Option) (*Server, error) {
	o := options{
		clock:         &Clock{},
		lifetime:      1800 * time.Second,
		id:            DefaultClientID,
		sec:           DefaultClientSecret,
		authorizeUser: DefaultUsername,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.id == "" {
		return nil, errors.New("stemstest: WithClient: empty client id")
	}
	if o.lifetime <= 0 {
		return nil, errors.New("stemstest: WithTokenLifetime: must be positive")
	}
	s := &Server{
		ClientID:      o.id,
		ClientSecret:  o.sec,
		clock:         o.clock,
		authorizeUser: o.authorizeUser,
		users:         map[string]user{DefaultUsername: {username: DefaultUsername, password: DefaultPassword, companies: []string{DefaultCompany, OtherCompany}}},
		data:          sampleData(),
		seq:           5000,
	}
	s.samples = s.sampleList()
	s.signIn = &fakeserver.SignInPage{Title: "Stems Accounts", Clock: o.clock, Check: s.checkPassword, Approve: s.approve, Deny: s.deny}
	for _, u := range o.users {
		if u.username == "" || u.password == "" {
			return nil, errors.New("stemstest: WithUser: username and password are required")
		}
		s.users[u.username] = u
	}
	if _, ok := s.users[s.authorizeUser]; !ok {
		return nil, fmt.Errorf("stemstest: WithAuthorizeUser: unknown user %q", s.authorizeUser)
	}
	s.Issuer = fakeserver.NewIssuer("stems-", o.clock, o.lifetime)
	strict := stems.NewStrictHandlerWithOptions(&api{s}, nil, stems.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  fakeserver.ErrorHandler("stemstest", http.StatusBadRequest, "invalid_request", errorBody, isAccountsPath),
		ResponseErrorHandlerFunc: fakeserver.ErrorHandler("stemstest", http.StatusInternalServerError, "server_error", errorBody, isAccountsPath),
	})
	handler := stems.HandlerWithOptions(strict, stems.StdHTTPServerOptions{
		ErrorHandlerFunc: fakeserver.ErrorHandler("stemstest", http.StatusBadRequest, "invalid_request", errorBody, isAccountsPath),
	})
	srv, err := fakeserver.Start(fakeserver.Config{
		Name:        "stemstest",
		Spec:        "stems.yaml",
		Handler:     s.gate(handler),
		IsTokenPath: isAccountsPath,
		ErrorBody:   errorBody,
		Issuer:      s.Issuer,
		Reporter:    o.reporter,
		Addr:        o.addr,
		Clock:       o.clock,
		Samples:     s.samples,
		Control:     []fakeserver.ControlEndpoint{s.signIn.Endpoint()},
		Info: func() map[string]any {
			return map[string]any{"token_url": s.TokenURL(), "authorize_url": s.AuthorizeURL(),
				"client_id": s.ClientID, "client_secret": s.ClientSecret,
				"username": DefaultUsername, "password": DefaultPassword, "company": DefaultCompany}
		},
	})
	if err != nil {
		return nil, err
	}
	s.Server, s.URL = srv, srv.URL
	return s, nil
}

// Paths of the Stems Accounts endpoints.
const (
	tokenPath     = "/auth/connect/token"
	authorizePath = "/auth/connect/authorize"
)

func isAccountsPath(p string) bool { return strings.HasPrefix(p, "/auth/connect/") }

// TokenURL is the fake's token endpoint.
func (s *Server) TokenURL() string { return s.URL + tokenPath }

// AuthorizeURL is the fake's authorize endpoint.
func (s *Server) AuthorizeURL() string { return s.URL + authorizePath }

// Credentials returns the password grant of the default user
// (DefaultUsername) with the registered client, for stemsapi.NewClient.
func (s *Server) Credentials() *stemsapi.PasswordCredentials {
	return stemsapi.Password(s.ClientID, s.ClientSecret, DefaultUsername, DefaultPassword)
}

// ClientOptions returns the options that point a stemsapi.Client with
// password credentials at the fake, its token endpoint and
// DefaultCompany, followed by extra (a later WithCompany wins):
//
//	client, err := stemsapi.NewClient(srv.URL, srv.Credentials(), srv.ClientOptions()...)
//
// For AuthorizedUser credentials, whose flow brings its own token
// endpoint, give AuthCodeFlowOptions to NewAuthCodeFlow instead.
func (s *Server) ClientOptions(extra ...option.Option) []option.Option {
	return append([]option.Option{stemsapi.WithTokenURL(s.TokenURL()), stemsapi.WithCompany(DefaultCompany)}, extra...)
}

// AuthCodeFlowOptions returns the options that point
// stemsapi.NewAuthCodeFlow at the fake's authorize and token endpoints,
// followed by extra.
func (s *Server) AuthCodeFlowOptions(extra ...option.Option) []option.Option {
	return append([]option.Option{stemsapi.WithAuthURL(s.AuthorizeURL()), stemsapi.WithTokenURL(s.TokenURL())}, extra...)
}

// Clock returns the fake's clock: the one WithClock gave, or by default
// one that follows real time and that Advance moves ahead.
func (s *Server) Clock() *Clock { return s.clock }

// ReusedRefreshTokens counts refresh grants that presented a refresh token
// already spent: a client that loses a rotated refresh token shows up here.
func (s *Server) ReusedRefreshTokens() int64 { return s.Issuer.ReusedRefreshTokens() }

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

// TokenRequests counts requests to the Stems Accounts endpoints (token and
// authorize) since the start or the last ResetRequests.
func (s *Server) TokenRequests() int { return s.Server.TokenRequests() }

// APIRequests counts all other requests since the start or the last
// ResetRequests.
func (s *Server) APIRequests() int { return s.Server.APIRequests() }

// RevokeAccessTokens revokes every access token issued so far: the next
// API call with one gets a 401.
func (s *Server) RevokeAccessTokens() { s.Issuer.RevokeAccessTokens() }

// RevokeRefreshTokens revokes every refresh token issued so far: the next
// refresh grant gets invalid_grant (without counting as a reuse).
func (s *Server) RevokeRefreshTokens() { s.Issuer.RevokeRefreshTokens() }

// RevokeToken revokes one access or refresh token and reports whether the
// fake issued it.
func (s *Server) RevokeToken(token string) bool { return s.Issuer.Revoke(token) }

// ControlURL is the root of the fake's control API, URL + "/__complykit/"
// (see package fake): what the methods of Server do, over HTTP.
func (s *Server) ControlURL() string { return s.Server.ControlURL() }

// Samples returns the records the fake was started with: the companies,
// and each company's hazards, hazards submitted for approval and events.
func (s *Server) Samples() []fake.Sample { return slices.Clone(s.samples) }

// sampleList lists the data the fake starts with. s.mu need not be held:
// Start calls it before serving.
func (s *Server) sampleList() []fake.Sample {
	companies := map[string]string{
		DefaultCompany: "the default user's company",
		OtherCompany:   "the default user's other company",
		ForeignCompany: "not the default user's: 403",
	}
	ids := slices.Sorted(maps.Keys(s.data))
	var out []fake.Sample
	for _, c := range ids {
		out = append(out, fake.Sample{Kind: "company", ID: c, Name: companies[c]})
	}
	title := func(m map[string]any) (string, string) {
		id, _ := idOf(m["id"])
		t, _ := m["title"].(string)
		return id, t
	}
	for _, c := range ids {
		d, parent := s.data[c], "company "+c
		for _, h := range d.hazards {
			id, t := title(h)
			out = append(out, fake.Sample{Kind: "hazard", ID: id, Name: t, Parent: parent})
		}
		for _, a := range d.approvals {
			id, t := title(a.AdditionalProperties)
			out = append(out, fake.Sample{Kind: "hazard approval", ID: id, Name: t, Parent: parent})
		}
		for _, id := range d.eventOrder {
			name := ""
			if det := d.events[id].EventDetails; det != nil {
				name = deref(det.Subheading)
			}
			out = append(out, fake.Sample{Kind: "event", ID: id, Name: name, Parent: parent})
		}
	}
	return out
}

// Hazards returns a copy of the approved hazards of company, as GET
// /hazards would.
func (s *Server) Hazards(company string) []stems.Hazard {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.company(company).hazards)
}

// Events returns a copy of the event records of company, in the order they
// were created.
func (s *Server) Events(company string) []stems.EventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.company(company)
	out := make([]stems.EventRecord, 0, len(d.eventOrder))
	for _, id := range d.eventOrder {
		out = append(out, clone(d.events[id]))
	}
	return out
}

// errorBody is Stems' error body: {error, message, error_description}. At
// the token endpoint it is an OAuth 2.0 error (error, error_description);
// the API puts its text in message.
func errorBody(token bool, status int, code, message string) any {
	if token {
		return stems.Error{Error: code, ErrorDescription: &message}
	}
	if status == http.StatusUnauthorized {
		switch {
		case strings.Contains(message, "expired"):
			message = "The access token has expired"
		case strings.Contains(message, "revoked"):
			message = "The access token has been revoked"
		}
	}
	return stems.Error{Error: code, Message: &message}
}

// gate runs in front of the generated handler, after the machinery has
// validated the request and its bearer token: it refuses (403) a company
// the token's user is not a member of, and hands the authorize handler the
// undeclared login_hint.
func (s *Server) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == authorizePath {
			ctx := context.WithValue(r.Context(), loginHintKey{}, r.URL.Query().Get("login_hint"))
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if isAccountsPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		tok, _ := fakeserver.BearerToken(r)
		g, err := s.Issuer.Authenticate(tok)
		if err != nil { // expired between the machinery's check and this one
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			fakeserver.WriteJSON(w, http.StatusUnauthorized, errorBody(false, http.StatusUnauthorized, "invalid_token", err.Error()))
			return
		}
		company := r.Header.Get("X-Company-Context")
		if !s.member(g.Subject, company) {
			msg := fmt.Sprintf("The current user has no role in company %q", company)
			fakeserver.WriteJSON(w, http.StatusForbidden, stems.Error{Error: "forbidden", Message: &msg})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), companyKey{}, company)))
	})
}

type (
	loginHintKey struct{}
	companyKey   struct{}
)

// companyOf returns the X-Company-Context the gate admitted: the header is
// a security scheme of the spec, so the generated handlers do not see it.
func companyOf(ctx context.Context) string {
	c, _ := ctx.Value(companyKey{}).(string)
	return c
}

func (s *Server) member(username, company string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	return ok && company != "" && slices.Contains(u.companies, company)
}

func (s *Server) user(username string) (user, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	return u, ok
}

// company returns the data of a company, creating it empty. s.mu is held.
func (s *Server) company(id string) *companyData {
	d, ok := s.data[id]
	if !ok {
		d = newCompanyData()
		s.data[id] = d
	}
	return d
}

// nextID returns a new resource id. s.mu is held.
func (s *Server) nextID() int64 {
	s.seq++
	return s.seq
}

// reply is every response of the fake's handler. It implements each
// operation's response interface and encodes its body with the model's own
// MarshalJSON: the generated 200 response types are defined types that lose
// the AdditionalProperties of their model (oapi-codegen issue #1250).
type reply struct {
	status      int
	contentType string
	location    string
	body        any
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

func fail(status int, code, message string) reply {
	return reply{status: status, body: stems.Error{Error: code, Message: &message}}
}

func oauthError(status int, code, description string) reply {
	return reply{status: status, body: stems.Error{Error: code, ErrorDescription: &description}}
}

func (r reply) visit(w http.ResponseWriter) error {
	if r.location != "" {
		w.Header().Set("Location", r.location)
	}
	if s, isText := r.body.(string); isText {
		w.Header().Set("Content-Type", r.contentType)
		w.WriteHeader(r.status)
		_, err := w.Write([]byte(s))
		return err
	}
	if r.body == nil {
		w.WriteHeader(r.status)
		return nil
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, err = w.Write(b)
	return err
}

func (r reply) VisitAuthorizeResponse(w http.ResponseWriter) error      { return r.visit(w) }
func (r reply) VisitRequestTokenResponse(w http.ResponseWriter) error   { return r.visit(w) }
func (r reply) VisitGetEventLookupResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r reply) VisitCreateEventRequiringApprovalResponse(w http.ResponseWriter) error {
	return r.visit(w)
}
func (r reply) VisitListEventFormsResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r reply) VisitUpdateEventRequiringApprovalResponse(w http.ResponseWriter) error {
	return r.visit(w)
}
func (r reply) VisitListHazardsResponse(w http.ResponseWriter) error  { return r.visit(w) }
func (r reply) VisitCreateHazardResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r reply) VisitUpdateHazardResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r reply) VisitCreateHazardForApprovalResponse(w http.ResponseWriter) error {
	return r.visit(w)
}
func (r reply) VisitUpdateHazardForApprovalResponse(w http.ResponseWriter) error {
	return r.visit(w)
}
func (r reply) VisitListHazardApprovalDataResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r reply) VisitGetHazardApprovalDataResponse(w http.ResponseWriter) error  { return r.visit(w) }

// api implements the generated strict server.
type api struct{ s *Server }

func (a *api) RequestToken(ctx context.Context, req stems.RequestTokenRequestObject) (stems.RequestTokenResponseObject, error) {
	b := req.Body
	if b == nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "missing form body"), nil
	}
	s := a.s
	if b.ClientId != s.ClientID {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Unknown client"), nil
	}
	if s.ClientSecret != "" && deref(b.ClientSecret) != s.ClientSecret {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Invalid client secret"), nil
	}
	var issued fakeserver.Issued
	switch b.GrantType {
	case stems.TokenRequestGrantTypePassword:
		username, password := deref(b.Username), deref(b.Password)
		if username == "" || password == "" {
			return oauthError(http.StatusBadRequest, "invalid_request", "username and password are required"), nil
		}
		scopes, bad := parseScopes(deref(b.Scope))
		if len(scopes) == 0 {
			return oauthError(http.StatusBadRequest, "invalid_request", "scope is required"), nil
		}
		if bad != "" {
			return oauthError(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q is not configured for the client", bad)), nil
		}
		u, known := s.user(username)
		if !known || u.password != password {
			return oauthError(http.StatusBadRequest, "invalid_grant", "invalid_username_or_password"), nil
		}
		// The documented password response has no id_token.
		issued = s.Issuer.Issue(fakeserver.Grant{ClientID: b.ClientId, Subject: username, Scopes: scopes},
			slices.Contains(scopes, "offline_access"), false)
	case stems.TokenRequestGrantTypeRefreshToken:
		rt := deref(b.RefreshToken)
		if rt == "" {
			return oauthError(http.StatusBadRequest, "invalid_request", "refresh_token is required"), nil
		}
		var err error
		// Seed 000: the refresh response carries a new refresh token and an
		// id_token; IdentityServer issues the id_token only to a grant
		// that has the openid scope.
		if issued, err = s.Issuer.Refresh(rt, b.ClientId, hasOpenID); err != nil {
			return oauthError(http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or already used"), nil
		}
	case stems.TokenRequestGrantTypeAuthorizationCode:
		code, redirect := deref(b.Code), deref(b.RedirectUri)
		if code == "" || redirect == "" {
			return oauthError(http.StatusBadRequest, "invalid_request", "code and redirect_uri are required"), nil
		}
		g, err := s.Issuer.Redeem(code, b.ClientId, redirect, deref(b.CodeVerifier))
		if err != nil {
			return oauthError(http.StatusBadRequest, "invalid_grant", "The code is invalid, expired or already used, or the redirect_uri or code_verifier does not match"), nil
		}
		issued = s.Issuer.Issue(g, slices.Contains(g.Scopes, "offline_access"), hasOpenID(g))
	default:
		return oauthError(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type"), nil
	}
	typ := "Bearer"
	resp := stems.TokenResponse{AccessToken: issued.AccessToken, TokenType: &typ, ExpiresIn: &issued.ExpiresIn}
	if issued.RefreshToken != "" {
		resp.RefreshToken = &issued.RefreshToken
	}
	if issued.IDToken != "" {
		resp.IdToken = &issued.IDToken
	}
	if issued.Scope != "" {
		resp.Scope = &issued.Scope
	}
	return ok(resp), nil
}

// parseScopes splits a scope parameter and reports the first scope the
// client may not request.
// hasOpenID reports whether a grant may have an id_token: IdentityServer
// issues one only when the openid scope was granted.
func hasOpenID(g fakeserver.Grant) bool { return slices.Contains(g.Scopes, "openid") }

func parseScopes(scope string) (scopes []string, bad string) {
	scopes = strings.Fields(scope)
	for _, sc := range scopes {
		if !slices.Contains(allowedScopes, sc) {
			return scopes, sc
		}
	}
	return scopes, ""
}

// Authorize checks the authorize request and shows the sign-in page;
// signIn.Approve (approve) sends the browser back to redirect_uri with a
// code once the user has signed in and consented there.
func (a *api) Authorize(ctx context.Context, req stems.AuthorizeRequestObject) (stems.AuthorizeResponseObject, error) {
	s, p := a.s, req.Params
	if p.ClientId != s.ClientID {
		// Never redirect for an unknown client (RFC 6749 §4.1.2.1): show an error page.
		return errorPage("unauthorized_client", "Unknown client"), nil
	}
	redirect, err := url.Parse(p.RedirectUri)
	if err != nil || !redirect.IsAbs() || redirect.Host == "" || redirect.Fragment != "" {
		return errorPage("invalid_request", "redirect_uri must be an absolute URL without a fragment"), nil
	}
	pa := &pendingAuth{redirectURI: p.RedirectUri, redirect: redirect, state: p.State, mode: stems.AuthorizeParamsResponseModeFragment} // IdentityServer's default for the code flow
	if p.ResponseMode != nil {
		pa.mode = *p.ResponseMode
	}
	failBack := func(code, desc string) stems.AuthorizeResponseObject {
		return pa.back(url.Values{"error": {code}, "error_description": {desc}})
	}
	scopes, bad := parseScopes(p.Scope)
	switch {
	case len(scopes) == 0:
		return failBack("invalid_request", "scope is required"), nil
	case bad != "":
		return failBack("invalid_scope", fmt.Sprintf("scope %q is not configured for the client", bad)), nil
	}
	challenge, method := deref(p.CodeChallenge), ""
	if p.CodeChallengeMethod != nil {
		method = string(*p.CodeChallengeMethod)
	}
	switch {
	case challenge == "" && method != "":
		return failBack("invalid_request", "code_challenge_method without code_challenge"), nil
	case challenge == "" && s.ClientSecret == "":
		return failBack("invalid_request", "code_challenge is required (PKCE) for a public client"), nil
	case challenge != "" && method == "":
		method = "plain" // RFC 7636 §4.3
	}
	if challenge != "" && (len(challenge) < 43 || len(challenge) > 128) {
		return failBack("invalid_request", "code_challenge must be 43 to 128 characters"), nil
	}
	pa.client, pa.scopes, pa.challenge, pa.method = p.ClientId, scopes, challenge, method
	hint, _ := ctx.Value(loginHintKey{}).(string)
	page := s.signIn.Begin(&fakeserver.Authorization{Client: p.ClientId, Scopes: scopes, LoginHint: hint, Data: pa})
	return reply{status: http.StatusOK, contentType: "text/html; charset=utf-8", body: page}, nil
}

// pendingAuth is an authorize request waiting on the sign-in page.
type pendingAuth struct {
	client            string
	scopes            []string
	redirectURI       string // as sent, which the exchange must repeat
	redirect          *url.URL
	state             *string
	mode              stems.AuthorizeParamsResponseMode
	challenge, method string
}

// back is the answer that sends the browser back to the app with params,
// in the request's response mode.
func (pa *pendingAuth) back(params url.Values) reply {
	if pa.state != nil {
		params.Set("state", *pa.state)
	}
	u := *pa.redirect
	switch pa.mode {
	case stems.AuthorizeParamsResponseModeFormPost:
		return formPost(pa.redirectURI, params)
	case stems.AuthorizeParamsResponseModeQuery:
		q := pa.redirect.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		return reply{status: http.StatusFound, location: u.String()}
	default:
		// The docs: "If this value is omitted, the response will be
		// sent as a fragment encoded redirect", which never reaches
		// a server.
		u.Fragment, u.RawFragment = "", ""
		return reply{status: http.StatusFound, location: u.String() + "#" + params.Encode()}
	}
}

// approve answers the sign-in page once username has signed in and
// consented: a code for the request, sent back to the app.
func (s *Server) approve(w http.ResponseWriter, _ *http.Request, a *fakeserver.Authorization, username string) {
	pa := a.Data.(*pendingAuth)
	code := s.Issuer.NewCode(fakeserver.Grant{ClientID: pa.client, Subject: username, Scopes: pa.scopes}, pa.redirectURI, pa.challenge, pa.method)
	pa.back(url.Values{"code": {code}}).visit(w)
}

// deny answers the sign-in page's refusal: access_denied, sent back to
// the app (RFC 6749 §4.1.2.1).
func (s *Server) deny(w http.ResponseWriter, _ *http.Request, a *fakeserver.Authorization) {
	pa := a.Data.(*pendingAuth)
	pa.back(url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"}}).visit(w)
}

// checkPassword reports whether username and password are a user's.
func (s *Server) checkPassword(username, password string) bool {
	u, ok := s.user(username)
	return ok && u.password == password
}

func errorPage(code, desc string) reply {
	return reply{status: http.StatusOK, contentType: "text/html; charset=utf-8",
		body: "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Sign-in error</h1><p>" +
			html.EscapeString(code) + ": " + html.EscapeString(desc) + "</p></body></html>"}
}

// formPost is the OAuth 2.0 Form Post Response Mode page.
func formPost(action string, params url.Values) reply {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><title>Submit</title></head><body onload="document.forms[0].submit()"><form method="post" action="`)
	b.WriteString(html.EscapeString(action))
	b.WriteString(`">`)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(params.Get(k)))
	}
	b.WriteString(`</form></body></html>`)
	return reply{status: http.StatusOK, contentType: "text/html; charset=utf-8", body: b.String()}
}

func (a *api) ListHazards(ctx context.Context, req stems.ListHazardsRequestObject) (stems.ListHazardsResponseObject, error) {
	return ok(a.s.Hazards(companyOf(ctx))), nil
}

func (a *api) CreateHazard(ctx context.Context, req stems.CreateHazardRequestObject) (stems.CreateHazardResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	h := clone(*req.Body)
	if h == nil {
		h = stems.Hazard{}
	}
	if _, has := h["id"]; has {
		return fail(http.StatusBadRequest, "invalid_request", "a new hazard must not carry an id"), nil
	}
	h["id"] = s.nextID()
	d := s.company(companyOf(ctx))
	d.hazards = append(d.hazards, h)
	return ok(clone(h)), nil
}

func (a *api) UpdateHazard(ctx context.Context, req stems.UpdateHazardRequestObject) (stems.UpdateHazardResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	h := clone(*req.Body)
	id, has := idOf(h["id"])
	if !has {
		return fail(http.StatusBadRequest, "invalid_request", "the hazard's id is required"), nil
	}
	d := s.company(companyOf(ctx))
	for i := range d.hazards {
		if cur, _ := idOf(d.hazards[i]["id"]); cur == id {
			d.hazards[i] = h
			return ok(clone(h)), nil
		}
	}
	return fail(http.StatusNotFound, "not_found", "hazard "+id+" not found"), nil
}

func (a *api) ListHazardApprovalData(ctx context.Context, req stems.ListHazardApprovalDataRequestObject) (stems.ListHazardApprovalDataResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok(clone(s.company(companyOf(ctx)).approvals)), nil
}

func (a *api) GetHazardApprovalData(ctx context.Context, req stems.GetHazardApprovalDataRequestObject) (stems.GetHazardApprovalDataResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.company(companyOf(ctx))
	if i := d.approval(req.Id); i >= 0 {
		return ok(clone(d.approvals[i])), nil
	}
	return fail(http.StatusNotFound, "not_found", "hazard "+req.Id+" not found"), nil
}

func (a *api) CreateHazardForApproval(ctx context.Context, req stems.CreateHazardForApprovalRequestObject) (stems.CreateHazardForApprovalResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	h := clone(*req.Body)
	if _, has := h.Get("id"); has {
		return fail(http.StatusBadRequest, "invalid_request", "a new hazard must not carry an id"), nil
	}
	h.Set("id", s.nextID())
	h.Set("status", "pending")
	if h.ReportedDate == nil {
		now := s.clock.Now().UTC().Format(time.RFC3339)
		h.ReportedDate = &now
	}
	d := s.company(companyOf(ctx))
	d.approvals = append(d.approvals, approvalData(h))
	return ok(h), nil
}

func (a *api) UpdateHazardForApproval(ctx context.Context, req stems.UpdateHazardForApprovalRequestObject) (stems.UpdateHazardForApprovalResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	h := clone(*req.Body)
	raw, _ := h.Get("id")
	id, has := idOf(raw)
	if !has {
		return fail(http.StatusBadRequest, "invalid_request", "the hazard's id is required"), nil
	}
	d := s.company(companyOf(ctx))
	i := d.approval(id)
	if i < 0 {
		return fail(http.StatusNotFound, "not_found", "hazard "+id+" not found"), nil
	}
	h.Set("status", "pending")
	d.approvals[i] = approvalData(h)
	return ok(h), nil
}

// approvalData is how a hazard submitted for approval is listed.
func approvalData(h stems.HazardApproval) stems.HazardApprovalData {
	out := stems.HazardApprovalData{Actions: &[]stems.HazardAction{}, SuggestedActions: &[]stems.HazardAction{}}
	for k, v := range h.AdditionalProperties {
		out.Set(k, v)
	}
	if h.ReportedDate != nil {
		out.Set("reportedDate", *h.ReportedDate)
	}
	return out
}

func (a *api) CreateEventRequiringApproval(ctx context.Context, req stems.CreateEventRequiringApprovalRequestObject) (stems.CreateEventRequiringApprovalResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := clone(*req.Body)
	if _, has := ev.Get("id"); has {
		return fail(http.StatusBadRequest, "invalid_request", "a new event must not carry an id"), nil
	}
	if ev.EventDetails == nil || ev.EventDetails.EventFormId == nil {
		return fail(http.StatusBadRequest, "invalid_request", "eventDetails.eventFormId is required"), nil
	}
	n := s.nextID()
	ev.Set("id", n)
	ev.Set("status", "awaiting_approval")
	id := strconv.FormatInt(n, 10)
	d := s.company(companyOf(ctx))
	d.putEvent(id, ev)
	return ok(clone(ev)), nil
}

func (a *api) UpdateEventRequiringApproval(ctx context.Context, req stems.UpdateEventRequiringApprovalRequestObject) (stems.UpdateEventRequiringApprovalResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.company(companyOf(ctx))
	if _, exists := d.events[req.Id]; !exists {
		return fail(http.StatusNotFound, "not_found", "event "+req.Id+" not found"), nil
	}
	ev := clone(*req.Body)
	if raw, has := ev.Get("id"); has {
		if id, _ := idOf(raw); id != req.Id {
			return fail(http.StatusBadRequest, "invalid_request", "the body's id does not match the path"), nil
		}
	}
	n, err := strconv.ParseInt(req.Id, 10, 64)
	if err == nil {
		ev.Set("id", n)
	} else {
		ev.Set("id", req.Id)
	}
	ev.Set("status", "awaiting_approval")
	d.putEvent(req.Id, ev)
	return ok(clone(ev)), nil
}

func (a *api) ListEventForms(ctx context.Context, req stems.ListEventFormsRequestObject) (stems.ListEventFormsResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.company(companyOf(ctx))
	if _, exists := d.events[req.Id]; !exists {
		return fail(http.StatusNotFound, "not_found", "event "+req.Id+" not found"), nil
	}
	forms := clone(d.forms[req.Id])
	if forms == nil {
		forms = []stems.EventForm{}
	}
	return ok(forms), nil
}

func (a *api) GetEventLookup(ctx context.Context, req stems.GetEventLookupRequestObject) (stems.GetEventLookupResponseObject, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok(clone(s.company(companyOf(ctx)).lookup)), nil
}

func newCompanyData() *companyData {
	return &companyData{
		hazards:   []stems.Hazard{},
		approvals: []stems.HazardApprovalData{},
		events:    map[string]stems.EventRecord{},
		forms:     map[string][]stems.EventForm{},
	}
}

// companyData is what one company sees.
type companyData struct {
	hazards    []stems.Hazard
	approvals  []stems.HazardApprovalData
	events     map[string]stems.EventRecord
	eventOrder []string
	forms      map[string][]stems.EventForm
	lookup     stems.EventLookup
}

func (d *companyData) approval(id string) int {
	for i, a := range d.approvals {
		raw, _ := a.Get("id")
		if cur, _ := idOf(raw); cur == id {
			return i
		}
	}
	return -1
}

// putEvent stores ev; its form is the event's eventDetails as entered.
func (d *companyData) putEvent(id string, ev stems.EventRecord) {
	if _, exists := d.events[id]; !exists {
		d.eventOrder = append(d.eventOrder, id)
	}
	d.events[id] = ev
	form := stems.EventForm{}
	if det := ev.EventDetails; det != nil {
		form.Subheading, form.AdditionalInformation = det.Subheading, det.AdditionalInformation
		if det.EventFormId != nil {
			form.Set("eventFormId", det.EventFormId)
		}
	}
	d.forms[id] = []stems.EventForm{form}
}

// idOf renders a JSON id (a number or a string) as a path segment.
func idOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// clone deep-copies a model through its JSON form, so that what a handler
// returns never aliases the fake's state.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic("stemstest: clone: " + err.Error())
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic("stemstest: clone: " + err.Error())
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sampleData is the data the fake starts with. Stems publishes no resource
// schema, so the fields beyond the documented ones are invented but
// plausible; every record carries a numeric id.
func sampleData() map[string]*companyData {
	str := func(s string) *string { return &s }
	num := func(n int64) *stems.EventFormId {
		var id stems.EventFormId
		if err := id.FromNumericId(n); err != nil {
			panic(err)
		}
		return &id
	}
	lookup := stems.EventLookup{EventRecordForms: &[]map[string]interface{}{
		{"id": 1, "name": "Injury"},
		{"id": 2, "name": "Damage"},
		{"id": 3, "name": "Environment"},
		{"id": 4, "name": "Near miss"},
	}}
	lookup.Set("severities", []string{"Low", "Medium", "High", "Critical"})

	main := newCompanyData()
	main.hazards = []stems.Hazard{
		{"id": 1001, "title": "Wet floor in the loading bay", "location": "Warehouse 2", "riskRating": "Medium", "status": "approved"},
		{"id": 1002, "title": "Frayed extension lead", "location": "Workshop", "riskRating": "High", "status": "approved"},
	}
	main.lookup = lookup
	approvals := []stems.HazardApprovalData{
		{
			Actions:          &[]stems.HazardAction{{"id": 1, "description": "Mop and place a warning sign", "completed": true}},
			SuggestedActions: &[]stems.HazardAction{{"description": "Fix the roof leak above bay 3"}},
		},
		{
			Actions:          &[]stems.HazardAction{},
			SuggestedActions: &[]stems.HazardAction{{"description": "Replace the lead and tag-test the others"}},
		},
	}
	approvals[0].Set("id", 1001)
	approvals[0].Set("title", "Wet floor in the loading bay")
	approvals[0].Set("reportedDate", "2024-03-04T09:15:00Z")
	approvals[0].Set("status", "approved")
	approvals[1].Set("id", 1003)
	approvals[1].Set("title", "Blocked fire exit")
	approvals[1].Set("reportedDate", "2024-03-06T14:02:00Z")
	approvals[1].Set("status", "pending")
	main.approvals = approvals

	ev := stems.EventRecord{EventDetails: &stems.EventDetails{
		EventFormId:           num(1),
		Subheading:            str("Forklift clipped a racking upright"),
		AdditionalInformation: str("No injuries; racking inspected and tagged out."),
		SelectedChecklists:    &[]interface{}{map[string]interface{}{"id": 7, "name": "Racking inspection"}},
		QuestionnaireAnswers:  &[]interface{}{map[string]interface{}{"questionId": 3, "answer": "No"}},
		FreeText1:             str("Shift B"),
	}}
	ev.Set("id", 2001)
	ev.Set("status", "awaiting_approval")
	main.putEvent("2001", ev)

	other := newCompanyData()
	other.hazards = []stems.Hazard{
		{"id": 3001, "title": "Uneven paving at the site entrance", "location": "Gate 1", "riskRating": "Low", "status": "approved"},
	}
	other.lookup = clone(lookup)
	foreign := newCompanyData()
	foreign.hazards = []stems.Hazard{{"id": 9001, "title": "Not yours to see", "status": "approved"}}
	return map[string]*companyData{DefaultCompany: main, OtherCompany: other, ForeignCompany: foreign}
}
