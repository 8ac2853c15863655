package cloudcompliapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
)

// The spec's endpoints, from the generated request builders: the token and
// authorize endpoints and the API prefix under an instance root come from
// specs/cloudcompli.yaml, never from a path spelled here.
var (
	tokenPath = apiclient.OperationPath(func(server string) (*http.Request, error) {
		return cloudcompli.NewRequestTokenRequestWithBody(server, "application/x-www-form-urlencoded", nil)
	})
	authorizePath = apiclient.OperationPath(func(server string) (*http.Request, error) {
		return cloudcompli.NewAuthorizeRequest(server, &cloudcompli.AuthorizeParams{})
	})
	// apiPath is the directory of the user resource: /api/v2.
	apiPath = path.Dir(apiclient.OperationPath(cloudcompli.NewGetUserRequest))
)

// Headers every request carries, as the vendor's documented requests do
// (seed 003): CloudCompli's token requests send these two, and so do the
// SDK's API and token requests.
var (
	acceptHeader = "application/json, */*"
	cacheControl = "no-cache"
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
//
// Every call goes through the client generated from
// specs/cloudcompli.yaml (gen/cloudcompli): the spec decides each request's
// method, path and encoding, and auth.Doer (the generated client's
// HttpRequestDoer) adds the token.
type Client struct {
	api *cloudcompli.Client // generated, sending through doer with the editors
	// The operations without parameters, their requests built once.
	getUser, getCompany, listProjects sender
	baseURL                           string
	doer                              *auth.Doer
	cache                             *auth.Cache
	red                               *auth.Redactor
	tel                               *auth.Telemetry
	maxBody                           int64
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
	for _, suffix := range []string{apiPath, tokenPath, authorizePath, path.Dir(tokenPath), path.Dir(apiPath)} {
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

// flowName names the token flow of creds in the client's telemetry.
func flowName(creds Credentials) string {
	switch creds.(type) {
	case ClientCredentials:
		return "client_credentials"
	case StaticToken:
		return "static_token"
	case UserToken:
		return "authorization_code"
	}
	return "token_source"
}

// flowOptions are the token flows' options, with CloudCompli's documented
// Accept and Cache-Control.
func flowOptions(cfg *config) auth.FlowOptions {
	fo := cfg.FlowOptions()
	fo.Header = http.Header{"Accept": {acceptHeader}, "Cache-Control": {cacheControl}}
	return fo
}

type config struct {
	apiclient.Settings
	quirks AuthCodeQuirks // NewAuthCodeFlow only
}

func newConfig(opts []option.Option) (*config, error) {
	cfg := &config{}
	if err := apiclient.Apply("cloudcompliapi", &cfg.Settings, cfg, opts); err != nil {
		return nil, err
	}
	return cfg, nil
}

// NewClient returns a client for the CloudCompli instance at instanceURL
// (required: every customer has its own host, e.g.
// https://example.compli.cloud), authenticated with creds:
// ClientCredentials, a StaticToken from the web UI, or a UserToken from
// the authorization code grant.
//
// The options are those of package option; CloudCompli has none of its
// own.
func NewClient(instanceURL string, creds Credentials, opts ...option.Option) (*Client, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	in, err := newInstance(instanceURL)
	if err != nil {
		return nil, err
	}
	src := cfg.Source
	cfg.Flow = flowName(creds)
	switch {
	case src != nil && creds != nil:
		return nil, errors.New("cloudcompliapi: give either credentials or option.WithTokenSource, not both")
	case src == nil && creds == nil:
		return nil, errors.New("cloudcompliapi: credentials are required (ClientCredentials, StaticToken or UserToken)")
	case src == nil:
		var key string
		if src, key, err = creds.tokenSource(in, flowOptions(cfg)); err != nil {
			return nil, err
		}
		if cfg.CacheOptions.Key == "" {
			cfg.CacheOptions.Key = key
		}
	}
	cache, err := cfg.NewCache(src)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", err)
	}
	doer, err := cfg.NewDoer(cache, in.root, nil)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", err)
	}
	api, err := cloudcompli.NewClient(in.root,
		cloudcompli.WithHTTPClient(doer),
		cloudcompli.WithRequestEditorFn(auth.SetHeader("User-Agent", cfg.UserAgent())),
		cloudcompli.WithRequestEditorFn(auth.SetHeader("Accept", acceptHeader)),
		cloudcompli.WithRequestEditorFn(auth.SetHeader("Cache-Control", cacheControl)),
	)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", err)
	}
	c := &Client{api: api, baseURL: in.root, doer: doer, cache: cache, red: cfg.Redactor, tel: cfg.Telemetry(), maxBody: cfg.MaxBody}
	for _, op := range []struct {
		send  *sender
		build func(string) (*http.Request, error)
	}{
		{&c.getUser, cloudcompli.NewGetUserRequest},
		{&c.getCompany, cloudcompli.NewGetCompanyRequest},
		{&c.listProjects, cloudcompli.NewListProjectsRequest},
	} {
		if *op.send, err = apiclient.Prebuilt(in.root, op.build, api.Client, api.RequestEditors); err != nil {
			return nil, fmt.Errorf("cloudcompliapi: %w", err)
		}
	}
	return c, nil
}

// sender is a generated operation with its arguments bound.
type sender func(ctx context.Context, eds ...cloudcompli.RequestEditorFn) (*http.Response, error)

// call sends one operation through the generated client and decodes a 2xx
// JSON answer into a T; a JSON null is refused as a contract violation.
func call[T any](ctx context.Context, c *Client, op string, opts []option.CallOption, send sender) (T, error) {
	return exchange(ctx, c, op, opts, send, func(resp *http.Response) (T, error) {
		var out *T
		if err := apiclient.DecodeJSON(resp, c.maxBody, &out); err != nil {
			return *new(T), bodyError(op, resp, err, c.red)
		}
		if out == nil {
			return *new(T), contractError(op, resp, "response is null, not "+what[T](), c.red)
		}
		return *out, nil
	})
}

// exchange sends one operation with the call's options, inside the call's
// span, and hands a 2xx answer to decode, whose errors are the call's.
func exchange[T any](ctx context.Context, c *Client, op string, opts []option.CallOption, send sender, decode func(*http.Response) (T, error)) (_ T, err error) {
	callOpts, err := apiclient.ApplyCall("cloudcompliapi", nil, opts)
	if err != nil {
		return *new(T), &argError{op, err.Error()}
	}
	ctx, span := apiclient.StartCall(ctx, c.tel, op, &callOpts)
	var resp *http.Response
	defer func() { apiclient.EndCall(span, &callOpts, resp, err, c.red) }()
	resp, err = send(ctx, apiclient.Editors[cloudcompli.RequestEditorFn](callOpts.Editors)...)
	if apiclient.IsEncodingError(err) { // the generated builder could not encode the body: nothing was sent
		return *new(T), &argError{op, err.Error()}
	}
	if err != nil {
		return *new(T), fmt.Errorf("cloudcompliapi: %s: %w", op, c.red.Error(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return *new(T), newError(op, resp, c.red)
	}
	return decode(resp)
}

// GetUser returns the user the token acts for (authorization code tokens)
// or, for client-level tokens, what CloudCompli shows the API client.
func (c *Client) GetUser(ctx context.Context, opts ...option.CallOption) (User, error) {
	return call[User](ctx, c, "get user", opts, c.getUser)
}

// GetCompany returns the instance's company.
func (c *Client) GetCompany(ctx context.Context, opts ...option.CallOption) (Company, error) {
	return call[Company](ctx, c, "get company", opts, c.getCompany)
}

// ListProjects returns every project the token can see. CloudCompli
// documents no pagination.
func (c *Client) ListProjects(ctx context.Context, opts ...option.CallOption) ([]Project, error) {
	const op = "list projects"
	return exchange(ctx, c, op, opts, c.listProjects, func(resp *http.Response) ([]Project, error) {
		// A long list is decoded project by project from the network.
		out, err := apiclient.DecodeArray[Project](resp, c.maxBody)
		if err != nil {
			return nil, bodyError(op, resp, err, c.red)
		}
		return out, nil
	})
}

// GetClassification returns a classification (a project's
// ClassificationId) with the forms its projects can submit.
func (c *Client) GetClassification(ctx context.Context, classificationID string, opts ...option.CallOption) (*Classification, error) {
	const op = "get classification"
	if err := checkIDs(op, id{"classification id", classificationID}); err != nil {
		return nil, err
	}
	return call[*Classification](ctx, c, op, opts, func(ctx context.Context, eds ...cloudcompli.RequestEditorFn) (*http.Response, error) {
		return c.api.GetClassification(ctx, classificationID, eds...)
	})
}

// GetForm returns a form's definition, by the name a classification lists.
func (c *Client) GetForm(ctx context.Context, formName string, opts ...option.CallOption) (Form, error) {
	const op = "get form"
	if err := checkIDs(op, id{"form name", formName}); err != nil {
		return nil, err
	}
	return call[Form](ctx, c, op, opts, func(ctx context.Context, eds ...cloudcompli.RequestEditorFn) (*http.Response, error) {
		return c.api.GetForm(ctx, formName, eds...)
	})
}

// GetPrepopulateData returns the values CloudCompli suggests for a new
// entry of the form in the project.
func (c *Client) GetPrepopulateData(ctx context.Context, projectID, formName string, opts ...option.CallOption) (PrepopulateData, error) {
	const op = "get prepopulate data"
	if err := checkIDs(op, id{"project id", projectID}, id{"form name", formName}); err != nil {
		return nil, err
	}
	return call[PrepopulateData](ctx, c, op, opts, func(ctx context.Context, eds ...cloudcompli.RequestEditorFn) (*http.Response, error) {
		return c.api.GetPrepopulateData(ctx, projectID, formName, eds...)
	})
}

// SubmitFormEntry creates an entry of the form for the project from a map
// of form field to value, and returns it with its Id.
//
// A POST is not retried after a 429 or 5xx, since CloudCompli documents no
// way to deduplicate entries; if a duplicate entry is acceptable to you,
// pass auth.WithIdempotent(ctx) to let the retry policy apply.
func (c *Client) SubmitFormEntry(ctx context.Context, projectID, formName string, fields FormEntryData, opts ...option.CallOption) (*FormEntry, error) {
	const op = "submit form entry"
	if err := checkIDs(op, id{"project id", projectID}, id{"form name", formName}); err != nil {
		return nil, err
	}
	if fields == nil {
		fields = FormEntryData{}
	}
	var resp *http.Response
	out, err := call[*FormEntry](ctx, c, op, opts, func(ctx context.Context, eds ...cloudcompli.RequestEditorFn) (*http.Response, error) {
		r, err := c.api.SubmitFormEntry(ctx, projectID, formName, fields, eds...)
		resp = r
		return r, err
	})
	if err != nil {
		return nil, err
	}
	if out.Id == "" {
		return nil, contractError(op, resp, "response carries no _id", c.red)
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
func (c *Client) AttachPhoto(ctx context.Context, projectID, formName, entryID string, photo PhotoAttachment, opts ...option.CallOption) (*Photo, error) {
	const op = "attach photo"
	if err := checkIDs(op, id{"project id", projectID}, id{"form name", formName}, id{"entry id", entryID}); err != nil {
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
	return call[*Photo](ctx, c, op, opts, func(ctx context.Context, eds ...cloudcompli.RequestEditorFn) (*http.Response, error) {
		return c.api.AttachPhoto(ctx, projectID, formName, entryID, body, eds...)
	})
}

// id is a path parameter: what it names (for errors) and its value.
type id struct{ what, value string }

// checkIDs refuses path parameters that are empty or would change the
// path ("." and ".."); the generated client escapes the rest.
func checkIDs(op string, ids ...id) error {
	for _, p := range ids {
		switch p.value {
		case "":
			return &argError{op, "the " + p.what + " is required"}
		case ".", "..":
			return &argError{op, fmt.Sprintf("%q is not a valid %s", p.value, p.what)}
		}
	}
	return nil
}

// what names T in a contract error.
func what[T any]() string {
	switch any(*new(T)).(type) {
	case []Project:
		return "a list"
	case User, Company, Form, PrepopulateData:
		return "a JSON object"
	case *Classification:
		return "a classification"
	case *Photo:
		return "a photo"
	case *FormEntry:
		return "a form entry"
	}
	return "a value"
}

// API returns the client generated from specs/cloudcompli.yaml, wired like
// the typed methods: it sends through the same Doer (token, origin check,
// 401 replay, retries) with the SDK's User-Agent and CloudCompli's Accept
// and Cache-Control. Use it for what the typed methods do not cover; its
// WithResponse variants read bodies without the WithMaxResponseBytes cap.
func (c *Client) API() *cloudcompli.ClientWithResponses {
	return &cloudcompli.ClientWithResponses{ClientInterface: c.api}
}

// Doer returns the authenticated Doer behind the client, for endpoints
// the spec does not model. It sets the SDK's User-Agent on requests that
// have none.
func (c *Client) Doer() *auth.Doer { return c.doer }

// HTTPClient returns an *http.Client that authenticates every request to
// the instance (and sends no credentials to any other host).
func (c *Client) HTTPClient() *http.Client { return c.doer.Client() }

// BaseURL returns the instance URL in use (without a trailing slash);
// the token, authorize and API paths of specs/cloudcompli.yaml are appended to it.
func (c *Client) BaseURL() string { return c.baseURL }

// Token returns the current access token, fetching one if needed; the CLI
// uses it to show what the credentials get.
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, err := c.cache.TokenContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: %w", c.red.Error(err))
	}
	return tok, nil
}

// TokenFetches counts the tokens this client obtained from its source:
// fetched from CloudCompli, or handed out by a static or user token.
func (c *Client) TokenFetches() int64 { return c.cache.Fetches() }

func (c *Client) safe() auth.Safe {
	return auth.Safe{Type: "cloudcompliapi.Client", Fields: []auth.SafeField{auth.Public("BaseURL", c.baseURL)}}
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
