package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultHTTPTimeout bounds a whole request, body included, when the caller
// does not supply an *http.Client: no request may hang forever.
const DefaultHTTPTimeout = 30 * time.Second

// FlowOptions configure how a flow talks to its token endpoint. The zero
// value is ready to use.
type FlowOptions struct {
	// HTTPClient sends token requests. Optional. Default: a client with a
	// DefaultHTTPTimeout timeout. auth uses a copy whose redirect policy
	// refuses to follow a token request to another origin.
	HTTPClient *http.Client
	// UserAgent is sent on every token request. Optional.
	UserAgent string
	// Header holds extra headers for every token request; its Accept, if
	// any, replaces the default application/json. Optional.
	Header http.Header
	// Logger sees each token request's grant, status and duration, never a
	// secret. Optional.
	Logger *slog.Logger
	// Now is the clock used to compute expiry. Optional; tests set it.
	Now func() time.Time
	// Redactor removes the client's secrets from every error and log line.
	// The flow registers the secrets it holds (client secret, password,
	// the HTTP Basic pair, codes, verifiers, refresh tokens it sends and
	// tokens it gets). Give the flow, its Cache (CacheOptions.Redactor) and
	// the provider's own error constructors the same one. Optional; default:
	// a Redactor of the flow's own (see the flows' Redactor method).
	Redactor *Redactor
	// Telemetry, with PropagateToTokenRequests, sends W3C trace context on
	// token requests; without it they carry none. Optional.
	Telemetry *Telemetry
	// Retry is the policy for token requests that failed for a temporary
	// reason (429, 502, 503, 504, a connection error), the same type as for
	// API calls: Retry-After is honoured up to MaxRetryAfter (a longer one
	// returns the error at once, with TokenError.RetryAfter set, and the
	// Cache waits that long). A single-use grant (refresh_token,
	// authorization_code) is never retried, whatever the policy. After a
	// failed fetch, a Cache's next fetch makes one attempt only: the
	// cache's backoff is the retry then. Optional;
	// default: RetryPolicy{} (4 attempts). &RetryPolicy{MaxAttempts: 1}
	// disables retries.
	Retry *RetryPolicy
	// Sleep waits between retries; it must return early with ctx.Err()
	// when ctx ends. Optional; tests set it to see the waits without
	// waiting. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// endpoint posts form-encoded grants to one token URL.
type endpoint struct {
	tokenURL  string
	origin    origin
	client    *http.Client
	header    http.Header
	authStyle oauth2.AuthStyle
	clientID  string
	secret    string
	logger    *slog.Logger
	now       func() time.Time
	red       *Redactor
	retry     RetryPolicy
	sleep     func(context.Context, time.Duration) error
	tel       *Telemetry
}

func newEndpoint(tokenURL, clientID, secret string, style oauth2.AuthStyle, o FlowOptions) (*endpoint, error) {
	u, err := CheckURL(tokenURL)
	if err != nil {
		return nil, fmt.Errorf("auth: token URL: %w", errors.Unwrap(err))
	}
	if clientID == "" {
		return nil, errors.New("auth: client id is required")
	}
	switch style {
	case oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader:
	default:
		// x/oauth2's auto-detection re-sends a failed grant with the other
		// style, which would replay a single-use refresh token or code.
		return nil, errors.New("auth: AuthStyle must be set explicitly (AuthStyleInParams or AuthStyleInHeader)")
	}
	h := http.Header{}
	for k, v := range o.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	if h.Get("Accept") == "" { // a caller's Accept (a vendor's documented one) wins
		h.Set("Accept", "application/json")
	}
	if o.UserAgent != "" {
		h.Set("User-Agent", o.UserAgent)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	red := o.Redactor
	if red == nil {
		red = NewRedactor()
	}
	// The secret in every form it is sent in: the form body, or HTTP
	// Basic, whose base64 hides it from a search for the raw value.
	red.AddBasic(clientID, secret)
	var retry RetryPolicy
	if o.Retry != nil {
		retry = *o.Retry
	}
	sleep := o.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	return &endpoint{
		tokenURL:  u.String(),
		origin:    originOf(u),
		client:    tokenHTTPClient(o.HTTPClient, originOf(u)),
		header:    h,
		authStyle: style,
		clientID:  clientID,
		secret:    secret,
		logger:    loggerOrDiscard(o.Logger),
		now:       now,
		red:       red,
		retry:     retry.withDefaults(),
		sleep:     sleep,
		tel:       o.Telemetry,
	}, nil
}

// tokenHTTPClient copies base with a redirect policy that keeps token
// requests on their origin: a 307/308 would replay the grant, secrets and
// all, to wherever the redirect points.
func tokenHTTPClient(base *http.Client, o origin) *http.Client {
	c := &http.Client{Timeout: DefaultHTTPTimeout}
	if base != nil {
		cp := *base
		c = &cp
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if originOf(req.URL) != o {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
	return c
}

func (e *endpoint) post(ctx context.Context, grant string, form url.Values) (*oauth2.Token, error) {
	form.Set("grant_type", grant)
	if e.authStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", e.clientID)
		if e.secret != "" {
			form.Set("client_secret", e.secret)
		}
	}
	body := form.Encode()
	once := func(ctx context.Context) (*oauth2.Token, error) { return e.postOnce(ctx, grant, body) }
	var tok *oauth2.Token
	var err error
	if singleUse(grant) {
		tok, err = once(ctx) // single-use: never sent twice
	} else {
		tok, err = retryToken(ctx, e.retry, e.sleep, e.logger, once)
	}
	if err != nil {
		return nil, e.red.Error(err)
	}
	e.red.AddToken(tok)
	return tok, nil
}

// singleUse reports whether a grant's credential works once only, so that
// sending the request again could spend it (a refresh token a server
// rotated before its answer was lost) or be refused anyway.
func singleUse(grant string) bool { return grant == "refresh_token" || grant == "authorization_code" }

// RetryTemporary calls fetch, and again while it fails with a temporary
// *TokenError (a transport error, 429, 502, 503 or 504), with the default
// RetryPolicy: up to 4 attempts, exponential backoff with full jitter, and
// the response's Retry-After honoured (TokenError.RetryAfter, which
// ParseTokenResponse sets) up to 30 s; a longer one returns the error at
// once. Within a Cache that is backing off after a failed fetch it makes
// one attempt, the cache's schedule being the retry. It is for flows that
// send their token request themselves (First AML's JSON body); never use it
// for a grant whose credential is single-use (a refresh token, a code). It is RetryTemporaryWith(ctx, RetryPolicy{},
// nil, fetch).
func RetryTemporary(ctx context.Context, fetch func(context.Context) (*oauth2.Token, error)) (*oauth2.Token, error) {
	return RetryTemporaryWith(ctx, RetryPolicy{}, nil, fetch)
}

// RetryTemporaryWith is RetryTemporary with a policy (the zero value means
// the defaults) and a sleep function (nil: a timer; tests pass one that
// records the waits). A wait that would outlive ctx's deadline returns the
// last error at once.
func RetryTemporaryWith(ctx context.Context, policy RetryPolicy, sleep func(context.Context, time.Duration) error, fetch func(context.Context) (*oauth2.Token, error)) (*oauth2.Token, error) {
	if sleep == nil {
		sleep = sleepCtx
	}
	return retryToken(ctx, policy.withDefaults(), sleep, nil, fetch)
}

// noRetryKey marks the context of a Cache fetch that follows a failed one:
// the cache's backoff schedules the next attempt, so the flow makes one.
type noRetryKey struct{}

func retryToken(ctx context.Context, p RetryPolicy, sleep func(context.Context, time.Duration) error, logger *slog.Logger,
	fetch func(context.Context) (*oauth2.Token, error)) (*oauth2.Token, error) {
	if ctx.Value(noRetryKey{}) != nil {
		return fetch(ctx)
	}
	for attempt := 1; ; attempt++ {
		tok, err := fetch(ctx)
		if err == nil {
			return tok, nil
		}
		var te *TokenError
		if attempt >= p.MaxAttempts || !errors.As(err, &te) || !retryableTokenError(ctx, te) {
			return nil, err
		}
		wait := p.backoff(attempt)
		if te.RetryAfter > 0 {
			if te.RetryAfter > p.MaxRetryAfter {
				return nil, err // the caller (a Cache) waits that long instead
			}
			wait = te.RetryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, err // waiting would outlive the caller
		}
		if logger != nil {
			logger.LogAttrs(ctx, slog.LevelInfo, "auth: retrying the token request",
				slog.String("grant", te.Grant), slog.Int("status", te.StatusCode), slog.Int("attempt", attempt), slog.Duration("wait", wait))
		}
		if sleep(ctx, wait) != nil {
			return nil, err
		}
	}
}

// retryableTokenError is the API calls' rule (RetryPolicy) for a token
// request: 429, 502, 503, 504, or a transport error that is not the
// caller's context ending or a certificate problem.
func retryableTokenError(ctx context.Context, te *TokenError) bool {
	if te.StatusCode == 0 {
		return te.Err != nil && retryableError(ctx, te.Err)
	}
	return retryableStatus(te.StatusCode)
}

// TokenHTTPClient returns a copy of base (nil: a client with a
// DefaultHTTPTimeout timeout) whose redirect policy keeps requests on
// tokenURL's origin, for flows that send their token request themselves:
// a 307 or 308 would replay the request, secret and all, wherever it
// points. tokenURL must pass CheckURL.
func TokenHTTPClient(base *http.Client, tokenURL string) (*http.Client, error) {
	u, err := CheckURL(tokenURL)
	if err != nil {
		return nil, err
	}
	return tokenHTTPClient(base, originOf(u)), nil
}

func (e *endpoint) postOnce(ctx context.Context, grant, body string) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.tokenURL, strings.NewReader(body))
	if err != nil {
		return nil, &TokenError{Grant: grant, Err: e.red.Error(err), red: e.red}
	}
	for k, v := range e.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.tel.InjectTokenRequest(ctx, req.Header) // only when the client asked
	if e.authStyle == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(e.clientID), url.QueryEscape(e.secret))
	}
	start := time.Now()
	a := e.tel.startAttempt(req, 1, false) // a child of the fetch's span; no trace context sent
	resp, err := e.client.Do(a.req)
	e.tel.endAttempt(a, resp, err)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "auth: token request failed",
			slog.String("grant", grant), slog.String("origin", e.origin.String()), slog.Duration("took", time.Since(start)))
		return nil, &TokenError{Grant: grant, Err: e.red.Error(err), red: e.red}
	}
	e.logger.LogAttrs(ctx, slog.LevelDebug, "auth: token response",
		slog.String("grant", grant), slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		resp.Body.Close()
		te := &TokenError{Grant: grant, StatusCode: resp.StatusCode,
			Reason: "token endpoint redirected to another origin; not followed", red: e.red}
		te.setHeaders(resp.Header)
		return nil, te
	}
	return parseTokenResponse(resp, grant, e.red, e.now())
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
