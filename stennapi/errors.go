package stennapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/internal/apiclient"
)

// Error is what the Stenn API answered when it was not a success: any
// non-2xx status, or a 2xx whose body could not be used. Use it with
// errors.As:
//
//	var se *stennapi.Error
//	if errors.As(err, &se) && se.StatusCode == http.StatusPaymentRequired { ... }
type Error struct {
	// Op is the SDK operation, e.g. "list companies".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is Stenn's human-readable message; for invoice errors it may
	// be shown to your users.
	Message string
	// ExceptionKey is Stenn's internal reference for its support team.
	ExceptionKey string
	// RequestID is the request id header of the response, if any.
	RequestID string
	// RetryAfter is the Retry-After of a 429 or 503, if given.
	RetryAfter time.Duration
	// Reason says what was wrong with a response that was not Stenn's error
	// body (an HTML error page, malformed JSON, an oversized body).
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("stennapi: " + e.Op + ": status " + strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" && e.StatusCode != 200 {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.ExceptionKey != "" {
		b.WriteString(" (exception_key " + e.ExceptionKey + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: 429 and 5xx.
func (e *Error) Temporary() bool { return e.StatusCode == 429 || e.StatusCode >= 500 }

// TokenExpired reports whether Stenn refused the access token (401); the
// client has already fetched a new token and replayed the request once.
func (e *Error) TokenExpired() bool { return e.StatusCode == http.StatusUnauthorized }

// newError reads an error response. Every text copied from it goes
// through red, which knows the client's secrets and tokens, before it is
// trimmed: a server that echoes the request cannot put a secret into the
// error.
func newError(op string, resp *http.Response, red *auth.Redactor) *Error {
	clean := cleaner(red)
	e := &Error{Op: op, StatusCode: resp.StatusCode, RequestID: clean(auth.RequestID(resp.Header))}
	if d, ok := auth.RetryAfter(resp.Header, time.Now()); ok {
		e.RetryAfter = d
	}
	body := apiclient.ReadErrorBody(resp)
	var se stenn.Error
	if apiclient.ErrorFields(body, resp.Header.Get("Content-Type"), &se) && (se.Message != nil || se.ExceptionKey != nil) {
		e.Message = clean(deref(se.Message))
		e.ExceptionKey = clean(deref(se.ExceptionKey))
		return e
	}
	switch ct := resp.Header.Get("Content-Type"); {
	case len(strings.TrimSpace(string(body))) == 0:
		e.Reason = "empty response body"
	case ct != "" && !apiclient.IsJSON(ct):
		e.Reason = "response is not JSON (" + clean(strings.SplitN(ct, ";", 2)[0]) + ")"
	default:
		e.Reason = "response is not Stenn's error body"
	}
	return e
}

func bodyError(op string, resp *http.Response, err error, red *auth.Redactor) error {
	var be *apiclient.BodyError
	if !errors.As(err, &be) {
		return red.Error(err)
	}
	clean := cleaner(red)
	return &Error{Op: op, StatusCode: resp.StatusCode, RequestID: clean(auth.RequestID(resp.Header)), Reason: clean(be.Error())}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cleaner returns the function that makes provider text safe to show: the
// client's secrets removed in every form (before any cut), control
// characters and runs of spaces collapsed, the length bounded.
func cleaner(red *auth.Redactor) func(string) string {
	return func(s string) string { return strings.Join(strings.Fields(red.Field(s)), " ") }
}
