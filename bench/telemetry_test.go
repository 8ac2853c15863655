package bench

import (
	"context"
	"net/http"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
)

// telemetrySettings are the three ways a service runs the client: without
// an OpenTelemetry SDK (the global no-op providers, the default), and with
// the SDK's tracer (every span sampled and recorded; no exporter, so the
// figure is the SDK's cost, not an exporter's) and its meter.
var telemetrySettings = []struct {
	name string
	opts func() []option.Option
}{
	{"noop", func() []option.Option { return nil }},
	{"sdk-traces", func() []option.Option {
		return []option.Option{option.WithTracerProvider(sdktrace.NewTracerProvider())}
	}},
	{"sdk-traces-and-metrics", func() []option.Option {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		return []option.Option{option.WithTracerProvider(sdktrace.NewTracerProvider()), option.WithMeterProvider(mp)}
	}},
}

func telemetryCall(tb testing.TB, opts []option.Option) func(context.Context) error {
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	c, err := stennapi.NewClient("id", "secret", append([]option.Option{stennapi.WithBaseURL("https://api.stenn.test"), option.WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	call := func(ctx context.Context) error { _, err := c.ListCompanies(ctx); return err }
	if err := call(context.Background()); err != nil { // the token, once
		tb.Fatal(err)
	}
	return call
}

// BenchmarkTelemetryCost measures a typed call (stennapi.ListCompanies,
// in process) without an SDK and with the OpenTelemetry SDK recording
// every span: what tracing costs per call.
func BenchmarkTelemetryCost(b *testing.B) {
	for _, s := range telemetrySettings {
		b.Run("telemetry="+s.name, func(b *testing.B) {
			call := telemetryCall(b, s.opts())
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := call(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// With the default global providers and no SDK installed, telemetry costs
// a typed call nothing: the client checks that the global TracerProvider
// is still the default (an atomic load) and starts no span. Before
// telemetry (commit 3fab8cd) this call allocated raw + 4; now it is at the
// pooled floor, under raw, and must stay within raw + 2.
func TestNoopTelemetryCostsAtMostTwoAllocations(t *testing.T) {
	ctx := context.Background()
	noop := telemetryCall(t, nil)
	n := testing.AllocsPerRun(200, func() {
		if err := noop(ctx); err != nil {
			t.Fatal(err)
		}
	})
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	raw := contenders[0].setup(&testing.B{}, "https://api.stenn.test", hc)
	r := testing.AllocsPerRun(200, func() {
		if _, err := raw(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per call: raw %.0f, complykit with no-op telemetry %.0f", r, n)
	// Before telemetry, at commit 3fab8cd, this call allocated raw + 4.
	if n > r+2 {
		t.Errorf("complykit with no-op telemetry allocates %.0f per call; want at most raw (%.0f) + 2", n, r)
	}
}
