package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Safe is the description that a type holding secrets shows instead of
// itself, whatever prints or encodes it: fmt under every verb and flag (%v
// %+v %#v %s %q %x %d ...), encoding/json, and log/slog. Build one from the
// fields that are safe to show and the secrets reduced to whether they are
// set, and delegate four methods to it:
//
//	func (c Credentials) safe() auth.Safe {
//		return auth.Safe{Type: "acmeapi.Credentials", Fields: []auth.SafeField{
//			auth.Public("ClientID", c.ClientID),
//			auth.Secret("ClientSecret", c.ClientSecret),
//		}}
//	}
//	func (c Credentials) String() string               { return c.safe().String() }
//	func (c Credentials) Format(f fmt.State, verb rune) { c.safe().Format(f, verb) }
//	func (c Credentials) MarshalJSON() ([]byte, error)  { return c.safe().MarshalJSON() }
//	func (c Credentials) LogValue() slog.Value          { return c.safe().LogValue() }
//
// Use value receivers when the type has no lock, so that a copy of the
// value is as safe as a pointer to it. String alone is not enough: %d and
// %x print a struct's fields without calling it, and json and slog's JSON
// handler never call it. Format makes GoString redundant.
type Safe struct {
	// Type names the described type, e.g. "acmeapi.Credentials". Required.
	Type string
	// Fields are shown in this order. Optional.
	Fields []SafeField
}

// SafeField is one field of a Safe description: a public value, or a
// secret reduced to "[redacted]" ("" when it is not set, so that a missing
// secret can still be told apart).
type SafeField struct {
	name   string
	value  any
	secret bool
	set    bool
}

// Public is a field that may be shown as it is. value must be safe to print
// itself: a string, a number, a time, or a type that implements this same
// protection.
func Public(name string, value any) SafeField { return SafeField{name: name, value: value} }

// Secret is a field that shows only whether it is set.
func Secret[T ~string | ~[]byte](name string, value T) SafeField {
	return SafeField{name: name, secret: true, set: len(value) > 0}
}

func (f SafeField) text() string {
	if f.secret {
		if f.set {
			return redactedText
		}
		return `""`
	}
	switch v := f.value.(type) {
	case string:
		return strconv.Quote(v)
	case []string:
		return fmt.Sprintf("%q", v)
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("%v", f.value)
}

// String is Type{Name:value Name:value ...}.
func (s Safe) String() string {
	var b strings.Builder
	b.WriteString(s.Type)
	b.WriteByte('{')
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.name)
		b.WriteByte(':')
		b.WriteString(f.text())
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints String for every verb (see FormatText).
func (s Safe) Format(f fmt.State, verb rune) { FormatText(f, verb, s.String()) }

// MarshalJSON encodes the fields as a JSON object; a secret is
// "[redacted]" or "".
func (s Safe) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f.name)
		b.Write(name)
		b.WriteByte(':')
		var v any = f.value
		if f.secret {
			v = ""
			if f.set {
				v = redactedText
			}
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("auth: encoding %s.%s: %w", s.Type, f.name, err)
		}
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// LogValue is a group of the fields; a secret is "[redacted]" or "".
func (s Safe) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(s.Fields))
	for _, f := range s.Fields {
		if f.secret {
			v := ""
			if f.set {
				v = redactedText
			}
			attrs = append(attrs, slog.String(f.name, v))
			continue
		}
		attrs = append(attrs, slog.Any(f.name, f.value))
	}
	return slog.GroupValue(attrs...)
}

// FormatText prints text for verb as fmt prints a string, whatever the
// verb: %q quotes it, %x and %X hex-encode it, and every other verb (%v,
// %+v, %#v, %s, %d, ...) prints it as %s would, with the width, precision
// and flags given. A Format method that calls it shows text and nothing
// else, so no verb can reach the fields of the value.
func FormatText(f fmt.State, verb rune, text string) {
	switch verb {
	case 'q', 'x', 'X', 's':
		fmt.Fprintf(f, fmt.FormatString(f, verb), text)
	default:
		fmt.Fprintf(f, strings.ReplaceAll(fmt.FormatString(f, 's'), "#", ""), text)
	}
}

// marshalErrorJSON encodes an error as {"error": msg, ...fields}.
func marshalErrorJSON(msg string, fields []SafeField) ([]byte, error) {
	return Safe{Fields: append([]SafeField{Public("error", msg)}, fields...)}.MarshalJSON()
}
