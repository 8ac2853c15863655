package auth

import (
	"errors"
	"strconv"
	"strings"
)

// TokenError is returned when a token endpoint refuses a request or answers
// with something that is not a token: an OAuth error body, an HTML error
// page, a truncated or oversized body, a token of an unsupported type.
//
// Use it with errors.As. Its message never contains the client secret, the
// password, or any token: fields copied from the response are scrubbed of
// every secret the request carried.
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
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

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

// maxErrorField bounds each text field copied from an error response.
const maxErrorField = 512

// scrubber removes known secrets from text that came back from a server,
// so that an endpoint echoing a request never puts a secret in an error.
type scrubber []string

func newScrubber(secrets ...string) scrubber {
	var s scrubber
	for _, v := range secrets {
		if len(v) >= 4 { // shorter values would redact ordinary words
			s = append(s, v)
		}
	}
	return s
}

// with returns a scrubber that also removes secrets.
func (s scrubber) with(secrets ...string) scrubber {
	return append(newScrubber(secrets...), s...)
}

func (s scrubber) clean(v string) string {
	for _, secret := range s {
		if strings.Contains(v, secret) {
			v = strings.ReplaceAll(v, secret, "[redacted]")
		}
	}
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v)
	if len(v) > maxErrorField {
		v = v[:maxErrorField] + "..."
	}
	return v
}

func (s scrubber) error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if cleaned := s.clean(msg); cleaned != msg {
		return errors.New(cleaned)
	}
	return err
}
