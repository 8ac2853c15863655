package firstamlapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
)

// Error is what went wrong with a call to First AML's API: a GraphQL-over-
// HTTP error status (400 for a request that is not valid GraphQL, 401, 429,
// 5xx) with the errors of its body, GraphQL errors in a 200, a body that
// could not be used (an HTML error page, malformed or oversized JSON, a
// wrong Content-Type), or a failure before any answer (the token could not
// be obtained, the connection failed, the context ended; see Err). Use it
// with errors.As:
//
//	var fe *firstamlapi.Error
//	if errors.As(err, &fe) && fe.StatusCode == http.StatusBadRequest { ... }
//
// Business validation failures of the create mutations are not errors:
// they come back as a *CreateCaseResultValidationErrors result.
type Error struct {
	// Op is the operation, e.g. "CreateLiteCase".
	Op string
	// StatusCode is the HTTP status; 0 when no response arrived (see Err).
	StatusCode int
	// Errors are the GraphQL errors First AML returned, with their paths.
	Errors []GraphQLError
	// RequestID is the request id header of the response, if any.
	RequestID string
	// RetryAfter is the Retry-After of a 429 or 503, if given.
	RetryAfter time.Duration
	// Reason says what was wrong with a response that was not a usable
	// GraphQL response.
	Reason string
	// Err is the cause when no usable response arrived: an *auth.TokenError
	// when no token could be obtained, a context error, a transport error.
	Err error
}

// GraphQLError is one entry of a GraphQL response's errors list.
type GraphQLError struct {
	// Message is the server's description of the error.
	Message string
	// Path is the response path of the field that failed, e.g.
	// "createLiteCase" or "caseDetails.individuals[0].legalName"; empty for
	// errors about the request as a whole (a parse or validation error).
	Path string
	// Code is extensions.code, when the server sets one.
	Code string
}

// maxErrorsShown bounds how many GraphQL errors Error() prints.
const maxErrorsShown = 3

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("firstamlapi: " + e.Op)
	if e.StatusCode != 0 {
		b.WriteString(": status " + strconv.Itoa(e.StatusCode))
		if t := http.StatusText(e.StatusCode); t != "" && e.StatusCode != http.StatusOK {
			b.WriteString(" " + t)
		}
	}
	for i, ge := range e.Errors {
		if i == maxErrorsShown {
			b.WriteString("; and " + strconv.Itoa(len(e.Errors)-i) + " more")
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(ge.Message)
		if ge.Path != "" {
			b.WriteString(" (at " + ge.Path + ")")
		}
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Unwrap returns Err, so errors.As finds an *auth.TokenError and errors.Is
// finds context.Canceled.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later: 429 and 5xx.
func (e *Error) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// TokenExpired reports whether First AML refused the access token (401);
// the client has already fetched a new token and replayed the request once.
func (e *Error) TokenExpired() bool { return e.StatusCode == http.StatusUnauthorized }

// errorBody is a GraphQL response as far as an error needs it.
type errorBody struct {
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// newError reads an error response. Every text copied from it goes
// through red, which knows the client's secret and tokens, before it is
// trimmed: a server that echoes the request cannot put a secret into the
// error.
func newError(op string, resp *http.Response, red *auth.Redactor) *Error {
	clean := cleaner(red)
	e := &Error{Op: op, StatusCode: resp.StatusCode, RequestID: clean(auth.RequestID(resp.Header))}
	if d, ok := auth.RetryAfter(resp.Header, time.Now()); ok {
		e.RetryAfter = d
	}
	body := apiclient.ReadErrorBody(resp)
	var eb errorBody
	if apiclient.ErrorFields(body, resp.Header.Get("Content-Type"), &eb) && len(eb.Errors) > 0 {
		for _, ge := range eb.Errors {
			out := GraphQLError{Message: clean(ge.Message), Path: clean(formatPath(ge.Path))}
			if code, ok := ge.Extensions["code"].(string); ok {
				out.Code = clean(code)
			}
			e.Errors = append(e.Errors, out)
		}
		return e
	}
	switch ct := resp.Header.Get("Content-Type"); {
	case len(strings.TrimSpace(string(body))) == 0:
		e.Reason = "empty response body"
	case ct != "" && !apiclient.IsJSON(ct):
		e.Reason = "response is not JSON (" + clean(strings.SplitN(ct, ";", 2)[0]) + ")"
	default:
		e.Reason = "response is not a GraphQL error response"
	}
	return e
}

// formatPath renders a GraphQL response path the way gqlparser does:
// names joined by dots, list indices in brackets.
func formatPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch v := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		case float64:
			b.WriteString("[" + strconv.FormatFloat(v, 'f', -1, 64) + "]")
		}
	}
	return b.String()
}

func bodyError(op string, resp *http.Response, err error, red *auth.Redactor) error {
	clean := cleaner(red)
	var be *apiclient.BodyError
	if !errors.As(err, &be) {
		return &Error{Op: op, StatusCode: resp.StatusCode, RequestID: clean(auth.RequestID(resp.Header)), Err: red.Error(err)}
	}
	return &Error{Op: op, StatusCode: resp.StatusCode, RequestID: clean(auth.RequestID(resp.Header)), Reason: clean(be.Error())}
}

// cleaner returns the function that makes provider text safe to show: the
// client's secrets removed in every form (before any cut), control
// characters and runs of spaces collapsed, the length bounded.
func cleaner(red *auth.Redactor) func(string) string {
	return func(s string) string { return strings.Join(strings.Fields(red.Field(s)), " ") }
}

// clean makes text that holds no secret of a client (an operation name)
// printable and bounded.
var clean = cleaner(nil)
