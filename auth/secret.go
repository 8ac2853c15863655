package auth

import (
	"fmt"
	"log/slog"
)

// SecretString is a string that holds a secret a server handed out, such
// as First AML's webhook verifier key: it decodes from JSON as a plain
// string, and shows "[redacted]" under every fmt verb and flag, in
// encoding/json and in log/slog, so a result that carries it can be
// printed, logged or marshalled without leaking it. Reveal returns it.
type SecretString string

// Reveal returns the secret itself.
func (s SecretString) Reveal() string { return string(s) }

func (s SecretString) safe() Safe {
	return Safe{Type: "auth.SecretString", Fields: []SafeField{Secret("Value", string(s))}}
}

// String shows whether the secret is set, never its value.
func (s SecretString) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Format implements fmt.Formatter: no verb or flag prints the secret.
func (s SecretString) Format(f fmt.State, verb rune) { FormatText(f, verb, s.String()) }

// MarshalJSON implements json.Marshaler: the secret is never encoded.
func (s SecretString) MarshalJSON() ([]byte, error) { return s.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without the secret.
func (s SecretString) LogValue() slog.Value { return slog.StringValue(s.String()) }
