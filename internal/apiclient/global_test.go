package apiclient_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// A client made before the application installs its global TracerProvider
// (the usual order: clients are built in init or main's first lines)
// traces once it is installed. Until then it records nothing and skips the
// span altogether. This test sets the global provider, which cannot be
// undone: it lives in a package whose other tests do not use it.
func TestAClientTracesOnceAGlobalProviderIsInstalled(t *testing.T) {
	srv := stenntest.NewServer(t)
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	if len(names) != 2 || names[1] != "list companies" || names[0] != "GET" {
		t.Errorf("spans after the global provider was installed: %v; want the attempt and the call", names)
	}
}
