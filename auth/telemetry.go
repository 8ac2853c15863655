package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/complykit/complykit-go/internal/version"
)

// ScopeName is the instrumentation scope of the SDK's spans and metrics.
const ScopeName = "github.com/complykit/complykit-go"

// Attribute keys of the SDK's own, under the complykit. namespace where
// the OpenTelemetry semantic conventions have none. None carries a secret,
// a token or personal data.
const (
	// AttrProvider names the API: stems, stenn, cloudcompli, firstaml.
	AttrProvider = attribute.Key("complykit.provider")
	// AttrOperation names a typed call, e.g. ListCompanies.
	AttrOperation = attribute.Key("complykit.operation")
	// AttrAttempts counts the HTTP requests a call sent, retries and a 401
	// replay included.
	AttrAttempts = attribute.Key("complykit.attempts")
	// AttrFlow names a token flow, e.g. client_credentials.
	AttrFlow = attribute.Key("complykit.token.flow")
	// AttrOutcome is a token fetch's result: success, refused or error.
	AttrOutcome = attribute.Key("complykit.token.outcome")
	// AttrBackground says whether a token fetch ran ahead of expiry, with
	// no caller waiting.
	AttrBackground = attribute.Key("complykit.token.background")
	// AttrRetryReason is why a request was sent again: a status code
	// ("429", "503") or "transport_error".
	AttrRetryReason = attribute.Key("complykit.retry.reason")
	// AttrReplayReason is why a request was replayed: "unauthorized".
	AttrReplayReason = attribute.Key("complykit.replay.reason")
	// AttrStoreOperation is the token store operation that failed: load,
	// save or lock.
	AttrStoreOperation = attribute.Key("complykit.store.operation")
)

// TelemetryOptions configure a Telemetry. The zero value uses the global
// providers, which record nothing until an application installs an SDK.
type TelemetryOptions struct {
	// TracerProvider makes the spans. Optional. Default
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the metrics. Optional. Default
	// otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Provider names the API in every span and metric (AttrProvider).
	// Optional.
	Provider string
	// Flow names the token flow (AttrFlow). Optional.
	Flow string
	// PropagateToTokenRequests sends W3C trace context (traceparent) on
	// token requests too. Optional. Default false: a vendor's identity
	// provider learns nothing of the caller's traces unless asked. API
	// requests always carry it.
	PropagateToTokenRequests bool
}

// Telemetry traces and measures one client: a span per typed call (see
// StartCall) with a child span per HTTP attempt (the Doer), events for
// retries and 401 replays, spans for token fetches (the Cache) linked from
// the spans of callers that waited for them, and these metrics:
//
//   - http.client.request.duration (s), per attempt, by the semantic
//     conventions' HTTP attributes;
//   - complykit.token.fetches, by flow and outcome;
//   - complykit.token.fetch.duration (s);
//   - complykit.token.wait.duration (s): how long a request waited for a
//     token, 0 when the cache had one, which is every request after the
//     first while refresh-ahead works;
//   - complykit.retries and complykit.replays, by reason;
//   - complykit.token.store.errors, by operation;
//   - complykit.token.lock.wait.duration (s): waits for a store's
//     cross-process lock (auth/redisstore).
//
// With the default global providers and no SDK installed, it records
// nothing and costs a typed call no allocation. A nil *Telemetry records
// nothing either.
type Telemetry struct {
	tracer           trace.Tracer
	globalTracer     bool // no TracerProvider given: the global one
	propagator       propagation.TextMapPropagator
	tokenPropagation bool
	provider         attribute.KeyValue
	flow             attribute.KeyValue

	requestDuration metric.Float64Histogram
	tokenFetches    metric.Int64Counter
	fetchDuration   metric.Float64Histogram
	tokenWait       metric.Float64Histogram
	retries         metric.Int64Counter
	replays         metric.Int64Counter
	storeErrors     metric.Int64Counter
	lockWait        metric.Float64Histogram

	waitOpts []metric.RecordOption // the provider and flow, built once
}

// NewTelemetry returns the Telemetry of one client.
func NewTelemetry(o TelemetryOptions) (*Telemetry, error) {
	tp, mp := o.TracerProvider, o.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t := &Telemetry{
		globalTracer:     o.TracerProvider == nil,
		tracer:           tp.Tracer(ScopeName, trace.WithInstrumentationVersion(version.Number)),
		propagator:       propagation.TraceContext{},
		tokenPropagation: o.PropagateToTokenRequests,
		provider:         AttrProvider.String(o.Provider),
		flow:             AttrFlow.String(o.Flow),
	}
	meter := mp.Meter(ScopeName, metric.WithInstrumentationVersion(version.Number))
	seconds := metric.WithUnit("s")
	// The semantic conventions' boundaries for HTTP durations, after a 0
	// bucket: a request that did not wait for a token lands in it.
	buckets := metric.WithExplicitBucketBoundaries(0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
	var err error
	if t.requestDuration, err = meter.Float64Histogram("http.client.request.duration", seconds, buckets,
		metric.WithDescription("Duration of HTTP client requests, one per attempt.")); err != nil {
		return nil, err
	}
	if t.tokenFetches, err = meter.Int64Counter("complykit.token.fetches", metric.WithUnit("{fetch}"),
		metric.WithDescription("Token fetches from a token endpoint or source, by flow and outcome.")); err != nil {
		return nil, err
	}
	if t.fetchDuration, err = meter.Float64Histogram("complykit.token.fetch.duration", seconds, buckets,
		metric.WithDescription("Duration of token fetches.")); err != nil {
		return nil, err
	}
	if t.tokenWait, err = meter.Float64Histogram("complykit.token.wait.duration", seconds, buckets,
		metric.WithDescription("Time a request waited for a token: 0 when the cache had a valid one.")); err != nil {
		return nil, err
	}
	if t.retries, err = meter.Int64Counter("complykit.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Requests sent again by the retry policy, by reason.")); err != nil {
		return nil, err
	}
	if t.replays, err = meter.Int64Counter("complykit.replays", metric.WithUnit("{replay}"),
		metric.WithDescription("Requests replayed with a new token after a 401.")); err != nil {
		return nil, err
	}
	if t.storeErrors, err = meter.Int64Counter("complykit.token.store.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Token store operations that failed, by operation.")); err != nil {
		return nil, err
	}
	if t.lockWait, err = meter.Float64Histogram("complykit.token.lock.wait.duration", seconds, buckets,
		metric.WithDescription("Time spent waiting for a token store's cross-process lock.")); err != nil {
		return nil, err
	}
	t.waitOpts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(t.provider, t.flow))}
	return t, nil
}

var (
	clientKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	// noSDK is the global TracerProvider before an application installs
	// one (otel.SetTracerProvider replaces what GetTracerProvider returns):
	// while it is still the global one, a span would record nothing, and
	// starting one costs three allocations.
	noSDK = otel.GetTracerProvider()
)

// tracing reports whether spans can record: a TracerProvider was given, or
// the application has installed one globally. It costs an atomic load.
func (t *Telemetry) tracing() bool {
	return !t.globalTracer || otel.GetTracerProvider() != noSDK
}

// CallSpan is the span of one typed call, from StartCall. Its zero value
// (no telemetry) does nothing.
type CallSpan struct {
	span  trace.Span
	state *callState
}

// callState is what the Doer reports to the call it serves.
type callState struct {
	attempts int
}

type callStateKey struct{}

// StartCall starts the client span of one typed call, named name (the
// operation), and returns the context the call's requests must carry: the
// Doer makes each attempt a child span of it and counts the attempts.
// countAttempts asks for the count even when the span records nothing
// (for a caller that wants the response's metadata).
func (t *Telemetry) StartCall(ctx context.Context, name string, countAttempts bool) (context.Context, CallSpan) {
	if t == nil || !t.tracing() {
		if countAttempts {
			st := &callState{}
			return context.WithValue(ctx, callStateKey{}, st), CallSpan{state: st}
		}
		return ctx, CallSpan{}
	}
	ctx, span := t.tracer.Start(ctx, name, clientKind...)
	cs := CallSpan{span: span}
	if span.IsRecording() {
		span.SetAttributes(t.provider, AttrOperation.String(name))
		countAttempts = true
	}
	if countAttempts {
		cs.state = &callState{}
		ctx = context.WithValue(ctx, callStateKey{}, cs.state)
	}
	return ctx, cs
}

// Recording reports whether the span records: set attributes only then.
func (c CallSpan) Recording() bool { return c.span != nil && c.span.IsRecording() }

// SetAttributes adds attributes to a recording span.
func (c CallSpan) SetAttributes(kv ...attribute.KeyValue) {
	if c.Recording() {
		c.span.SetAttributes(kv...)
	}
}

// Attempts returns the number of HTTP requests the call sent.
func (c CallSpan) Attempts() int {
	if c.state == nil {
		return 0
	}
	return c.state.attempts
}

// End ends the span with the call's outcome: resp (nil if none arrived)
// and err (nil on success), whose text must already be redacted.
func (c CallSpan) End(resp *http.Response, err error) {
	if c.span == nil {
		return
	}
	if c.span.IsRecording() {
		c.span.SetAttributes(AttrAttempts.Int(c.Attempts()))
		if resp != nil {
			c.span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
			if resp.Request != nil {
				c.span.SetAttributes(requestAttributes(resp.Request)...)
			}
		}
		if err != nil {
			c.span.SetStatus(codes.Error, err.Error())
			c.span.SetAttributes(semconv.ErrorTypeKey.String(errorType(resp, err)))
		}
	}
	c.span.End()
}

// errorType is the error.type of a failed call: the status code, or the
// Go type of the error.
func errorType(resp *http.Response, err error) string {
	if resp != nil && resp.StatusCode >= 400 {
		return strconv.Itoa(resp.StatusCode)
	}
	return typeName(err)
}

func typeName(err error) string {
	switch err.(type) {
	case *TokenError:
		return "*auth.TokenError"
	case *BackoffError:
		return "*auth.BackoffError"
	}
	return "error"
}

// requestAttributes are the semantic conventions' attributes of an HTTP
// client request: method, server and the URL without its query (which
// could carry an identifier a trace backend should not index).
func requestAttributes(req *http.Request) []attribute.KeyValue {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	p, _ := strconv.Atoi(port)
	return []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(req.Method),
		semconv.ServerAddress(u.Hostname()),
		semconv.ServerPort(p),
		semconv.URLFull(u.String()),
	}
}

// attempt is one HTTP attempt's span and timer, from startAttempt.
type attempt struct {
	span  trace.Span
	start time.Time
	req   *http.Request // the request carrying the attempt's context
}

// startAttempt counts an attempt for the call and, when the call's span
// records, starts a child span for it and puts it on a copy of req (the
// transport, an otelhttp one say, sees it).
func (t *Telemetry) startAttempt(req *http.Request, n int, inject bool) attempt {
	ctx := req.Context()
	if st, ok := ctx.Value(callStateKey{}).(*callState); ok {
		st.attempts++
	}
	a := attempt{req: req}
	if t == nil {
		return a
	}
	if t.requestDuration.Enabled(ctx) {
		a.start = time.Now()
	}
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		// A caller's trace that is not sampled here still travels on.
		if inject && parent.SpanContext().IsValid() {
			t.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
		}
		return a
	}
	actx, span := t.tracer.Start(ctx, req.Method, clientKind...)
	span.SetAttributes(requestAttributes(req)...)
	span.SetAttributes(t.provider)
	if n > 1 {
		span.SetAttributes(semconv.HTTPRequestResendCount(n - 1))
	}
	a.span = span
	a.req = req.WithContext(actx)
	if inject {
		t.propagator.Inject(actx, propagation.HeaderCarrier(req.Header))
	}
	return a
}

// endAttempt ends an attempt with its response or transport error.
func (t *Telemetry) endAttempt(a attempt, resp *http.Response, err error) {
	if t == nil {
		return
	}
	ctx := a.req.Context()
	if !a.start.IsZero() {
		kv := append(requestAttributes(a.req), t.provider)
		if resp != nil {
			kv = append(kv, semconv.HTTPResponseStatusCode(resp.StatusCode))
			if resp.StatusCode >= 400 {
				kv = append(kv, semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
			}
		} else if err != nil {
			kv = append(kv, semconv.ErrorTypeKey.String("transport_error"))
		}
		t.requestDuration.Record(ctx, time.Since(a.start).Seconds(), metric.WithAttributes(kv...))
	}
	if a.span == nil {
		return
	}
	if resp != nil {
		a.span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if resp.StatusCode >= 400 {
			a.span.SetStatus(codes.Error, strconv.Itoa(resp.StatusCode))
		}
	} else if err != nil {
		a.span.SetStatus(codes.Error, "transport error")
		a.span.SetAttributes(semconv.ErrorTypeKey.String("transport_error"))
	}
	a.span.End()
}

// retry records a retry on the call's span (an event with its reason and
// delay) and in complykit.retries.
func (t *Telemetry) retry(ctx context.Context, reason string, wait time.Duration) {
	if t == nil {
		return
	}
	if t.retries.Enabled(ctx) {
		t.retries.Add(ctx, 1, metric.WithAttributes(t.provider, AttrRetryReason.String(reason)))
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("retry", trace.WithAttributes(AttrRetryReason.String(reason),
			attribute.Float64("complykit.retry.delay", wait.Seconds())))
	}
}

// replay records a 401 replay on the call's span and in complykit.replays.
func (t *Telemetry) replay(ctx context.Context) {
	if t == nil {
		return
	}
	if t.replays.Enabled(ctx) {
		t.replays.Add(ctx, 1, metric.WithAttributes(t.provider, AttrReplayReason.String("unauthorized")))
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("replay", trace.WithAttributes(AttrReplayReason.String("unauthorized")))
	}
}

// tokenWaited records how long a request waited for a token.
func (t *Telemetry) tokenWaited(ctx context.Context, d time.Duration) {
	if t == nil || !t.tokenWait.Enabled(ctx) {
		return
	}
	t.tokenWait.Record(ctx, d.Seconds(), t.waitOpts...)
}

// startFetch starts the span of a token fetch: the root of a trace of its
// own, since no caller's context bounds it, linked to the fetch of the
// token it replaces.
func (t *Telemetry) startFetch(background bool, replaces trace.SpanContext) (context.Context, trace.Span) {
	if t == nil || !t.tracing() {
		return context.Background(), nil
	}
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(t.provider, t.flow, AttrBackground.Bool(background))}
	if replaces.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: replaces,
			Attributes: []attribute.KeyValue{attribute.String("complykit.link", "replaces the token fetched here")}}))
	}
	return t.tracer.Start(context.Background(), "complykit token fetch", opts...)
}

// endFetch ends a token fetch's span and records its metrics.
func (t *Telemetry) endFetch(span trace.Span, start time.Time, err error) {
	if t == nil {
		return
	}
	outcome := "success"
	switch {
	case err == nil:
	case refusedCredentials(err):
		outcome = "refused"
	default:
		outcome = "error"
	}
	ctx := context.Background()
	kv := metric.WithAttributes(t.provider, t.flow, AttrOutcome.String(outcome))
	if t.tokenFetches.Enabled(ctx) {
		t.tokenFetches.Add(ctx, 1, kv)
	}
	if t.fetchDuration.Enabled(ctx) {
		t.fetchDuration.Record(ctx, time.Since(start).Seconds(), kv)
	}
	if span == nil {
		return
	}
	span.SetAttributes(AttrOutcome.String(outcome))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(typeName(err)))
	}
	span.End()
}

// startWait starts, for a caller whose span records, a child span for its
// wait on a shared fetch, linked to that fetch's span.
func (t *Telemetry) startWait(ctx context.Context, fetch trace.SpanContext) trace.Span {
	if t == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return nil
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(t.provider, t.flow)}
	if fetch.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: fetch,
			Attributes: []attribute.KeyValue{attribute.String("complykit.link", "the token fetch this request waited for")}}))
	}
	_, span := t.tracer.Start(ctx, "complykit token wait", opts...)
	return span
}

// storeError counts a failed token store operation.
func (t *Telemetry) storeError(op string) {
	if t == nil {
		return
	}
	ctx := context.Background()
	if t.storeErrors.Enabled(ctx) {
		t.storeErrors.Add(ctx, 1, metric.WithAttributes(t.provider, AttrStoreOperation.String(op)))
	}
}

// lockWaited records a wait for a store's lock.
func (t *Telemetry) lockWaited(d time.Duration) {
	if t == nil {
		return
	}
	ctx := context.Background()
	if t.lockWait.Enabled(ctx) {
		t.lockWait.Record(ctx, d.Seconds(), t.waitOpts...)
	}
}

// InjectTokenRequest adds W3C trace context to a token request when the
// client asked for it (PropagateToTokenRequests): the auth flows' requests,
// and those a provider builds itself (First AML's).
func (t *Telemetry) InjectTokenRequest(ctx context.Context, h http.Header) {
	if t != nil && t.tokenPropagation {
		t.propagator.Inject(ctx, propagation.HeaderCarrier(h))
	}
}

func (t Telemetry) safe() Safe {
	return Safe{Type: "auth.Telemetry", Fields: []SafeField{Public("Provider", t.provider.Value.AsString()), Public("Flow", t.flow.Value.AsString())}}
}

// String describes the Telemetry by its provider and flow; so do Format,
// MarshalJSON and LogValue.
func (t Telemetry) String() string { return t.safe().String() }

// Format implements fmt.Formatter.
func (t Telemetry) Format(f fmt.State, verb rune) { t.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler.
func (t Telemetry) MarshalJSON() ([]byte, error) { return t.safe().MarshalJSON() }

// LogValue implements slog.LogValuer.
func (t Telemetry) LogValue() slog.Value { return t.safe().LogValue() }
