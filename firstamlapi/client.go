package firstamlapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"golang.org/x/oauth2"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/firstaml"
	"github.com/complykit/complykit-go/gen/firstamlgql"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
)

// The sandbox endpoints. First AML documents the GraphQL URL; the token
// endpoint's host is inferred to be the same (see info.x-decisions in
// specs/firstaml.yaml). The production host is not public, so there is no
// production constant: pass both WithTokenURL and WithGraphQLURL.
const (
	SandboxTokenURL   = "https://public-api-sandbox.firstaml.com/oauth/token"
	SandboxGraphQLURL = "https://public-api-sandbox.firstaml.com/graphql/"
	sandboxHost       = "public-api-sandbox.firstaml.com"
)

// Audience is the audience of every token request ("a constant value at
// present", as First AML's docs put it).
const Audience = string(firstaml.TokenRequestAudienceFirstAML)

// The documented scopes. Me reports which ones a client was granted.
const (
	// ScopeCaseManagement allows the create mutations.
	ScopeCaseManagement = "case-management"
	// ScopeReadOnly allows reading case data (CaseDetails).
	ScopeReadOnly = "read-only"
	// ScopeAPIManagement allows managing webhooks through the API.
	ScopeAPIManagement = "api-management"
)

// tokenPath is the documented path of the token endpoint, which the
// generated client appends to its server URL: taken from
// specs/firstaml.yaml through the generated request builder.
var tokenPath = apiclient.OperationPath(func(server string) (*http.Request, error) {
	return firstaml.NewRequestTokenRequestWithBody(server, "application/json", nil)
})

// Client calls First AML's Public API (GraphQL). It is safe for concurrent
// use; make one per set of credentials and reuse it.
type Client struct {
	graphqlURL    string
	graphqlOrigin string // originOf(graphqlURL)
	tokenURL      string
	doer          *auth.Doer            // queries: retried per the retry policy
	mutDoer       *auth.Doer            // mutations: never retried (a 401 is still replayed once)
	documentDoers map[string]*auth.Doer // WithDocumentOrigin's, by origin
	cache         *auth.Cache
	red           *auth.Redactor
	tel           *auth.Telemetry
	maxBody       int64
	userAgent     []string
}

type config struct {
	apiclient.Settings
	tokenURL        string
	graphqlURL      string
	documentOrigins []string
}

// WithTokenURL sets the token endpoint, e.g. your production host's
// https://<host>/oauth/token. Optional; default SandboxTokenURL. It must
// be given together with WithGraphQLURL, since First AML's production host
// is not public and a client must never mix environments. The path must
// end with /oauth/token, the documented path. It must be https, or http on
// a loopback host (a fake).
func WithTokenURL(u string) option.Option {
	return apiclient.For("WithTokenURL", func(c *config) error {
		parsed, err := auth.CheckURL(u)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(parsed.Path, tokenPath) || parsed.RawQuery != "" || parsed.Fragment != "" {
			return fmt.Errorf("the path must end with %s (the documented token path) and carry no query", tokenPath)
		}
		c.tokenURL = parsed.String()
		return nil
	})
}

// WithGraphQLURL sets the GraphQL endpoint, e.g. your production host's
// https://<host>/graphql/. Optional; default SandboxGraphQLURL. It must be
// given together with WithTokenURL. It must be https, or http on a
// loopback host (a fake). Credentials are sent to its origin only.
func WithGraphQLURL(u string) option.Option {
	return apiclient.For("WithGraphQLURL", func(c *config) error {
		parsed, err := auth.CheckURL(u)
		if err != nil {
			return err
		}
		c.graphqlURL = parsed.String()
		return nil
	})
}

// NewClient returns a client for First AML's sandbox authenticated with
// the client credentials First AML issued (both required unless
// WithTokenSource is given). For production, pass WithTokenURL and
// WithGraphQLURL.
//
// The options are those of package option and this package's own. Of
// option.WithRetryPolicy, note that mutations are never retried.
func NewClient(clientID, clientSecret string, opts ...option.Option) (*Client, error) {
	cfg := &config{}
	if err := apiclient.Apply("firstamlapi", &cfg.Settings, cfg, opts); err != nil {
		return nil, err
	}
	switch {
	case cfg.tokenURL == "" && cfg.graphqlURL == "":
		cfg.tokenURL, cfg.graphqlURL = SandboxTokenURL, SandboxGraphQLURL
	case cfg.tokenURL == "" || cfg.graphqlURL == "":
		return nil, errors.New("firstamlapi: WithTokenURL and WithGraphQLURL go together: First AML's production host is not public, so leaving the sandbox takes both URLs")
	}
	ua := cfg.UserAgent()
	src := cfg.Source
	cfg.Flow = "token_source"
	if src == nil {
		cfg.Flow = "client_credentials_json"
	}
	if src == nil {
		if err := apiclient.CheckFakeTokenURL(cfg.graphqlURL, cfg.tokenURL, sandboxHost); err != nil {
			return nil, fmt.Errorf("firstamlapi: %w", err)
		}
		flow, err := newTokenFlow(clientID, clientSecret, cfg.tokenURL, ua, cfg.HTTPClient, cfg.Logger, cfg.Redactor, cfg.Telemetry())
		if err != nil {
			return nil, err
		}
		src = flow
	}
	cache, err := cfg.NewCache(src)
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: %w", err)
	}
	doer, err := cfg.NewDoer(cache, cfg.graphqlURL, nil)
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: %w", err)
	}
	// Mutations go through a Doer that never retries, so that no context
	// marked with auth.WithIdempotent can make a create happen twice.
	mutDoer, err := cfg.NewDoer(cache, cfg.graphqlURL, &auth.RetryPolicy{MaxAttempts: 1})
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: %w", err)
	}
	c := &Client{
		graphqlURL: cfg.graphqlURL,
		tokenURL:   cfg.tokenURL,
		doer:       doer,
		mutDoer:    mutDoer,
		cache:      cache,
		red:        cfg.Redactor,
		tel:        cfg.Telemetry(),
		maxBody:    cfg.MaxBody,
		userAgent:  []string{ua},
	}
	gu, _ := url.Parse(cfg.graphqlURL) // checked by auth.CheckURL
	c.graphqlOrigin = originOf(gu)
	for _, o := range cfg.documentOrigins {
		if o == c.graphqlOrigin || c.documentDoers[o] != nil {
			continue
		}
		d, err := cfg.NewDoer(cache, o, nil)
		if err != nil {
			return nil, fmt.Errorf("firstamlapi: %w", err)
		}
		if c.documentDoers == nil {
			c.documentDoers = map[string]*auth.Doer{}
		}
		c.documentDoers[o] = d
	}
	return c, nil
}

// Me returns the API client behind the credentials: its id, name, granted
// scopes and the organizations (with their offices) it can read cases of
// or create cases for. It is the documented first call to check
// credentials. Queries are retried per the retry policy.
func (c *Client) Me(ctx context.Context, opts ...option.CallOption) (*APIClient, error) {
	return query(c, ctx, "Me", opts, func(ctx context.Context, gc graphql.Client) (*APIClient, error) {
		resp, err := firstamlgql.Me(ctx, gc)
		if err != nil {
			return nil, err
		}
		if resp.Me.ApiClientId == "" { // non-null in the schema: no me at all
			return nil, noResultError{"me"}
		}
		return &resp.Me, nil
	})
}

// CaseDetails returns one case. Switch on the result:
//
//	switch r := res.(type) {
//	case *firstamlapi.CaseDetailsResultCaseInformation:   // the case
//	case *firstamlapi.CaseDetailsResultValidationErrors:  // unknown or not accessible
//	}
//
// The result is nil, with a nil error, only if First AML answers null,
// which the schema allows but no source shows.
func (c *Client) CaseDetails(ctx context.Context, caseID string, opts ...option.CallOption) (CaseDetailsResult, error) {
	return query(c, ctx, "CaseDetails", opts, func(ctx context.Context, gc graphql.Client) (CaseDetailsResult, error) {
		resp, err := firstamlgql.CaseDetails(ctx, gc, caseID)
		if err != nil {
			return nil, err
		}
		return resp.CaseDetails, nil
	})
}

// CreateLiteCase creates a case for a single individual, who becomes the
// case contact. Switch on the result:
//
//	switch r := res.(type) {
//	case *firstamlapi.CreateCaseResultCaseInformation:   // created: r.CaseId
//	case *firstamlapi.CreateCaseResultValidationErrors:  // r.Errors: Message, FieldPath ([]string)
//	}
//
// Business validation failures are a result, not an error. A mutation is
// sent once: it is never retried after it may have reached First AML (a
// 401 is replayed once with a new token, since the server refused it).
func (c *Client) CreateLiteCase(ctx context.Context, input CreateLiteCaseInput, opts ...option.CallOption) (CreateCaseResult, error) {
	return mutate(c, ctx, "CreateLiteCase", "createLiteCase", opts, func(ctx context.Context, gc graphql.Client) (CreateCaseResult, error) {
		resp, err := firstamlgql.CreateLiteCase(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.CreateLiteCase, nil
	})
}

// CreateCaseForIndividuals creates a case for one or more individuals. The
// result is a CreateCaseResult, as for CreateLiteCase, and the mutation is
// likewise never retried. A nil input.Individuals is sent as an empty list
// (the field is non-null), so First AML reports what is missing.
func (c *Client) CreateCaseForIndividuals(ctx context.Context, input CreateCaseForIndividualsInput, opts ...option.CallOption) (CreateCaseResult, error) {
	if input.Individuals == nil {
		input.Individuals = []IndividualDetailsInput{}
	}
	return mutate(c, ctx, "CreateCaseForIndividuals", "createCaseForIndividuals", opts, func(ctx context.Context, gc graphql.Client) (CreateCaseResult, error) {
		resp, err := firstamlgql.CreateCaseForIndividuals(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.CreateCaseForIndividuals, nil
	})
}

// GraphQLClient returns a genqlient client for operations this package does
// not model (your own selections, fields added after this release): it sends the
// User-Agent and Accept headers, authenticates through the Doer, and
// reports failures as *Error. Requests are retried only if their context
// is marked with auth.WithIdempotent: mark queries, never mutations.
func (c *Client) GraphQLClient() graphql.Client { return sharedClient{c} }

type sharedClient struct{ c *Client }

func (s sharedClient) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	if req == nil || resp == nil {
		return &Error{Op: "graphql", Err: errors.New("nil request or response")}
	}
	op := "graphql"
	if req.OpName != "" {
		op = clean(req.OpName)
	}
	x, err := s.c.newExchange(op, s.c.doer, nil)
	if err != nil {
		return err
	}
	if err := x.MakeRequest(ctx, req, resp); err != nil {
		return x.wrap(err)
	}
	return nil
}

// Doer returns the authenticated Doer behind queries. Requests sent with
// it directly must set their own User-Agent (First AML requires one); the
// clients returned by HTTPClient and GraphQLClient set it for you.
func (c *Client) Doer() *auth.Doer { return c.doer }

// HTTPClient returns an *http.Client that authenticates every request to
// the GraphQL endpoint's origin (and sends nothing to any other host), and
// sets the SDK's User-Agent when a request has none.
func (c *Client) HTTPClient() *http.Client {
	hc := c.doer.Client()
	hc.Transport = userAgentTransport{next: hc.Transport, ua: c.userAgent}
	return hc
}

// BaseURL returns the GraphQL endpoint in use: First AML's API is that one
// URL.
func (c *Client) BaseURL() string { return c.graphqlURL }

// TokenURL returns the token endpoint in use.
func (c *Client) TokenURL() string { return c.tokenURL }

// Token returns the current access token, fetching one if needed; the CLI
// uses it to show what the credentials get.
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, err := c.cache.TokenContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: %w", err)
	}
	return tok, nil
}

// TokenFetches counts the tokens fetched from First AML by this client.
func (c *Client) TokenFetches() int64 { return c.cache.Fetches() }

// String describes the client without any secret.
func (c *Client) String() string { return c.safe().String() }

func (c *Client) safe() auth.Safe {
	return auth.Safe{Type: "firstamlapi.Client", Fields: []auth.SafeField{
		auth.Public("GraphQLURL", c.graphqlURL), auth.Public("TokenURL", c.tokenURL)}}
}

// Format implements fmt.Formatter: no verb or flag prints a secret or a
// token; MarshalJSON and LogValue show the same.
func (c *Client) Format(f fmt.State, verb rune) { c.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without any secret.
func (c *Client) MarshalJSON() ([]byte, error) { return c.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without any secret.
func (c *Client) LogValue() slog.Value { return c.safe().LogValue() }

// userAgentTransport sets the User-Agent of requests that have none.
type userAgentTransport struct {
	next http.RoundTripper
	ua   []string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context()) // a RoundTripper must not modify its request
		req.Header["User-Agent"] = t.ua
	}
	return t.next.RoundTrip(req)
}
