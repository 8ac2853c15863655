package stennapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/internal/apiclient"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Documented endpoints (https://api-docs.stenn.com/docs/authentication).
const (
	LiveBaseURL    = "https://api.stenn.com"
	SandboxBaseURL = "https://api.stenn.com/sandbox"
	// tokenPath is appended to the API root for both environments: see
	// the x-decision on requestToken in specs/stenn.yaml.
	tokenPath = "/auth/v1/token"
)

// The Stenn objects, as generated from specs/stenn.yaml.
type (
	Company    = stenn.Company
	Contact    = stenn.Contact
	Address    = stenn.Address
	BuyerLimit = stenn.BuyerLimit
	Invoice    = stenn.Invoice
)

// Client calls the Stenn API. It is safe for concurrent use; make one per
// set of credentials and reuse it.
type Client struct {
	baseURL      string
	companiesURL string
	doer         *auth.Doer
	cache        *auth.Cache
	maxBody      int64
	userAgent    []string
}

type config struct {
	apiclient.Settings
	baseURL  string
	tokenURL string
}

// Option configures a Client.
type Option func(*config) error

// WithSandbox uses the sandbox (test mode): both the token URL and the API
// root switch to https://api.stenn.com/sandbox.
func WithSandbox() Option { return WithBaseURL(SandboxBaseURL) }

// WithBaseURL sets the API root that the spec's paths are appended to
// (default LiveBaseURL); the token URL follows it unless WithTokenURL is
// given. It must be https, or http on a loopback host (a fake).
func WithBaseURL(u string) Option {
	return func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.baseURL = strings.TrimRight(u, "/")
		return nil
	}
}

// WithTokenURL overrides the token endpoint.
func WithTokenURL(u string) Option {
	return func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.tokenURL = u
		return nil
	}
}

// WithHTTPClient sends requests (token requests included) with hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("stennapi: WithHTTPClient: nil client")
		}
		c.HTTPClient = hc
		return nil
	}
}

// WithStore persists tokens, e.g. in an auth.FileStore or a Redis store
// shared by a fleet.
func WithStore(s auth.Store) Option { return func(c *config) error { c.Store = s; return nil } }

// WithLogger logs token fetches, refreshes and retries (never a secret).
func WithLogger(l *slog.Logger) Option { return func(c *config) error { c.Logger = l; return nil } }

// WithUserAgent prefixes the SDK's User-Agent with your product, e.g.
// "acme-billing/2.1".
func WithUserAgent(product string) Option {
	return func(c *config) error {
		if err := apiclient.CheckProduct(product); err != nil {
			return fmt.Errorf("WithUserAgent: %w", err)
		}
		c.Product = product
		return nil
	}
}

// WithRetryPolicy replaces the default retry policy (429, 502, 503, 504 and
// connection errors, with exponential backoff and jitter, as Stenn's rate
// limit docs ask).
func WithRetryPolicy(p auth.RetryPolicy) Option {
	return func(c *config) error { c.Retry = &p; return nil }
}

// WithTokenSource uses src for tokens instead of the client credentials
// flow, e.g. auth.StaticToken. clientID and clientSecret may then be empty.
func WithTokenSource(src oauth2.TokenSource) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("stennapi: WithTokenSource: nil source")
		}
		c.Source = src
		return nil
	}
}

// WithCacheOptions tunes the token cache (refresh-ahead share, expiry
// margin, clock, store key). WithStore and WithLogger, when given, take
// precedence over its Store and Logger.
func WithCacheOptions(o auth.CacheOptions) Option {
	return func(c *config) error { c.CacheOptions = o; return nil }
}

// WithMaxResponseBytes caps the size of a response body (default 16 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("stennapi: WithMaxResponseBytes: must be positive")
		}
		c.MaxBody = n
		return nil
	}
}

// NewClient returns a client for the live environment authenticated with
// the client credentials flow (use WithSandbox for test mode).
func NewClient(clientID, clientSecret string, opts ...Option) (*Client, error) {
	cfg := config{baseURL: LiveBaseURL}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("stennapi: %w", trimPrefix(err))
		}
	}
	if cfg.tokenURL == "" {
		cfg.tokenURL = cfg.baseURL + tokenPath
	}
	src := cfg.Source
	if src == nil {
		if clientID == "" || clientSecret == "" {
			return nil, errors.New("stennapi: client id and client secret are required")
		}
		flow, err := auth.ClientCredentials(&clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			TokenURL:     cfg.tokenURL,
			AuthStyle:    oauth2.AuthStyleInParams, // Stenn wants the credentials in the form body
		}, cfg.FlowOptions())
		if err != nil {
			return nil, fmt.Errorf("stennapi: %w", trimPrefix(err))
		}
		src = flow
	}
	cache, err := cfg.NewCache(src)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", trimPrefix(err))
	}
	doer, err := cfg.NewDoer(cache, cfg.baseURL, nil)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", trimPrefix(err))
	}
	return &Client{
		baseURL:      cfg.baseURL,
		companiesURL: cfg.baseURL + "/v1/companies",
		doer:         doer,
		cache:        cache,
		maxBody:      cfg.MaxBody,
		userAgent:    []string{cfg.UserAgent()},
	}, nil
}

func trimPrefix(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
		if msg[:i] == "stennapi" {
			return errors.New(msg[i+2:])
		}
	}
	return err
}

// ListCompanies returns the companies visible to your credentials, with
// their addresses, contacts and latest buyer limits. Stenn does not
// paginate lists.
func (c *Client) ListCompanies(ctx context.Context) ([]Company, error) {
	const op = "list companies"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.companiesURL, nil)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %s: %w", op, err)
	}
	req.Header["Accept"] = acceptJSON
	req.Header["User-Agent"] = c.userAgent
	resp, err := c.doer.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newError(op, resp)
	}
	var list []Company
	if err := apiclient.DecodeJSONWith(resp, c.maxBody, func(body []byte) error { return decodeCompanies(body, &list) }); err != nil {
		return nil, bodyError(op, resp, err)
	}
	return list, nil
}

var acceptJSON = []string{"application/json"}

// decodeCompanies decodes the documented list wrapper
// {"object":"list","data":[...]} and, cheaply, a bare array too: the docs
// show no top-level list example.
func decodeCompanies(body []byte, out *[]Company) error {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, out)
	}
	var w stenn.CompanyList
	if err := json.Unmarshal(body, &w); err != nil {
		return err
	}
	if w.Data == nil && w.Object != "list" {
		return errors.New("response is not a list of companies")
	}
	*out = w.Data
	return nil
}

// Doer returns the authenticated Doer behind the client, for endpoints
// the spec does not model yet (invoices, buyer limits, documents, financing
// sessions are documented without paths).
func (c *Client) Doer() *auth.Doer { return c.doer }

// HTTPClient returns an *http.Client that authenticates every request to
// the Stenn API (and sends nothing to any other host).
func (c *Client) HTTPClient() *http.Client { return c.doer.Client() }

// BaseURL returns the API root in use.
func (c *Client) BaseURL() string { return c.baseURL }

// Token returns the current access token, fetching one if needed; the CLI
// uses it to show what the credentials get.
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, err := c.cache.TokenContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", err)
	}
	return tok, nil
}

// TokenFetches counts the tokens fetched from Stenn by this client.
func (c *Client) TokenFetches() int64 { return c.cache.Fetches() }
