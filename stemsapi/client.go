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
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
)

// Documented Stems Accounts endpoints. The token URL is in the docs (seeds
// 000 and 001); the authorize URL is inferred from IdentityServer's layout
// (see the x-decision on authorize in specs/stems.yaml).
const (
	DefaultTokenURL = "https://accounts.stems.com.au/auth/connect/token"
	DefaultAuthURL  = "https://accounts.stems.com.au/auth/connect/authorize"
	accountsHost    = "accounts.stems.com.au"
)

// DefaultScopes returns the scopes the password grant asks for unless
// WithScopes says otherwise: openid (without which Stems Accounts, an
// IdentityServer, issues no id_token on refresh), resources_stems_api (the
// API, as in the docs' example) and offline_access, without which Stems
// issues no refresh token and the client would have to send the password
// every half hour.
func DefaultScopes() []string { return []string{"openid", "resources_stems_api", "offline_access"} }

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
//
// Every call goes through the client generated from specs/stems.yaml
// (gen/stems): the spec decides each request's method, path and encoding;
// request editors add X-Company-Context and the User-Agent, and auth.Doer
// (the generated client's HttpRequestDoer) adds the token.
type Client struct {
	api     *stems.Client // generated, sending through doer with the editors
	baseURL string
	company string
	doer    *auth.Doer
	cache   *auth.Cache
	red     *auth.Redactor
	tel     *auth.Telemetry
	maxBody int64

	// defaultEditors sets the WithCompany company; nil without one, so a
	// call must name its company.
	defaultEditors []stems.RequestEditorFn

	// The operations without parameters, their requests built once.
	listHazards, listHazardApprovalData, getEventLookup sender
}

type config struct {
	apiclient.Settings
	tokenURL     string
	authURL      string
	scopes       []string
	company      string
	responseMode string
}

func defaultConfig() *config {
	return &config{tokenURL: DefaultTokenURL, authURL: DefaultAuthURL, scopes: DefaultScopes(), responseMode: auth.ResponseModeFormPost}
}

// WithCompany sets the company every call acts for, sent as the
// X-Company-Context header (the id of a company the user belongs to, such
// as "234"). Optional: without it, each call must name its company with
// Company, or it fails before anything is sent.
func WithCompany(id string) option.Option {
	return apiclient.For("WithCompany", func(c *config) error {
		if err := checkCompany(id); err != nil {
			return err
		}
		c.company = id
		return nil
	})
}

// WithTokenURL overrides the token endpoint. Optional. Default
// DefaultTokenURL. It must be https, or http on a loopback host (a fake).
func WithTokenURL(u string) option.Option {
	return apiclient.For("WithTokenURL", func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.tokenURL = u
		return nil
	})
}

// WithAuthURL overrides the authorize endpoint of NewAuthCodeFlow.
// Optional. Default DefaultAuthURL.
func WithAuthURL(u string) option.Option {
	return apiclient.For("WithAuthURL", func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.authURL = u
		return nil
	})
}

// WithResponseMode sets how NewAuthCodeFlow's authorize URL asks Stems
// Accounts to return the code: auth.ResponseModeFormPost (the default, a
// POST to the redirect URI with code and state in the form) or
// auth.ResponseModeQuery (a redirect with them in the query string).
// Without either Stems answers in the URL fragment, which a server never
// receives, so no other mode is accepted.
func WithResponseMode(mode string) option.Option {
	return apiclient.For("WithResponseMode", func(c *config) error {
		switch mode {
		case auth.ResponseModeFormPost, auth.ResponseModeQuery:
			c.responseMode = mode
			return nil
		}
		return fmt.Errorf("response mode %q: want %q or %q (a fragment never reaches a server)", mode, auth.ResponseModeFormPost, auth.ResponseModeQuery)
	})
}

// WithScopes replaces the scopes requested. Optional. Default
// DefaultScopes (DefaultAuthCodeScopes for NewAuthCodeFlow). Each must be
// configured on your API Client; keep offline_access to get refresh tokens.
func WithScopes(scopes ...string) option.Option {
	return apiclient.For("WithScopes", func(c *config) error {
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

// NewClient returns a client for the Comply One API at baseURL, which Stems
// does not publish: use the base URL Stems gave you, including any version
// path (https, or http on a loopback host for a fake). creds say how tokens
// are obtained: Password, AuthorizedUser or TokenSource (or nil, with
// option.WithTokenSource). The options are those of package option and
// this package's own.
func NewClient(baseURL string, creds Credentials, opts ...option.Option) (*Client, error) {
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: base URL: %w", err)
	}
	cfg := defaultConfig()
	if err := apiclient.Apply("stemsapi", &cfg.Settings, cfg, opts); err != nil {
		return nil, err
	}
	for _, name := range []string{"WithAuthURL", "WithResponseMode"} {
		if cfg.Given(name) {
			return nil, fmt.Errorf("stemsapi: %s applies to NewAuthCodeFlow only", name)
		}
	}
	if _, isPassword := creds.(*PasswordCredentials); isPassword {
		if err := apiclient.CheckFakeTokenURL(base, cfg.tokenURL, accountsHost); err != nil {
			return nil, fmt.Errorf("stemsapi: %w", err)
		}
	}
	switch {
	case creds == nil && cfg.Source == nil:
		return nil, errors.New("stemsapi: credentials are required: Password, AuthorizedUser or TokenSource")
	case creds != nil && cfg.Source != nil:
		return nil, errors.New("stemsapi: give either credentials or option.WithTokenSource, not both")
	}
	if _, isPassword := creds.(*PasswordCredentials); !isPassword {
		for _, name := range []string{"WithTokenURL", "WithScopes"} {
			if cfg.Given(name) {
				return nil, fmt.Errorf("stemsapi: %s does not apply to %s credentials, which bring their own token endpoint", name, kind(creds))
			}
		}
	}
	cfg.Flow = flowName(creds)
	src := cfg.Source
	if src == nil {
		if src, err = creds.source(cfg); err != nil {
			return nil, fmt.Errorf("stemsapi: %w", err)
		}
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
	api, err := stems.NewClient(base,
		stems.WithHTTPClient(doer),
		stems.WithRequestEditorFn(auth.SetHeader("User-Agent", cfg.UserAgent())),
		stems.WithRequestEditorFn(auth.SetHeader("Accept", "application/json")),
	)
	if err != nil {
		return nil, fmt.Errorf("stemsapi: %w", err)
	}
	c := &Client{api: api, baseURL: base, company: cfg.company, doer: doer, cache: cache, red: cfg.Redactor, tel: cfg.Telemetry(), maxBody: cfg.MaxBody}
	for _, op := range []struct {
		send  *sender
		build func(string) (*http.Request, error)
	}{
		{&c.listHazards, stems.NewListHazardsRequest},
		{&c.listHazardApprovalData, stems.NewListHazardApprovalDataRequest},
		{&c.getEventLookup, stems.NewGetEventLookupRequest},
	} {
		if *op.send, err = apiclient.Prebuilt(base, op.build, api.Client, api.RequestEditors); err != nil {
			return nil, fmt.Errorf("stemsapi: %w", err)
		}
	}
	if cfg.company != "" {
		c.defaultEditors = []stems.RequestEditorFn{auth.CompanyContext(cfg.company)}
	}
	return c, nil
}

// flowName names the token flow of creds in the client's telemetry.
func flowName(c Credentials) string {
	switch c.(type) {
	case *PasswordCredentials:
		return "password"
	case *authorizedUser:
		return "authorization_code"
	}
	return "token_source"
}

func kind(c Credentials) string {
	switch c.(type) {
	case nil:
		return "option.WithTokenSource"
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

// API returns the client generated from specs/stems.yaml, wired like the
// typed methods: it sends through the same Doer (token, origin check, 401
// replay, retries) with the SDK's User-Agent, Accept and, with
// WithCompany, X-Company-Context. Without WithCompany, or to act for
// another company, pass auth.CompanyContext(id) as a request editor of the
// call. Use it for what the typed methods do not cover; its WithResponse
// variants read bodies without the WithMaxResponseBytes cap.
func (c *Client) API() *stems.ClientWithResponses {
	api := *c.api
	api.RequestEditors = append(append([]stems.RequestEditorFn(nil), c.api.RequestEditors...), c.defaultEditors...)
	return &stems.ClientWithResponses{ClientInterface: &api}
}

// Doer returns the authenticated Doer behind the client, for endpoints the
// spec does not model (associates, the v1.4 per-form fields). It sets the
// SDK's User-Agent on requests that have none; set X-Company-Context
// yourself, or use HTTPClient.
func (c *Client) Doer() *auth.Doer { return c.doer }

// HTTPClient returns an *http.Client that authenticates every request to
// the Comply One API's origin (and sends nothing to any other host). It
// adds X-Company-Context with the WithCompany company to requests that do
// not set it, and the SDK's User-Agent.
func (c *Client) HTTPClient() *http.Client {
	base := c.doer.Client()
	if c.company == "" {
		return base
	}
	return &http.Client{
		Transport:     defaultCompany{next: base.Transport, company: []string{c.company}},
		CheckRedirect: base.CheckRedirect,
	}
}

type defaultCompany struct {
	next    http.RoundTripper
	company []string
}

func (t defaultCompany) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get(auth.HeaderCompanyContext) != "" {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context()) // a RoundTripper must not modify its request
	r.Header[auth.HeaderCompanyContext] = t.company
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
		return nil, fmt.Errorf("stemsapi: %w", c.red.Error(err))
	}
	return tok, nil
}

// IDToken returns the OpenID Connect id_token that came with the current
// access token, fetching a token if needed, or "" if none came: Stems sends
// one with every refresh and with the authorization code exchange when the
// openid scope was granted (it is in DefaultScopes and
// DefaultAuthCodeScopes), but not with the password grant's first token.
// The SDK does not verify it.
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

func (c *Client) safe() auth.Safe {
	return auth.Safe{Type: "stemsapi.Client", Fields: []auth.SafeField{auth.Public("BaseURL", c.baseURL), auth.Public("Company", c.company)}}
}

// String describes the client without any secret or token; Format,
// MarshalJSON and LogValue show the same under every fmt verb, in JSON and
// in slog.
func (c *Client) String() string { return c.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints a secret.
func (c *Client) Format(f fmt.State, verb rune) { c.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without any secret.
func (c *Client) MarshalJSON() ([]byte, error) { return c.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without any secret.
func (c *Client) LogValue() slog.Value { return c.safe().LogValue() }
