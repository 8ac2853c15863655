package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DoerOptions configure a Doer.
type DoerOptions struct {
	// BaseURL is the API's base URL. Credentials (the bearer token and every
	// header in OriginHeaders) are sent only to its origin: scheme, host and
	// port. It must be https, or http on a loopback host. Required.
	BaseURL string
	// HTTPClient sends the requests. Optional. Default: a client with a
	// DefaultHTTPTimeout timeout. The Doer uses a copy whose redirect policy
	// strips credentials on every hop that leaves the origin.
	HTTPClient *http.Client
	// Retry is the retry policy. Optional. Default: RetryPolicy{} (4
	// attempts). Use &RetryPolicy{MaxAttempts: 1} to disable retries.
	Retry *RetryPolicy
	// OriginHeaders are more headers that, like Authorization, must never
	// leave the origin, e.g. "X-Company-Context". Optional.
	OriginHeaders []string
	// Logger sees retries and 401 replays, never a secret. Optional.
	Logger *slog.Logger
	// UserAgent is set on every request that has none, so requests built
	// by hand through Doer or Client carry it too. Optional.
	UserAgent string
	// Redactor removes the client's secrets from the errors Do returns and
	// the lines it logs. Optional. Default: the cache's.
	Redactor *Redactor
	// Telemetry makes a child span of the caller's span for each attempt
	// (with the semantic conventions' HTTP attributes), adds retry and 401
	// replay events to the caller's span, propagates W3C trace context on
	// requests to the origin, and measures attempts, retries, replays and
	// token waits. Optional; nil records nothing.
	Telemetry *Telemetry
}

// Doer sends API requests with credentials from a Cache. It fits
// oapi-codegen's HttpRequestDoer and genqlient's graphql.Doer:
//
//   - it sets Authorization: Bearer from the cache on every attempt, and
//     only for the configured origin, on every redirect hop;
//   - on a 401 it invalidates exactly the token it sent and replays the
//     request once, if the body can be sent again;
//   - it retries per its RetryPolicy (429/502/503/504 and connection errors,
//     idempotent requests only, Retry-After honoured).
//
// A non-2xx response is not an error here: the provider packages turn it
// into their typed errors. Do returns an error only when no response can be
// given: the token could not be obtained (a *TokenError), the context ended,
// or the transport failed on the last attempt.
type Doer struct {
	cache         *Cache
	client        *http.Client
	origin        origin
	fastHost      string
	originHeaders []string
	userAgent     []string
	retry         RetryPolicy
	logger        *slog.Logger
	red           *Redactor
	tel           *Telemetry
	sleep         func(context.Context, time.Duration) error
}

// NewDoer returns a Doer that takes its tokens from cache.
func NewDoer(cache *Cache, opts DoerOptions) (*Doer, error) {
	if cache == nil {
		return nil, errors.New("auth: doer: token cache is required")
	}
	u, err := CheckURL(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("auth: base URL: %w", errors.Unwrap(err))
	}
	d := &Doer{
		cache:    cache,
		origin:   originOf(u),
		fastHost: u.Host,
		logger:   loggerOrDiscard(opts.Logger),
		sleep:    sleepCtx,
		red:      opts.Redactor,
		tel:      opts.Telemetry,
	}
	if d.red == nil {
		d.red = cache.Redactor()
	}
	d.originHeaders = append(d.originHeaders, "Authorization")
	for _, h := range opts.OriginHeaders {
		d.originHeaders = append(d.originHeaders, http.CanonicalHeaderKey(h))
	}
	if opts.UserAgent != "" {
		d.userAgent = []string{opts.UserAgent}
	}
	if opts.Retry != nil {
		d.retry = *opts.Retry
	}
	d.retry = d.retry.withDefaults()
	d.client = &http.Client{Timeout: DefaultHTTPTimeout}
	if opts.HTTPClient != nil {
		cp := *opts.HTTPClient
		d.client = &cp
	}
	next := d.client.CheckRedirect
	d.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !d.origin.matches(req.URL, d.fastHost) {
			d.stripCredentials(req.Header)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return d, nil
}

// Cache returns the token cache the Doer uses.
func (d *Doer) Cache() *Cache { return d.cache }

func (d *Doer) stripCredentials(h http.Header) {
	for _, k := range d.originHeaders {
		delete(h, k)
	}
}

// Do sends req with credentials, retries and one 401 replay. The caller
// owns req until Do returns; its body is rewound with GetBody for a replay.
func (d *Doer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	idempotent := isIdempotent(req)
	resendable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	replayed := false
	if d.userAgent != nil && len(req.Header["User-Agent"]) == 0 {
		req.Header["User-Agent"] = d.userAgent
	}
	sent := 0 // attempts, a 401 replay included
	for attempt := 1; ; attempt++ {
		var e *entry
		onOrigin := d.origin.matches(req.URL, d.fastHost)
		if onOrigin {
			var err error
			var waited time.Duration
			if e, waited, err = d.cache.entry(ctx); err != nil {
				return nil, err
			}
			if sent == 0 {
				d.tel.tokenWaited(ctx, waited)
			}
			req.Header["Authorization"] = e.authz
		} else {
			d.stripCredentials(req.Header)
		}
		sent++
		// W3C trace context goes with API requests on the origin only.
		a := d.tel.startAttempt(req, sent, onOrigin)
		resp, err := d.client.Do(a.req)
		d.tel.endAttempt(a, resp, err)
		if err != nil {
			if !idempotent || !resendable || attempt >= d.retry.MaxAttempts || !retryableError(ctx, err) {
				return nil, d.red.Error(err)
			}
			wait := d.retry.backoff(attempt)
			d.logger.LogAttrs(ctx, slog.LevelInfo, "auth: retrying after a transport error",
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", d.red.Redact(err.Error())))
			d.tel.retry(ctx, "transport_error", wait)
			if err := d.prepareRetry(ctx, req, nil, wait); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized && e != nil {
			// The token was refused: drop exactly that token, so the next
			// request (or the replay) gets a new one.
			d.cache.Invalidate(e.tok)
			if !replayed && resendable {
				next, _, err := d.cache.entry(ctx)
				if err != nil {
					resp.Body.Close()
					return nil, err
				}
				if next.tok.AccessToken == e.tok.AccessToken {
					// The source has nothing newer (a static token):
					// replaying would only get the same 401.
					return resp, nil
				}
				replayed = true
				d.logger.LogAttrs(ctx, slog.LevelInfo, "auth: 401; replaying once with a new token")
				d.tel.replay(ctx)
				if err := d.prepareRetry(ctx, req, resp, 0); err != nil {
					return nil, err
				}
				attempt-- // the replay is not a retry
				continue
			}
		}
		if retryableStatus(resp.StatusCode) && idempotent && resendable && attempt < d.retry.MaxAttempts {
			wait, ok := RetryAfter(resp.Header, time.Now())
			if ok && wait > d.retry.MaxRetryAfter {
				return resp, nil
			}
			if !ok {
				wait = d.retry.backoff(attempt)
			}
			if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
				return resp, nil // waiting would outlive the caller: let it see the answer
			}
			d.logger.LogAttrs(ctx, slog.LevelInfo, "auth: retrying",
				slog.Int("status", resp.StatusCode), slog.Int("attempt", attempt), slog.Duration("wait", wait))
			d.tel.retry(ctx, strconv.Itoa(resp.StatusCode), wait)
			if err := d.prepareRetry(ctx, req, resp, wait); err != nil {
				return nil, err
			}
			continue
		}
		return resp, nil
	}
}

// maxDrain bounds how much of a discarded response is read so that its
// connection can be reused.
const maxDrain = 64 << 10

func (d *Doer) prepareRetry(ctx context.Context, req *http.Request, resp *http.Response, wait time.Duration) error {
	if resp != nil {
		io.CopyN(io.Discard, resp.Body, maxDrain)
		resp.Body.Close()
	}
	if err := d.sleep(ctx, wait); err != nil {
		return fmt.Errorf("auth: retry abandoned: %w", err)
	}
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return fmt.Errorf("auth: rewinding the request body: %w", err)
		}
		req.Body = body
	}
	return nil
}

// Client returns an *http.Client that sends every request through the
// Doer, for endpoints the specs do not model yet. Requests to other origins
// go out without credentials.
func (d *Doer) Client() *http.Client {
	return &http.Client{
		Transport: doerTransport{d},
		// The Doer's own client follows redirects and strips credentials.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type doerTransport struct{ d *Doer }

func (t doerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify its request: work on a copy.
	r := req.Clone(req.Context())
	return t.d.Do(r)
}

// BaseURL returns the origin the Doer sends credentials to.
func (d *Doer) BaseURL() *url.URL {
	return &url.URL{Scheme: d.origin.scheme, Host: d.fastHost}
}

func (d *Doer) safe() Safe {
	return Safe{Type: "auth.Doer", Fields: []SafeField{Public("Origin", d.origin.String())}}
}

// String describes the Doer by its origin; Format, MarshalJSON and
// LogValue show the same, so no verb, encoder or log line prints a token or
// a secret its cache and Redactor hold.
func (d *Doer) String() string { return d.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints a secret.
func (d *Doer) Format(f fmt.State, verb rune) { d.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without any secret.
func (d *Doer) MarshalJSON() ([]byte, error) { return d.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without any secret.
func (d *Doer) LogValue() slog.Value { return d.safe().LogValue() }
