// Package option holds the options that all four clients (stemsapi,
// stennapi, cloudcompliapi, firstamlapi) share. They are defined once, here,
// and behave the same in every package:
//
//	c, err := stennapi.NewClient(id, secret,
//		option.WithHTTPClient(hc),        // shared: this package
//		option.WithStore(store),
//		stennapi.WithSandbox(),           // Stenn's own
//	)
//
// Each provider package adds only what is its own (Stems' company, Stenn's
// sandbox, CloudCompli's instance, First AML's URLs), as functions that
// return the same Option type; given to another provider's client, such an
// option makes the constructor fail instead of being ignored. A nil Option
// is an error in every package.
//
// CallOption adjusts a single typed call; every typed method of the four
// clients takes them.
package option

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"
)

// Option configures a client when it is created. Options are applied in
// order; a later one overrides an earlier one of the same kind. Only this
// package and the provider packages make Options.
type Option func(*apiclient.Settings) error

// WithHTTPClient sends every request, API and token requests alike, with
// hc. Optional. Default: a client with auth.DefaultHTTPTimeout. The client
// uses copies of hc whose redirect policies keep credentials on their
// origin, so hc itself is never modified.
func WithHTTPClient(hc *http.Client) Option {
	return apiclient.Named("WithHTTPClient", func(s *apiclient.Settings) error {
		if hc == nil {
			return errors.New("nil client")
		}
		s.HTTPClient = hc
		return nil
	})
}

// WithStore persists tokens, refresh tokens included, e.g. in an
// auth.FileStore or a Redis store (auth/redisstore) shared by a fleet, so
// that a restart does not fetch a new token and processes never race on a
// rotated refresh token. Optional. Default: in memory. It takes
// precedence over the Store of WithCacheOptions.
func WithStore(st auth.Store) Option {
	return apiclient.Named("WithStore", func(s *apiclient.Settings) error {
		if st == nil {
			return errors.New("nil store")
		}
		s.Store = st
		return nil
	})
}

// WithLogger logs token fetches, refreshes, 401 replays and retries, never
// a secret. Optional. Default: no logging. It takes precedence over the
// Logger of WithCacheOptions.
func WithLogger(l *slog.Logger) Option {
	return apiclient.Named("WithLogger", func(s *apiclient.Settings) error {
		if l == nil {
			return errors.New("nil logger")
		}
		s.Logger = l
		return nil
	})
}

// WithUserAgent puts your product first in the User-Agent of every request,
// e.g. "acme-billing/2.1"; the SDK's name and version follow it. Optional
// (First AML's go-live review asks every integration to identify itself).
// A control character, which would break or smuggle headers, is an error.
func WithUserAgent(product string) Option {
	return apiclient.Named("WithUserAgent", func(s *apiclient.Settings) error {
		if err := apiclient.CheckProduct(product); err != nil {
			return err
		}
		s.Product = product
		return nil
	})
}

// WithRetryPolicy replaces the retry policy of API calls. Optional.
// Default: auth.RetryPolicy{}: 429, 502, 503 and 504 answers and connection
// errors, for idempotent requests only (GET, PUT, DELETE, or a context from
// auth.WithIdempotent), with exponential backoff and full jitter,
// honouring Retry-After. Use auth.RetryPolicy{MaxAttempts: 1} to disable
// retries. First AML's mutations are never retried, whatever the policy.
func WithRetryPolicy(p auth.RetryPolicy) Option {
	return apiclient.Named("WithRetryPolicy", func(s *apiclient.Settings) error {
		if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
			return errors.New("negative field")
		}
		s.Retry = &p
		return nil
	})
}

// WithCacheOptions tunes the token cache: refresh-ahead share, expiry
// margin, fetch timeout, clock, store key. Optional. WithStore and
// WithLogger, when given, take precedence over its Store and Logger.
func WithCacheOptions(o auth.CacheOptions) Option {
	return apiclient.Named("WithCacheOptions", func(s *apiclient.Settings) error {
		s.CacheOptions = o
		return nil
	})
}

// WithMaxResponseBytes caps the size of a response body the client reads
// into memory. Optional. Default 16 MiB. A larger response is not read
// past the cap: the call fails with the package's *Error, whose Reason
// says the body exceeds the limit.
func WithMaxResponseBytes(n int64) Option {
	return apiclient.Named("WithMaxResponseBytes", func(s *apiclient.Settings) error {
		if n <= 0 {
			return errors.New("must be positive")
		}
		s.MaxBody = n
		return nil
	})
}

// WithTokenSource takes tokens from src instead of the client's own flow,
// e.g. an auth.StaticToken or a source of your own; the credentials the
// constructor takes may then be empty (nil for Stems and CloudCompli).
// Optional. The client still caches the tokens, replays a request once
// after a 401 with a new token, and sends them to its API's origin only.
func WithTokenSource(src oauth2.TokenSource) Option {
	return apiclient.Named("WithTokenSource", func(s *apiclient.Settings) error {
		if src == nil {
			return apiclient.ErrNilTokenSource
		}
		s.Source = src
		return nil
	})
}

// CallOption adjusts one typed call, e.g. WithHeader here, or
// stemsapi.Company. Only this package and the provider packages make them.
type CallOption func(*apiclient.Call) error

// WithHeader sets a header on one call's request, after the client's own
// headers, e.g. an Idempotency-Key (which also makes a POST retryable).
// Authorization cannot be set this way: the client sets it on every
// attempt from its token cache. The call fails before anything is sent if
// name is not a valid header name or value has a control character.
func WithHeader(name, value string) CallOption {
	key := http.CanonicalHeaderKey(name)
	v := []string{value}
	return func(c *apiclient.Call) error {
		switch {
		case !validHeaderName(name):
			return fmt.Errorf("WithHeader: invalid header name %q", name)
		case key == "Authorization":
			return errors.New("WithHeader: Authorization is set by the client from its token cache")
		case strings.ContainsFunc(value, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }):
			return fmt.Errorf("WithHeader: control character in the value of %s", key)
		}
		c.Editors = append(c.Editors, func(_ context.Context, req *http.Request) error {
			req.Header[key] = v
			return nil
		})
		return nil
	}
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, b) >= 0 {
			return false
		}
	}
	return true
}

// WithTracerProvider traces the client with tp: a client span per typed
// call, named for the operation, with a child span per HTTP attempt, retry
// and 401-replay events, and spans for token fetches, linked from the
// calls that waited for them. Optional. Default otel.GetTracerProvider(),
// which records nothing until the application installs an SDK. API
// requests carry W3C trace context; token requests do not, unless
// WithTokenTracePropagation. No span or attribute carries a secret, a
// token or personal data.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return apiclient.Named("WithTracerProvider", func(s *apiclient.Settings) error {
		if tp == nil {
			return errors.New("nil provider")
		}
		s.TracerProvider = tp
		return nil
	})
}

// WithMeterProvider measures the client with mp: request durations,
// token fetches, their latency, the time calls waited for a token (zero
// after the first while refresh-ahead works), retries and 401 replays by
// reason, store errors and lock waits (see auth.Telemetry). Optional.
// Default otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return apiclient.Named("WithMeterProvider", func(s *apiclient.Settings) error {
		if mp == nil {
			return errors.New("nil provider")
		}
		s.MeterProvider = mp
		return nil
	})
}

// WithTokenTracePropagation sends W3C trace context on token requests too,
// so a token endpoint you run yourself can join the caller's trace.
// Optional. Default: token requests carry none, since a vendor's identity
// provider has no use for them.
func WithTokenTracePropagation() Option {
	return apiclient.Named("WithTokenTracePropagation", func(s *apiclient.Settings) error {
		s.PropagateTokenTrace = true
		return nil
	})
}

// Response is the metadata of a typed call's response, for support desks
// and logs: what WithResponseInto fills.
type Response struct {
	// StatusCode is the HTTP status of the last response.
	StatusCode int
	// Header is a copy of its headers, with every secret the client knows
	// redacted and Set-Cookie removed.
	Header http.Header
	// RequestID is the vendor's request id (X-Request-Id and the like),
	// the first thing a vendor's support desk asks for.
	RequestID string
	// Attempts counts the HTTP requests the call sent: retries and a 401
	// replay included.
	Attempts int
}

// WithResponseInto fills dst with the metadata of the call's response when
// one arrives, on success and on an API error alike (the error carries
// the same status and request id). dst is not touched when no response
// arrived (a network error, or a call refused before sending).
func WithResponseInto(dst *Response) CallOption {
	return func(c *apiclient.Call) error {
		if dst == nil {
			return errors.New("WithResponseInto: nil Response")
		}
		c.Response = func(ri apiclient.ResponseInfo) { *dst = Response(ri) }
		return nil
	}
}
