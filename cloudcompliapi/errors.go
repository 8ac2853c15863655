package cloudcompliapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/internal/apiclient"
)

// Error is what CloudCompli answered when it was not a success: any
// non-2xx status, or a 2xx whose body could not be used; and a refused
// authorization (ParseCallback). Use it with errors.As:
//
//	var ce *cloudcompliapi.Error
//	if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound { ... }
//
// CloudCompli does not document its error bodies; the client reads the
// RFC 6749 shape {"error", "error_description"}, falls back to the
// WWW-Authenticate challenge of a 401, and says in Reason what was wrong
// with any other body.
type Error struct {
	// Op is the SDK operation, e.g. "get user" or "authorize".
	Op string
	// StatusCode is the HTTP status; 0 for a refusal read from a redirect.
	StatusCode int
	// Code is the "error" field, e.g. "invalid_token" or "not_found".
	Code string
	// Description is the "error_description" field.
	Description string
	// RequestID is the request id header of the response, if any.
	RequestID string
	// RetryAfter is the Retry-After of a 429 or 503, if given.
	RetryAfter time.Duration
	// Reason says what was wrong with a response that was not CloudCompli's
	// error body (an HTML error page, malformed JSON, an oversized body, a
	// null object) or with a redirect.
	Reason string
}

// Error describes the failure: package, operation, status, CloudCompli's
// error fields, the reason and the request id; never a secret.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cloudcompliapi: " + e.Op)
	if e.StatusCode != 0 {
		b.WriteString(": status " + strconv.Itoa(e.StatusCode))
		if t := http.StatusText(e.StatusCode); t != "" && (e.StatusCode < 200 || e.StatusCode > 299) {
			b.WriteString(" " + t)
		}
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: 429 and 5xx.
func (e *Error) Temporary() bool { return e.StatusCode == 429 || e.StatusCode >= 500 }

// TokenExpired reports whether CloudCompli refused the access token (401):
// expired, revoked (Revoke All Tokens) or unknown. The client has already
// replayed the request once with the newest token it could get; with a
// StaticToken, generate a new one.
func (e *Error) TokenExpired() bool { return e.StatusCode == http.StatusUnauthorized }

// ErrInvalidArgument is wrapped by the error a method returns, before
// anything is sent, for an argument it cannot use: an empty id, an empty
// image, a MIME type that is not image/*, a form field value that cannot
// be encoded as JSON. Use errors.Is.
var ErrInvalidArgument = errors.New("cloudcompliapi: invalid argument")

type argError struct{ op, msg string }

func (e *argError) Error() string { return "cloudcompliapi: " + e.op + ": invalid argument: " + e.msg }
func (e *argError) Unwrap() error { return ErrInvalidArgument }

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
	ct := resp.Header.Get("Content-Type")
	var oe cloudcompli.OAuthError
	if apiclient.ErrorFields(body, ct, &oe) && (oe.Error != "" || oe.ErrorDescription != nil) {
		e.Code = clean(oe.Error)
		if oe.ErrorDescription != nil {
			e.Description = clean(*oe.ErrorDescription)
		}
		return e
	}
	// RFC 6750 section 3: a 401 may say why in its Bearer challenge.
	if code, desc := bearerChallenge(resp.Header.Get("WWW-Authenticate")); code != "" {
		e.Code, e.Description = clean(code), clean(desc)
	}
	switch {
	case len(strings.TrimSpace(string(body))) == 0:
		e.Reason = "empty response body"
	case ct != "" && !apiclient.IsJSON(ct):
		e.Reason = "response is not JSON (" + clean(strings.SplitN(ct, ";", 2)[0]) + ")"
	default:
		e.Reason = "response is not CloudCompli's error body"
	}
	return e
}

// bearerChallenge returns the error and error_description parameters of a
// Bearer WWW-Authenticate challenge.
func bearerChallenge(h string) (code, desc string) {
	scheme, params, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ""
	}
	for params != "" {
		params = strings.TrimLeft(params, " ,")
		name, rest, ok := strings.Cut(params, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				break
			}
			val, params = rest[1:end+1], rest[end+2:]
		} else {
			val, params, _ = strings.Cut(rest, ",")
		}
		switch name {
		case "error":
			code = val
		case "error_description":
			desc = val
		}
	}
	return code, desc
}

func bodyError(op string, resp *http.Response, err error, red *auth.Redactor) error {
	var be *apiclient.BodyError
	if !errors.As(err, &be) {
		return red.Error(err)
	}
	return contractError(op, resp, be.Error(), red)
}

func contractError(op string, resp *http.Response, reason string, red *auth.Redactor) *Error {
	clean := cleaner(red)
	return &Error{Op: op, StatusCode: resp.StatusCode, RequestID: clean(auth.RequestID(resp.Header)), Reason: clean(reason)}
}

// cleaner returns the function that makes provider text safe to show: the
// client's secrets removed in every form (before any cut), control
// characters and runs of spaces collapsed, the length bounded.
func cleaner(red *auth.Redactor) func(string) string {
	return func(s string) string { return strings.Join(strings.Fields(red.Field(s)), " ") }
}

// clean makes text that holds no secret of a client printable and
// bounded (an argument's echo in an error).
var clean = cleaner(nil)
