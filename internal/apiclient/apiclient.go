// Package apiclient holds what the four provider clients share on the wire:
// their options (Settings, applied by package option), the User-Agent, the
// paths and prebuilt requests taken from the generated clients, and reading
// JSON responses with a size cap and a Content-Type check. Each provider package turns the
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

	"github.com/complykit/complykit-go/internal/version"
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
	ua := "complykit-go/" + version.Number + " (" + runtime.Version() + ")"
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

// maxPooled is the largest buffer kept in the pool: a few large responses
// must not pin their buffers for the life of the process.
const maxPooled = 1 << 20

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
//
// The body is read once into a buffer of the right size when the response
// says its length: a pooled one up to 1 MiB, otherwise one of exactly that
// size, so the body is never copied into a buffer twice its size, as
// growing one would.
func DecodeJSONWith(resp *http.Response, max int64, decode func(body []byte) error) error {
	defer resp.Body.Close()
	if err := checkJSON(resp); err != nil {
		return err
	}
	if max <= 0 {
		max = DefaultMaxResponseBytes
	}
	if resp.ContentLength > max {
		return limitError(resp.ContentLength, max)
	}
	var body []byte
	if cl := resp.ContentLength; cl > maxPooled-bytes.MinRead {
		// Exactly the announced size, and one byte more to see a body
		// longer than announced (which the transport refuses anyway).
		b := make([]byte, cl+1)
		n, err := io.ReadFull(resp.Body, b)
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
		case err != nil:
			return &BodyError{Reason: "reading the response body failed", Err: err}
		default:
			return &BodyError{Reason: fmt.Sprintf("response body is longer than its Content-Length of %d bytes", cl)}
		}
		body = b[:n]
	} else {
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer func() {
			if buf.Cap() <= maxPooled {
				bufPool.Put(buf)
			}
		}()
		if cl > 0 {
			// ReadFrom wants MinRead bytes free before each read: with
			// only one spare byte it would double the buffer at the end.
			buf.Grow(int(cl) + bytes.MinRead)
		}
		n, err := buf.ReadFrom(io.LimitReader(resp.Body, max+1))
		if err != nil {
			return &BodyError{Reason: "reading the response body failed", Err: err}
		}
		if n > max {
			return limitError(0, max)
		}
		body = buf.Bytes()
	}
	if err := decode(body); err != nil {
		return decodeError(err)
	}
	return nil
}

func checkJSON(resp *http.Response) error {
	if ct := resp.Header.Get("Content-Type"); ct != "" && !IsJSON(ct) {
		io.CopyN(io.Discard, resp.Body, maxErrorBodyBytes)
		return &BodyError{Reason: fmt.Sprintf("response has Content-Type %q, not JSON", shorten(ct, 64))}
	}
	return nil
}

func limitError(size, max int64) *BodyError {
	if size > 0 {
		return &BodyError{Reason: fmt.Sprintf("response body of %d bytes exceeds the %d-byte limit", size, max)}
	}
	return &BodyError{Reason: fmt.Sprintf("response body exceeds the %d-byte limit", max)}
}

func decodeError(err error) *BodyError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var be *BodyError
	switch {
	case errors.As(err, &be):
		return be
	case errors.As(err, &typ):
		return &BodyError{Reason: fmt.Sprintf("response does not match the contract: field %q is %s, want %s", typ.Field, typ.Value, typ.Type)}
	case errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON"):
		return &BodyError{Reason: "response is not valid JSON (truncated or malformed)"}
	default:
		return &BodyError{Reason: "response is not valid JSON", Err: err}
	}
}

// StreamThreshold is the body size from which DecodeList decodes a list
// element by element from the network instead of reading it whole first.
const StreamThreshold = 64 << 10

// DecodeList decodes a JSON list, a bare array or an object whose
// wrapperKey member is the array (wrapperKey "" for bare arrays only),
// and closes the body. A body of known length under StreamThreshold is
// read into a pooled buffer and handed to small, the fastest path for the
// usual short list. A longer one, or one of unknown length, is decoded
// element by element straight from the response with elem, so the body
// and the decoded list are never both in memory: the peak is the list
// plus one element. newElem makes the element decoder, only when a list
// is streamed. The max cap applies to both: past it the call fails
// with a *BodyError and returns nothing, never a partial list.
func DecodeList[T any](resp *http.Response, max int64, wrapperKey string, small func(body []byte) ([]T, error), newElem func() func(dec *json.Decoder, out *T) error) ([]T, error) {
	if resp.ContentLength >= 0 && resp.ContentLength < StreamThreshold {
		var out []T
		err := DecodeJSONWith(resp, max, func(body []byte) error {
			var err error
			out, err = small(body)
			return err
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	defer resp.Body.Close()
	if err := checkJSON(resp); err != nil {
		return nil, err
	}
	if max <= 0 {
		max = DefaultMaxResponseBytes
	}
	if resp.ContentLength > max {
		return nil, limitError(resp.ContentLength, max)
	}
	lr := &io.LimitedReader{R: resp.Body, N: max + 1}
	var body io.Reader = lr
	if resp.ContentLength < 0 {
		// Unknown length (chunked): most such lists are short too. Read up
		// to StreamThreshold into a pooled buffer; a body that ends there
		// takes the short path, a longer one is streamed from what was read
		// and the rest.
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer func() {
			if buf.Cap() <= maxPooled {
				bufPool.Put(buf)
			}
		}()
		if _, err := buf.ReadFrom(io.LimitReader(lr, StreamThreshold+1)); err != nil {
			return nil, &BodyError{Reason: "reading the response body failed", Err: err}
		}
		if buf.Len() <= StreamThreshold && int64(buf.Len()) <= max {
			out, err := small(buf.Bytes())
			if err != nil {
				return nil, decodeError(err)
			}
			return out, nil
		}
		body = io.MultiReader(bytes.NewReader(buf.Bytes()), lr)
	}
	out, err := streamList(json.NewDecoder(body), wrapperKey, newElem())
	if lr.N <= 0 {
		return nil, limitError(0, max)
	}
	if err != nil {
		return nil, decodeError(err)
	}
	return out, nil
}

var errNotList = errors.New("response is not a list")

// DecodeArray is DecodeList for a bare JSON array of T decoded as is; a
// JSON null is not a list.
func DecodeArray[T any](resp *http.Response, max int64) ([]T, error) {
	return DecodeList(resp, max, "", func(body []byte) ([]T, error) {
		var out []T
		if err := json.Unmarshal(body, &out); err != nil {
			return nil, err
		}
		if out == nil {
			return nil, &BodyError{Reason: errNotList.Error() + " (null)"}
		}
		return out, nil
	}, plainElem[T])
}

func plainElem[T any]() func(*json.Decoder, *T) error {
	return func(dec *json.Decoder, out *T) error { return dec.Decode(out) }
}

func streamList[T any](dec *json.Decoder, wrapperKey string, elem func(*json.Decoder, *T) error) ([]T, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	var out []T
	switch tok {
	case json.Delim('['):
		if out, err = streamArray(dec, elem); err != nil {
			return nil, err
		}
	case json.Delim('{'):
		if wrapperKey == "" {
			return nil, &BodyError{Reason: "response is an object, not a list"}
		}
		found := false
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if key == wrapperKey && !found {
				found = true
				t, err := dec.Token()
				if err != nil {
					return nil, err
				}
				if t != json.Delim('[') {
					return nil, &BodyError{Reason: fmt.Sprintf("response field %q is not a list", wrapperKey)}
				}
				if out, err = streamArray(dec, elem); err != nil {
					return nil, err
				}
				continue
			}
			var skip json.RawMessage // other members: read and dropped
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return nil, err
		}
		if !found {
			return nil, &BodyError{Reason: fmt.Sprintf("response has no %q list", wrapperKey)}
		}
	case nil:
		return nil, &BodyError{Reason: errNotList.Error() + " (null)"}
	default:
		return nil, &BodyError{Reason: errNotList.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &BodyError{Reason: "response is not valid JSON (data after the list)"}
	}
	return out, nil
}

func streamArray[T any](dec *json.Decoder, elem func(*json.Decoder, *T) error) ([]T, error) {
	out := []T{}
	for dec.More() {
		var zero T
		out = append(out, zero)
		if err := elem(dec, &out[len(out)-1]); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, err
	}
	return out, nil
}

// OperationPath returns the path that a generated request builder puts
// under a server root, e.g. "/auth/v1/token", so that a provider package
// takes a spec's path from gen/ instead of spelling it. Call it once, at
// package initialisation: a builder can fail only if the generator is
// broken, and then every test of the package fails at once.
func OperationPath(build func(server string) (*http.Request, error)) string {
	req, err := build("http://spec.invalid/")
	if err != nil {
		panic("apiclient: a generated request builder failed: " + err.Error())
	}
	return req.URL.EscapedPath()
}

// OperationURL is the URL of a spec's operation under base, an API root
// with or without a trailing slash: what the generated client would call.
func OperationURL(base string, build func(server string) (*http.Request, error)) (string, error) {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	req, err := build(base)
	if err != nil {
		return "", err
	}
	return req.URL.String(), nil
}

// IsEncodingError reports whether err is encoding/json's refusal to encode
// a request body: the generated builders marshal bodies before anything is
// sent, so such a call failed on its input, not on the wire.
func IsEncodingError(err error) bool {
	if err == nil {
		return false
	}
	var ut *json.UnsupportedTypeError
	var uv *json.UnsupportedValueError
	var me *json.MarshalerError
	return errors.As(err, &ut) || errors.As(err, &uv) || errors.As(err, &me)
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
	// The usual answers, without the allocations of a full parse.
	switch contentType {
	case "application/json", "application/json; charset=utf-8", "application/json;charset=utf-8", "application/json; charset=UTF-8":
		return true
	}
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

// Prebuilt returns the send function of an operation without parameters
// or body: the generated request builder runs once, here, and each call
// clones its request for the call's context, runs the generated client's
// editors (base) and the call's own, and sends it with the generated
// client's doer, exactly as the generated operation method would. The
// builder parses the server URL three times per call (7 allocations, about
// a microsecond); a clone costs what http.NewRequest does.
func Prebuilt[E ~func(context.Context, *http.Request) error](server string, build func(server string) (*http.Request, error), doer Doer, base []E) (func(ctx context.Context, eds ...E) (*http.Response, error), error) {
	if !strings.HasSuffix(server, "/") {
		server += "/" // as the generated NewClient does
	}
	tmpl, err := build(server)
	if err != nil {
		return nil, err
	}
	if tmpl.Body != nil && tmpl.Body != http.NoBody {
		return nil, errors.New("apiclient: Prebuilt: the operation has a body")
	}
	return func(ctx context.Context, eds ...E) (*http.Response, error) {
		if ctx == nil {
			return nil, errors.New("net/http: nil Context")
		}
		req := tmpl.Clone(ctx)
		for _, edit := range base {
			if err := edit(ctx, req); err != nil {
				return nil, err
			}
		}
		for _, edit := range eds {
			if err := edit(ctx, req); err != nil {
				return nil, err
			}
		}
		return doer.Do(req)
	}, nil
}
