package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"

	"github.com/complykit/complykit-go/auth"
)

// lockingStore fails every Load and Save, and makes every Lock wait: a
// store whose troubles the cache's metrics must show.
type lockingStore struct{ lockWait time.Duration }

func (lockingStore) Load(context.Context, string) (*oauth2.Token, error) {
	return nil, errors.New("store down")
}
func (lockingStore) Save(context.Context, string, *oauth2.Token) error {
	return errors.New("store down")
}
func (s lockingStore) Lock(ctx context.Context, key string) (func(), error) {
	time.Sleep(s.lockWait)
	return func() {}, nil
}

// A store's failures and its lock's waits are measured:
// complykit.token.store.errors by operation, and
// complykit.token.lock.wait.duration.
func TestStoreErrorsAndLockWaitsAreMeasured(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	tel, err := auth.NewTelemetry(auth.TelemetryOptions{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), Provider: "test", Flow: "static_token"})
	if err != nil {
		t.Fatal(err)
	}
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "access-token-value", Expiry: time.Now().Add(time.Hour)})
	c, err := auth.NewCache(src, auth.CacheOptions{Store: lockingStore{lockWait: 30 * time.Millisecond}, Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(); err != nil {
		t.Fatal(err) // a save that fails without a rotated refresh token keeps the token in memory
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	errorsByOp := map[string]int64{}
	var lockWaits uint64
	var lockSum float64
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch m.Name {
		case "complykit.token.store.errors":
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				op, _ := dp.Attributes.Value(attribute.Key("complykit.store.operation"))
				errorsByOp[op.AsString()] += dp.Value
			}
		case "complykit.token.lock.wait.duration":
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				lockWaits += dp.Count
				lockSum += dp.Sum
			}
		}
	}
	if errorsByOp["load"] != 1 || errorsByOp["save"] != 1 {
		t.Errorf("store errors %v; want one load and one save", errorsByOp)
	}
	if lockWaits != 1 || lockSum < 0.03 {
		t.Errorf("%d lock waits totalling %.3fs; want one of at least 30 ms", lockWaits, lockSum)
	}
}

// staticResponder answers every request with the same 200, allocating
// only the response, as a transport that costs little does.
type staticResponder struct{}

func (staticResponder) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// Without an SDK (the global providers are OpenTelemetry's defaults), a
// client's telemetry allocates nothing: a call span and an attempt through
// the Doer cost what a Doer with no Telemetry at all costs. This is what
// the README's "cost a call nothing" means.
func TestTelemetryWithoutSDKAllocatesNothing(t *testing.T) {
	if _, ok := otel.GetTracerProvider().(interface{ Shutdown(context.Context) error }); ok {
		t.Skip("a global SDK is installed")
	}
	cache, err := auth.NewCache(auth.StaticToken("static-token-for-allocs", time.Time{}), auth.CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := auth.NewTelemetry(auth.TelemetryOptions{Provider: "test", Flow: "static"})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: staticResponder{}}
	newDoer := func(tel *auth.Telemetry) *auth.Doer {
		d, err := auth.NewDoer(cache, auth.DoerOptions{BaseURL: "https://api.example.test", HTTPClient: hc, Telemetry: tel})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ctx := context.Background()
	call := func(d *auth.Doer, tel *auth.Telemetry) func() {
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.test/v1/things", nil)
		return func() {
			ctx, cs := tel.StartCall(ctx, "list things", true)
			resp, err := d.Do(req.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			cs.End(resp, nil)
		}
	}
	without := testing.AllocsPerRun(200, call(newDoer(nil), nil))
	with := testing.AllocsPerRun(200, call(newDoer(tel), tel))
	t.Logf("allocations per call: no Telemetry %.0f, Telemetry without an SDK %.0f", without, with)
	if with != without {
		t.Errorf("telemetry without an SDK costs %.0f allocations per call; want 0", with-without)
	}
}
