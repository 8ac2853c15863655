package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// Each provider's token endpoint, scripted to be slow, is named on stderr
// while the CLI waits for it: every flow sends through the CLI's HTTP
// client.
func TestWaitingForTheTokenEndpoint(t *testing.T) {
	slow := 1500 * time.Millisecond
	stems := stemstest.NewServer(t)
	stems.Script(stemstest.TokenCalls, 1, stemstest.Slow(slow))
	stenn := stenntest.NewServer(t)
	stenn.Script(stenntest.TokenCalls, 1, stenntest.Slow(slow))
	cc := cloudcomplitest.NewServer(t)
	cc.Script(cloudcomplitest.TokenCalls, 1, cloudcomplitest.Slow(slow))
	faml := firstamltest.NewServer(t)
	faml.Script(firstamltest.TokenCalls, 1, firstamltest.Slow(slow))

	for _, tc := range []struct {
		provider string
		env      map[string]string
		tokenURL string
	}{
		{"stems", map[string]string{"COMPLYKIT_STEMS_CLIENT_ID": stems.ClientID, "COMPLYKIT_STEMS_CLIENT_SECRET": stems.ClientSecret,
			"COMPLYKIT_STEMS_BASE_URL": stems.URL, "COMPLYKIT_STEMS_TOKEN_URL": stems.TokenURL(),
			"COMPLYKIT_STEMS_USERNAME": stemstest.DefaultUsername, "COMPLYKIT_STEMS_PASSWORD": stemstest.DefaultPassword}, stems.TokenURL()},
		{"stenn", map[string]string{"COMPLYKIT_STENN_CLIENT_ID": stenn.ClientID, "COMPLYKIT_STENN_CLIENT_SECRET": stenn.ClientSecret,
			"COMPLYKIT_STENN_BASE_URL": stenn.URL}, stenn.TokenURL()},
		{"cloudcompli", map[string]string{"COMPLYKIT_CLOUDCOMPLI_CLIENT_ID": cc.ClientID, "COMPLYKIT_CLOUDCOMPLI_CLIENT_SECRET": cc.ClientSecret,
			"COMPLYKIT_CLOUDCOMPLI_INSTANCE": cc.URL}, cc.TokenURL()},
		{"firstaml", map[string]string{"COMPLYKIT_FIRSTAML_CLIENT_ID": faml.ClientID, "COMPLYKIT_FIRSTAML_CLIENT_SECRET": faml.ClientSecret,
			"COMPLYKIT_FIRSTAML_BASE_URL": faml.GraphQLURL(), "COMPLYKIT_FIRSTAML_TOKEN_URL": faml.TokenURL()}, faml.TokenURL()},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			r := cli(t, t.TempDir(), tc.env, "token", tc.provider, "--no-cache")
			want := "complykit: waiting for the token endpoint (POST " + tc.tokenURL + ") ...\n"
			if r.code != 0 || r.stderr != want {
				t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, want)
			}
		})
	}
}

func TestWaitingForTheAPI(t *testing.T) {
	srv := stenntest.NewServer(t)
	env := stennEnv(srv, map[string]string{
		"COMPLYKIT_STENN_NO_CACHE": "1",
	})
	// A quick call says nothing.
	r := cli(t, t.TempDir(), env, "call", "stenn", "list-companies")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("quick call: exit %d, stderr %q", r.code, r.stderr)
	}

	// A slow answer: the operation and its request are named.
	srv.Script(stenntest.APICalls, 1, stenntest.Slow(1500*time.Millisecond))
	r = cli(t, t.TempDir(), env, "call", "stenn", "list-companies")
	if want := "complykit: waiting for stenn list-companies (GET " + srv.URL + "/v1/companies) ...\n"; r.code != 0 || r.stderr != want {
		t.Errorf("slow answer: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}

	// A 429 with Retry-After: 2: the retry and its delay, before waiting.
	srv.Script(stenntest.APICalls, 1, stenntest.TooManyRequests("2"))
	start := time.Now()
	r = cli(t, t.TempDir(), env, "call", "stenn", "list-companies")
	if want := "complykit: stenn list-companies answered 429 Too Many Requests; retrying in 2s (retry 1)\n"; r.code != 0 || r.stderr != want {
		t.Errorf("429: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("429 with Retry-After 2 answered in %s", took)
	}

	// Still waiting: the line comes back every waitReportEvery.
	srv.Script(stenntest.APICalls, 1, stenntest.Slow(waitReportAfter+waitReportEvery+500*time.Millisecond))
	r = cli(t, t.TempDir(), env, "call", "stenn", "list-companies")
	if !regexp.MustCompile(`^complykit: waiting for stenn list-companies \(GET \S+\) \.\.\.\ncomplykit: still waiting for stenn list-companies \(GET \S+\) \(6s\)\n$`).MatchString(r.stderr) {
		t.Errorf("long wait: exit %d, stderr %q", r.code, r.stderr)
	}
}

// syncBuffer is a bytes.Buffer safe for the reporter's timers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The handler reads the SDK's retry records by their attributes.
func TestProgressHandler(t *testing.T) {
	var out syncBuffer
	p := newProgress(&out)
	log := slog.New(p.handler())
	ctx := withWaitLabel(context.Background(), "stems list-hazards")

	// A short wait early in a call is not worth a line; a record without
	// a wait is not about waiting.
	log.InfoContext(ctx, "auth: retrying", slog.Int("status", 503), slog.Int("attempt", 1), slog.Duration("wait", 200*time.Millisecond))
	log.InfoContext(ctx, "auth: token fetched", slog.String("key", "k"))
	if out.String() != "" {
		t.Errorf("early short retry printed %q", out.String())
	}
	log.InfoContext(ctx, "auth: retrying", slog.Int("status", 503), slog.Int("attempt", 2), slog.Duration("wait", 1234*time.Millisecond))
	log.InfoContext(ctx, "auth: retrying after a transport error", slog.Int("attempt", 3), slog.Duration("wait", 2*time.Second),
		slog.String("error", "dial tcp 127.0.0.1:1: connect:\nconnection refused"))
	want := "complykit: stems list-hazards answered 503 Service Unavailable; retrying in 1.2s (retry 2)\n" +
		"complykit: stems list-hazards failed (dial tcp 127.0.0.1:1: connect: connection refused); retrying in 2s (retry 3)\n"
	if out.String() != want {
		t.Errorf("got %q; want %q", out.String(), want)
	}

	// Once the call has run a second, even a short wait is told.
	p.start = time.Now().Add(-time.Second)
	log.InfoContext(context.Background(), "auth: retrying", slog.Int("status", 429), slog.Int("attempt", 1), slog.Duration("wait", 100*time.Millisecond))
	if !strings.HasSuffix(out.String(), "complykit: the request answered 429 Too Many Requests; retrying in 100ms (retry 1)\n") {
		t.Errorf("late short retry: %q", out.String())
	}

	// After stop, nothing more is printed.
	p.after = 10 * time.Millisecond
	w := p.watch("x")
	p.stop()
	time.Sleep(50 * time.Millisecond)
	w.stop()
	if strings.Contains(out.String(), "waiting for x") {
		t.Errorf("a stopped reporter printed %q", out.String())
	}
}
