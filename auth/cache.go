package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"
)

// CacheOptions configure a Cache. The zero value is ready to use.
type CacheOptions struct {
	// Store persists tokens across restarts and processes. Optional.
	// Default: a MemoryStore.
	Store Store
	// Key names this cache's tokens in Store. Optional. Default: the
	// source's CacheKey (see Keyer), else "default".
	Key string
	// RefreshAfter is the share of a token's lifetime after which one
	// background refresh starts while callers keep using the current token.
	// Optional; between 0 and 1 exclusive. Default 0.75.
	RefreshAfter float64
	// ExpiryMargin is how long before expiry a token stops being handed out
	// and callers wait for a new one (at most a tenth of the token's life).
	// Optional. Default 30 s.
	ExpiryMargin time.Duration
	// FetchTimeout bounds each shared fetch, which no caller's context can
	// cancel. Optional. Default 60 s.
	FetchTimeout time.Duration
	// Logger sees fetches, refreshes and invalidations, never a token: every
	// error it logs went through the Redactor. Optional.
	Logger *slog.Logger
	// Now is the clock, for expiry and backoff. Optional; tests set it.
	Now func() time.Time
	// Redactor removes secrets from the cache's errors and log lines; the
	// cache registers with it every token it obtains or loads from Store.
	// Give it the same Redactor as the flow (FlowOptions.Redactor).
	// Optional; default: the source's (the flows of this package have a
	// Redactor method), else a new one. When both are set and differ, this
	// one includes the source's (Redactor.Include).
	Redactor *Redactor
	// Telemetry traces token fetches (each the root of a trace of its own,
	// linked from the spans of the callers that waited for it and to the
	// fetch of the token it replaces) and measures them, the callers'
	// waits, store errors and lock waits. Optional; nil records nothing.
	Telemetry *Telemetry
	// FailureBackoff is how long the cache waits after a failed token fetch
	// before it asks the source again; it doubles with each consecutive
	// failure up to MaxFailureBackoff, and each wait is drawn from [half, all]
	// of it (jitter). A longer Retry-After on the token response (see
	// TokenError.RetryAfter) is honoured, up to an hour. Meanwhile every
	// caller that needs a new token gets a *BackoffError at once, without a
	// request. The background refresh follows the same schedule. Optional.
	// Default 1 s.
	FailureBackoff time.Duration
	// MaxFailureBackoff caps FailureBackoff's doubling. Optional. Default 1 min.
	MaxFailureBackoff time.Duration
	// RefusedCooldown is how long the cache waits after the token endpoint
	// refused the credentials themselves (invalid_grant, invalid_client or
	// unauthorized_client, or a 401 without an OAuth error, on a
	// password or client credentials grant): the same credentials can only
	// be refused again, and repeated wrong passwords lock accounts. Call
	// ResetBackoff once the credentials are corrected, or build a new
	// client. Optional. Default 15 min.
	RefusedCooldown time.Duration
}

const (
	defaultRefreshAfter      = 0.75
	defaultExpiryMargin      = 30 * time.Second
	defaultFetchTimeout      = 60 * time.Second
	defaultFailureBackoff    = time.Second
	defaultMaxFailureBackoff = time.Minute
	defaultRefusedCooldown   = 15 * time.Minute
	// maxHonouredRetryAfter bounds the Retry-After a cache honours, so a
	// broken or hostile server cannot silence a client for days.
	maxHonouredRetryAfter = time.Hour
)

func (o *CacheOptions) validate() error {
	if o.RefreshAfter < 0 || o.RefreshAfter >= 1 {
		return fmt.Errorf("auth: cache: RefreshAfter %v is not between 0 and 1", o.RefreshAfter)
	}
	if o.ExpiryMargin < 0 || o.FetchTimeout < 0 {
		return errors.New("auth: cache: ExpiryMargin and FetchTimeout may not be negative")
	}
	if o.FailureBackoff < 0 || o.MaxFailureBackoff < 0 || o.RefusedCooldown < 0 {
		return errors.New("auth: cache: FailureBackoff, MaxFailureBackoff and RefusedCooldown may not be negative")
	}
	if o.FailureBackoff > 0 && o.MaxFailureBackoff > 0 && o.FailureBackoff > o.MaxFailureBackoff {
		return fmt.Errorf("auth: cache: FailureBackoff %v exceeds MaxFailureBackoff %v", o.FailureBackoff, o.MaxFailureBackoff)
	}
	return nil
}

// Cache wraps any token source and makes it cheap and safe to ask for a
// token on every request:
//
//   - a valid token is returned without taking a lock;
//   - one fetch at a time: every caller that needs a token waits on the same
//     fetch, which runs on its own timeout and is never cancelled by one
//     caller's context (a caller's context bounds only its own wait);
//   - once a token has used RefreshAfter of its life, one background refresh
//     starts and callers keep getting the current token, so after the first
//     fetch no request waits on the token endpoint; a failed background
//     refresh is retried with backoff, and its error reaches callers only if
//     the token actually expires;
//   - a failed fetch, background or blocking, makes the next one wait:
//     exponential backoff with jitter, per cache and shared by all callers,
//     honouring the token response's Retry-After; refused credentials are
//     not tried again for RefusedCooldown (or until ResetBackoff). While it
//     waits, a caller that needs a new token gets a *BackoffError, which
//     says until when and wraps the last error;
//   - Invalidate drops a token only if it is still the cached one, so many
//     concurrent 401s cause a single new fetch;
//   - tokens are saved to the Store before they are handed out; a rotated
//     refresh token that cannot be saved is not used (the caller gets an
//     error) and is saved again before the next use, so it is never lost.
//
// Do not modify the tokens it returns.
//
// It prints, encodes and logs without its tokens, under every verb.
type Cache struct {
	src          oauth2.TokenSource
	store        Store
	key          string
	refreshAfter float64
	margin       time.Duration
	fetchTimeout time.Duration
	logger       *slog.Logger
	now          func() time.Time
	red          *Redactor
	tel          *Telemetry
	lastFetch    trace.SpanContext // the span of the newest token's fetch; guarded by mu
	backoffBase  time.Duration
	backoffMax   time.Duration
	cooldown     time.Duration

	cur          atomic.Pointer[entry]
	fetching     atomic.Bool  // a fetch is in flight
	backoffUntil atomic.Int64 // unix nanos: retryAt, for the lock-free path
	fetchCount   atomic.Int64 // tokens obtained from the source
	mu           sync.Mutex   // guards the fields below
	inflight     *call
	last         *oauth2.Token // newest token, refresh token included
	pending      *oauth2.Token // fetched, but its save failed
	invalid      [8]string     // recently invalidated access tokens
	invalidNext  int
	failures     int       // consecutive failed fetches from the source
	retryAt      time.Time // no fetch from the source before
	lastErr      error     // the last failed fetch's error, redacted
	refused      bool      // lastErr refused the credentials themselves
}

type entry struct {
	tok       *oauth2.Token
	authz     []string // the Authorization header: "Bearer " + access token, built once per token and shared by every request
	refreshAt time.Time
	blockAt   time.Time
	fetch     trace.SpanContext // the span of the fetch that obtained tok
}

type call struct {
	done  chan struct{}
	e     *entry
	err   error
	span  trace.Span // the fetch's, nil without telemetry
	ctx   context.Context
	start time.Time
}

// NewCache returns a Cache over src.
func NewCache(src oauth2.TokenSource, opts CacheOptions) (*Cache, error) {
	if src == nil {
		return nil, errors.New("auth: cache: token source is required")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	c := &Cache{
		src:          src,
		store:        opts.Store,
		key:          opts.Key,
		refreshAfter: opts.RefreshAfter,
		margin:       opts.ExpiryMargin,
		fetchTimeout: opts.FetchTimeout,
		logger:       loggerOrDiscard(opts.Logger),
		now:          opts.Now,
		red:          opts.Redactor,
		tel:          opts.Telemetry,
		backoffBase:  opts.FailureBackoff,
		backoffMax:   opts.MaxFailureBackoff,
		cooldown:     opts.RefusedCooldown,
	}
	if rs, ok := src.(interface{ Redactor() *Redactor }); ok {
		switch srcRed := rs.Redactor(); {
		case srcRed == nil:
		case c.red == nil:
			c.red = srcRed
		default:
			c.red.Include(srcRed)
		}
	}
	if c.red == nil {
		c.red = NewRedactor()
	}
	if c.backoffBase == 0 {
		c.backoffBase = defaultFailureBackoff
	}
	if c.backoffMax == 0 {
		c.backoffMax = max(defaultMaxFailureBackoff, c.backoffBase)
	}
	if c.cooldown == 0 {
		c.cooldown = defaultRefusedCooldown
	}
	if c.store == nil {
		c.store = NewMemoryStore()
	}
	if c.key == "" {
		if k, ok := src.(Keyer); ok {
			c.key = k.CacheKey()
		} else {
			c.key = "default"
		}
	}
	if c.refreshAfter == 0 {
		c.refreshAfter = defaultRefreshAfter
	}
	if c.margin == 0 {
		c.margin = defaultExpiryMargin
	}
	if c.fetchTimeout == 0 {
		c.fetchTimeout = defaultFetchTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Key returns the key under which the cache saves its tokens.
func (c *Cache) Key() string { return c.key }

// Fetches returns how many tokens the cache has obtained from its source
// (not counting tokens adopted from the Store).
func (c *Cache) Fetches() int64 { return c.fetchCount.Load() }

// Redactor returns the Redactor of the cache's errors and log lines.
func (c *Cache) Redactor() *Redactor { return c.red }

// ResetBackoff forgets the failed fetches, so the next caller that needs a
// token asks the source at once: call it after correcting credentials that
// were refused (a changed password, a rotated client secret in a source
// that reads it afresh).
func (c *Cache) ResetBackoff() {
	c.mu.Lock()
	c.failures, c.retryAt, c.lastErr, c.refused = 0, time.Time{}, nil, false
	c.backoffUntil.Store(0)
	c.mu.Unlock()
}

func (c *Cache) safe() Safe {
	has := c.cur.Load() != nil
	c.mu.Lock()
	failures := c.failures
	c.mu.Unlock()
	return Safe{Type: "auth.Cache", Fields: []SafeField{
		Public("Key", c.key), Public("Fetches", c.fetchCount.Load()), Public("HasToken", has), Public("Failures", failures),
	}}
}

// String describes the cache without its tokens.
func (c *Cache) String() string { return c.safe().String() }

// Format prints String under every verb.
func (c *Cache) Format(f fmt.State, verb rune) { c.safe().Format(f, verb) }

// MarshalJSON encodes the description, without the tokens.
func (c *Cache) MarshalJSON() ([]byte, error) { return c.safe().MarshalJSON() }

// LogValue logs the description, without the tokens.
func (c *Cache) LogValue() slog.Value { return c.safe().LogValue() }

// Token returns a valid token, waiting without a deadline of its own (the
// shared fetch still has FetchTimeout). It implements oauth2.TokenSource.
func (c *Cache) Token() (*oauth2.Token, error) { return c.TokenContext(context.Background()) }

// TokenContext returns a valid token. ctx bounds only this caller's wait.
func (c *Cache) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	e, _, err := c.entry(ctx)
	if err != nil {
		return nil, err
	}
	return e.tok, nil
}

// entry is the hot path: an atomic load and two time comparisons. waited
// is how long the caller waited for a fetch: 0 on the hot path.
func (c *Cache) entry(ctx context.Context) (e *entry, waited time.Duration, err error) {
	if e := c.cur.Load(); e != nil {
		now := c.now()
		if now.Before(e.blockAt) {
			if !now.Before(e.refreshAt) {
				c.refreshAhead(now)
			}
			return e, 0, nil
		}
	}
	start := time.Now()
	e, err = c.wait(ctx)
	return e, time.Since(start), err
}

func (c *Cache) refreshAhead(now time.Time) {
	if c.fetching.Load() || now.UnixNano() < c.backoffUntil.Load() {
		return
	}
	c.mu.Lock()
	if c.inflight == nil {
		c.logger.Debug("auth: refreshing ahead of expiry in the background", slog.String("key", c.key))
		c.startLocked(true)
	}
	c.mu.Unlock()
}

func (c *Cache) wait(ctx context.Context) (*entry, error) {
	c.mu.Lock()
	now := c.now()
	if e := c.cur.Load(); e != nil && now.Before(e.blockAt) {
		c.mu.Unlock()
		return e, nil
	}
	if c.inflight == nil && now.Before(c.retryAt) {
		err := &BackoffError{Until: c.retryAt, Wait: c.retryAt.Sub(now), Failures: c.failures, Refused: c.refused, Err: c.lastErr}
		c.mu.Unlock()
		return nil, err
	}
	cl := c.startLocked(false)
	c.mu.Unlock()
	var fetch trace.SpanContext
	if cl.span != nil {
		fetch = cl.span.SpanContext()
	}
	span := c.tel.startWait(ctx, fetch) // linked to the shared fetch
	defer func() {
		if span != nil {
			span.End()
		}
	}()
	select {
	case <-cl.done:
		return cl.e, cl.err
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: waiting for a token: %w", ctx.Err())
	}
}

func (c *Cache) startLocked(background bool) *call {
	if c.inflight != nil {
		return c.inflight
	}
	cl := &call{done: make(chan struct{}), start: time.Now()}
	// Linked to the fetch of the newest token, even when a 401 dropped it.
	cl.ctx, cl.span = c.tel.startFetch(background, c.lastFetch)
	c.inflight = cl
	c.fetching.Store(true)
	go c.run(cl, c.failures > 0)
	return cl
}

func (c *Cache) run(cl *call, afterFailure bool) {
	ctx, cancel := context.WithTimeout(cl.ctx, c.fetchTimeout)
	if afterFailure {
		// The backoff is the retry now: one request per scheduled fetch.
		ctx = context.WithValue(ctx, noRetryKey{}, true)
	}
	tok, fromSource, err := c.fetchSafely(ctx)
	cancel()

	c.mu.Lock()
	switch {
	case err == nil:
		cl.e = c.newEntry(tok)
		if cl.span != nil {
			cl.e.fetch = cl.span.SpanContext()
			c.lastFetch = cl.e.fetch
		}
		c.cur.Store(cl.e)
		c.last = tok
		c.failures, c.retryAt, c.lastErr, c.refused = 0, time.Time{}, nil, false
		c.backoffUntil.Store(0)
	case !fromSource:
		// The source was not asked (a store failed): nothing to back off
		// from, and the next caller tries the store again.
		cl.err = c.red.Error(err)
		c.logger.Warn("auth: token fetch failed", slog.String("key", c.key), slog.String("error", c.red.Redact(cl.err.Error())))
	default:
		cl.err = c.red.Error(err)
		now := c.now()
		wait, refused, told := c.scheduleLocked(cl.err)
		next := now.Add(wait)
		if e := c.cur.Load(); e != nil && now.Before(e.blockAt) && !refused && !told &&
			(next.After(e.blockAt) || errors.Is(err, ErrSignInRequired)) {
			// The current token is still good: try once more before
			// callers would have to wait; a source that needs the user to
			// sign in again is not asked before then.
			next = e.blockAt
		}
		c.retryAt, c.lastErr, c.refused = next, cl.err, refused
		c.backoffUntil.Store(next.UnixNano())
		c.logger.Warn("auth: token fetch failed", slog.String("key", c.key), slog.String("error", c.red.Redact(cl.err.Error())),
			slog.Int("failures", c.failures), slog.Bool("refused", refused), slog.Duration("retry_in", next.Sub(now)))
	}
	c.inflight = nil
	c.fetching.Store(false)
	c.mu.Unlock()
	c.tel.endFetch(cl.span, cl.start, cl.err)
	close(cl.done)
}

// scheduleLocked counts a failed fetch from the source and returns how long
// to wait before the next one, whether the credentials were refused, and
// whether the server said how long (Retry-After).
func (c *Cache) scheduleLocked(err error) (wait time.Duration, refused, told bool) {
	c.failures++
	if refusedCredentials(err) {
		return c.cooldown, true, false
	}
	d := c.backoffMax
	if n := c.failures - 1; n < 30 {
		if b := c.backoffBase << n; b > 0 && b < d {
			d = b
		}
	}
	wait = d/2 + rand.N(d/2+1) // equal jitter: never less than half
	var te *TokenError
	if errors.As(err, &te) && te.RetryAfter > 0 {
		if ra := min(te.RetryAfter, maxHonouredRetryAfter); ra >= wait {
			return ra, false, true
		}
	}
	return wait, false, false
}

// fetchSafely is fetch, with a panicking source turned into an error.
// fromSource reports whether the source was asked (and so whether a
// failure counts for the backoff).
func (c *Cache) fetchSafely(ctx context.Context) (tok *oauth2.Token, fromSource bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.logger.Error("auth: token source panicked", slog.String("type", fmt.Sprintf("%T", r)))
			tok, fromSource, err = nil, true, errors.New("auth: token source panicked")
		}
	}()
	return c.fetch(ctx)
}

func (c *Cache) fetch(ctx context.Context) (*oauth2.Token, bool, error) {
	if l, ok := c.store.(Locker); ok {
		// Waiting for the lock may use half the fetch's budget, so a fetch
		// that has to go ahead without it still has time to succeed.
		lctx, lcancel := context.WithTimeout(ctx, c.fetchTimeout/2)
		lockStart := time.Now()
		unlock, err := l.Lock(lctx, c.key)
		lcancel()
		c.tel.lockWaited(time.Since(lockStart))
		if err != nil {
			c.tel.storeError("lock")
		}
		switch {
		case err == nil:
			defer unlock()
		case errors.Is(err, context.DeadlineExceeded):
			c.logger.Warn("auth: timed out waiting for the store lock; fetching without it")
		default:
			c.logger.Warn("auth: store lock unavailable; fetching without it", slog.String("error", c.red.Redact(err.Error())))
		}
	}
	c.mu.Lock()
	pending, last := c.pending, c.last
	c.mu.Unlock()
	now := c.now()

	if pending != nil {
		if err := c.store.Save(ctx, c.key, pending); err != nil {
			c.tel.storeError("save")
			return nil, false, fmt.Errorf("auth: the rotated refresh token still cannot be saved, so it is not used yet: %w", err)
		}
		c.mu.Lock()
		c.pending = nil
		c.mu.Unlock()
		if !c.isInvalid(pending.AccessToken) && now.Before(c.newEntry(pending).blockAt) {
			return pending, false, nil
		}
		last = pending
	}

	stored, err := c.store.Load(ctx, c.key)
	if err != nil {
		c.tel.storeError("load")
		c.logger.Warn("auth: token store load failed", slog.String("error", c.red.Redact(err.Error())))
	}
	if stored != nil {
		c.red.AddToken(stored) // before anything can echo it
		if stored.AccessToken != "" && !c.isInvalid(stored.AccessToken) && now.Before(c.newEntry(stored).refreshAt) {
			c.logger.Debug("auth: using the token in the store", slog.String("key", c.key))
			return stored, false, nil
		}
		if stored.RefreshToken != "" {
			// The store holds the newest refresh token: another process
			// may have rotated the one this process saw last.
			last = stored
		}
	}

	c.red.AddToken(last) // a refresh token about to be sent
	tok, err := c.obtain(ctx, last)
	if err != nil {
		return nil, true, err
	}
	c.red.AddToken(tok)
	c.fetchCount.Add(1)
	tok = c.normalize(tok, last)
	if err := c.store.Save(ctx, c.key, tok); err != nil {
		c.tel.storeError("save")
		rotated := tok.RefreshToken != "" && (last == nil || tok.RefreshToken != last.RefreshToken)
		if rotated {
			c.mu.Lock()
			c.pending = tok
			c.mu.Unlock()
			// The source answered: this is the store's failure, not a
			// reason to back off from the token endpoint.
			return nil, false, fmt.Errorf("auth: the new refresh token could not be saved, so it is not used yet: %w", err)
		}
		c.logger.Warn("auth: token store save failed; keeping the token in memory", slog.String("error", c.red.Redact(err.Error())))
	}
	c.logger.Info("auth: token fetched", slog.String("key", c.key), slog.Int64("expires_in", tok.ExpiresIn),
		slog.Bool("refresh_token", tok.RefreshToken != ""))
	return tok, true, nil
}

func (c *Cache) obtain(ctx context.Context, last *oauth2.Token) (*oauth2.Token, error) {
	if last != nil && last.RefreshToken != "" {
		if r, ok := c.src.(Refresher); ok {
			return r.Refresh(ctx, last)
		}
	}
	if s, ok := c.src.(ContextTokenSource); ok {
		return s.TokenContext(ctx)
	}
	return c.src.Token()
}

// normalize copies tok (extras included), computes its expiry on the
// cache's clock and keeps the previous refresh token when the server sent
// no new one.
func (c *Cache) normalize(tok, last *oauth2.Token) *oauth2.Token {
	cp := *tok
	if cp.ExpiresIn > 0 {
		cp.Expiry = c.now().Add(time.Duration(cp.ExpiresIn) * time.Second)
	}
	if cp.RefreshToken == "" && last != nil {
		cp.RefreshToken = last.RefreshToken
	}
	return &cp
}

func (c *Cache) newEntry(tok *oauth2.Token) *entry {
	e := &entry{tok: tok, authz: []string{"Bearer " + tok.AccessToken}}
	if tok.Expiry.IsZero() {
		far := time.Unix(1<<62, 0)
		e.refreshAt, e.blockAt = far, far
		return e
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	margin := c.margin
	if life > 0 && margin > life/10 {
		margin = life / 10
	}
	e.blockAt = tok.Expiry.Add(-margin)
	e.refreshAt = e.blockAt
	if life > 0 {
		obtained := tok.Expiry.Add(-life)
		if at := obtained.Add(time.Duration(float64(life) * c.refreshAfter)); at.Before(e.blockAt) {
			e.refreshAt = at
		}
	}
	return e
}

// Invalidate drops tok if it is still the cached token, typically after
// the API answered 401 to it, and reports whether it did. A token that was
// already replaced is left alone, so a burst of 401s on one token causes
// one fetch. The refresh token is kept for the next fetch.
func (c *Cache) Invalidate(tok *oauth2.Token) bool {
	if tok == nil {
		return false
	}
	e := c.cur.Load()
	if e == nil || e.tok.AccessToken != tok.AccessToken {
		return false
	}
	c.mu.Lock()
	c.invalid[c.invalidNext] = tok.AccessToken
	c.invalidNext = (c.invalidNext + 1) % len(c.invalid)
	c.mu.Unlock()
	if !c.cur.CompareAndSwap(e, nil) {
		return false
	}
	c.logger.Info("auth: token invalidated", slog.String("key", c.key))
	return true
}

func (c *Cache) isInvalid(access string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.invalid {
		if v != "" && v == access {
			return true
		}
	}
	return false
}
