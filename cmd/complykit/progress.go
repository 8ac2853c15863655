package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/complykit/complykit-go/auth"
)

// Waiting messages: a call that waits says on stderr what for, once it
// has waited longer than waitReportAfter, and again every
// waitReportEvery while it still waits.
const (
	waitReportAfter = time.Second
	waitReportEvery = 5 * time.Second
)

// progress tells on stderr what a command is waiting for. It hooks into
// the clients through the two options every client takes:
//
//   - option.WithHTTPClient(p.httpClient()): a transport that times every
//     request, token requests and API requests alike, and names what is
//     slow: "waiting for the token endpoint (POST https://...)";
//   - option.WithLogger(slog.New(p.handler())): the SDK's log records of
//     a retry (those with a "wait" attribute) become "429 Too Many
//     Requests; retrying in 2s" when the wait, or the call so far, passes
//     a second.
//
// An API request is told from a token request by the label the command
// puts on its context (withWaitLabel); the token cache fetches with a
// context of its own, which has none.
type progress struct {
	w     io.Writer
	start time.Time
	after time.Duration
	every time.Duration

	mu      sync.Mutex
	stopped bool
	timers  map[*waitTimer]bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, start: time.Now(), after: waitReportAfter, every: waitReportEvery, timers: map[*waitTimer]bool{}}
}

type waitLabelKey struct{}

// withWaitLabel names what requests sent with ctx are for, e.g.
// "stenn list-companies".
func withWaitLabel(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, waitLabelKey{}, label)
}

func waitLabel(ctx context.Context) string {
	s, _ := ctx.Value(waitLabelKey{}).(string)
	return s
}

func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	fmt.Fprintf(p.w, "complykit: "+format+"\n", args...)
}

// stop silences the reporter: the command is over.
func (p *progress) stop() {
	p.mu.Lock()
	p.stopped = true
	timers := p.timers
	p.timers = map[*waitTimer]bool{}
	p.mu.Unlock()
	for t := range timers {
		t.stop()
	}
}

// waitTimer reports one wait until it is stopped.
type waitTimer struct {
	p     *progress
	what  string
	start time.Time
	mu    sync.Mutex
	t     *time.Timer
	done  bool
}

// watch starts reporting what once it has lasted p.after.
func (p *progress) watch(what string) *waitTimer {
	w := &waitTimer{p: p, what: what, start: time.Now()}
	p.mu.Lock()
	if !p.stopped {
		p.timers[w] = true
	}
	p.mu.Unlock()
	w.mu.Lock()
	w.t = time.AfterFunc(p.after, w.fire)
	w.mu.Unlock()
	return w
}

func (w *waitTimer) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if d := time.Since(w.start); d < w.p.after+w.p.every/2 {
		w.p.printf("waiting for %s ...", w.what)
	} else {
		w.p.printf("still waiting for %s (%s)", w.what, d.Round(time.Second))
	}
	w.t.Reset(w.p.every)
}

func (w *waitTimer) stop() {
	w.mu.Lock()
	w.done = true
	if w.t != nil {
		w.t.Stop()
	}
	w.mu.Unlock()
	w.p.mu.Lock()
	delete(w.p.timers, w)
	w.p.mu.Unlock()
}

// httpClient is the HTTP client the CLI gives every provider client: the
// default transport, timed, with the SDK's default timeout.
func (p *progress) httpClient() *http.Client {
	return &http.Client{Transport: progressTransport{p: p, next: http.DefaultTransport}, Timeout: auth.DefaultHTTPTimeout}
}

type progressTransport struct {
	p    *progress
	next http.RoundTripper
}

func (t progressTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	what := waitLabel(req.Context())
	if what == "" {
		what = "the token endpoint"
	}
	w := t.p.watch(fmt.Sprintf("%s (%s %s)", what, req.Method, safeURL(req.URL)))
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		w.stop()
		return nil, err
	}
	// The wait lasts until the body is read: a body can be slow too.
	resp.Body = &watchedBody{ReadCloser: resp.Body, w: w}
	return resp, nil
}

type watchedBody struct {
	io.ReadCloser
	w    *waitTimer
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.w.stop)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.once.Do(b.w.stop)
	return b.ReadCloser.Close()
}

// safeURL is the URL without its query and user info: enough to say where
// a request went, never a credential.
func safeURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// handler turns the SDK's log records of retries into waiting messages.
func (p *progress) handler() slog.Handler { return progressHandler{p} }

type progressHandler struct{ p *progress }

func (h progressHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h progressHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h progressHandler) WithGroup(string) slog.Handler            { return h }

// Handle reports a record of the SDK that announces a wait before a
// retry: auth.Doer logs each retry with "wait" (the delay), "attempt"
// (the attempt that failed) and either "status" (429, 5xx) or "error" (a
// transport error). Other records are dropped: the CLI is not a log.
func (h progressHandler) Handle(ctx context.Context, r slog.Record) error {
	var (
		wait     time.Duration
		hasWait  bool
		status   int64
		attempt  int64
		errorMsg string
	)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "wait":
			if a.Value.Kind() == slog.KindDuration {
				wait, hasWait = a.Value.Duration(), true
			}
		case "status":
			if a.Value.Kind() == slog.KindInt64 {
				status = a.Value.Int64()
			}
		case "attempt":
			if a.Value.Kind() == slog.KindInt64 {
				attempt = a.Value.Int64()
			}
		case "error":
			errorMsg = a.Value.String()
		}
		return true
	})
	if !hasWait {
		return nil
	}
	if wait < h.p.after && time.Since(h.p.start)+wait < h.p.after {
		return nil // a short wait in a short call: nothing to tell
	}
	what := waitLabel(ctx)
	if what == "" {
		what = "the request"
	}
	why := "failed"
	switch {
	case status != 0:
		why = fmt.Sprintf("answered %d %s", status, http.StatusText(int(status)))
	case errorMsg != "":
		why = "failed (" + oneLine(errorMsg) + ")"
	}
	h.p.printf("%s %s; retrying in %s (retry %d)", what, why, wait.Round(100*time.Millisecond), attempt)
	return nil
}
