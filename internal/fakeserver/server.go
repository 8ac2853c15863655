// Package fakeserver is the machinery behind the spec-validated fake
// servers (stemstest, stenntest, cloudcomplitest, firstamltest): an
// in-process server on loopback that validates every request and every
// response against the provider's OpenAPI document, checks bearer tokens,
// logs what it receives, and can be scripted to fail.
//
// Each provider's fake supplies a handler (the generated strict server),
// the shape of its error bodies and which paths are token endpoints.
package fakeserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/contract"
	"github.com/complykit/complykit-go/specs"
	"github.com/getkin/kin-openapi/openapi3"
)

// The shared types live in package fake, which documents them, with the
// faults and targets; these aliases let the fakes' machinery name them
// briefly.
type (
	// Target is fake.Target.
	Target = fake.Target
	// Fault is fake.Fault.
	Fault = fake.Fault
	// Request is fake.Request.
	Request = fake.Request
	// Clock is fake.Clock.
	Clock = fake.Clock
)

// Config describes one provider's fake.
type Config struct {
	// Name prefixes messages, e.g. "stenntest".
	Name string
	// Spec is the document in specs.FS, e.g. "stenn.yaml".
	Spec string
	// Handler serves valid requests: the generated strict handler.
	Handler http.Handler
	// IsTokenPath reports whether a path is a token endpoint.
	IsTokenPath func(path string) bool
	// ErrorBody returns the provider's error body for a failure the
	// machinery detects itself (invalid request, bad token, scripted fault).
	ErrorBody func(token bool, status int, code, message string) any
	// Issuer checks bearer tokens on operations whose spec requires them.
	Issuer *Issuer
	// Reporter receives contract violations of the fake's own responses
	// (a test's t.Errorf). Default: the standard logger.
	Reporter func(msg string)
	// Addr to listen on; "" picks a free loopback port.
	Addr string
	// Authenticate, if set, replaces the default bearer check (First AML's
	// GraphQL errors, say); it returns the status and message of a refusal,
	// or 0 to let the request through.
	Authenticate func(r *http.Request, op *openapi3.Operation) (status int, code, message string)
	// Precheck, if set, sees every request (token requests included) after
	// scripted faults and before contract validation, and may refuse it
	// with the status and ErrorBody(token, status, code, message) it
	// returns: a provider-specific refusal that takes the place of the
	// generic 400 (First AML's 403 for an unknown audience, say), or a check
	// the contract cannot express. body is the request body, which
	// Precheck must not modify. It returns 0 to let the request through.
	Precheck func(r *http.Request, body []byte, token bool) (status int, code, message string)

	// Clock is the fake's clock: the request log's times and the control
	// API's clock endpoints follow it. nil is real time, which the
	// control API cannot advance.
	Clock *Clock
	// Revoker revokes tokens for the control API. Default: Issuer.
	Revoker Revoker
	// Control adds the fake's own endpoints to the control API.
	Control []ControlEndpoint
	// Info adds the fake's facts (URLs, credentials) to the control API's
	// index, GET /__complykit/.
	Info func() map[string]any
	// Samples are the records the fake starts with, for the index.
	Samples []fake.Sample
}

// Revoker revokes tokens: an Issuer, or a fake's wrapper of one that also
// knows tokens the Issuer did not mint (CloudCompli's UI tokens).
type Revoker interface {
	// Revoke revokes one access or refresh token and reports whether it
	// was known.
	Revoke(token string) bool
	// RevokeAll revokes every access token (access) and every refresh
	// token (refresh), and returns how many were live.
	RevokeAll(access, refresh bool) int
}

// Server is a running fake.
type Server struct {
	// URL is the fake's base URL, e.g. http://127.0.0.1:41234.
	URL string

	cfg       Config
	srv       *httptest.Server
	validator *contract.Validator

	mu     sync.Mutex
	faults map[Target][]Fault
	log    []Request
	seq    int // of the last entry logged

	tokenCalls atomic.Int64
	apiCalls   atomic.Int64
	reqSeq     atomic.Int64

	control map[string]map[string]controlRoute // path below the prefix -> method -> handler

	observer atomic.Pointer[func(r Request, control bool)]
}

// Observe calls f with every request the fake answers, as it answers it:
// the request log's entry (method, path, status, and in Error a contract
// violation or a refusal), or, with control set, a control API request
// (method, path, query and status only: never its body). f runs on the
// request's goroutine and must be quick and safe for concurrent use; nil
// stops the calls. `complykit fake --verbose` prints them.
func (s *Server) Observe(f func(r Request, control bool)) {
	if f == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&f)
}

func (s *Server) observe(r Request, control bool) {
	if f := s.observer.Load(); f != nil {
		(*f)(r, control)
	}
}

// Start starts a fake on loopback.
func Start(cfg Config) (*Server, error) {
	doc, err := specs.Load(cfg.Spec)
	if err != nil {
		return nil, err
	}
	if cfg.Reporter == nil {
		cfg.Reporter = func(msg string) { log.Print(msg) }
	}
	if cfg.IsTokenPath == nil {
		cfg.IsTokenPath = func(string) bool { return false }
	}
	if cfg.Revoker == nil && cfg.Issuer != nil {
		cfg.Revoker = cfg.Issuer
	}
	s := &Server{cfg: cfg, validator: contract.New(doc), faults: map[Target][]Fault{}}
	s.control = s.controlRoutes()
	s.srv = httptest.NewUnstartedServer(s)
	if cfg.Addr != "" {
		l, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("%s: listen: %w", cfg.Name, err)
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Start()
	s.URL = s.srv.URL
	if tcp, ok := s.srv.Listener.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// Listening on every interface (0.0.0.0, ::): the URL names the
		// loopback one, which this host can always reach, rather than
		// http://[::]:port, which no client can.
		s.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return s, nil
}

// Close shuts the fake down, dropping open connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Script makes the next n calls of target fail with f.
func (s *Server) Script(target Target, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.faults[target] = append(s.faults[target], f)
	}
}

// ClearScript drops the faults scripted for target that no call has
// consumed yet.
func (s *Server) ClearScript(target Target) { s.clearScript(target) }

func (s *Server) clearScript(target Target) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults[target])
	delete(s.faults, target)
	return n
}

// Pending returns the faults scripted for target that no call has consumed
// yet, in order.
func (s *Server) Pending(target Target) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault(nil), s.faults[target]...)
}

// TokenRequests counts requests to the token endpoint(s) since the start
// or the last ResetRequests.
func (s *Server) TokenRequests() int { return int(s.tokenCalls.Load()) }

// APIRequests counts all other requests since the start or the last
// ResetRequests.
func (s *Server) APIRequests() int { return int(s.apiCalls.Load()) }

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request { return s.RequestsSince(0) }

// RequestsSince returns a copy of the entries of the request log whose Seq
// is greater than seq.
func (s *Server) RequestsSince(seq int) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Seq grows by one per entry, so the entries after seq are a suffix.
	i := len(s.log) - (s.seq - seq)
	if i < 0 {
		i = 0
	}
	if i > len(s.log) {
		i = len(s.log)
	}
	return append([]Request(nil), s.log[i:]...)
}

// ResetRequests empties the request log and zeroes TokenRequests and
// APIRequests; Seq numbers go on from where they were. It returns how
// many entries it dropped.
func (s *Server) ResetRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.log)
	s.log = nil
	s.tokenCalls.Store(0)
	s.apiCalls.Store(0)
	return n
}

// LastSeq is the Seq of the last entry logged, 0 before the first.
func (s *Server) LastSeq() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Clock returns the fake's clock (nil: real time).
func (s *Server) Clock() *Clock { return s.cfg.Clock }

// ControlURL is the root of the fake's control API.
func (s *Server) ControlURL() string { return s.URL + fake.ControlPrefix }

func (s *Server) nextFault(t Target) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[t]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[t] = q[1:]
	return q[0], true
}

// maxRequestBody bounds what the fake reads of a request.
const maxRequestBody = 10 << 20

// ServeHTTP serves the fake: the control API under fake.ControlPrefix,
// the provider's API everywhere else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isControlPath(r.URL.Path) {
		rec := &statusRecorder{ResponseWriter: w, onStatus: func() {}}
		arrived := s.cfg.Clock.Now()
		s.serveControl(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.observe(Request{Time: arrived, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rec.status}, true)
		return
	}
	arrived := s.cfg.Clock.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	r.Body.Close()
	isToken := s.cfg.IsTokenPath(r.URL.Path)
	entry := Request{Time: arrived, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, Token: isToken}
	// The entry is logged when the status goes out, before the client can
	// have read the answer, so a test that reads the log after a call
	// sees the call's entries; or at the end, for a request never
	// answered.
	rec := &statusRecorder{ResponseWriter: w}
	var once sync.Once
	rec.onStatus = func() {
		once.Do(func() {
			entry.Status = rec.status
			s.mu.Lock()
			s.seq++
			entry.Seq = s.seq
			s.log = append(s.log, entry)
			s.mu.Unlock()
			s.observe(entry, false)
		})
	}
	defer rec.onStatus()
	w.Header().Set("X-Request-Id", "req-"+strconv.FormatInt(s.reqSeq.Add(1), 10))
	target := fake.APICalls
	if isToken {
		target = fake.TokenCalls
		s.tokenCalls.Add(1)
	} else {
		s.apiCalls.Add(1)
	}
	if err != nil || len(body) > maxRequestBody {
		s.fail(rec, isToken, http.StatusRequestEntityTooLarge, "invalid_request", "request body unreadable or over 10 MiB", &entry)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	if f, ok := s.nextFault(target); ok {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if !f.Pass {
			s.serveFault(r.Context(), rec, isToken, f)
			return
		}
	}

	if s.cfg.Precheck != nil {
		if status, code, msg := s.cfg.Precheck(r, body, isToken); status != 0 {
			s.fail(rec, isToken, status, code, msg, &entry)
			return
		}
	}

	ex, err := s.validator.ValidateRequest(r.Context(), r, r.URL.Path)
	if errors.Is(err, contract.ErrNoRoute) {
		s.fail(rec, isToken, http.StatusNotFound, "not_found", err.Error(), &entry)
		return
	}
	if ex != nil && ex.Route != nil && !isToken {
		if status, code, msg := s.authenticate(r, ex.Route.Operation); status != 0 {
			if status == http.StatusUnauthorized {
				rec.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			s.fail(rec, isToken, status, code, msg, &entry)
			return
		}
	}
	if err != nil {
		s.fail(rec, isToken, http.StatusBadRequest, "invalid_request", s.cfg.Name+": request violates "+s.cfg.Spec+": "+oneLine(err.Error()), &entry)
		return
	}

	buf := &bufferedWriter{header: http.Header{}}
	for k, v := range rec.Header() {
		buf.header[k] = v
	}
	s.cfg.Handler.ServeHTTP(buf, r)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if verr := ex.ValidateResponse(r.Context(), buf.status, buf.header, buf.body.Bytes()); verr != nil {
		msg := s.cfg.Name + ": the fake's own response violates " + s.cfg.Spec + ": " + oneLine(verr.Error())
		s.cfg.Reporter(msg)
		s.fail(rec, isToken, http.StatusInternalServerError, "fake_contract_violation", msg, &entry)
		return
	}
	for k, v := range buf.header {
		rec.Header()[k] = v
	}
	rec.WriteHeader(buf.status)
	rec.Write(buf.body.Bytes())
}

func (s *Server) authenticate(r *http.Request, op *openapi3.Operation) (int, string, string) {
	if s.cfg.Authenticate != nil {
		return s.cfg.Authenticate(r, op)
	}
	if !RequiresBearer(s.validator.Doc(), op) || s.cfg.Issuer == nil {
		return 0, "", ""
	}
	tok, ok := BearerToken(r)
	if !ok {
		return http.StatusUnauthorized, "invalid_token", "missing bearer token"
	}
	if _, err := s.cfg.Issuer.Authenticate(tok); err != nil {
		return http.StatusUnauthorized, "invalid_token", err.Error()
	}
	return 0, "", ""
}

// BearerToken returns the token of an Authorization: Bearer header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

// RequiresBearer reports whether op (or, without its own security, the
// document) requires an http bearer scheme.
func RequiresBearer(doc *openapi3.T, op *openapi3.Operation) bool {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	for _, req := range reqs {
		for name := range req {
			if ref := doc.Components.SecuritySchemes[name]; ref != nil && ref.Value != nil &&
				ref.Value.Type == "http" && strings.EqualFold(ref.Value.Scheme, "bearer") {
				return true
			}
		}
	}
	return false
}

func (s *Server) fail(w http.ResponseWriter, token bool, status int, code, msg string, entry *Request) {
	entry.Error = msg
	WriteJSON(w, status, s.cfg.ErrorBody(token, status, code, msg))
}

func (s *Server) serveFault(ctx context.Context, w http.ResponseWriter, token bool, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := []byte(f.Body)
	ct := f.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if len(body) == 0 && status >= 400 {
		body, _ = json.Marshal(s.cfg.ErrorBody(token, status, errorCode(status), s.cfg.Name+": scripted "+strconv.Itoa(status)))
	}
	switch {
	case f.Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			return
		}
		conn, bw, err := hj.Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: 4096\r\n\r\n{\"object\":\"list\",\"data\":[", status, http.StatusText(status), ct)
		bw.Flush()
		conn.Close()
	case f.StallBody > 0:
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		half := len(body) / 2
		w.Write(body[:half])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-time.After(f.StallBody):
			w.Write(body[half:])
		case <-ctx.Done(): // the client gave up
		}
	default:
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		w.Write(body)
	}
}

func errorCode(status int) string {
	switch {
	case status == 429:
		return "rate_limited"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request"
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 1000 {
		s = s[:1000] + "..."
	}
	return s
}

// statusRecorder remembers the status written through it, and calls
// onStatus before the status (or a hijacked connection's first byte)
// reaches the client.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	onStatus func()
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.onStatus()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.onStatus()
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking not supported")
	}
	return hj.Hijack()
}

// bufferedWriter holds a handler's response until it has been validated.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fakeserver: cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// ErrorHandler returns an error handler for a generated server (its
// RequestErrorHandlerFunc, ResponseErrorHandlerFunc or ErrorHandlerFunc)
// that answers with the provider's error body: the generated defaults
// answer text/plain, which no spec declares. name prefixes the message.
func ErrorHandler(name string, status int, code string, body func(token bool, status int, code, message string) any,
	isToken func(path string) bool) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		WriteJSON(w, status, body(isToken(r.URL.Path), status, code, name+": "+oneLine(err.Error())))
	}
}
