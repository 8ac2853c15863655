package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy decides which failed requests are sent again and when: 429,
// 502, 503 and 504 responses and connection errors, for idempotent requests
// only, with exponential backoff and full jitter, honouring Retry-After,
// and stopping at once when the request's context ends. The zero value
// means the defaults.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt too. Optional. Default 4;
	// 1 disables retries.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles per
	// attempt, and each wait is drawn uniformly from [0, backoff) (full
	// jitter). Optional. Default 200 ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Optional. Default 5 s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the policy waits for; a
	// longer one returns the response to the caller at once. Optional.
	// Default 30 s.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	return p
}

// backoff returns the full-jitter wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MaxDelay
	if n < 30 {
		if b := p.BaseDelay << (n - 1); b > 0 && b < d {
			d = b
		}
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a transport error may succeed on a new
// attempt: not a cancelled context, and not a certificate problem.
func retryableError(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return false
	}
	return true
}

// RetryAfter parses a Retry-After header given in seconds or as an HTTP
// date; ok is false when the header is absent or unparsable.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > 1<<31 {
			secs = 1 << 31
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

type idempotentKey struct{}

// WithIdempotent marks the requests made with ctx as safe to send twice, so
// the retry policy may retry a POST or PATCH. Only mark a request whose
// repetition the server deduplicates or that changes nothing.
func WithIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if v, _ := req.Context().Value(idempotentKey{}).(bool); v {
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}
