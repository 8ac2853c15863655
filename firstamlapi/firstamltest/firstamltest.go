// Package firstamltest is a fake First AML Public API for tests, in the
// spirit of net/http/httptest: an in-process server on loopback, served
// from specs/firstaml.yaml through the generated strict server, that
// validates every request and every response against the contract and
// executes GraphQL operations against specs/firstaml.graphql.
//
// It acts like the real thing as far as the public record goes:
//
//   - POST /oauth/token issues tokens only for the documented JSON body
//     with the registered client, audience https://api.firstaml.com and
//     grant client_credentials. A form body gets 400 invalid_request, an
//     unknown audience 403 access_denied ("Service not found", as Auth0
//     answers), wrong credentials 401 access_denied. Tokens expire on an
//     injectable clock (default 86400 s, as documented).
//   - POST /graphql/ requires the bearer token (401 otherwise) and a
//     User-Agent, since First AML's go-live review requires one on every
//     request: a request without one, or with Go's default
//     "Go-http-client/...", gets 400, on the token endpoint too. Each
//     operation is parsed and validated against the schema with gqlparser;
//     one that does not validate gets 400 with GraphQL-over-HTTP errors and
//     Content-Type application/graphql-response+json. Valid operations run
//     against in-memory organizations, offices and cases: fields,
//     arguments, variables, aliases, fragments, inline fragments on unions,
//     __typename, @skip and @include, with null propagation for errors.
//     Introspection (__schema, __type) is answered from the schema, so
//     GraphiQL, Insomnia or any GraphQL tool can browse it.
//   - The create mutations answer the ValidationErrors union member, each
//     error with a message and a fieldPath into the input in the
//     documented shape, a list of strings (["individuals", "0",
//     "emailAddress"]), for First AML's documented rules:
//     officeId is required when the organization has offices and must be
//     omitted when it has none; a case contact needs an email address or a
//     phone number; initialState SUBMIT_TO_FIRST_AML needs at least one
//     individual with isCaseContact: true. The fake adds (inferred) an
//     unknown organization, no individuals, and an individual without a
//     name. ScriptValidationErrors scripts any other answer. caseDetails
//     answers ValidationErrors for an unknown case.
//   - Scopes are enforced per root field: caseDetails needs read-only, the
//     case mutations case-management, the webhook subscription mutations
//     api-management (a GraphQL error in a 200 otherwise).
//   - GET /documents/{id}, a file's contentsUrl, serves the file with the
//     bearer token and read-only, or redirects to the file's RedirectURL.
//
// Tests can script failures of the machinery (429 with Retry-After, 5xx,
// malformed or slow answers, reset connections), script validation errors,
// read the request log and count token requests.
//
//	srv := firstamltest.NewServer(t)
//	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
//		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))
package firstamltest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/gen/firstaml"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/specs"
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

// Targets for Script: TokenCalls are requests to /oauth/token; APICalls
// are all others.
const (
	TokenCalls = fake.TokenCalls
	APICalls   = fake.APICalls
)

// TooManyRequests is a 429 with First AML's error body (Auth0's at the
// token endpoint, a GraphQL error on /graphql/) and a Retry-After header
// of retryAfter (seconds or an HTTP date; "" sends none).
func TooManyRequests(retryAfter string) Fault { return fake.TooManyRequests(retryAfter) }

// Status answers with code and First AML's error body for it.
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

// Default credentials of the registered test client, and the documented
// audience the token endpoint requires.
const (
	DefaultClientID     = "firstaml-test-client"
	DefaultClientSecret = "firstaml-test-secret"
	Audience            = string(firstaml.TokenRequestAudienceFirstAML)
)

// Server is a running fake First AML API.
type Server struct {
	// URL is the fake's base URL, e.g. http://127.0.0.1:41234; TokenURL
	// and GraphQLURL are under it.
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

	samples []fake.Sample // what the fake started with

	clock  *Clock
	scopes []string
	schema *ast.Schema

	mu       sync.Mutex
	orgs     []Organization
	cases    []Case
	seq      int
	scripted [][]ValidationError
	more     moreState // webhook subscriptions (subscriptions.go)
}

type options struct {
	clock    *Clock
	lifetime time.Duration
	id, sec  string
	addr     string
	reporter func(string)
	scopes   []string
	orgs     []Organization
	cases    []Case
}

// Option configures the fake.
type Option func(*options)

// WithClock makes token expiry, the time cases are received and the
// request log's times follow clock. Optional; default: a clock that
// follows real time, which Advance (and the control API) moves ahead; nil
// is real time, which nothing can advance.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithTokenLifetime sets expires_in of issued tokens. Optional; default
// 86400 s, as documented.
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.lifetime = d } }

// WithClient registers different client credentials. Optional; default
// DefaultClientID and DefaultClientSecret.
func WithClient(id, secret string) Option { return func(o *options) { o.id, o.sec = id, secret } }

// WithScopes sets the scopes granted to the client. Optional; default
// case-management and read-only (everything but api-management, like the
// docs' example client).
func WithScopes(scopes ...string) Option {
	return func(o *options) { o.scopes = append([]string{}, scopes...) }
}

// WithOrganizations replaces the organizations the client can access.
// Optional; default SampleOrganizations.
func WithOrganizations(orgs ...Organization) Option {
	return func(o *options) { o.orgs = append([]Organization{}, orgs...) }
}

// WithCases replaces the seeded cases. Optional; default SampleCases.
func WithCases(cases ...Case) Option {
	return func(o *options) { o.cases = append([]Case{}, cases...) }
}

// WithAddr listens on addr (host:port) instead of a free loopback port.
// Optional.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithReporter receives contract violations of the fake's own responses.
// Optional; NewServer reports them with t.Errorf, Start with the standard
// logger.
func WithReporter(f func(string)) Option { return func(o *options) { o.reporter = f } }

// NewServer starts a fake for the test and closes it when the test ends.
// A response of the fake that breaks the contract fails the test.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithReporter(func(msg string) { t.Errorf("%s", msg) })}, opts...)
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("firstamltest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake that runs until Close (the CLI's `complykit fake`).
func Start(opts ...Option) (*Server, error) {
	o := options{
		clock:    &Clock{},
		lifetime: 86400 * time.Second,
		id:       DefaultClientID,
		sec:      DefaultClientSecret,
		scopes:   []string{scopeCaseManagement, scopeReadOnly},
		orgs:     SampleOrganizations(),
		cases:    SampleCases(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	sdl, err := specs.FS.ReadFile("firstaml.graphql")
	if err != nil {
		return nil, fmt.Errorf("firstamltest: %w", err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "firstaml.graphql", Input: string(sdl)})
	if err != nil {
		return nil, fmt.Errorf("firstamltest: firstaml.graphql: %w", err)
	}
	s := &Server{
		ClientID:     o.id,
		ClientSecret: o.sec,
		clock:        o.clock,
		scopes:       o.scopes,
		schema:       schema,
		orgs:         cloneOrgs(o.orgs),
		cases:        cloneCases(o.cases),
		samples:      listSamples(o.orgs, o.cases),
	}
	s.seq = 100500 + len(s.cases)
	s.Issuer = fakeserver.NewIssuer("faml-", o.clock, o.lifetime)
	strict := firstaml.NewStrictHandlerWithOptions(&api{s}, []firstaml.StrictMiddlewareFunc{withRequest},
		firstaml.StrictHTTPServerOptions{
			RequestErrorHandlerFunc: fakeserver.ErrorHandler("firstamltest", http.StatusBadRequest, "invalid_request", errorBody,
				func(p string) bool { return p == tokenPath }),
		})
	srv, err := fakeserver.Start(fakeserver.Config{
		Name:        "firstamltest",
		Spec:        "firstaml.yaml",
		Handler:     firstaml.HandlerWithOptions(strict, firstaml.StdHTTPServerOptions{}),
		IsTokenPath: func(p string) bool { return p == tokenPath },
		ErrorBody:   errorBody,
		Issuer:      s.Issuer,
		Reporter:    o.reporter,
		Addr:        o.addr,
		Precheck:    s.precheck,
		Clock:       o.clock,
		Samples:     s.samples,
		Control: []fakeserver.ControlEndpoint{
			{Method: http.MethodPost, Path: "validation-errors", Serve: s.controlValidationErrors},
		},
		Info: func() map[string]any {
			return map[string]any{"token_url": s.TokenURL(), "graphql_url": s.GraphQLURL(),
				"client_id": s.ClientID, "client_secret": s.ClientSecret, "audience": Audience}
		},
	})
	if err != nil {
		return nil, err
	}
	s.Server, s.URL = srv, srv.URL
	return s, nil
}

const (
	tokenPath   = "/oauth/token"
	graphqlPath = "/graphql/"
)

// TokenURL is the fake's token endpoint.
func (s *Server) TokenURL() string { return s.URL + tokenPath }

// GraphQLURL is the fake's GraphQL endpoint.
func (s *Server) GraphQLURL() string { return s.URL + graphqlPath }

// ClientOptions returns the options that point a firstamlapi.Client at
// the fake, its token and GraphQL endpoints, followed by extra:
//
//	client, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
func (s *Server) ClientOptions(extra ...option.Option) []option.Option {
	return append([]option.Option{firstamlapi.WithTokenURL(s.TokenURL()), firstamlapi.WithGraphQLURL(s.GraphQLURL())}, extra...)
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

// TokenRequests counts requests to /oauth/token since the start or the
// last ResetRequests.
func (s *Server) TokenRequests() int { return s.Server.TokenRequests() }

// APIRequests counts all other requests since the start or the last
// ResetRequests.
func (s *Server) APIRequests() int { return s.Server.APIRequests() }

// RevokeAccessTokens revokes every token issued so far: the next GraphQL
// request with one gets a 401.
func (s *Server) RevokeAccessTokens() { s.Issuer.RevokeAccessTokens() }

// RevokeToken revokes one token and reports whether the fake issued it.
func (s *Server) RevokeToken(token string) bool { return s.Issuer.Revoke(token) }

// ControlURL is the root of the fake's control API, URL + "/__complykit/"
// (see package fake): what the methods of Server do, over HTTP.
func (s *Server) ControlURL() string { return s.Server.ControlURL() }

// Samples returns the records the fake was started with: the
// organizations, their offices and the cases.
func (s *Server) Samples() []fake.Sample { return slices.Clone(s.samples) }

func listSamples(orgs []Organization, cases []Case) []fake.Sample {
	var out []fake.Sample
	for _, o := range orgs {
		out = append(out, fake.Sample{Kind: "organization", ID: o.ID, Name: o.Name})
		for _, off := range o.Offices {
			out = append(out, fake.Sample{Kind: "office", ID: off.Key, Name: off.Name, Parent: "organization " + o.ID})
		}
	}
	for _, c := range cases {
		out = append(out, fake.Sample{Kind: "case", ID: c.ID, Name: c.Name, Parent: "organization " + c.OrganizationID})
	}
	return out
}

// controlValidationErrors is ScriptValidationErrors over HTTP.
func (s *Server) controlValidationErrors(_ *http.Request, body []byte) (any, error) {
	var in struct {
		Times  *int `json:"times"`
		Errors []struct {
			Message   string        `json:"message"`
			FieldPath fieldPathJSON `json:"field_path"`
		} `json:"errors"`
	}
	if err := fakeserver.DecodeJSON(body, &in); err != nil {
		return nil, err
	}
	times := 1
	if in.Times != nil {
		times = *in.Times
	}
	if times < 1 || times > 1000 || len(in.Errors) == 0 {
		return nil, fmt.Errorf(`want {"times": 1 to 1000, "errors": [{"message": "...", "field_path": "..."}, ...]}`)
	}
	errs := make([]ValidationError, len(in.Errors))
	for i, e := range in.Errors {
		if e.Message == "" {
			return nil, fmt.Errorf("errors[%d]: message is required", i)
		}
		errs[i] = ValidationError{Message: e.Message, FieldPath: e.FieldPath}
	}
	s.ScriptValidationErrors(times, errs...)
	return map[string]int{"times": times}, nil
}

// ScriptValidationErrors makes the next n create mutations answer the
// ValidationErrors union member with errs instead of creating a case.
func (s *Server) ScriptValidationErrors(n int, errs ...ValidationError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.scripted = append(s.scripted, append([]ValidationError{}, errs...))
	}
}

// errorBody shapes the failures the machinery detects itself: Auth0's
// {error, error_description} on the token endpoint, a GraphQL response
// with one error on /graphql/.
func errorBody(token bool, status int, code, message string) any {
	if token {
		if code == "rate_limited" {
			code = "too_many_requests" // Auth0's code
		}
		return firstaml.OAuthError{Error: code, ErrorDescription: &message}
	}
	return firstaml.GraphQLResponse{Errors: []firstaml.GraphQLError{{
		Message:    message,
		Extensions: map[string]any{"code": graphQLCode(status, code)},
	}}}
}

func graphQLCode(status int, code string) string {
	switch {
	case status == http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case status == http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case status >= 500:
		return "INTERNAL_SERVER_ERROR"
	case status == http.StatusBadRequest:
		return "BAD_REQUEST"
	}
	return strings.ToUpper(code)
}

// precheck refuses, before contract validation, what First AML (an Auth0
// tenant, by all appearances) refuses with its own status rather than a
// generic 400: an unknown audience. It also gives form bodies and missing
// User-Agents a message that says what to fix.
func (s *Server) precheck(r *http.Request, body []byte, token bool) (int, string, string) {
	if !token {
		return 0, "", ""
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusBadRequest, "invalid_request", fmt.Sprintf(
			"firstamltest: the token request must have a JSON body (Content-Type: application/json), as First AML documents; got %q", clip(r.Header.Get("Content-Type")))
	}
	if msg := checkUserAgent(r.Header.Get("User-Agent")); msg != "" {
		return http.StatusBadRequest, "invalid_request", msg
	}
	var req struct {
		Audience *string `json:"audience"`
	}
	if json.Unmarshal(body, &req) == nil && req.Audience != nil && *req.Audience != Audience {
		return http.StatusForbidden, "access_denied", "Service not found: " + clip(*req.Audience)
	}
	return 0, "", ""
}

// checkUserAgent explains what is wrong with a User-Agent, or returns "".
func checkUserAgent(ua string) string {
	switch {
	case strings.TrimSpace(ua) == "":
		return "firstamltest: a User-Agent header is required on every request (First AML's go-live review)"
	case strings.HasPrefix(ua, "Go-http-client/"):
		return "firstamltest: the User-Agent must identify the integration (First AML's go-live review), not be Go's default " + clip(ua)
	}
	return ""
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

type requestKey struct{}

// withRequest hands the HTTP request to the strict handlers, which need
// its headers (User-Agent, Accept, the bearer token).
func withRequest(f firstaml.StrictHandlerFunc, _ string) firstaml.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		return f(context.WithValue(ctx, requestKey{}, r), w, r, req)
	}
}

// api implements the generated strict server.
type api struct{ s *Server }

func (a *api) RequestToken(ctx context.Context, req firstaml.RequestTokenRequestObject) (firstaml.RequestTokenResponseObject, error) {
	b := req.Body
	if b.ClientId != a.s.ClientID || b.ClientSecret != a.s.ClientSecret {
		desc := "Unauthorized"
		return firstaml.RequestToken401JSONResponse{TokenUnauthorizedJSONResponse: firstaml.TokenUnauthorizedJSONResponse{
			Error: "access_denied", ErrorDescription: &desc}}, nil
	}
	issued := a.s.Issuer.Issue(fakeserver.Grant{ClientID: b.ClientId, Scopes: a.s.scopes}, false, false)
	resp := firstaml.RequestToken200JSONResponse{AccessToken: issued.AccessToken, ExpiresIn: int32(issued.ExpiresIn), TokenType: "Bearer"}
	if issued.Scope != "" {
		resp.Scope = &issued.Scope
	}
	return resp, nil
}

func (a *api) Graphql(ctx context.Context, req firstaml.GraphqlRequestObject) (firstaml.GraphqlResponseObject, error) {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	if msg := checkUserAgent(req.Params.UserAgent); msg != "" {
		return badRequest(gqlError(msg, "BAD_REQUEST")), nil
	}
	var grant fakeserver.Grant
	base := ""
	if r != nil {
		if tok, ok := fakeserver.BearerToken(r); ok {
			grant, _ = a.s.Issuer.Authenticate(tok)
		}
		base = "http://" + r.Host
	}
	return a.s.execute(req.Body, grant, base), nil
}

func badRequest(errs ...firstaml.GraphQLError) firstaml.GraphqlResponseObject {
	return firstaml.Graphql400ApplicationGraphqlResponsePlusJSONResponse{
		GraphQLBadRequestApplicationGraphqlResponsePlusJSONResponse: firstaml.GraphQLBadRequestApplicationGraphqlResponsePlusJSONResponse{Errors: errs},
	}
}

func gqlError(msg, code string) firstaml.GraphQLError {
	return firstaml.GraphQLError{Message: msg, Extensions: map[string]any{"code": code}}
}
