// Package fake holds what the four fake servers (stemsapi/stemstest,
// stennapi/stenntest, cloudcompliapi/cloudcomplitest and
// firstamlapi/firstamltest) share: scripted faults, the request log, the
// clock, the sample records, and the control API that does over HTTP what
// their Go methods do in-process.
//
// It is documented once, here. Each fake package re-exports these types
// under the same names (stenntest.Fault is fake.Fault) and declares the
// methods a test calls on its own Server, so a test of two providers can
// share one clock, one table of faults and one helper over the request
// log:
//
//	clock := fake.NewClock(time.Now())
//	stems := stemstest.NewServer(t, stemstest.WithClock(clock))
//	stenn := stenntest.NewServer(t, stenntest.WithClock(clock))
//	for _, f := range []fake.Fault{fake.TooManyRequests("0"), fake.Status(503), fake.Reset()} {
//		stems.Script(fake.APICalls, 1, f)
//		stenn.Script(fake.APICalls, 1, f)
//		// ...
//	}
//
// # Control API
//
// Every fake also serves a control API under ControlPrefix (/__complykit/),
// a path no provider's spec can use, for tests in other languages that run
// a fake with `complykit fake <provider>`. Control requests never reach the
// contract validator, are not logged, and are not counted as token or API
// requests. Bodies are JSON in and out; durations are Go duration strings
// ("250ms", "2s", "31m").
//
//	GET    /__complykit/                   the fake: name, URLs, credentials, samples, endpoints
//	POST   /__complykit/faults             queue a fault: {"target", "times", "kind", ...Fault fields}
//	GET    /__complykit/faults             the faults not consumed yet, per target
//	DELETE /__complykit/faults[?target=]   drop them (both targets without ?target=)
//	GET    /__complykit/requests[?since=N] the request log, entries with seq > N
//	DELETE /__complykit/requests           empty the log and zero the counts
//	GET    /__complykit/clock              the fake's time
//	POST   /__complykit/clock/advance      {"by": "31m"}: move the clock forward
//	GET    /__complykit/tokens             tokens issued, refresh tokens reused, lifetime
//	POST   /__complykit/tokens/revoke      {"token": "..."} or {"access": true, "refresh": true}
//	POST   /__complykit/tokens/lifetime    {"lifetime": "5m"}: for tokens issued from now on
//
// A fault's "target" is "api" (the default) or "token"; "times" defaults to
// 1. "kind" picks a preset made by the function of the same name here:
// "status" (needs "status"), "too_many_requests" ("retry_after" optional),
// "html" (needs "status"), "malformed", "slow" (needs "delay") or
// "reset". The other fields, named as Fault's in snake case ("status",
// "retry_after", "body", "content_type", "delay", "stall_body", "reset",
// "pass"), set that field of the Fault, on top of the preset or, without a
// kind, on their own:
//
//	{"target": "api", "kind": "too_many_requests", "retry_after": "1"}
//	{"target": "token", "times": 3, "kind": "status", "status": 503}
//	{"status": 200, "content_type": "text/plain", "body": "{}"}
//
// A fake adds endpoints of its own: cloudcomplitest POST
// /__complykit/tokens/generate (a token "generated in the web UI") and GET
// /__complykit/entries (the stored form entries); firstamltest POST
// /__complykit/validation-errors ({"times", "errors": [{"message",
// "field_path"}]}). GET /__complykit/ lists every endpoint a fake serves.
//
// A control request the fake cannot carry out gets a 4xx with the body
// {"error": code, "message": text}: 400 invalid_request (a body that is
// not JSON, an unknown field, a bad value), 404 not_found (an unknown
// endpoint or token), 405 method_not_allowed (with an Allow header), 409
// conflict (advancing a fake that runs on the real clock), 413
// too_large (a body over 32 MiB).
package fake

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// ControlPrefix is the path under which every fake serves its control
// API. No provider's spec has a path that starts with it.
const ControlPrefix = "/__complykit/"

// Target selects which requests a scripted Fault applies to.
type Target int

const (
	// TokenCalls are requests to the provider's token endpoints (for
	// Stems, the Stems Accounts endpoints: token and authorize).
	TokenCalls Target = iota + 1
	// APICalls are all other requests.
	APICalls
)

// String returns "token" or "api", the names the control API uses.
func (t Target) String() string {
	switch t {
	case TokenCalls:
		return "token"
	case APICalls:
		return "api"
	}
	return "Target(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText encodes t as "token" or "api".
func (t Target) MarshalText() ([]byte, error) {
	if t != TokenCalls && t != APICalls {
		return nil, fmt.Errorf("fake: unknown target %d", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes "token" or "api".
func (t *Target) UnmarshalText(b []byte) error {
	switch string(b) {
	case "token":
		*t = TokenCalls
	case "api":
		*t = APICalls
	default:
		return fmt.Errorf("fake: unknown target %q (want \"api\" or \"token\")", b)
	}
	return nil
}

// Fault is a scripted misbehaviour for the next request(s) of a Target;
// each request that a Fault applies to consumes it. The zero Fault answers
// 200 with an empty body. The functions TooManyRequests, Status,
// Malformed, HTML, Slow and Reset make the usual ones.
type Fault struct {
	// Status is the status to answer with; 0 means 200.
	Status int
	// RetryAfter sets a Retry-After header (seconds or an HTTP date); ""
	// sends none.
	RetryAfter string
	// Body is sent verbatim (malformed JSON, an HTML page). Empty means the
	// provider's error body for a Status of 400 or more, and no body
	// otherwise.
	Body string
	// ContentType of Body; "" means application/json.
	ContentType string
	// Delay holds the answer back (a slow server), bounded by the
	// request's context: a client that gives up first gets no answer.
	Delay time.Duration
	// StallBody sends the headers and the first half of the body, then
	// waits this long before the rest (a slow body).
	StallBody time.Duration
	// Reset closes the connection in the middle of the body.
	Reset bool
	// Pass lets the request through to the fake's handler after Delay,
	// instead of answering with the fault.
	Pass bool
}

// TooManyRequests is a 429 with the provider's error body and a
// Retry-After header of retryAfter (seconds or an HTTP date; "" sends
// none).
func TooManyRequests(retryAfter string) Fault { return Fault{Status: 429, RetryAfter: retryAfter} }

// Status answers with code and the provider's error body for it.
func Status(code int) Fault { return Fault{Status: code} }

// Malformed answers 200 with truncated JSON.
func Malformed() Fault { return Fault{Status: 200, Body: `{"object":"list","data":[{"id":`} }

// HTML answers code with an HTML error page, as a proxy in front of an
// API does.
func HTML(code int) Fault {
	return Fault{Status: code, ContentType: "text/html; charset=utf-8",
		Body: "<html><head><title>" + strconv.Itoa(code) + " " + http.StatusText(code) + "</title></head><body><h1>" + http.StatusText(code) + "</h1></body></html>"}
}

// Slow lets the request through to the fake's handler after d.
func Slow(d time.Duration) Fault { return Fault{Delay: d, Pass: true} }

// Reset cuts the connection in the middle of the body.
func Reset() Fault { return Fault{Reset: true} }

// Request is one request a fake answered, as its request log holds it.
// Control API requests are never logged.
//
// In JSON (the control API's log, or json.Marshal of a Request) its
// fields are seq, time, method, path, query, header, body, token, status
// and error; a body that is not UTF-8 comes as body_base64 instead of
// body.
type Request struct {
	// Seq numbers the entries in the order the fake finished answering
	// them: 1 for the first, counting on across a reset of the log.
	Seq int
	// Time is when the request arrived, on the fake's clock.
	Time time.Time
	// Method, Path and Query (raw, without "?") of the request.
	Method, Path, Query string
	// Header is the request's header.
	Header http.Header
	// Body is the request body, as read (at most 10 MiB).
	Body []byte
	// Token reports whether the request went to a token endpoint.
	Token bool
	// Status is what the fake answered; 0 when there was no answer (the
	// client gave up first, or a Reset fault cut the connection).
	Status int
	// Error is the contract violation or authentication failure the fake
	// answered with, or "".
	Error string
}

type requestJSON struct {
	Seq        int         `json:"seq"`
	Time       time.Time   `json:"time"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Query      string      `json:"query"`
	Header     http.Header `json:"header"`
	Body       *string     `json:"body,omitempty"`
	BodyBase64 string      `json:"body_base64,omitempty"`
	Token      bool        `json:"token"`
	Status     int         `json:"status"`
	Error      string      `json:"error"`
}

// MarshalJSON encodes r in the control API's form.
func (r Request) MarshalJSON() ([]byte, error) {
	out := requestJSON{Seq: r.Seq, Time: r.Time, Method: r.Method, Path: r.Path, Query: r.Query,
		Header: r.Header, Token: r.Token, Status: r.Status, Error: r.Error}
	if out.Header == nil {
		out.Header = http.Header{}
	}
	if utf8.Valid(r.Body) {
		b := string(r.Body)
		out.Body = &b
	} else {
		out.BodyBase64 = base64.StdEncoding.EncodeToString(r.Body)
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes the control API's form, so that a Go program can
// read the log of a fake running in another process.
func (r *Request) UnmarshalJSON(b []byte) error {
	var in requestJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Request{Seq: in.Seq, Time: in.Time, Method: in.Method, Path: in.Path, Query: in.Query,
		Header: in.Header, Token: in.Token, Status: in.Status, Error: in.Error}
	switch {
	case in.Body != nil && in.BodyBase64 != "":
		return errors.New("fake: a request has both body and body_base64")
	case in.Body != nil:
		r.Body = []byte(*in.Body)
	case in.BodyBase64 != "":
		body, err := base64.StdEncoding.DecodeString(in.BodyBase64)
		if err != nil {
			return fmt.Errorf("fake: body_base64: %w", err)
		}
		r.Body = body
	}
	return nil
}

// Sample is a record a fake serves from the start, so that a test, or the
// CLI's banner, knows an id to ask for.
type Sample struct {
	// Kind says what the record is, e.g. "company", "hazard", "project",
	// "case".
	Kind string `json:"kind"`
	// ID is the id the API knows the record by (for a CloudCompli form,
	// its name).
	ID string `json:"id"`
	// Name is a human label, or "".
	Name string `json:"name,omitempty"`
	// Parent is the record it belongs to, e.g. "company 234" for a Stems
	// hazard, or "".
	Parent string `json:"parent,omitempty"`
}
