package option_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// traced is one provider's client against its fake, on a manual clock,
// instrumented with the OpenTelemetry SDK's in-memory exporters.
type traced struct {
	name    string
	op      string // the typed call's span name
	call    func(ctx context.Context, opts ...option.CallOption) error
	token   func(ctx context.Context) (*oauth2.Token, error)
	script  func(target fake.Target, n int, f fake.Fault)
	revoke  func(token string) bool
	fetches func() int64
	secrets []string
}

const tokenLife = 100 * time.Second

func tracedProviders(t *testing.T, clock *fake.Clock, opts ...option.Option) []traced {
	onClock := option.WithCacheOptions(auth.CacheOptions{Now: clock.Now})
	opts = append(opts, onClock, option.WithRetryPolicy(auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	var out []traced

	stems := stemstest.NewServer(t, stemstest.WithClock(clock), stemstest.WithTokenLifetime(tokenLife), stemstest.WithClient("id-1", echoSecret+"-stems"))
	sc, err := stemsapi.NewClient(stems.URL, stems.Credentials(), append(stems.ClientOptions(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, traced{"stemsapi", "list hazards",
		func(ctx context.Context, o ...option.CallOption) error {
			_, err := sc.ListHazards(ctx, o...)
			return err
		},
		sc.Token, stems.Script, stems.RevokeToken, sc.TokenFetches, []string{stems.ClientSecret, stemstest.DefaultPassword}})

	stenn := stenntest.NewServer(t, stenntest.WithClock(clock), stenntest.WithTokenLifetime(tokenLife), stenntest.WithClient("id-2", echoSecret+"-stenn"))
	nc, err := stennapi.NewClient(stenn.ClientID, stenn.ClientSecret, append(stenn.ClientOptions(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, traced{"stennapi", "list companies",
		func(ctx context.Context, o ...option.CallOption) error {
			_, err := nc.ListCompanies(ctx, o...)
			return err
		},
		nc.Token, stenn.Script, stenn.RevokeToken, nc.TokenFetches, []string{stenn.ClientSecret}})

	cc := cloudcomplitest.NewServer(t, cloudcomplitest.WithClock(clock), cloudcomplitest.WithTokenLifetime(tokenLife), cloudcomplitest.WithClient("id-3", echoSecret+"-cc"))
	ccc, err := cloudcompliapi.NewClient(cc.URL, cc.Credentials(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, traced{"cloudcompliapi", "get user",
		func(ctx context.Context, o ...option.CallOption) error { _, err := ccc.GetUser(ctx, o...); return err },
		ccc.Token, cc.Script, cc.RevokeToken, ccc.TokenFetches, []string{cc.ClientSecret}})

	faml := firstamltest.NewServer(t, firstamltest.WithClock(clock), firstamltest.WithTokenLifetime(tokenLife), firstamltest.WithClient("id-4", echoSecret+"-faml"))
	fc, err := firstamlapi.NewClient(faml.ClientID, faml.ClientSecret, append(faml.ClientOptions(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, traced{"firstamlapi", "Me",
		func(ctx context.Context, o ...option.CallOption) error { _, err := fc.Me(ctx, o...); return err },
		fc.Token, faml.Script, faml.RevokeToken, fc.TokenFetches, []string{faml.ClientSecret}})
	return out
}

func spansNamed(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func children(spans []sdktrace.ReadOnlySpan, parent trace.SpanContext) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == parent.SpanID() && s.Parent().TraceID() == parent.TraceID() {
			out = append(out, s)
		}
	}
	return out
}

func attr(kvs []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func hasEvent(s sdktrace.ReadOnlySpan, name string) bool {
	for _, e := range s.Events() {
		if e.Name == name {
			return true
		}
	}
	return false
}

// The four clients, traced and measured with the OpenTelemetry SDK against
// their fakes: a typed call is one client span with a child per attempt; a
// 429 retry and a 401 replay are events on it; a call that waits for a
// token has a wait span linked to the shared fetch, itself the root of a
// trace of its own; a background refresh is a trace no call waits on; the
// time calls waited for a token is 0 for every call after the first while
// the token endpoint took 200 ms; and no attribute, event or metric label
// carries a secret or a token.
func TestTracesAndMetricsOfEveryProvider(t *testing.T) {
	clock := fake.NewClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	ctx := context.Background()
	var tokens []string

	for _, p := range tracedProviders(t, clock, option.WithTracerProvider(tp), option.WithMeterProvider(mp)) {
		// 1. The first call waits for the token endpoint (slowed to 200 ms).
		p.script(fake.TokenCalls, 1, fake.Slow(200*time.Millisecond))
		var meta option.Response
		if err := p.call(ctx, option.WithResponseInto(&meta)); err != nil {
			t.Fatalf("%s: first call: %v", p.name, err)
		}
		if meta.StatusCode != 200 || meta.Attempts != 1 || meta.RequestID == "" || meta.Header.Get("Content-Type") == "" {
			t.Errorf("%s: response metadata %+v; want status 200, 1 attempt, the request id and headers", p.name, meta)
		}
		// 2. A 429, retried.
		p.script(fake.APICalls, 1, fake.TooManyRequests("0"))
		if err := p.call(ctx, option.WithResponseInto(&meta)); err != nil {
			t.Fatalf("%s: after a 429: %v", p.name, err)
		}
		if meta.Attempts != 2 {
			t.Errorf("%s: %d attempts after a 429; want 2", p.name, meta.Attempts)
		}
		// 3. The token revoked: a 401, one replay with a new token.
		tok, _ := p.token(ctx)
		tokens = append(tokens, tok.AccessToken, tok.RefreshToken)
		p.revoke(tok.AccessToken)
		if err := p.call(ctx); err != nil {
			t.Fatalf("%s: after revocation: %v", p.name, err)
		}
		tok, _ = p.token(ctx)
		tokens = append(tokens, tok.AccessToken)
		// 4. Past 75% of the token's life: served at once, refreshed in
		// the background.
		fetched := p.fetches()
		clock.Advance(80 * time.Second)
		if err := p.call(ctx); err != nil {
			t.Fatalf("%s: refresh ahead: %v", p.name, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for p.fetches() == fetched && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if p.fetches() == fetched {
			t.Fatalf("%s: no background refresh", p.name)
		}
		time.Sleep(20 * time.Millisecond) // the fetch span ends right after the fetch counts
		tok, _ = p.token(ctx)
		tokens = append(tokens, tok.AccessToken)
		clock.Advance(10 * time.Second)

		checkProviderSpans(t, p, rec.Ended())
		for _, s := range append(p.secrets, tokens...) {
			checkNoSecretInTelemetry(t, p.name, rec.Ended(), reader, s)
		}
	}
	checkMetrics(t, reader)
}

func checkProviderSpans(t *testing.T, p traced, all []sdktrace.ReadOnlySpan) {
	t.Helper()
	provider := strings.TrimSuffix(p.name, "api")
	var spans []sdktrace.ReadOnlySpan
	for _, s := range all {
		if v, ok := attr(s.Attributes(), "complykit.provider"); ok && v.AsString() == provider {
			spans = append(spans, s)
		}
	}
	calls := spansNamed(spans, p.op)
	if len(calls) != 4 {
		t.Fatalf("%s: %d %q call spans; want 4", p.name, len(calls), p.op)
	}
	for i, c := range calls {
		if c.SpanKind() != trace.SpanKindClient {
			t.Errorf("%s call %d: kind %v; want client", p.name, i+1, c.SpanKind())
		}
		attempts := 0
		for _, ch := range children(spans, c.SpanContext()) {
			if ch.Name() == "GET" || ch.Name() == "POST" {
				attempts++
				if v, ok := attr(ch.Attributes(), "http.response.status_code"); !ok || v.AsInt64() == 0 {
					t.Errorf("%s call %d: attempt span without http.response.status_code", p.name, i+1)
				}
			}
		}
		want := []int{1, 2, 2, 1}[i]
		if attempts != want {
			t.Errorf("%s call %d: %d attempt spans; want %d", p.name, i+1, attempts, want)
		}
		if v, ok := attr(c.Attributes(), "complykit.attempts"); !ok || int(v.AsInt64()) != want {
			t.Errorf("%s call %d: complykit.attempts = %v; want %d", p.name, i+1, v, want)
		}
		for _, k := range []string{"http.request.method", "http.response.status_code", "server.address", "url.full"} {
			if _, ok := attr(c.Attributes(), k); !ok {
				t.Errorf("%s call %d: no %s", p.name, i+1, k)
			}
		}
	}
	if !hasEvent(calls[1], "retry") {
		t.Errorf("%s: the 429 left no retry event on the call span", p.name)
	}
	if !hasEvent(calls[2], "replay") {
		t.Errorf("%s: the 401 left no replay event on the call span", p.name)
	}

	fetches := spansNamed(spans, "complykit token fetch")
	if len(fetches) != 3 {
		t.Fatalf("%s: %d token fetch spans; want 3 (first, after the 401, background)", p.name, len(fetches))
	}
	waits := spansNamed(spans, "complykit token wait")
	linked := map[trace.SpanID]bool{}
	for _, w := range waits {
		for _, l := range w.Links() {
			linked[l.SpanContext.SpanID()] = true
		}
	}
	for i, f := range fetches {
		if f.Parent().IsValid() {
			t.Errorf("%s: token fetch %d has a parent; want the root of its own trace", p.name, i+1)
		}
		bg, _ := attr(f.Attributes(), "complykit.token.background")
		switch {
		case i < 2 && !linked[f.SpanContext().SpanID()]:
			t.Errorf("%s: token fetch %d is not linked from the span of the call that waited for it", p.name, i+1)
		case i < 2 && bg.AsBool():
			t.Errorf("%s: token fetch %d is marked background", p.name, i+1)
		case i == 2 && (linked[f.SpanContext().SpanID()] || !bg.AsBool()):
			t.Errorf("%s: the background refresh is waited on (%v) or not marked background (%v)", p.name, linked[f.SpanContext().SpanID()], bg.AsBool())
		}
		if i > 0 && len(f.Links()) == 0 {
			t.Errorf("%s: token fetch %d is not linked to the fetch of the token it replaces", p.name, i+1)
		}
	}
	if len(waits) == 0 || waits[0].Parent().TraceID() != calls[0].SpanContext().TraceID() {
		t.Errorf("%s: the first call's wait for the token is not in its trace", p.name)
	}
}

// checkNoSecretInTelemetry looks for every form of secret in every span
// attribute, event, link and status, and every metric label.
func checkNoSecretInTelemetry(t *testing.T, name string, spans []sdktrace.ReadOnlySpan, reader sdkmetric.Reader, secret string) {
	t.Helper()
	if len(secret) < auth.MinSecretLen {
		return
	}
	forms := authtest.Forms(secret)
	check := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			authtest.CheckText(t, name+": "+where+" "+string(kv.Key), kv.Value.String(), forms)
		}
	}
	for _, s := range spans {
		check("span "+s.Name(), s.Attributes())
		authtest.CheckText(t, name+": span name", s.Name(), forms)
		authtest.CheckText(t, name+": span status", s.Status().Description, forms)
		for _, e := range s.Events() {
			check("event "+e.Name, e.Attributes)
		}
		for _, l := range s.Links() {
			check("link", l.Attributes)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range metricSets(m) {
				check("metric "+m.Name, set.ToSlice())
			}
		}
	}
}

func metricSets(m metricdata.Metrics) []attribute.Set {
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

// checkMetrics checks the figures the four providers' runs produced.
func checkMetrics(t *testing.T, reader sdkmetric.Reader) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != auth.ScopeName {
			t.Errorf("metrics under scope %q; want %q", sm.Scope.Name, auth.ScopeName)
		}
		for _, m := range sm.Metrics {
			byName[m.Name] = m
		}
	}
	for _, provider := range []string{"stems", "stenn", "cloudcompli", "firstaml"} {
		is := func(set attribute.Set) bool { v, _ := set.Value("complykit.provider"); return v.AsString() == provider }
		// Token waits: one per call; only the first waited.
		waits, ok := byName["complykit.token.wait.duration"].Data.(metricdata.Histogram[float64])
		if !ok {
			t.Fatal("no complykit.token.wait.duration")
		}
		for _, dp := range waits.DataPoints {
			if !is(dp.Attributes) {
				continue
			}
			if dp.Count != 4 {
				t.Errorf("%s: %d token waits recorded; want one per call (4)", provider, dp.Count)
			}
			// The first waited for the 200 ms endpoint; the other three
			// were served from the cache, at 0.
			if dp.Sum < 0.2 || dp.Sum > 5 || dp.Bounds[0] != 0 || dp.BucketCounts[0] != 3 {
				t.Errorf("%s: token waits sum %.3fs, %d in the first bucket [<=%v]; want >= 0.2 s, all but one at 0", provider, dp.Sum, dp.BucketCounts[0], dp.Bounds[0])
			}
		}
		counted := func(metric, key, value string) int64 {
			sum, ok := byName[metric].Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("no %s", metric)
			}
			var n int64
			for _, dp := range sum.DataPoints {
				if v, _ := dp.Attributes.Value(attribute.Key(key)); is(dp.Attributes) && v.AsString() == value {
					n += dp.Value
				}
			}
			return n
		}
		if n := counted("complykit.retries", "complykit.retry.reason", "429"); n != 1 {
			t.Errorf("%s: %d retries for 429; want 1", provider, n)
		}
		if n := counted("complykit.replays", "complykit.replay.reason", "unauthorized"); n != 1 {
			t.Errorf("%s: %d 401 replays; want 1", provider, n)
		}
		if n := counted("complykit.token.fetches", "complykit.token.outcome", "success"); n != 3 {
			t.Errorf("%s: %d successful token fetches; want 3", provider, n)
		}
	}
	for _, name := range []string{"http.client.request.duration", "complykit.token.fetch.duration"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

// W3C trace context goes with API requests, and with token requests only
// when asked (WithTokenTracePropagation): a vendor's identity provider
// learns nothing of the caller's traces otherwise.
func TestTraceContextOnAPIRequestsOnly(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	for _, asked := range []bool{false, true} {
		srv := stenntest.NewServer(t)
		opts := append(srv.ClientOptions(), option.WithTracerProvider(tp))
		if asked {
			opts = append(opts, option.WithTokenTracePropagation())
		}
		c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, span := tp.Tracer("test").Start(context.Background(), "caller")
		if _, err := c.ListCompanies(ctx); err != nil {
			t.Fatal(err)
		}
		span.End()
		for _, r := range srv.Requests() {
			tp := r.Header.Get("Traceparent")
			switch {
			case !r.Token && !strings.Contains(tp, span.SpanContext().TraceID().String()):
				t.Errorf("API request traceparent %q; want the caller's trace %s", tp, span.SpanContext().TraceID())
			case r.Token && !asked && tp != "":
				t.Errorf("token request carries traceparent %q without WithTokenTracePropagation", tp)
			case r.Token && asked && tp == "":
				t.Error("token request carries no traceparent with WithTokenTracePropagation")
			}
		}
	}
}
