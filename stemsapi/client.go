package stemsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/stems"
	"github.com/complykit/complykit-go/internal/apiclient"
	"golang.org/x/oauth2"
)

// Documented Stems Accounts endpoints. The token URL is in the docs (seeds
// 000 and 001); the authorize URL is inferred from IdentityServer's layout
// (see the x-decision on authorize in specs/stems.yaml).
const (
	DefaultTokenURL = "https://accounts.stems.com.au/auth/connect/token"
	DefaultAuthURL  = "https://accounts.stems.com.au/auth/connect/authorize"
)

// DefaultScopes returns the scopes the password grant asks for unless
// WithScopes says otherwise: resources_stems_api (the API, as in the docs'
// example) and offline_access, without which Stems issues no refresh token
// and the client would have to send the password every half hour.
func DefaultScopes() []string { return []string{"resources_stems_api", "offline_access"} }

// DefaultAuthCodeScopes returns the scopes NewAuthCodeFlow asks for unless
// WithScopes says otherwise: openid (the id_token), resources_stems_api and
// offline_access.
func DefaultAuthCodeScopes() []string {
	return []string{"openid", "resources_stems_api", "offline_access"}
}

// The Comply One objects, as generated from specs/stems.yaml. Stems
// publishes no resource reference, so only the fields its migration guides
// name are typed; every other field (ids included) is kept, in
// AdditionalProperties (use Get and Set) or, for Hazard, in the map itself.
type (
	Hazard             = stems.Hazard
	HazardAction       = stems.HazardAction
	HazardApproval     = stems.HazardApproval
	HazardApprovalData = stems.HazardApprovalData
	EventRecord        = stems.EventRecord
	EventDetails       = stems.EventDetails
	EventFormId        = stems.EventFormId
	EventForm          = stems.EventForm
	EventLookup        = stems.EventLookup
)

// Client calls the Stems Comply One API. It is safe for concurrent use; make
// one per set of credentials and reuse it.
type Client struct {
	baseURL   string
	company   string
	doer      *auth.Doer
	cache     *auth.Cache
	maxBody   int64
	userAgent []string

	hazardsURL             string // GET, POST, PUT /hazards
	hazardsApprovalURL     string // POST, PUT /hazards/approval
	hazardsApprovalDataURL string // GET /hazards/approvaldata
	eventsApprovalURL      string // POST /events/requireapproval
	eventsLookupURL        string // GET /events/lookup
}

type config struct {
	apiclient.Settings
	tokenURL string
	authURL  string
	scopes   []string
	company  string
	set      []string // the options given, by name
}

func defaultConfig() config {
	return config{tokenURL: DefaultTokenURL, authURL: DefaultAuthURL, scopes: DefaultScopes()}
}

func (c *config) apply(opts []Option) error {
	for _, opt := range opts {
		if opt == nil {
			return errors.New("nil option")
		}
		if err := opt(c); err != nil {
			return err
		}
	}
	return nil
}

func (c *config) given(name string) bool {
	for _, n := range c.set {
		if n == name {
			return true
		}
	}
	return false
}

// Option configures a Client (and, for the options it names,
// NewAuthCodeFlow). An option given a bad value makes the constructor fail.
type Option func(*config) error

// option records the option's name and prefixes its errors with it.
func option(name string, f func(*config) error) Option {
	return func(c *config) error {
		c.set = append(c.set, name)
		if err := f(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// WithCompany sets the company every call acts for, sent as the
// X-Company-Context header (the id of a company the user belongs to, such
// as "234"). Optional: without it, each call must name its company with
// Company, or it fails before anything is sent.
func WithCompany(id string) Option {
	return option("WithCompany", func(c *config) error {
		if err := checkCompany(id); err != nil {
			return err
		}
		c.company = id
		return nil
	})
}

// WithTokenURL overrides the token endpoint. Optional. Default
// DefaultTokenURL. It must be https, or http on a loopback host (a fake).
func WithTokenURL(u string) Option {
	return option("WithTokenURL", func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.tokenURL = u
		return nil
	})
}

// WithAuthURL overrides the authorize endpoint of NewAuthCodeFlow.
// Optional. Default DefaultAuthURL.
func WithAuthURL(u string) Option {
	return option("WithAuthURL", func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.authURL = u
		return nil
	})
}

// WithScopes replaces the scopes requested. Optional. Default
// DefaultScopes (DefaultAuthCodeScopes for NewAuthCodeFlow). Each must be
// configured on your API Client; keep offline_access to get refresh tokens.
func WithScopes(scopes ...string) Option {
	return option("WithScopes", func(c *config) error {
		if len(scopes) == 0 {
			return errors.New("at least one scope is required")
		}
		for _, s := range scopes {
			if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\\' }) {
				return fmt.Errorf("invalid scope %q", s)
			}
		}
		c.scopes = append([]string(nil), scopes...)
		return nil
	})
}

// WithHTTPClient sends requests with hc: API requests, and the token
// requests of Password credentials (an AuthorizedUser's flow has its own,
// from NewAuthCodeFlow). Optional. Default: a client with
// auth.DefaultHTTPTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return option("WithHTTPClient", func(c *config) error {
		if hc == nil {
			return errors.New("nil client")
		}
		c.HTTPClient = hc
		return nil
	})
}

// WithStore persists tokens, refresh tokens included, e.g. in an
// auth.FileStore or a Redis store shared by a fleet, so a restart does not
// sign in again and two processes never race on a rotated refresh token.
// Optional. Default: memory.
func WithStore(s auth.Store) Option {
	return option("WithStore", func(c *config) error { c.Store = s; return nil })
}

// WithLogger logs token fetches, refreshes and retries (never a secret).
// Optional.
func WithLogger(l *slog.Logger) Option {
	return option("WithLogger", func(c *config) error { c.Logger = l; return nil })
}

// WithUserAgent prefixes the SDK's User-Agent with your product, e.g.
// "acme-safety/2.1". Optional.
func WithUserAgent(product string) Option {
	return option("WithUserAgent", func(c *config) error {
		if err := apiclient.CheckProduct(product); err != nil {
			return err
		}
		c.Product = product
		return nil
	})
}

// WithRetryPolicy replaces the default retry policy (429, 502, 503 and 504
// and connection errors, for GET and PUT, with exponential backoff and
// jitter, honouring Retry-After). Optional. POSTs are retried only with
// auth.WithIdempotent(ctx).
func WithRetryPolicy(p auth.RetryPolicy) Option {
	return option("WithRetryPolicy", func(c *config) error { c.Retry = &p; return nil })
}

// WithCacheOptions tunes the token cache (refresh-ahead share, expiry
// margin, clock, store key). Optional. WithStore and WithLogger, when
// given, take precedence over its Store and Logger.
func WithCacheOptions(o auth.CacheOptions) Option {
	return option("WithCacheOptions", func(c *config) error { c.CacheOptions = o; return nil })
}

// WithMaxResponseBytes caps the size of a response body. Optional. Default
// 16 MiB.
func WithMaxResponseBytes(n int64) Option {
	return option("WithMaxResponseBytes", func(c *config) error {
		if n <= 0 {
			return errors.New("must be positive")
		}
		c.MaxBody = n
		return nil
	})
}

// NewClient returns a client for the Comply One API at baseURL, which Stems
// does not publish: use the base URL Stems gave you, including any version
// path (https, or http on a loopback host for a fake). creds say how tokens
// are obtained: Password, AuthorizedUser or TokenSource.
func NewClient(baseURL string, creds Credentials, opts ...Option) (*Client, error) {
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: base URL: %w", err)
	}
	if creds == nil {
		return nil, errors.New("stemsapi: credentials are required: Password, AuthorizedUser or TokenSource")
	}
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, fmt.Errorf("stemsapi: %w", err)
	}
	if cfg.given("WithAuthURL") {
		return nil, errors.New("stemsapi: WithAuthURL applies to NewAuthCodeFlow only")
	}
	if _, isPassword := creds.(*PasswordCredentials); !isPassword {
		for _, name := range []string{"WithTokenURL", "WithScopes"} {
			if cfg.given(name) {
				return nil, fmt.Errorf("stemsapi: %s does not apply to %s credentials, which bring their own token endpoint", name, kind(creds))
			}
		}
	}
	src, err := creds.source(&cfg)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: %w", err)
	}
	cache, err := cfg.NewCache(src)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: %w", err)
	}
	// X-Company-Context, like the token, is never sent off the API's origin.
	doer, err := cfg.NewDoer(cache, base, nil, auth.HeaderCompanyContext)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: %w", err)
	}
	return &Client{
		baseURL:                base,
		company:                cfg.company,
		doer:                   doer,
		cache:                  cache,
		maxBody:                cfg.MaxBody,
		userAgent:              []string{cfg.UserAgent()},
		hazardsURL:             base + "/hazards",
		hazardsApprovalURL:     base + "/hazards/approval",
		hazardsApprovalDataURL: base + "/hazards/approvaldata",
		eventsApprovalURL:      base + "/events/requireapproval",
		eventsLookupURL:        base + "/events/lookup",
	}, nil
}

func kind(c Credentials) string {
	switch c.(type) {
	case *authorizedUser:
		return "AuthorizedUser"
	case *tokenSource:
		return "TokenSource"
	}
	return fmt.Sprintf("%T", c)
}

func checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required (Stems does not publish it: use the one Stems gave you)")
	}
	u, err := auth.CheckURL(raw)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", errors.New("must not have a query or fragment")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// Doer returns the authenticated Doer behind the client, for endpoints the
// spec does not model (associates, the v1.4 per-form fields). Set
// X-Company-Context yourself, or use HTTPClient.
func (c *Client) Doer() *auth.Doer { return c.doer }

// HTTPClient returns an *http.Client that authenticates every request to
// the Comply One API's origin (and sends nothing to any other host). It
// adds X-Company-Context with the WithCompany company, and the SDK's
// User-Agent, to requests that do not set them.
func (c *Client) HTTPClient() *http.Client {
	base := c.doer.Client()
	return &http.Client{
		Transport:     defaultHeaders{next: base.Transport, company: c.company, userAgent: c.userAgent},
		CheckRedirect: base.CheckRedirect,
	}
}

type defaultHeaders struct {
	next      http.RoundTripper
	company   string
	userAgent []string
}

func (t defaultHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	addCompany := t.company != "" && req.Header.Get(auth.HeaderCompanyContext) == ""
	addUA := req.Header.Get("User-Agent") == ""
	if !addCompany && !addUA {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context()) // a RoundTripper must not modify its request
	if addCompany {
		r.Header[auth.HeaderCompanyContext] = []string{t.company}
	}
	if addUA {
		r.Header["User-Agent"] = t.userAgent
	}
	return t.next.RoundTrip(r)
}

// BaseURL returns the API base URL in use.
func (c *Client) BaseURL() string { return c.baseURL }

// Company returns the default company (WithCompany), or "".
func (c *Client) Company() string { return c.company }

// Token returns the current access token, fetching one if needed; the CLI
// uses it to show what the credentials get. Do not modify it.
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, err := c.cache.TokenContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: %w", err)
	}
	return tok, nil
}

// IDToken returns the OpenID Connect id_token that came with the current
// access token, fetching a token if needed, or "" if none came: Stems sends
// one with every refresh and with the authorization code exchange, but not
// with the password grant's first token. The SDK does not verify it.
func (c *Client) IDToken(ctx context.Context) (string, error) {
	tok, err := c.Token(ctx)
	if err != nil {
		return "", err
	}
	return auth.IDToken(tok), nil
}

// TokenFetches counts the tokens this client obtained from Stems Accounts
// (sign-ins and refreshes).
func (c *Client) TokenFetches() int64 { return c.cache.Fetches() }
