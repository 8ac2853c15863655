package redisstore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth/redisstore"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/redis/go-redis/v9"
)

// A fleet of webhook receivers sharing Redis catches a replay sent to any
// of them: of 20 copies of one delivery spread over two receivers at once,
// exactly one is processed. With Redis down, deliveries are refused with a
// temporary status, never let through unchecked.
func TestReplayStoreSharedByAFleet(t *testing.T) {
	r := startRedis(t)
	key := firstamltest.NewWebhookKey()
	var processed atomic.Int32
	receiver := func() http.Handler {
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
		t.Cleanup(func() { rdb.Close() })
		store, err := redisstore.NewReplayStore(rdb, redisstore.ReplayOptions{Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		guard, err := firstamlapi.NewReplayGuard(firstamlapi.ReplayGuardOptions{Store: store, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		h, err := firstamlapi.WebhookHandler(key.Base64(), func(context.Context, firstamlapi.Event) error {
			processed.Add(1)
			return nil
		}, firstamlapi.WithReplayGuard(guard))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	fleet := []http.Handler{receiver(), receiver()}
	payload := firstamltest.CaseCreatedPayload("100234", firstamltest.SampleOfficeKey)

	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			fleet[i%2].ServeHTTP(w, key.NewRequest("/hooks", payload))
			codes[i] = w.Code
		}()
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflicts++
		}
	}
	if ok != 1 || conflicts != 19 || processed.Load() != 1 {
		t.Fatalf("20 copies over 2 receivers: %d accepted, %d refused as replays, %d processed; want 1, 19, 1", ok, conflicts, processed.Load())
	}

	// Another delivery still gets through, on either receiver.
	other := firstamltest.CaseCreatedPayload("100235", firstamltest.SampleOfficeKey)
	w := httptest.NewRecorder()
	fleet[1].ServeHTTP(w, key.NewRequest("/hooks", other))
	if w.Code != http.StatusOK {
		t.Errorf("a new delivery: %d; want 200", w.Code)
	}

	r.Kill()
	w = httptest.NewRecorder()
	fleet[0].ServeHTTP(w, key.NewRequest("/hooks", firstamltest.CaseCreatedPayload("100236", firstamltest.SampleOfficeKey)))
	if w.Code != http.StatusServiceUnavailable || processed.Load() != 2 {
		t.Errorf("Redis down: %d with %d processed; want 503 and the delivery not processed", w.Code, processed.Load())
	}
}

func TestReplayStoreRefusesBadInput(t *testing.T) {
	if _, err := redisstore.NewReplayStore(nil, redisstore.ReplayOptions{}); err == nil {
		t.Error("nil client accepted")
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	s, _ := redisstore.NewReplayStore(rdb, redisstore.ReplayOptions{})
	if _, err := s.Add(context.Background(), "k", 0); err == nil {
		t.Error("a zero TTL accepted")
	}
	if _, err := s.Add(context.Background(), "k", time.Second); err == nil || errors.Unwrap(err) == nil {
		t.Errorf("unreachable Redis: %v; want a wrapped error", err)
	}
}
