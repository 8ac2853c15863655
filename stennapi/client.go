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
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Documented endpoints (https://api-docs.stenn.com/docs/authentication).
const (
	LiveBaseURL    = "https://api.stenn.com"
	SandboxBaseURL = "https://api.stenn.com/sandbox"
	vendorHost     = "api.stenn.com"
)

// tokenRequest builds the token request under an API root, for both
// environments (see the x-decision on requestToken in specs/stenn.yaml):
// its URL is the default token URL.
func tokenRequest(server string) (*http.Request, error) {
	return stenn.NewRequestTokenRequestWithBody(server, "application/x-www-form-urlencoded", nil)
}

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
//
// Every call goes through the client generated from specs/stenn.yaml
// (gen/stenn): the spec decides each request's method, path and encoding,
// and auth.Doer (as the generated client's HttpRequestDoer) adds the token.
type Client struct {
	api *stenn.Client // generated, sending through doer with the editors
	// listCompanies is api.ListCompanies with its request built once.
	listCompanies func(ctx context.Context, eds ...stenn.RequestEditorFn) (*http.Response, error)
	baseURL       string
	doer          *auth.Doer
	cache         *auth.Cache
	red           *auth.Redactor
	tel           *auth.Telemetry
	maxBody       int64
}

type config struct {
	apiclient.Settings
	baseURL  string
	tokenURL string
}

// WithSandbox uses the sandbox (test mode): both the token URL and the API
// root switch to https://api.stenn.com/sandbox.
func WithSandbox() option.Option { return WithBaseURL(SandboxBaseURL) }

// WithBaseURL sets the API root that the spec's paths are appended to
// (default LiveBaseURL); the token URL follows it unless WithTokenURL is
// given. It must be https, or http on a loopback host (a fake).
func WithBaseURL(u string) option.Option {
	return apiclient.For("WithBaseURL", func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.baseURL = strings.TrimRight(u, "/")
		return nil
	})
}

// WithTokenURL overrides the token endpoint. Optional. Default: the API
// root (WithBaseURL, WithSandbox) + /auth/v1/token.
func WithTokenURL(u string) option.Option {
	return apiclient.For("WithTokenURL", func(c *config) error {
		if _, err := auth.CheckURL(u); err != nil {
			return err
		}
		c.tokenURL = u
		return nil
	})
}

// NewClient returns a client for the live environment authenticated with
// the client credentials flow (use WithSandbox for test mode). The options
// are those of package option and this package's own.
func NewClient(clientID, clientSecret string, opts ...option.Option) (*Client, error) {
	cfg := &config{baseURL: LiveBaseURL}
	if err := apiclient.Apply("stennapi", &cfg.Settings, cfg, opts); err != nil {
		return nil, err
	}
	if cfg.tokenURL == "" {
		u, err := apiclient.OperationURL(cfg.baseURL, tokenRequest)
		if err != nil {
			return nil, fmt.Errorf("stennapi: token URL: %w", err)
		}
		cfg.tokenURL = u
	}
	src := cfg.Source
	cfg.Flow = "token_source"
	if src == nil {
		cfg.Flow = "client_credentials"
		if clientID == "" || clientSecret == "" {
			return nil, errors.New("stennapi: client id and client secret are required")
		}
		if err := apiclient.CheckFakeTokenURL(cfg.baseURL, cfg.tokenURL, vendorHost); err != nil {
			return nil, fmt.Errorf("stennapi: %w", err)
		}
		flow, err := auth.ClientCredentials(&clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			TokenURL:     cfg.tokenURL,
			AuthStyle:    oauth2.AuthStyleInParams, // Stenn wants the credentials in the form body
		}, cfg.FlowOptions())
		if err != nil {
			return nil, fmt.Errorf("stennapi: %w", err)
		}
		src = flow
	}
	cache, err := cfg.NewCache(src)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", err)
	}
	doer, err := cfg.NewDoer(cache, cfg.baseURL, nil)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", err)
	}
	api, err := stenn.NewClient(cfg.baseURL,
		stenn.WithHTTPClient(doer),
		stenn.WithRequestEditorFn(auth.SetHeader("User-Agent", cfg.UserAgent())),
		stenn.WithRequestEditorFn(auth.SetHeader("Accept", "application/json")),
	)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", err)
	}
	list, err := apiclient.Prebuilt(cfg.baseURL, stenn.NewListCompaniesRequest, api.Client, api.RequestEditors)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %w", err)
	}
	return &Client{api: api, listCompanies: list, baseURL: cfg.baseURL, doer: doer, cache: cache, red: cfg.Redactor, tel: cfg.Telemetry(), maxBody: cfg.MaxBody}, nil
}

// ListCompanies returns the companies visible to your credentials, with
// their addresses, contacts and latest buyer limits. Stenn does not
// paginate lists.
func (c *Client) ListCompanies(ctx context.Context, opts ...option.CallOption) (_ []Company, err error) {
	const op = "list companies"
	call, err := apiclient.ApplyCall("stennapi", nil, opts)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %s: %w", op, err)
	}
	ctx, span := apiclient.StartCall(ctx, c.tel, op, &call)
	var resp *http.Response
	defer func() { apiclient.EndCall(span, &call, resp, err, c.red) }()
	resp, err = c.listCompanies(ctx, apiclient.Editors[stenn.RequestEditorFn](call.Editors)...)
	if err != nil {
		return nil, fmt.Errorf("stennapi: %s: %w", op, c.red.Error(err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newError(op, resp, c.red)
	}
	list, err := apiclient.DecodeList(resp, c.maxBody, "data", shortCompanies, newCompanyDecoder)
	if err != nil {
		return nil, bodyError(op, resp, err, c.red)
	}
	return list, nil
}

// decodeCompanies decodes the documented list wrapper
// {"object":"list","data":[...]} and, cheaply, a bare array too: the docs
// show no top-level list example. A company's contacts may come either way
// too (the docs contradict themselves, see specs/stenn.yaml): the wrapper
// is decoded directly, and only a body that fails on a bare contacts array
// takes the slower path that rewrites it into the wrapper.
func decodeCompanies(body []byte, out *[]Company) error {
	err := decodeCompanyList(body, out)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && strings.HasSuffix(typ.Field, "contacts") {
		var compat []companyCompat
		if cerr := decodeCompanyList(body, &compat); cerr != nil {
			return err
		}
		list := make([]Company, len(compat))
		for i, c := range compat {
			co, cerr := c.company()
			if cerr != nil {
				return err // the first error names the field
			}
			list[i] = co
		}
		*out = list
		return nil
	}
	return err
}

// decodeCompanyList decodes the wrapper or a bare array of T.
func decodeCompanyList[T any](body []byte, out *[]T) error {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, out)
	}
	var w struct {
		Object string `json:"object"`
		Data   []T    `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return err
	}
	if w.Data == nil {
		return &apiclient.BodyError{Reason: `response has no "data" list of companies`}
	}
	*out = w.Data
	return nil
}

// shortCompanies decodes a short list at once.
func shortCompanies(body []byte) ([]Company, error) {
	var list []Company
	err := decodeCompanies(body, &list)
	return list, err
}

// newCompanyDecoder makes the element decoder of a long list.
func newCompanyDecoder() func(*json.Decoder, *Company) error { return newCompanyStream().decode }

// companyStream decodes the companies of a long list one by one from the
// network (apiclient.DecodeList). Each company's contacts, in either
// documented form, go through contactsField, which reuses one decoder for
// all of them: no second pass and no copy of the body.
type companyStream struct {
	elem struct {
		stenn.Company
		Contacts contactsField `json:"contacts"` // shadows Company.Contacts
	}
	r   *bytes.Reader
	dec *json.Decoder
}

func newCompanyStream() *companyStream {
	s := &companyStream{r: bytes.NewReader(nil)}
	s.dec = json.NewDecoder(s.r)
	return s
}

func (s *companyStream) decode(dec *json.Decoder, out *Company) error {
	s.elem.Company = Company{}
	s.elem.Contacts = contactsField{s: s}
	if err := dec.Decode(&s.elem); err != nil {
		return err
	}
	*out = s.elem.Company
	out.Contacts = s.elem.Contacts.v
	return nil
}

// contactsField reads contacts as the list wrapper or a bare array.
type contactsField struct {
	s *companyStream
	v *stenn.ContactList
}

func (f *contactsField) UnmarshalJSON(b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	f.s.r.Reset(b)
	v := &stenn.ContactList{}
	var err error
	if b[0] == '[' {
		v.Object = stenn.ContactListObjectList
		err = f.s.dec.Decode(&v.Data)
	} else {
		err = f.s.dec.Decode(v)
	}
	if err != nil { // encoding/json names the field (contacts) in the error
		return err
	}
	f.v = v
	return nil
}

// companyCompat is a Company whose contacts are kept raw, to be read in
// either documented form.
type companyCompat struct {
	stenn.Company
	Contacts json.RawMessage `json:"contacts,omitempty"` // shadows Company.Contacts
}

func (c companyCompat) company() (Company, error) {
	co := c.Company
	switch b := bytes.TrimLeft(c.Contacts, " \t\r\n"); {
	case len(b) == 0 || string(b) == "null":
	case b[0] == '[':
		var data []Contact
		if err := json.Unmarshal(b, &data); err != nil {
			return co, err
		}
		co.Contacts = &stenn.ContactList{Object: stenn.ContactListObjectList, Data: data}
	default:
		var w stenn.ContactList
		if err := json.Unmarshal(b, &w); err != nil {
			return co, err
		}
		co.Contacts = &w
	}
	return co, nil
}

// API returns the client generated from specs/stenn.yaml, wired like the
// typed methods: it sends through the same Doer (token, origin check, 401
// replay, retries) with the SDK's User-Agent and Accept. Use it for what
// the typed methods do not cover; its WithResponse variants read bodies
// without the WithMaxResponseBytes cap.
func (c *Client) API() *stenn.ClientWithResponses {
	return &stenn.ClientWithResponses{ClientInterface: c.api}
}

// Doer returns the authenticated Doer behind the client, for endpoints
// the spec does not model yet (invoices, buyer limits, documents, financing
// sessions are documented without paths). It sets the SDK's User-Agent on
// requests that have none.
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
		return nil, fmt.Errorf("stennapi: %w", c.red.Error(err))
	}
	return tok, nil
}

// TokenFetches counts the tokens fetched from Stenn by this client.
func (c *Client) TokenFetches() int64 { return c.cache.Fetches() }

func (c *Client) safe() auth.Safe {
	return auth.Safe{Type: "stennapi.Client", Fields: []auth.SafeField{auth.Public("BaseURL", c.baseURL)}}
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
