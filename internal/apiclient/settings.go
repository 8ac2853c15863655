package apiclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"
)

// Settings are what the options of package option set alike for every
// client (WithHTTPClient, WithStore, WithLogger, WithUserAgent,
// WithRetryPolicy, WithCacheOptions, WithMaxResponseBytes); each provider
// package's config embeds it and adds its own URLs and credentials, which
// its own options reach through Provider.
type Settings struct {
	HTTPClient   *http.Client
	Store        auth.Store
	Logger       *slog.Logger
	Product      string // prefixes the SDK's User-Agent
	Retry        *auth.RetryPolicy
	Source       oauth2.TokenSource // replaces the provider's own flow
	CacheOptions auth.CacheOptions
	MaxBody      int64

	// TracerProvider and MeterProvider are the client's telemetry
	// (WithTracerProvider, WithMeterProvider); nil means the global ones.
	// PropagateTokenTrace sends trace context on token requests too.
	TracerProvider      trace.TracerProvider
	MeterProvider       metric.MeterProvider
	PropagateTokenTrace bool
	// Flow names the client's token flow in its telemetry; the provider
	// sets it before building the flow.
	Flow string
	tel  *auth.Telemetry

	// Redactor knows every secret of the client (its flow's, and each
	// token its cache obtains) and removes them from every error and log
	// line; Apply makes a new one per client.
	Redactor *auth.Redactor

	// Package is the provider package applying the options, e.g.
	// "stennapi"; Provider is its config (a pointer), which the
	// provider's own options (For) type-assert.
	Package  string
	Provider any

	given []string // names of the options applied, in order
}

// Apply runs opts on s for package pkg, whose config is provider, and
// prefixes any error with pkg. A nil option is an error in every package:
// it is almost always a mistake (an option variable never set), and
// skipping it would hide it.
func Apply[O ~func(*Settings) error](pkg string, s *Settings, provider any, opts []O) error {
	s.Package, s.Provider = pkg, provider
	if s.Redactor == nil {
		s.Redactor = auth.NewRedactor()
	}
	for i, opt := range opts {
		if opt == nil {
			return fmt.Errorf("%s: option %d of %d is nil", pkg, i+1, len(opts))
		}
		if err := opt(s); err != nil {
			return fmt.Errorf("%s: %w", pkg, err)
		}
	}
	return nil
}

// Named wraps an option so that its errors start with its name and
// Settings.Given reports it.
func Named(name string, f func(*Settings) error) func(*Settings) error {
	return func(s *Settings) error {
		s.given = append(s.given, name)
		if err := f(s); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// For returns the option name of one provider package, the package that
// defines T: f runs on that package's config, of type *T. Given to another package's client, it
// fails with an error naming both, instead of being silently ignored.
func For[T any](name string, f func(*T) error) func(*Settings) error {
	return Named(name, func(s *Settings) error {
		cfg, ok := s.Provider.(*T)
		if !ok {
			return fmt.Errorf("an option of %s, not of %s", pkgOf[T](), s.Package)
		}
		return f(cfg)
	})
}

// pkgOf names the package that defines T.
func pkgOf[T any]() string { return path.Base(reflect.TypeFor[T]().PkgPath()) }

// Editors converts per-call editors to a generated package's
// RequestEditorFn type; none costs no allocation.
func Editors[E ~func(context.Context, *http.Request) error](fns []func(context.Context, *http.Request) error) []E {
	if len(fns) == 0 {
		return nil
	}
	out := make([]E, len(fns))
	for i, f := range fns {
		out[i] = f
	}
	return out
}

// Given reports whether the option named name was applied.
func (s *Settings) Given(name string) bool {
	for _, n := range s.given {
		if n == name {
			return true
		}
	}
	return false
}

// GivenNames returns the names of the options applied, in order.
func (s *Settings) GivenNames() []string { return append([]string(nil), s.given...) }

// UserAgent is the User-Agent sent on every request, API and token alike.
func (s *Settings) UserAgent() string { return UserAgent(s.Product) }

// FlowOptions are the options of a token flow: the same HTTP client,
// User-Agent, logger, Redactor and telemetry as the API calls, and the
// cache's clock.
func (s *Settings) FlowOptions() auth.FlowOptions {
	return auth.FlowOptions{HTTPClient: s.HTTPClient, UserAgent: s.UserAgent(), Logger: s.Logger, Now: s.CacheOptions.Now,
		Redactor: s.Redactor, Telemetry: s.Telemetry()}
}

// Telemetry is the client's: made on first use from the providers given
// (the global ones by default), named for the provider package and its
// flow. It cannot fail with the OpenTelemetry API's instruments; should a
// MeterProvider refuse one, the client goes without telemetry rather than
// without its API.
func (s *Settings) Telemetry() *auth.Telemetry {
	if s.tel == nil {
		tel, err := auth.NewTelemetry(auth.TelemetryOptions{
			TracerProvider: s.TracerProvider, MeterProvider: s.MeterProvider,
			Provider: strings.TrimSuffix(s.Package, "api"), Flow: s.Flow,
			PropagateToTokenRequests: s.PropagateTokenTrace,
		})
		if err == nil {
			s.tel = tel
		}
	}
	return s.tel
}

// NewCache wraps src in a token cache. WithStore and WithLogger, when
// given, take precedence over the Store and Logger of WithCacheOptions.
func (s *Settings) NewCache(src oauth2.TokenSource) (*auth.Cache, error) {
	co := s.CacheOptions
	if s.Store != nil {
		co.Store = s.Store
	}
	if s.Logger != nil {
		co.Logger = s.Logger
	}
	if co.Redactor != nil && co.Redactor != s.Redactor {
		s.Redactor.Include(co.Redactor) // one Redactor that knows them all
	}
	co.Redactor = s.Redactor
	if co.Telemetry == nil {
		co.Telemetry = s.Telemetry()
	}
	return auth.NewCache(src, co)
}

// NewDoer returns the Doer every API request goes through: credentials
// from cache for baseURL's origin only (originHeaders too), the SDK's
// User-Agent on any request that has none (so the escape hatches, Doer
// and HTTPClient, identify themselves too), and the retry policy of
// WithRetryPolicy unless retry is given.
func (s *Settings) NewDoer(cache *auth.Cache, baseURL string, retry *auth.RetryPolicy, originHeaders ...string) (*auth.Doer, error) {
	if retry == nil {
		retry = s.Retry
	}
	return auth.NewDoer(cache, auth.DoerOptions{
		BaseURL:       baseURL,
		HTTPClient:    s.HTTPClient,
		Retry:         retry,
		OriginHeaders: originHeaders,
		Logger:        s.Logger,
		UserAgent:     s.UserAgent(),
		Redactor:      s.Redactor,
		Telemetry:     s.Telemetry(),
	})
}

// ErrNilTokenSource is WithTokenSource(nil)'s error in every package.
var ErrNilTokenSource = errors.New("nil source")

// Call holds what the per-call options of package option set for one
// typed call.
type Call struct {
	// Package is the provider package making the call.
	Package string
	// Provider is the package's own per-call config (a pointer), or nil
	// if it has none; its call options (ForCall) type-assert it.
	Provider any
	// Editors run on the request after the client's own, in order.
	Editors []func(context.Context, *http.Request) error
	// Response, when set (option.WithResponseInto), receives the
	// metadata of the call's response.
	Response func(ResponseInfo)
}

// ResponseInfo is the metadata of a typed call's response.
type ResponseInfo struct {
	StatusCode int
	Header     http.Header
	RequestID  string
	Attempts   int
}

// StartCall starts the span of one typed call, named op, and readies the
// count of its attempts when the call asked for its response's metadata.
func StartCall(ctx context.Context, tel *auth.Telemetry, op string, call *Call) (context.Context, auth.CallSpan) {
	return tel.StartCall(ctx, op, call.Response != nil)
}

// EndCall ends a typed call's span with its outcome and hands its
// response's metadata (headers and request id redacted with red) to the
// call's Response, when asked for and a response arrived.
func EndCall(cs auth.CallSpan, call *Call, resp *http.Response, err error, red *auth.Redactor) {
	cs.End(resp, err)
	if call.Response == nil || resp == nil {
		return
	}
	h := red.Header(resp.Header)
	for _, k := range []string{"Set-Cookie", "Authorization", "Proxy-Authorization"} {
		delete(h, k)
	}
	call.Response(ResponseInfo{
		StatusCode: resp.StatusCode,
		Header:     h,
		RequestID:  red.Field(auth.RequestID(resp.Header)),
		Attempts:   cs.Attempts(),
	})
}

// ApplyCall runs the per-call options opts for package pkg, whose
// per-call config is provider (nil if it has none).
func ApplyCall[O ~func(*Call) error](pkg string, provider any, opts []O) (Call, error) {
	if len(opts) == 0 {
		return Call{Package: pkg, Provider: provider}, nil // no option can keep its address: no allocation
	}
	c := Call{Package: pkg, Provider: provider}
	for i, opt := range opts {
		if opt == nil {
			return c, fmt.Errorf("call option %d of %d is nil", i+1, len(opts))
		}
		if err := opt(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// ForCall returns the per-call option name of one provider package: f
// runs on that package's per-call config, of type *T.
func ForCall[T any](name string, f func(*T) error) func(*Call) error {
	return func(c *Call) error {
		cfg, ok := c.Provider.(*T)
		if !ok {
			return fmt.Errorf("%s: a call option of %s, not of %s", name, pkgOf[T](), c.Package)
		}
		if err := f(cfg); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// CheckFakeTokenURL refuses a client whose API base is on a loopback host
// (a fake, almost always) while its token endpoint is one of the vendor's
// own hosts: the credentials meant for the fake would go to the vendor. It
// is the mistake of pointing a client at a fake with only its base URL.
func CheckFakeTokenURL(baseURL, tokenURL string, vendorHosts ...string) error {
	base, err := url.Parse(baseURL)
	if err != nil || !auth.IsLoopback(base.Hostname()) {
		return nil
	}
	tok, err := url.Parse(tokenURL)
	if err != nil {
		return nil
	}
	for _, h := range vendorHosts {
		if strings.EqualFold(tok.Hostname(), h) {
			return fmt.Errorf("the API base URL %s is on loopback (a fake?) but the token URL is %s's %s: "+
				"the credentials would go to the vendor; point the token URL at the fake too (its ClientOptions do both)",
				base.Scheme+"://"+base.Host, h, tok.Scheme+"://"+tok.Host+tok.Path)
		}
	}
	return nil
}
