package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/complykit/complykit-go/option"
)

// cliTrace collects the spans of one run for --trace: the SDK's own (the
// call, its attempts, token fetches and waits) under a root span for the
// command, and prints them on stderr when the command ends.
type cliTrace struct {
	tp   *sdktrace.TracerProvider
	rec  *tracetest.SpanRecorder
	mode string // "tree" or "json"
	out  io.Writer
}

// newCLITrace returns nil when mode is "" (no --trace).
func newCLITrace(mode string, out io.Writer) (*cliTrace, error) {
	switch mode {
	case "":
		return nil, nil
	case "tree", "json":
	default:
		return nil, usagef("--trace must be tree or json, not %q", mode)
	}
	t := &cliTrace{rec: tracetest.NewSpanRecorder(), mode: mode, out: out}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(t.rec)}
	if mode == "json" {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(out), stdouttrace.WithPrettyPrint())
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithSyncer(exp))
	}
	t.tp = sdktrace.NewTracerProvider(opts...)
	return t, nil
}

// options are the client options that send the SDK's spans here.
func (t *cliTrace) options() []option.Option {
	if t == nil {
		return nil
	}
	return []option.Option{option.WithTracerProvider(t.tp)}
}

// start starts the command's root span.
func (t *cliTrace) start(ctx context.Context, name string) (context.Context, func()) {
	if t == nil {
		return ctx, func() {}
	}
	ctx, span := t.tp.Tracer("complykit-cli").Start(ctx, name)
	return ctx, func() {
		span.End()
		t.tp.ForceFlush(context.Background())
		if t.mode == "tree" {
			printSpanTree(t.out, t.rec.Ended())
		}
	}
}

// printSpanTree writes the spans as trees: each root with its children,
// and under a span that links to another trace (a call's wait for a token
// fetch), that trace too, so the time spent waiting shows where it went.
func printSpanTree(w io.Writer, spans []sdktrace.ReadOnlySpan) {
	if len(spans) == 0 {
		return
	}
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if p := s.Parent(); p.IsValid() {
			if _, ok := byID[p.SpanID()]; ok {
				children[p.SpanID()] = append(children[p.SpanID()], s)
				continue
			}
		}
		roots = append(roots, s)
	}
	byStart := func(list []sdktrace.ReadOnlySpan) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].StartTime().Before(list[j].StartTime()) })
	}
	byStart(roots)
	origin := roots[0].StartTime()
	for _, s := range spans {
		if s.StartTime().Before(origin) {
			origin = s.StartTime()
		}
	}
	printed := map[trace.SpanID]bool{}
	var walk func(s sdktrace.ReadOnlySpan, indent string, linked bool)
	walk = func(s sdktrace.ReadOnlySpan, indent string, linked bool) {
		id := s.SpanContext().SpanID()
		if printed[id] {
			return
		}
		printed[id] = true
		mark := ""
		if linked {
			mark = "linked: "
		}
		fmt.Fprintf(w, "%s%s%s  +%s  %s%s\n", indent, mark, s.Name(), ms(s.StartTime().Sub(origin)), ms(s.EndTime().Sub(s.StartTime())), spanNote(s))
		for _, e := range s.Events() {
			fmt.Fprintf(w, "%s    · %s at +%s%s\n", indent, e.Name, ms(e.Time.Sub(origin)), attrNote(e.Attributes))
		}
		kids := children[id]
		byStart(kids)
		for _, k := range kids {
			walk(k, indent+"  ", false)
		}
		for _, l := range s.Links() {
			if target, ok := byID[l.SpanContext.SpanID()]; ok {
				walk(target, indent+"  ", true)
			}
		}
	}
	fmt.Fprintln(w, "trace:")
	for _, r := range roots {
		if !linkedFrom(r, spans) {
			walk(r, "  ", false)
		}
	}
	for _, r := range roots { // what no printed span links to
		walk(r, "  ", false)
	}
}

func linkedFrom(target sdktrace.ReadOnlySpan, spans []sdktrace.ReadOnlySpan) bool {
	for _, s := range spans {
		for _, l := range s.Links() {
			if l.SpanContext.SpanID() == target.SpanContext().SpanID() {
				return true
			}
		}
	}
	return false
}

func ms(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}

// noted are the attributes a person reading the tree wants: what was
// asked, what came back, how many times.
var noted = []attribute.Key{"http.request.method", "url.full", "http.response.status_code", "complykit.attempts",
	"http.request.resend_count", "complykit.token.flow", "complykit.token.outcome", "complykit.token.background", "error.type"}

func spanNote(s sdktrace.ReadOnlySpan) string {
	note := attrNote(s.Attributes())
	if s.Status().Code.String() == "Error" && s.Status().Description != "" {
		note += "  error: " + s.Status().Description
	}
	return note
}

func attrNote(kvs []attribute.KeyValue) string {
	var parts []string
	for _, key := range noted {
		for _, kv := range kvs {
			if kv.Key == key {
				parts = append(parts, strings.TrimPrefix(string(key), "complykit.")+"="+kv.Value.String())
			}
		}
	}
	for _, kv := range kvs {
		if strings.HasPrefix(string(kv.Key), "complykit.retry.") || strings.HasPrefix(string(kv.Key), "complykit.replay.") {
			parts = append(parts, strings.TrimPrefix(string(kv.Key), "complykit.")+"="+kv.Value.String())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, " ")
}
