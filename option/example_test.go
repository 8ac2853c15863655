package option_test

import (
	"context"
	"fmt"
	"log"
	"sort"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// Trace and measure a client with the OpenTelemetry SDK: here with its
// in-memory exporters, in a service with the exporters you already use.
// Each typed call is a span with a child per HTTP attempt; the token
// fetch is a trace of its own, linked from the call that waited for it.
func ExampleWithTracerProvider() {
	srv, err := stenntest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	metrics := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))

	client, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret,
		append(srv.ClientOptions(), option.WithTracerProvider(tp), option.WithMeterProvider(mp))...)
	if err != nil {
		log.Fatal(err)
	}
	var resp option.Response
	if _, err := client.ListCompanies(context.Background(), option.WithResponseInto(&resp)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("status", resp.StatusCode, "in", resp.Attempts, "attempt; request id", resp.RequestID != "")

	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
	}
	sort.Strings(names)
	fmt.Println(names)

	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "complykit.token.fetches" {
			fmt.Println(m.Name, m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
		}
	}
	// Output:
	// status 200 in 1 attempt; request id true
	// [GET POST complykit token fetch complykit token wait list companies]
	// complykit.token.fetches 1
}
