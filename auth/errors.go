package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// TokenError is returned when a token endpoint refuses a request or answers
// with something that is not a token: an OAuth error body, an HTML error
// page, a truncated or oversized body, a token of an unsupported type.
//
// Use it with errors.As. Its message never contains the client secret, the
// password, or any token: every field copied from the response went through
// the flow's Redactor (see Redactor.Field), and the message is redacted once
// more when it is built. It prints the same message under every fmt verb,
// encodes as JSON without its cause's internals, and logs as a slog group.
type TokenError struct {
	// Grant is the grant_type of the failed request, e.g. "refresh_token".
	Grant string
	// StatusCode is the HTTP status of the response; 0 if none arrived.
	StatusCode int
	// Code is the OAuth "error" field, e.g. "invalid_grant".
	Code string
	// Description is the OAuth "error_description" field.
	Description string
	// Message is a provider's free-text "message" field (Stems, Stenn).
	Message string
	// ContentType is the response's Content-Type.
	ContentType string
	// Reason says what was wrong with a response that was not an OAuth
	// error body, e.g. "response is not JSON".
	Reason string
	// RequestID is the provider's request id header, when present.
	RequestID string
	// Err is the transport error when no response arrived.
	Err error
	// RetryAfter is the response's Retry-After (429 and 503 responses
	// usually carry one); 0 when absent or zero, and then the retry
	// policy's own backoff applies. The flows' retries and the Cache's
	// backoff wait at least this long before the next token request.
	RetryAfter time.Duration

	red *Redactor // redacts the message once more; nil for a TokenError built elsewhere
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("auth: token request")
	if e.Grant != "" {
		b.WriteString(" (" + e.Grant + " grant)")
	}
	b.WriteString(" failed")
	if e.StatusCode != 0 {
		b.WriteString(": status " + strconv.Itoa(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Message != "" && e.Message != e.Description {
		b.WriteString(": " + e.Message)
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
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after " + e.RetryAfter.String() + ")")
	}
	return e.red.Redact(b.String())
}

// Unwrap returns the transport error, if any.
func (e *TokenError) Unwrap() error { return e.Err }

// Format prints Error for every verb, so %d or %#v cannot reach a field.
func (e *TokenError) Format(f fmt.State, verb rune) { FormatText(f, verb, e.Error()) }

// MarshalJSON encodes the message and the fields, the cause as its message.
func (e *TokenError) MarshalJSON() ([]byte, error) { return marshalErrorJSON(e.Error(), e.fields()) }

// LogValue is a group of the message and the fields.
func (e *TokenError) LogValue() slog.Value {
	return Safe{Fields: append([]SafeField{Public("error", e.Error())}, e.fields()...)}.LogValue()
}

func (e *TokenError) fields() []SafeField {
	fs := []SafeField{Public("grant", e.red.Redact(e.Grant)), Public("status", e.StatusCode)}
	for _, f := range []struct{ name, v string }{
		{"code", e.Code}, {"description", e.Description}, {"message", e.Message},
		{"content_type", e.ContentType}, {"reason", e.Reason}, {"request_id", e.RequestID},
	} {
		if f.v != "" {
			fs = append(fs, Public(f.name, e.red.Redact(f.v)))
		}
	}
	if e.Err != nil {
		fs = append(fs, Public("cause", e.red.Redact(e.Err.Error())))
	}
	if e.RetryAfter > 0 {
		fs = append(fs, Public("retry_after", e.RetryAfter.String()))
	}
	return fs
}

// Temporary reports whether retrying the same request later may succeed: a
// transport error, 429 or a 5xx. An OAuth error (4xx) is never temporary: a
// refresh token is single-use, so a refused refresh must not be replayed.
func (e *TokenError) Temporary() bool {
	if e.StatusCode == 0 {
		return e.Err != nil
	}
	return e.StatusCode == 429 || e.StatusCode >= 500
}

// IsInvalidGrant reports whether err is a token endpoint's invalid_grant: a
// refresh token that was revoked, expired or already used, or a wrong
// password or authorization code.
func IsInvalidGrant(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Code == "invalid_grant"
}

// refusedCredentials reports whether err is a token endpoint's refusal of
// the credentials themselves on a grant that sends them every time (the
// password and client credentials grants): invalid_grant, invalid_client or
// unauthorized_client, or a 401 without an OAuth error code (RFC 6749
// section 5.2: the client failed to authenticate). A 403 without one is
// more often a firewall than a verdict on the credentials. Asking
// again with the same credentials can only be refused again, and may lock
// the user's account.
func refusedCredentials(err error) bool {
	var te *TokenError
	if !errors.As(err, &te) || (te.Grant != "password" && te.Grant != "client_credentials") {
		return false
	}
	switch te.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client":
		return true
	case "":
		return te.StatusCode == 401
	}
	return false
}

// BackoffError is what a Cache returns, without asking its source, while it
// backs off after failed token fetches: every caller gets it until Until.
// It wraps the last fetch's error, so errors.As(err, &tokenErr) and
// errors.Is(err, ErrSignInRequired) still see the cause.
type BackoffError struct {
	// Until is when the next token request is allowed, on the cache's clock.
	Until time.Time
	// Wait is how long that was from when this error was returned.
	Wait time.Duration
	// Failures counts the consecutive failed fetches.
	Failures int
	// Refused is set when the token endpoint refused the credentials
	// themselves (invalid_grant or invalid_client on a password or client
	// credentials grant): no request is made until CacheOptions.RefusedCooldown
	// has passed or Cache.ResetBackoff is called.
	Refused bool
	// Err is the last fetch's error (usually a *TokenError), redacted.
	Err error
}

func (e *BackoffError) Error() string {
	var b strings.Builder
	b.WriteString("auth: not asking for a token until ")
	b.WriteString(e.Until.UTC().Format(time.RFC3339))
	b.WriteString(" (in " + e.Wait.Round(time.Millisecond).String() + ")")
	if e.Refused {
		b.WriteString(": the credentials were refused; correct them (then Cache.ResetBackoff) or wait")
	} else {
		b.WriteString(" after " + strconv.Itoa(e.Failures) + " failed token fetch")
		if e.Failures != 1 {
			b.WriteString("es")
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the last fetch's error.
func (e *BackoffError) Unwrap() error { return e.Err }

// Format prints Error for every verb.
func (e *BackoffError) Format(f fmt.State, verb rune) { FormatText(f, verb, e.Error()) }

// MarshalJSON encodes the message and the schedule.
func (e *BackoffError) MarshalJSON() ([]byte, error) { return marshalErrorJSON(e.Error(), e.fields()) }

// LogValue is a group of the message and the schedule.
func (e *BackoffError) LogValue() slog.Value {
	return Safe{Fields: append([]SafeField{Public("error", e.Error())}, e.fields()...)}.LogValue()
}

func (e *BackoffError) fields() []SafeField {
	return []SafeField{Public("until", e.Until.UTC().Format(time.RFC3339Nano)), Public("wait", e.Wait.String()),
		Public("failures", e.Failures), Public("refused", e.Refused)}
}
