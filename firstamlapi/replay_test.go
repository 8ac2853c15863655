package firstamlapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
)

// guardedHandler is a WebhookHandler with a replay guard whose callback
// counts the events it processes, failing while fail is set.
func guardedHandler(t *testing.T, key firstamltest.WebhookKey, opts firstamlapi.ReplayGuardOptions) (http.Handler, *atomic.Int32, *atomic.Bool) {
	t.Helper()
	guard, err := firstamlapi.NewReplayGuard(opts)
	if err != nil {
		t.Fatal(err)
	}
	var processed atomic.Int32
	var fail atomic.Bool
	h, err := firstamlapi.WebhookHandler(key.Base64(), func(context.Context, firstamlapi.Event) error {
		if fail.Load() {
			return errors.New("db down")
		}
		processed.Add(1)
		return nil
	}, firstamlapi.WithReplayGuard(guard))
	if err != nil {
		t.Fatal(err)
	}
	return h, &processed, &fail
}

func deliver(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestReplayGuardRefusesAReplayedDelivery(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	h, processed, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{})
	payload := firstamltest.CaseCreatedPayload("100234", firstamltest.SampleOfficeKey)

	if w := deliver(h, key.NewRequest("/hooks", payload)); w.Code != http.StatusOK {
		t.Fatalf("first delivery: %d %s", w.Code, w.Body)
	}
	w := deliver(h, key.NewRequest("/hooks", payload))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "replayed") {
		t.Errorf("replay: %d %q; want 409 saying it was replayed", w.Code, w.Body)
	}
	// The same HMAC spelled without padding is the same delivery.
	unpadded := key.NewRequest("/hooks", payload)
	unpadded.Header.Set(firstamlapi.SignatureHeader, strings.TrimRight(key.Sign(payload), "="))
	if w := deliver(h, unpadded); w.Code != http.StatusConflict {
		t.Errorf("replay with an unpadded signature: %d; want 409", w.Code)
	}
	// Another event is another delivery.
	if w := deliver(h, key.NewRequest("/hooks", firstamltest.CaseCreatedPayload("100235", ""))); w.Code != http.StatusOK {
		t.Errorf("another case: %d; want 200", w.Code)
	}
	if n := processed.Load(); n != 2 {
		t.Errorf("the callback processed %d events; want 2 (the replays must not reach it)", n)
	}
	// A forged delivery is refused before the guard, and does not fill it.
	forged := key.NewRequest("/hooks", payload)
	forged.Header.Set(firstamlapi.SignatureHeader, firstamltest.NewWebhookKey().Sign(payload))
	if w := deliver(h, forged); w.Code != http.StatusUnauthorized {
		t.Errorf("forged: %d; want 401", w.Code)
	}
}

func TestReplayGuardStatusUpdatesPassByDefault(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	// Two status changes of one case have the same body: the default
	// guard lets both through.
	for _, payload := range [][]byte{
		firstamltest.CaseStatusUpdatedPayload("100234", ""),
		firstamltest.UnwrapStatusUpdatedPayload("100234", ""),
	} {
		h, processed, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{})
		for i := 0; i < 2; i++ {
			if w := deliver(h, key.NewRequest("/hooks", payload)); w.Code != http.StatusOK {
				t.Errorf("%s delivery %d: %d; want 200", payload, i+1, w.Code)
			}
		}
		if n := processed.Load(); n != 2 {
			t.Errorf("%s: processed %d; want 2", payload, n)
		}

		strict, processed, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{GuardStatusUpdates: true})
		deliver(strict, key.NewRequest("/hooks", payload))
		if w := deliver(strict, key.NewRequest("/hooks", payload)); w.Code != http.StatusConflict {
			t.Errorf("%s with GuardStatusUpdates: second delivery %d; want 409", payload, w.Code)
		}
		if n := processed.Load(); n != 1 {
			t.Errorf("%s with GuardStatusUpdates: processed %d; want 1", payload, n)
		}
	}
}

// A delivery whose processing failed is forgotten, so that First AML's
// redelivery is accepted rather than refused as a replay.
func TestReplayGuardForgetsAFailedDelivery(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	h, processed, fail := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{})
	payload := firstamltest.PdfUpdatedPayload("100234", "pdf-1", "https://api.firstaml.com/pdf/document", "Completed")
	fail.Store(true)
	if w := deliver(h, key.NewRequest("/hooks", payload)); w.Code != http.StatusInternalServerError {
		t.Fatalf("failing callback: %d; want 500", w.Code)
	}
	fail.Store(false)
	if w := deliver(h, key.NewRequest("/hooks", payload)); w.Code != http.StatusOK {
		t.Errorf("redelivery after a failure: %d %s; want 200", w.Code, w.Body)
	}
	if w := deliver(h, key.NewRequest("/hooks", payload)); w.Code != http.StatusConflict {
		t.Errorf("replay after the successful redelivery: %d; want 409", w.Code)
	}
	if n := processed.Load(); n != 1 {
		t.Errorf("processed %d; want 1", n)
	}
}

// Of concurrent copies of one delivery, exactly one is processed.
func TestReplayGuardConcurrentCopies(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	h, processed, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{})
	payload := firstamltest.VerificationReportGeneratedPayload("100234", "ind-7f3a", "")
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = deliver(h, key.NewRequest("/hooks", payload)).Code
		}()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		}
	}
	if ok != 1 || conflict != len(codes)-1 || processed.Load() != 1 {
		t.Errorf("%d accepted, %d refused as replays, %d processed; want 1, %d, 1", ok, conflict, processed.Load(), len(codes)-1)
	}
}

// failingStore is a shared store that is down.
type failingStore struct{}

func (failingStore) Add(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("redis: connection refused")
}
func (failingStore) Remove(context.Context, string) error {
	return errors.New("redis: connection refused")
}

// recordingStore records the keys and TTLs it is given, behaving like
// SET NX PX.
type recordingStore struct {
	mu   sync.Mutex
	keys map[string]time.Duration
}

func (s *recordingStore) Add(_ context.Context, key string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return false, nil
	}
	s.keys[key] = ttl
	return true, nil
}

func (s *recordingStore) Remove(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
	return nil
}

func TestReplayGuardWithASharedStore(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	payload := firstamltest.CaseCreatedPayload("100234", "")

	// A store that fails makes the handler answer 503, never process an
	// unchecked delivery.
	h, processed, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{Store: failingStore{}})
	if w := deliver(h, key.NewRequest("/hooks", payload)); w.Code != http.StatusServiceUnavailable || processed.Load() != 0 {
		t.Errorf("store down: %d, processed %d; want 503 and nothing processed", w.Code, processed.Load())
	}

	// Two handlers (two instances of a fleet) sharing a store: a replay
	// to the other instance is caught.
	shared := &recordingStore{keys: map[string]time.Duration{}}
	a, pa, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{Store: shared, TTL: 30 * time.Minute})
	b, pb, _ := guardedHandler(t, key, firstamlapi.ReplayGuardOptions{Store: shared, TTL: 30 * time.Minute})
	if w := deliver(a, key.NewRequest("/hooks", payload)); w.Code != http.StatusOK {
		t.Fatalf("instance a: %d", w.Code)
	}
	if w := deliver(b, key.NewRequest("/hooks", payload)); w.Code != http.StatusConflict {
		t.Errorf("replay to instance b: %d; want 409", w.Code)
	}
	if pa.Load() != 1 || pb.Load() != 0 {
		t.Errorf("processed a=%d b=%d; want 1, 0", pa.Load(), pb.Load())
	}
	mac, _ := base64.StdEncoding.DecodeString(key.Sign(payload))
	want := "firstamlapi:webhook:" + base64.RawURLEncoding.EncodeToString(mac)
	if ttl, ok := shared.keys[want]; !ok || ttl != 30*time.Minute || len(shared.keys) != 1 {
		t.Errorf("store keys = %v; want %s for 30m", shared.keys, want)
	}
}

func TestMemoryReplayStoreTTLAndBound(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := firstamlapi.NewMemoryReplayStore(3)
	firstamlapi.SetReplayStoreClock(s, func() time.Time { return now })

	add := func(key string) bool {
		first, err := s.Add(ctx, key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return first
	}
	if !add("a") || add("a") {
		t.Fatal("a key must be new once, then seen")
	}
	now = now.Add(59 * time.Second)
	if add("a") {
		t.Error("a key within its TTL was new again")
	}
	now = now.Add(time.Second) // the TTL has passed
	if !add("a") {
		t.Error("a key past its TTL is still seen")
	}

	// Bounded: a fourth key evicts the oldest.
	add("b")
	add("c")
	if n := s.Len(); n != 3 {
		t.Fatalf("Len = %d; want 3", n)
	}
	if !add("d") || s.Len() != 3 {
		t.Fatalf("d not added, or Len = %d; want 3", s.Len())
	}
	if !add("a") {
		t.Error("the oldest key was not evicted by a full store")
	}
	if add("d") || add("c") {
		t.Error("recent keys were evicted")
	}

	// Remove forgets a key.
	if err := s.Remove(ctx, "d"); err != nil || !add("d") {
		t.Errorf("a removed key is still seen (%v)", err)
	}
	// Many keys over time stay within the bound.
	for i := 0; i < 1000; i++ {
		now = now.Add(time.Second)
		add(time.Duration(i).String())
	}
	if n := s.Len(); n > 3 {
		t.Errorf("Len = %d after 1000 keys; want at most 3", n)
	}
}

func TestReplayGuardOptions(t *testing.T) {
	if _, err := firstamlapi.NewReplayGuard(firstamlapi.ReplayGuardOptions{TTL: -time.Second}); err == nil || !strings.HasPrefix(err.Error(), "firstamlapi: ") {
		t.Errorf("negative TTL: err = %v", err)
	}
	if _, err := firstamlapi.WebhookHandler(firstamltest.NewWebhookKey().Base64(), func(context.Context, firstamlapi.Event) error { return nil }, firstamlapi.WithReplayGuard(nil)); err == nil {
		t.Error("WithReplayGuard(nil) accepted")
	}
	g, err := firstamlapi.NewReplayGuard(firstamlapi.ReplayGuardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &firstamlapi.CaseCreated{CaseID: "1"}
	if err := g.Check(context.Background(), ev, "!!!"); !errors.Is(err, firstamlapi.ErrInvalidSignature) {
		t.Errorf("Check of a non-base64 signature: %v; want ErrInvalidSignature", err)
	}
	sig := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	if err := g.Check(context.Background(), ev, sig); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(context.Background(), ev, sig); !errors.Is(err, firstamlapi.ErrReplayedDelivery) || !strings.HasPrefix(err.Error(), "firstamlapi: ") {
		t.Errorf("second Check: %v; want ErrReplayedDelivery", err)
	}
	if err := g.Forget(context.Background(), ev, sig); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(context.Background(), ev, sig); err != nil {
		t.Errorf("Check after Forget: %v", err)
	}
}
