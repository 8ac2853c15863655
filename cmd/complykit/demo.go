package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// demoStep is one thing the demo shows; run returns what happened, or an
// error if the SDK misbehaved.
type demoStep struct {
	provider string
	what     string
	run      func(ctx context.Context) (string, error)
}

// demoProvider sets up a provider's fake and client and returns its steps
// and a func reporting how many token requests the fake has seen.
type demoProvider struct {
	order int // Stems, Stenn, CloudCompli, First AML
	name  string
	setup func(ctx context.Context) (steps []demoStep, tokenRequests func() int, cleanup func(), err error)
}

var demoProviders []demoProvider

func runDemo(ctx context.Context, stdout io.Writer) error {
	fmt.Fprintln(stdout, "complykit demo: every provider's flows through the SDK, against fakes served on loopback")
	sort.Slice(demoProviders, func(i, j int) bool { return demoProviders[i].order < demoProviders[j].order })
	start := time.Now()
	failed := 0
	total := 0
	for _, dp := range demoProviders {
		steps, tokenRequests, cleanup, err := dp.setup(ctx)
		if err != nil {
			return fmt.Errorf("demo: starting the %s fake: %w", dp.name, err)
		}
		fmt.Fprintf(stdout, "\n%s\n", dp.name)
		for _, st := range steps {
			total++
			t0 := time.Now()
			detail, err := st.run(ctx)
			took := time.Since(t0)
			status := "ok  "
			if err != nil {
				status = "FAIL"
				detail = oneLine(err.Error())
				failed++
			}
			fmt.Fprintf(stdout, "  %s %-42s %7s  token requests %d  %s\n", status, st.what, short(took), tokenRequests(), detail)
		}
		cleanup()
	}
	fmt.Fprintf(stdout, "\n%d steps, %d failed, in %s\n", total, failed, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return fmt.Errorf("demo: %d of %d steps misbehaved", failed, total)
	}
	return nil
}

// expect is a small assertion for demo steps.
func expect(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// waitUntil polls cond for up to 5 s.
func waitUntil(ctx context.Context, cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// short formats a duration for the transcript: µs below a millisecond.
func short(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func names(ss []string) string { return strings.Join(ss, ", ") }
