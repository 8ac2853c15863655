// Package apiclient holds what the four provider clients share on the wire:
// the User-Agent, request construction, and reading JSON responses with a
// size cap and a Content-Type check. Each provider package turns the
// problems reported here into its own exported error type.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime"
	"strings"
	"sync"

	complykit "github.com/complykit/complykit-go"
)

// Doer sends a request: auth.Doer, or anything with the same method.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// DefaultMaxResponseBytes caps a response body the SDK reads into memory.
const DefaultMaxResponseBytes = 16 << 20

// maxErrorBodyBytes caps what is read of an error response.
const maxErrorBodyBytes = 64 << 10

// UserAgent returns the User-Agent the SDK sends: the caller's product
// first, when given, then the SDK and its version.
func UserAgent(product string) string {
	ua := "complykit-go/" + complykit.Version + " (" + runtime.Version() + ")"
	if product = strings.TrimSpace(product); product != "" {
		return product + " " + ua
	}
	return ua
}

// CheckProduct refuses a product name that cannot go into a User-Agent
// header: a control character would make every request fail in the
// transport, or, from a line break, smuggle in a header.
func CheckProduct(product string) error {
	if strings.ContainsFunc(product, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errors.New("control character in product")
	}
	return nil
}

// NewRequest builds a request with a JSON body (nil for none) whose body
// can be re-sent (GetBody is set), so a 401 replay or a retry is possible.
func NewRequest(ctx context.Context, method, url string, body any) (*http.Request, error) {
	if body == nil {
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header["Accept"] = acceptJSON
		return req, nil
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encoding the request body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header["Accept"] = acceptJSON
	req.Header["Content-Type"] = contentTypeJSON
	return req, nil
}

var (
	acceptJSON      = []string{"application/json"}
	contentTypeJSON = []string{"application/json"}
)

// BodyError describes a response the SDK could not use: not JSON, too
// large, truncated, or cut off by the network. The provider packages wrap
// it in their own error type.
type BodyError struct {
	Reason string
	Err    error
}

func (e *BodyError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *BodyError) Unwrap() error { return e.Err }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// DecodeJSON reads resp's body (capped at max bytes; 0 means
// DefaultMaxResponseBytes), closes it, and unmarshals it into out. A body
// that is not JSON by its Content-Type, too large, cut off or malformed
// gives a *BodyError.
func DecodeJSON(resp *http.Response, max int64, out any) error {
	return DecodeJSONWith(resp, max, func(body []byte) error { return json.Unmarshal(body, out) })
}

// DecodeJSONWith is DecodeJSON with the unmarshalling left to decode, for
// bodies whose shape must be looked at first (a list wrapper or a bare
// array); decode must not keep body, which is reused.
func DecodeJSONWith(resp *http.Response, max int64, decode func(body []byte) error) error {
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" && !IsJSON(ct) {
		io.CopyN(io.Discard, resp.Body, maxErrorBodyBytes)
		return &BodyError{Reason: fmt.Sprintf("response has Content-Type %q, not JSON", shorten(ct, 64))}
	}
	if max <= 0 {
		max = DefaultMaxResponseBytes
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 { // do not pin huge buffers in the pool
			bufPool.Put(buf)
		}
	}()
	if resp.ContentLength > max {
		return &BodyError{Reason: fmt.Sprintf("response body of %d bytes exceeds the %d-byte limit", resp.ContentLength, max)}
	}
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return &BodyError{Reason: "reading the response body failed", Err: err}
	}
	if n > max {
		return &BodyError{Reason: fmt.Sprintf("response body exceeds the %d-byte limit", max)}
	}
	if err := decode(buf.Bytes()); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return &BodyError{Reason: fmt.Sprintf("response does not match the contract: field %q is %s, want %s", typ.Field, typ.Value, typ.Type)}
		case errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON"):
			return &BodyError{Reason: "response is not valid JSON (truncated or malformed)"}
		default:
			return &BodyError{Reason: "response is not valid JSON", Err: err}
		}
	}
	return nil
}

// ReadErrorBody reads at most 64 KiB of an error response and closes it.
func ReadErrorBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	return b
}

// IsJSON reports whether a Content-Type is JSON: application/json or any
// application/*+json (such as application/graphql-response+json).
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// ErrorFields decodes a provider's JSON error body into out, leaving out
// untouched if the body is not a JSON object (an HTML error page). It
// reports whether it decoded anything.
func ErrorFields(body []byte, contentType string, out any) bool {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	if contentType != "" && !IsJSON(contentType) {
		return false
	}
	return json.Unmarshal(b, out) == nil
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// RedactBearer replaces, in each field, the bearer token that resp's
// request carried: a server that echoes the request must not put the token
// into an error message.
func RedactBearer(resp *http.Response, fields ...*string) {
	if resp == nil || resp.Request == nil {
		return
	}
	tok, ok := strings.CutPrefix(resp.Request.Header.Get("Authorization"), "Bearer ")
	if !ok || len(tok) < 4 {
		return
	}
	for _, f := range fields {
		if f != nil && strings.Contains(*f, tok) {
			*f = strings.ReplaceAll(*f, tok, "[redacted]")
		}
	}
}
