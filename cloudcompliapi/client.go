package cloudcompliapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/internal/apiclient"
	"golang.org/x/oauth2"
)

// Paths under the instance URL (specs/cloudcompli.yaml; the vendor's PHP
// sample builds all three from the same instance URL).
const (
	tokenPath     = "/oauth2/token"
	authorizePath = "/oauth2/authorize"
	apiPath       = "/api/v2"
)

// The CloudCompli objects, as generated from specs/cloudcompli.yaml.
// CloudCompli documents none of their fields; the open ones are plain maps,
// and the typed fields are those the vendor's sample reads.
type (
	// User is the current user (or, for client-level tokens, the API
	// client's view).
	User = cloudcompli.User
	// Company is the customer company of the instance.
	Company = cloudcompli.Company
	// Project has an Id and a ClassificationId; other fields are in
	// AdditionalProperties.
	Project = cloudcompli.Project
	// Classification lists the Forms that projects of its kind can submit.
	Classification = cloudcompli.Classification
	// FormSummary is a form listed in a classification; its Name is what
	// the form methods take.
	FormSummary = cloudcompli.FormSummary
	// Form is a form's definition.
	Form = cloudcompli.Form
	// PrepopulateData holds suggested values for a new entry of a form.
	PrepopulateData = cloudcompli.PrepopulateData
	// FormEntryData maps form field names to values.
	FormEntryData = cloudcompli.FormEntryData
	// FormEntry is a created entry; its Id (the _id field) is what
	// AttachPhoto takes.
	FormEntry = cloudcompli.FormEntry
	// Photo is a stored photo; Data holds the image bytes.
	Photo = cloudcompli.Photo
)

// Client calls one CloudCompli instance's API v2. It is safe for concurrent
// use; make one per instance and set of credentials, and reuse it.
type Client struct {
	baseURL     string
	apiURL      string
	userURL     string
	companyURL  string
	projectsURL string
	doer        *auth.Doer
	cache       *auth.Cache
	maxBody     int64
	userAgent   []string
}

// instance holds the URLs of one customer instance.
type instance struct {
	root, tokenURL, authorizeURL, apiURL string
}

// newInstance checks the instance URL: an https URL (http only on a
// loopback host, for fakes), or a bare host name, which means https. It is
// the instance root: /oauth2 and /api/v2 are appended to it.
func newInstance(raw string) (*instance, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("cloudcompliapi: the instance URL is required, e.g. https://example.compli.cloud (CloudCompli has no shared host)")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := auth.CheckURL(raw)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: instance URL: %w", err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("cloudcompliapi: instance URL: must not carry a query or fragment")
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	for _, suffix := range []string{apiPath, tokenPath, authorizePath, "/oauth2", "/api"} {
		if strings.HasSuffix(p, suffix) {
			return nil, fmt.Errorf("cloudcompliapi: instance URL: give the instance root (e.g. https://%s), not its %s path", u.Host, suffix)
		}
	}
	root := u.Scheme + "://" + u.Host + p
	return &instance{
		root:         root,
		tokenURL:     root + tokenPath,
		authorizeURL: root + authorizePath,
		apiURL:       root + apiPath,
	}, nil
}

type config struct{ apiclient.Settings }

func newConfig(opts []Option) (*config, error) {
	cfg := &config{}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(cfg); err != nil {
			return nil, fmt.Errorf("cloudcompliapi: %w", trimPrefix(err))
		}
	}
	return cfg, nil
}

// Option configures a Client.
type Option func(*config) error

// WithHTTPClient sends requests (token requests included) with hc.
// Optional. Default: a client with a 30 s timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("cloudcompliapi: WithHTTPClient: nil client")
		}
		c.HTTPClient = hc
		return nil
	}
}

// WithStore persists tokens, e.g. in an auth.FileStore or a Redis store
// shared by a fleet, so that a restart does not fetch a new one-year
// token. Optional. Default: memory only.
func WithStore(s auth.Store) Option { return func(c *config) error { c.Store = s; return nil } }

// WithLogger logs token fetches, 401 replays and retries (never a secret).
// Optional. Default: no logging.
func WithLogger(l *slog.Logger) Option { return func(c *config) error { c.Logger = l; return nil } }

// WithUserAgent prefixes the SDK's User-Agent with your product, e.g.
// "acme-inspections/2.1". Optional.
func WithUserAgent(product string) Option {
	return func(c *config) error {
		if err := apiclient.CheckProduct(product); err != nil {
			return fmt.Errorf("WithUserAgent: %w", err)
		}
		c.Product = product
		return nil
	}
}

// WithRetryPolicy replaces the default retry policy (429, 502, 503 and 504
// answers and connection errors, idempotent requests only, exponential
// backoff with jitter, Retry-After honoured). Optional.
func WithRetryPolicy(p auth.RetryPolicy) Option {
	return func(c *config) error { c.Retry = &p; return nil }
}

// WithTokenSource takes tokens from src instead of from Credentials, which
// must then be nil. Optional.
func WithTokenSource(src oauth2.TokenSource) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("cloudcompliapi: WithTokenSource: nil source")
		}
		c.Source = src
		return nil
	}
}

// WithCacheOptions tunes the token cache (refresh-ahead share, expiry
// margin, clock, store key). WithStore and WithLogger, when given, take
// precedence over its Store and Logger. Optional.
func WithCacheOptions(o auth.CacheOptions) Option {
	return func(c *config) error { c.CacheOptions = o; return nil }
}

// WithMaxResponseBytes caps the size of a response body. Optional.
// Default 16 MiB.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("cloudcompliapi: WithMaxResponseBytes: must be positive")
		}
		c.MaxBody = n
		return nil
	}
}

// NewClient returns a client for the CloudCompli instance at instanceURL
// (required: every customer has its own host, e.g.
// https://example.compli.cloud), authenticated with creds:
// ClientCredentials, a StaticToken from the web UI, or a UserToken from
// the authorization code grant.
func NewClient(instanceURL string, creds Credentials, opts ...Option) (*Client, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	in, err := newInstance(instanceURL)
	if err != nil {
		return nil, err
	}
	src := cfg.Source
	switch {
	case src != nil && creds != nil:
		return nil, errors.New("cloudcompliapi: give either credentials or WithTokenSource, not both")
	case src == nil && creds == nil:
		return nil, errors.New("cloudcompliapi: credentials are required (ClientCredentials, StaticToken or UserToken)")
	case src == nil:
		var key string
		if src, key, err = creds.tokenSource(in, cfg.FlowOptions()); err != nil {
			return nil, err
		}
		if cfg.CacheOptions.Key == "" {
			cfg.CacheOptions.Key = key
		}
	}
	cache, err := cfg.NewCache(src)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", trimPrefix(err))
	}
	doer, err := cfg.NewDoer(cache, in.root, nil)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", trimPrefix(err))
	}
	return &Client{
		baseURL:     in.root,
		apiURL:      in.apiURL,
		userURL:     in.apiURL + "/user",
		companyURL:  in.apiURL + "/company",
		projectsURL: in.apiURL + "/projects",
		doer:        doer,
		cache:       cache,
		maxBody:     cfg.MaxBody,
		userAgent:   []string{cfg.UserAgent()},
	}, nil
}

func trimPrefix(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "cloudcompliapi: "); ok {
		return errors.New(msg)
	}
	return err
}

// GetUser returns the user the token acts for (authorization code tokens)
// or, for client-level tokens, what CloudCompli shows the API client.
func (c *Client) GetUser(ctx context.Context) (User, error) {
	return getObject[User](ctx, c, "get user", c.userURL)
}

// GetCompany returns the instance's company.
func (c *Client) GetCompany(ctx context.Context) (Company, error) {
	return getObject[Company](ctx, c, "get company", c.companyURL)
}

// ListProjects returns every project the token can see. CloudCompli
// documents no pagination.
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	var out []Project
	if _, err := c.do(ctx, "list projects", http.MethodGet, c.projectsURL, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetClassification returns a classification (a project's
// ClassificationId) with the forms its projects can submit.
func (c *Client) GetClassification(ctx context.Context, classificationID string) (*Classification, error) {
	const op = "get classification"
	u, err := c.path(op, "/classifications/%s", id{"classification id", classificationID})
	if err != nil {
		return nil, err
	}
	var out *Classification
	resp, err := c.do(ctx, op, http.MethodGet, u, nil, &out)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, contractError(op, resp, "response is null, not a classification")
	}
	return out, nil
}

// GetForm returns a form's definition, by the name a classification lists.
func (c *Client) GetForm(ctx context.Context, formName string) (Form, error) {
	const op = "get form"
	u, err := c.path(op, "/forms/%s", id{"form name", formName})
	if err != nil {
		return nil, err
	}
	return getObject[Form](ctx, c, op, u)
}

// GetPrepopulateData returns the values CloudCompli suggests for a new
// entry of the form in the project.
func (c *Client) GetPrepopulateData(ctx context.Context, projectID, formName string) (PrepopulateData, error) {
	const op = "get prepopulate data"
	u, err := c.path(op, "/projects/%s/forms/%s/prepopulate-data", id{"project id", projectID}, id{"form name", formName})
	if err != nil {
		return nil, err
	}
	return getObject[PrepopulateData](ctx, c, op, u)
}

// SubmitFormEntry creates an entry of the form for the project from a map
// of form field to value, and returns it with its Id.
//
// A POST is not retried after a 429 or 5xx, since CloudCompli documents no
// way to deduplicate entries; if a duplicate entry is acceptable to you,
// pass auth.WithIdempotent(ctx) to let the retry policy apply.
func (c *Client) SubmitFormEntry(ctx context.Context, projectID, formName string, fields FormEntryData) (*FormEntry, error) {
	const op = "submit form entry"
	u, err := c.path(op, "/projects/%s/forms/%s", id{"project id", projectID}, id{"form name", formName})
	if err != nil {
		return nil, err
	}
	if fields == nil {
		fields = FormEntryData{}
	}
	var out *FormEntry
	resp, err := c.do(ctx, op, http.MethodPost, u, fields, &out)
	if err != nil {
		return nil, err
	}
	if out == nil || out.Id == "" {
		return nil, contractError(op, resp, "response carries no _id")
	}
	return out, nil
}

// PhotoAttachment is a photo for AttachPhoto. The client sends it as the
// base64 data: URI CloudCompli expects.
type PhotoAttachment struct {
	// Image is the image's bytes. Required; not empty.
	Image []byte
	// MIMEType is the image's media type, e.g. "image/jpeg". Required; it
	// must be image/*. Parameters are dropped.
	MIMEType string
	// Description is a caption. Optional.
	Description string
}

// AttachPhoto attaches a photo to a form entry (the Id SubmitFormEntry
// returned) and returns the stored photo. Like SubmitFormEntry it is not
// retried unless ctx carries auth.WithIdempotent.
func (c *Client) AttachPhoto(ctx context.Context, projectID, formName, entryID string, photo PhotoAttachment) (*Photo, error) {
	const op = "attach photo"
	u, err := c.path(op, "/projects/%s/forms/%s/photo/%s", id{"project id", projectID}, id{"form name", formName}, id{"entry id", entryID})
	if err != nil {
		return nil, err
	}
	if len(photo.Image) == 0 {
		return nil, &argError{op, "the image is empty"}
	}
	mt, _, err := mime.ParseMediaType(photo.MIMEType)
	sub, isImage := strings.CutPrefix(mt, "image/")
	if err != nil || !isImage || sub == "" || sub == "*" {
		return nil, &argError{op, fmt.Sprintf("MIME type %q is not an image type (image/*)", clean(photo.MIMEType))}
	}
	body := cloudcompli.PhotoUpload{
		Photo:    "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(photo.Image),
		MimeType: mt,
	}
	if photo.Description != "" {
		body.Description = &photo.Description
	}
	var out *Photo
	resp, err := c.do(ctx, op, http.MethodPost, u, body, &out)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, contractError(op, resp, "response is null, not a photo")
	}
	return out, nil
}

// id is a path parameter: what it names (for errors) and its value.
type id struct{ what, value string }

// path checks the identifiers and formats them, escaped, into format
// under /api/v2.
func (c *Client) path(op, format string, ids ...id) (string, error) {
	args := make([]any, len(ids))
	for i, p := range ids {
		switch p.value {
		case "":
			return "", &argError{op, "the " + p.what + " is required"}
		case ".", "..":
			return "", &argError{op, fmt.Sprintf("%q is not a valid %s", p.value, p.what)}
		}
		args[i] = url.PathEscape(p.value)
	}
	return c.apiURL + fmt.Sprintf(format, args...), nil
}

func getObject[T ~map[string]any](ctx context.Context, c *Client, op, u string) (T, error) {
	var out T
	resp, err := c.do(ctx, op, http.MethodGet, u, nil, &out)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, contractError(op, resp, "response is null, not a JSON object")
	}
	return out, nil
}

// do sends one request through the Doer and decodes a 2xx JSON answer
// into out. The returned response (body closed) is for error details.
func (c *Client) do(ctx context.Context, op, method, u string, body, out any) (*http.Response, error) {
	req, err := apiclient.NewRequest(ctx, method, u, body)
	if err != nil { // a nil context, or form field values JSON cannot encode
		return nil, &argError{op, err.Error()}
	}
	req.Header["User-Agent"] = c.userAgent
	resp, err := c.doer.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %s: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(op, resp)
	}
	if err := apiclient.DecodeJSON(resp, c.maxBody, out); err != nil {
		return nil, bodyError(op, resp, err)
	}
	return resp, nil
}

// Doer returns the authenticated Doer behind the client, for endpoints
// the spec does not model.
func (c *Client) Doer() *auth.Doer { return c.doer }

// HTTPClient returns an *http.Client that authenticates every request to
// the instance (and sends no credentials to any other host).
func (c *Client) HTTPClient() *http.Client { return c.doer.Client() }

// BaseURL returns the instance URL in use (without a trailing slash);
// the API lives under BaseURL()+"/api/v2".
func (c *Client) BaseURL() string { return c.baseURL }

// Token returns the current access token, fetching one if needed; the CLI
// uses it to show what the credentials get.
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, err := c.cache.TokenContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", err)
	}
	return tok, nil
}

// TokenFetches counts the tokens this client obtained from its source:
// fetched from CloudCompli, or handed out by a static or user token.
func (c *Client) TokenFetches() int64 { return c.cache.Fetches() }
