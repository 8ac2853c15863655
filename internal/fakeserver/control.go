package fakeserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/complykit/complykit-go/fake"
)

// The control API: what a test does in-process with Script, Requests,
// the clock and the Issuer, over HTTP under fake.ControlPrefix, for tests
// in other languages. package fake documents it.

// ControlEndpoint is a fake's own control endpoint.
type ControlEndpoint struct {
	// Method is the HTTP method, e.g. http.MethodPost.
	Method string
	// Path is below fake.ControlPrefix, e.g. "tokens/generate".
	Path string
	// Serve answers the request; body is the request body (empty for
	// none). It returns the JSON answer, or an error: a *ControlError to
	// choose the status, any other error a 400 invalid_request.
	Serve func(r *http.Request, body []byte) (any, error)
	// Handle, if set, answers the request itself instead of Serve: a
	// page for a browser (the sign-in page's form posts here) rather than
	// JSON. It reads the body itself, at most maxControlBody of it.
	Handle http.HandlerFunc
}

// ControlError is a refusal of a control request, answered as
// {"error": Code, "message": Message}.
type ControlError struct {
	Status  int
	Code    string
	Message string
}

func (e *ControlError) Error() string { return e.Message }

// maxControlBody bounds a control request's body: room for a fault body
// larger than a client's default response cap (16 MiB).
const maxControlBody = 32 << 20

type controlFunc func(r *http.Request, body []byte) (any, error)

// controlRoute is one method of a control path: JSON (serve) or a raw
// handler (handle).
type controlRoute struct {
	serve  controlFunc
	handle http.HandlerFunc
}

func isControlPath(p string) bool {
	return strings.HasPrefix(p, fake.ControlPrefix) || p == strings.TrimSuffix(fake.ControlPrefix, "/")
}

func (s *Server) controlRoutes() map[string]map[string]controlRoute {
	routes := map[string]map[string]controlRoute{}
	addRoute := func(method, path string, r controlRoute) {
		if routes[path] == nil {
			routes[path] = map[string]controlRoute{}
		}
		routes[path][method] = r
	}
	add := func(method, path string, f controlFunc) { addRoute(method, path, controlRoute{serve: f}) }
	add(http.MethodGet, "", s.controlIndex)
	add(http.MethodPost, "faults", s.controlScript)
	add(http.MethodGet, "faults", s.controlPending)
	add(http.MethodDelete, "faults", s.controlClearScript)
	add(http.MethodGet, "requests", s.controlRequests)
	add(http.MethodDelete, "requests", s.controlResetRequests)
	add(http.MethodGet, "clock", s.controlClock)
	add(http.MethodPost, "clock/advance", s.controlAdvance)
	add(http.MethodGet, "tokens", s.controlTokens)
	add(http.MethodPost, "tokens/revoke", s.controlRevoke)
	add(http.MethodPost, "tokens/lifetime", s.controlLifetime)
	for _, e := range s.cfg.Control {
		addRoute(e.Method, strings.Trim(e.Path, "/"), controlRoute{serve: e.Serve, handle: e.Handle})
	}
	return routes
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(fake.ControlPrefix, "/")), "/")
	methods, ok := s.control[path]
	if !ok {
		s.controlFail(w, &ControlError{http.StatusNotFound, "not_found", "no control endpoint " + fake.ControlPrefix + path + "; GET " + fake.ControlPrefix + " lists them"})
		return
	}
	route, ok := methods[r.Method]
	if !ok {
		allow := make([]string, 0, len(methods))
		for m := range methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.controlFail(w, &ControlError{http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s %s%s: allowed: %s", r.Method, fake.ControlPrefix, path, strings.Join(allow, ", "))})
		return
	}
	if route.handle != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
		route.handle(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	r.Body.Close()
	if err != nil {
		s.controlFail(w, &ControlError{http.StatusBadRequest, "invalid_request", "cannot read the body"})
		return
	}
	if len(body) > maxControlBody {
		s.controlFail(w, &ControlError{http.StatusRequestEntityTooLarge, "too_large", "the body is over 32 MiB"})
		return
	}
	out, err := route.serve(r, body)
	if err != nil {
		var ce *ControlError
		if !errors.As(err, &ce) {
			ce = &ControlError{http.StatusBadRequest, "invalid_request", err.Error()}
		}
		s.controlFail(w, ce)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

func (s *Server) controlFail(w http.ResponseWriter, e *ControlError) {
	WriteJSON(w, e.Status, map[string]string{"error": e.Code, "message": s.cfg.Name + ": control: " + e.Message})
}

// DecodeJSON decodes a control request's body into v, refusing unknown
// fields and trailing data; an empty body leaves v as it is.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &ControlError{http.StatusBadRequest, "invalid_request", "the body is not what this endpoint takes: " + oneLine(err.Error())}
	}
	if dec.More() {
		return &ControlError{http.StatusBadRequest, "invalid_request", "the body has data after its JSON value"}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return &ControlError{http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, args...)}
}

// Duration is a time.Duration in JSON as a Go duration string ("250ms").
type Duration time.Duration

// MarshalText encodes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText decodes a Go duration string; a negative one is an error.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"250ms\" or \"2s\"", b)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", b)
	}
	*d = Duration(v)
	return nil
}

func (s *Server) controlIndex(*http.Request, []byte) (any, error) {
	out := map[string]any{}
	if s.cfg.Info != nil {
		for k, v := range s.cfg.Info() {
			out[k] = v
		}
	}
	out["fake"] = s.cfg.Name
	out["url"] = s.URL
	out["control_url"] = s.ControlURL()
	samples := s.cfg.Samples
	if samples == nil {
		samples = []fake.Sample{}
	}
	out["samples"] = samples
	type endpoint struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	}
	var eps []endpoint
	for path, methods := range s.control {
		for m := range methods {
			eps = append(eps, endpoint{m, fake.ControlPrefix + path})
		}
	}
	slices.SortFunc(eps, func(a, b endpoint) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	out["endpoints"] = eps
	return out, nil
}

// faultIn is a control request that scripts a fault.
type faultIn struct {
	Target      *fake.Target `json:"target"`
	Times       *int         `json:"times"`
	Kind        string       `json:"kind"`
	Status      *int         `json:"status"`
	RetryAfter  *string      `json:"retry_after"`
	Body        *string      `json:"body"`
	ContentType *string      `json:"content_type"`
	Delay       *Duration    `json:"delay"`
	StallBody   *Duration    `json:"stall_body"`
	Reset       *bool        `json:"reset"`
	Pass        *bool        `json:"pass"`
}

// faultOut is a Fault as the control API shows it.
type faultOut struct {
	Status      int      `json:"status"`
	RetryAfter  string   `json:"retry_after,omitempty"`
	Body        string   `json:"body,omitempty"`
	ContentType string   `json:"content_type,omitempty"`
	Delay       Duration `json:"delay,omitempty"`
	StallBody   Duration `json:"stall_body,omitempty"`
	Reset       bool     `json:"reset,omitempty"`
	Pass        bool     `json:"pass,omitempty"`
}

func showFault(f Fault) faultOut {
	return faultOut{Status: f.Status, RetryAfter: f.RetryAfter, Body: f.Body, ContentType: f.ContentType,
		Delay: Duration(f.Delay), StallBody: Duration(f.StallBody), Reset: f.Reset, Pass: f.Pass}
}

func showFaults(fs []Fault) []faultOut {
	out := make([]faultOut, len(fs))
	for i, f := range fs {
		out[i] = showFault(f)
	}
	return out
}

// faultKinds are the presets of "kind", each the fake function of the
// same name.
var faultKinds = []string{"status", "too_many_requests", "html", "malformed", "slow", "reset"}

// maxTimes bounds "times", so a typo cannot queue a billion faults.
const maxTimes = 1000

// parseFault turns a control request into a target, a count and a Fault.
func parseFault(body []byte) (Target, int, Fault, error) {
	var in faultIn
	if err := DecodeJSON(body, &in); err != nil {
		return 0, 0, Fault{}, err
	}
	target, times := fake.APICalls, 1
	if in.Target != nil {
		target = *in.Target
	}
	if in.Times != nil {
		times = *in.Times
	}
	if times < 1 || times > maxTimes {
		return 0, 0, Fault{}, invalid("times must be 1 to %d, not %d", maxTimes, times)
	}
	if in.Status != nil && (*in.Status < 100 || *in.Status > 599) {
		return 0, 0, Fault{}, invalid("status must be 100 to 599, not %d", *in.Status)
	}
	var f Fault
	need := func(ok bool, field string) error {
		if !ok {
			return invalid("kind %q needs %q", in.Kind, field)
		}
		return nil
	}
	var err error
	switch in.Kind {
	case "":
	case "status":
		if err = need(in.Status != nil, "status"); err == nil {
			f = fake.Status(*in.Status)
		}
	case "too_many_requests":
		f = fake.TooManyRequests("")
	case "html":
		if err = need(in.Status != nil, "status"); err == nil {
			f = fake.HTML(*in.Status)
		}
	case "malformed":
		f = fake.Malformed()
	case "slow":
		if err = need(in.Delay != nil && *in.Delay > 0, "delay"); err == nil {
			f = fake.Slow(time.Duration(*in.Delay))
		}
	case "reset":
		f = fake.Reset()
	default:
		err = invalid("unknown kind %q (one of %s, or none)", in.Kind, strings.Join(faultKinds, ", "))
	}
	if err != nil {
		return 0, 0, Fault{}, err
	}
	if in.Status != nil {
		f.Status = *in.Status
	}
	if in.RetryAfter != nil {
		if err := checkRetryAfter(*in.RetryAfter); err != nil {
			return 0, 0, Fault{}, err
		}
		f.RetryAfter = *in.RetryAfter
	}
	if in.Body != nil {
		f.Body = *in.Body
	}
	if in.ContentType != nil {
		if _, _, err := mime.ParseMediaType(*in.ContentType); err != nil || strings.ContainsAny(*in.ContentType, "\r\n") {
			return 0, 0, Fault{}, invalid("content_type %q is not a media type", clip(*in.ContentType))
		}
		f.ContentType = *in.ContentType
	}
	if in.Delay != nil {
		f.Delay = time.Duration(*in.Delay)
	}
	if in.StallBody != nil {
		f.StallBody = time.Duration(*in.StallBody)
	}
	if in.Reset != nil {
		f.Reset = *in.Reset
	}
	if in.Pass != nil {
		f.Pass = *in.Pass
	}
	return target, times, f, nil
}

// checkRetryAfter accepts what RFC 9110 allows: delay-seconds or an HTTP
// date.
func checkRetryAfter(v string) error {
	if v == "" {
		return nil
	}
	if len(v) <= 10 && strings.Trim(v, "0123456789") == "" {
		return nil
	}
	if _, err := http.ParseTime(v); err == nil {
		return nil
	}
	return invalid("retry_after %q is neither seconds nor an HTTP date", clip(v))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func (s *Server) controlScript(_ *http.Request, body []byte) (any, error) {
	target, times, f, err := parseFault(body)
	if err != nil {
		return nil, err
	}
	s.Script(target, times, f)
	return map[string]any{"target": target, "times": times, "fault": showFault(f), "pending": len(s.Pending(target))}, nil
}

func (s *Server) controlPending(*http.Request, []byte) (any, error) {
	return map[string]any{"api": showFaults(s.Pending(fake.APICalls)), "token": showFaults(s.Pending(fake.TokenCalls))}, nil
}

// queryTarget reads ?target=; without one, both targets.
func queryTarget(r *http.Request) ([]Target, error) {
	v := r.URL.Query().Get("target")
	if v == "" {
		return []Target{fake.APICalls, fake.TokenCalls}, nil
	}
	var t Target
	if err := t.UnmarshalText([]byte(v)); err != nil {
		return nil, invalid("target %q: want api or token", clip(v))
	}
	return []Target{t}, nil
}

func (s *Server) controlClearScript(r *http.Request, _ []byte) (any, error) {
	targets, err := queryTarget(r)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, t := range targets {
		n += s.clearScript(t)
	}
	return map[string]int{"cleared": n}, nil
}

func (s *Server) controlRequests(r *http.Request, _ []byte) (any, error) {
	since := 0
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, invalid("since %q: want a seq, 0 or more", clip(v))
		}
		since = n
	}
	s.mu.Lock()
	last := s.seq
	s.mu.Unlock()
	reqs := s.RequestsSince(since)
	if len(reqs) > 0 {
		last = reqs[len(reqs)-1].Seq
	}
	if reqs == nil {
		reqs = []Request{}
	}
	return map[string]any{
		"requests":       reqs,
		"next_since":     last,
		"token_requests": s.TokenRequests(),
		"api_requests":   s.APIRequests(),
	}, nil
}

func (s *Server) controlResetRequests(*http.Request, []byte) (any, error) {
	return map[string]int{"cleared": s.ResetRequests()}, nil
}

func (s *Server) controlClock(*http.Request, []byte) (any, error) {
	return map[string]any{"now": s.cfg.Clock.Now(), "manual": s.cfg.Clock.Manual()}, nil
}

func (s *Server) controlAdvance(_ *http.Request, body []byte) (any, error) {
	var in struct {
		By *Duration `json:"by"`
	}
	if err := DecodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.By == nil || *in.By <= 0 {
		return nil, invalid(`"by" is required: a positive duration such as "31m"`)
	}
	if s.cfg.Clock == nil {
		return nil, &ControlError{http.StatusConflict, "conflict", "the fake runs on the real clock, which cannot be advanced (it was started WithClock(nil))"}
	}
	s.cfg.Clock.Advance(time.Duration(*in.By))
	return map[string]any{"now": s.cfg.Clock.Now()}, nil
}

func (s *Server) issuer() (*Issuer, error) {
	if s.cfg.Issuer == nil {
		return nil, &ControlError{http.StatusConflict, "conflict", "the fake issues no tokens"}
	}
	return s.cfg.Issuer, nil
}

func (s *Server) controlTokens(*http.Request, []byte) (any, error) {
	iss, err := s.issuer()
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"issued":                iss.Issued(),
		"reused_refresh_tokens": iss.ReusedRefreshTokens(),
		"lifetime":              Duration(iss.Lifetime()),
	}, nil
}

func (s *Server) controlRevoke(_ *http.Request, body []byte) (any, error) {
	var in struct {
		Token   *string `json:"token"`
		Access  bool    `json:"access"`
		Refresh bool    `json:"refresh"`
	}
	if err := DecodeJSON(body, &in); err != nil {
		return nil, err
	}
	if s.cfg.Revoker == nil {
		return nil, &ControlError{http.StatusConflict, "conflict", "the fake issues no tokens"}
	}
	switch {
	case in.Token != nil && (in.Access || in.Refresh):
		return nil, invalid(`give "token", or "access" and/or "refresh", not both`)
	case in.Token != nil:
		if *in.Token == "" {
			return nil, invalid(`"token" is empty`)
		}
		if !s.cfg.Revoker.Revoke(*in.Token) {
			// The token is not echoed: it is a credential, if a fake one.
			return nil, &ControlError{http.StatusNotFound, "not_found", "the fake never issued that token"}
		}
		return map[string]int{"revoked": 1}, nil
	case in.Access || in.Refresh:
		return map[string]int{"revoked": s.cfg.Revoker.RevokeAll(in.Access, in.Refresh)}, nil
	}
	return nil, invalid(`say what to revoke: {"token": "..."}, or {"access": true} and/or {"refresh": true}`)
}

func (s *Server) controlLifetime(_ *http.Request, body []byte) (any, error) {
	var in struct {
		Lifetime *Duration `json:"lifetime"`
	}
	if err := DecodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Lifetime == nil || *in.Lifetime < Duration(time.Second) {
		return nil, invalid(`"lifetime" is required: a duration of 1s or more, such as "5m"`)
	}
	iss, err := s.issuer()
	if err != nil {
		return nil, err
	}
	iss.SetLifetime(time.Duration(*in.Lifetime))
	return map[string]any{"lifetime": Duration(iss.Lifetime())}, nil
}
