package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/redisstore"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

const (
	msgDown  = "redis unreachable"
	msgUp    = "redis reachable again"
	msgWrote = "wrote back"
)

func TestStoreFallsBackAndResumes(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	logs := &logCapture{}
	s := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1), Timeout: 250 * time.Millisecond, RetryInterval: 50 * time.Millisecond, Logger: logs.logger()})
	t1 := fullToken(time.Now().Add(time.Hour))
	if err := s.Save(ctx, storeKey, t1); err != nil {
		t.Fatal(err)
	}

	r.Kill()
	t2 := fullToken(time.Now().Add(2 * time.Hour))
	t2.RefreshToken = "rt-rotated-during-outage"
	for range 3 {
		// A rotated refresh token must not become the caller's error.
		if err := s.Save(ctx, storeKey, t2); err != nil {
			t.Fatalf("Save during the outage = %v; want nil (kept in memory)", err)
		}
		got, err := s.Load(ctx, storeKey)
		if err != nil || got == nil || got.RefreshToken != t2.RefreshToken {
			t.Fatalf("Load during the outage = %v, %v; want the token saved during it", got, err)
		}
		if _, err := s.Lock(ctx, storeKey); !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("Lock during the outage = %v; want ErrUnavailable", err)
		}
		time.Sleep(60 * time.Millisecond) // past RetryInterval: the next call tries Redis again
	}
	if _, err := s.Load(ctx, "never-saved"); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Load of a key with no local copy during the outage = %v; want ErrUnavailable", err)
	}
	if n := logs.count(slog.LevelWarn, msgDown); n != 1 {
		t.Errorf("%d %q warnings for many failed calls; want 1:\n%s", n, msgDown, logs.text())
	}

	r.Restart(t) // empty: the outage lost every key
	other := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1)})
	// The client may take a moment to reconnect (go-redis redials in the
	// background after many failures).
	eventually(t, 10*time.Second, "the token saved during the outage to be written back", func() bool {
		got, err := s.Load(ctx, storeKey)
		if err != nil || got == nil || got.RefreshToken != t2.RefreshToken {
			t.Fatalf("Load after the outage = %v, %v; want the token saved during it", got, err)
		}
		// Written back: another process sees it.
		got, err = other.Load(ctx, storeKey)
		return err == nil && got != nil && got.RefreshToken == t2.RefreshToken
	})
	if n := logs.count(slog.LevelInfo, msgUp); n != 1 {
		t.Errorf("%d %q records; want 1:\n%s", n, msgUp, logs.text())
	}
	if n := logs.count(slog.LevelInfo, msgWrote); n != 1 {
		t.Errorf("%d %q records; want 1:\n%s", n, msgWrote, logs.text())
	}

	// Once back, Redis is the truth again: a newer token another process
	// saved wins over what this one remembers.
	t3 := fullToken(time.Now().Add(3 * time.Hour))
	t3.RefreshToken = "rt-from-another-process"
	if err := other.Save(ctx, storeKey, t3); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, storeKey); err != nil || got.RefreshToken != t3.RefreshToken {
		t.Errorf("Load = %v, %v; want the newer token from Redis", got, err)
	}
	assertNoSecrets(t, "log", logs.text())
	if strings.Contains(logs.text(), "rt-") {
		t.Errorf("log holds a refresh token:\n%s", logs.text())
	}
}

func TestOlderLocalTokenIsNotWrittenBack(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	s := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1), Timeout: 250 * time.Millisecond, RetryInterval: 50 * time.Millisecond})
	r.Kill()
	old := fullToken(time.Now().Add(time.Hour))
	old.RefreshToken = "rt-old"
	if err := s.Save(ctx, storeKey, old); err != nil {
		t.Fatal(err)
	}
	r.Restart(t)
	other := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1)})
	newer := fullToken(time.Now().Add(2 * time.Hour))
	newer.RefreshToken = "rt-newer"
	if err := other.Save(ctx, storeKey, newer); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the store to read Redis again", func() bool {
		got, err := s.Load(ctx, storeKey)
		if err != nil || got == nil {
			t.Fatalf("Load = %v, %v; want a token", got, err)
		}
		return got.RefreshToken == "rt-newer" // until then, the local copy
	})
	if got, _ := other.Load(ctx, storeKey); got.RefreshToken != "rt-newer" {
		t.Errorf("Redis holds %q; the older local token overwrote the newer one", got.RefreshToken)
	}
}

// An unresponsive Redis (accepts connections, never answers) is the case
// where go-redis's own timeouts, which ignore context deadlines by default,
// would hold a caller for seconds. The store answers within its Timeout.
func TestUnresponsiveRedisNeverHangs(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	c := redis.NewClient(&redis.Options{Addr: l.Addr().String(),
		DialTimeout: time.Minute, ReadTimeout: time.Minute, WriteTimeout: time.Minute, PoolTimeout: time.Minute})
	t.Cleanup(func() { c.Close() })
	logs := &logCapture{}
	s := newStore(t, c, redisstore.Options{Timeout: 200 * time.Millisecond, RetryInterval: 100 * time.Millisecond, Logger: logs.logger()})
	ctx := context.Background()

	start := time.Now()
	if _, err := s.Lock(ctx, storeKey); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Lock = %v; want ErrUnavailable", err)
	}
	if got, err := s.Load(ctx, storeKey); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Load = %v, %v; want ErrUnavailable", got, err)
	}
	tok := &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(time.Hour)}
	for range 3 {
		time.Sleep(110 * time.Millisecond) // each call tries Redis again
		if err := s.Save(ctx, storeKey, tok); err != nil {
			t.Errorf("Save = %v; want nil (kept in memory)", err)
		}
		if got, err := s.Load(ctx, storeKey); err != nil || got != tok {
			t.Errorf("Load = %v, %v; want the local copy", got, err)
		}
	}
	// Each call is bounded by Timeout (200ms), not by the client's minute.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the calls took %v; the client's own timeouts would have held them", took)
	}
	if n := logs.count(slog.LevelWarn, msgDown); n != 1 {
		t.Errorf("%d %q warnings; want 1:\n%s", n, msgDown, logs.text())
	}
}

// TestRedisOutageIsNotAnSDKOutage kills Redis under a running fleet (four
// stores with clients of their own, one cache and Doer each, several
// goroutines sending API requests) and starts it again on the same port.
func TestRedisOutageIsNotAnSDKOutage(t *testing.T) {
	r := startRedis(t)
	ts := newTokenServer(t)
	var apiRequests, apiRejected atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		apiRequests.Add(1)
		tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || !ts.validAccess(tok) {
			apiRejected.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(api.Close)

	const procs, workersPerProc = 4, 2
	logs := make([]*logCapture, procs)
	doers := make([]*auth.Doer, procs)
	var key string
	for i := range procs {
		logs[i] = &logCapture{}
		s := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1), RetryInterval: 200 * time.Millisecond, Logger: logs[i].logger()})
		cache, err := auth.NewCache(passwordFlow(t, ts.URL()), auth.CacheOptions{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		key = cache.Key()
		if doers[i], err = auth.NewDoer(cache, auth.DoerOptions{BaseURL: api.URL}); err != nil {
			t.Fatal(err)
		}
	}

	var failures atomic.Int64
	var failMu sync.Mutex
	var firstFailures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range procs * workersPerProc {
		wg.Add(1)
		go func(d *auth.Doer) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+"/v1/things", nil)
				resp, err := d.Do(req)
				msg := ""
				switch {
				case err != nil:
					msg = err.Error()
				case resp.StatusCode != http.StatusOK:
					msg = resp.Status
				}
				if resp != nil {
					resp.Body.Close()
				}
				cancel()
				if msg != "" {
					failures.Add(1)
					failMu.Lock()
					if len(firstFailures) < 5 {
						firstFailures = append(firstFailures, msg)
					}
					failMu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}(doers[i%procs])
	}
	defer func() {
		close(stop)
		wg.Wait()
		if n := failures.Load(); n != 0 {
			t.Errorf("%d of %d API requests failed; want none. First: %q", n, apiRequests.Load(), firstFailures)
		}
		t.Logf("%d API requests (%d answered 401 and were replayed), %d token requests", apiRequests.Load(), apiRejected.Load(), ts.requests())
	}()

	raw := r.client(t)
	reader := newStore(t, raw, redisstore.Options{EncryptionKey: testKey(1)})
	eventually(t, 30*time.Second, "a token in Redis", func() bool {
		tok, _ := reader.Load(context.Background(), key)
		return tok != nil
	})

	r.Kill()
	// Every process must notice (each fetches a token on its own when the
	// current one is due), and requests go on meanwhile.
	eventually(t, 30*time.Second, "every store to notice the outage", func() bool {
		for _, l := range logs {
			if l.count(slog.LevelWarn, msgDown) == 0 {
				return false
			}
		}
		return true
	})
	downRequests := ts.requests()
	eventually(t, 30*time.Second, "a token fetched during the outage", func() bool { return ts.requests() > downRequests })

	r.Restart(t)
	restarted := ts.requests()
	// The store resumes: a token fetched after the restart lands in Redis.
	eventually(t, 30*time.Second, "a token fetched after the restart in Redis", func() bool {
		tok, err := reader.Load(context.Background(), key)
		if err != nil || tok == nil {
			return false
		}
		n, _ := strconv.Atoi(strings.TrimPrefix(tok.AccessToken, "acc-"))
		return n > restarted
	})
	eventually(t, 30*time.Second, "every store to see Redis again", func() bool {
		for _, l := range logs {
			if l.count(slog.LevelInfo, msgUp) == 0 {
				return false
			}
		}
		return true
	})
	for i, l := range logs {
		// One warning per outage, however many calls failed during it.
		down, up := l.count(slog.LevelWarn, msgDown), l.count(slog.LevelInfo, msgUp)
		if down < 1 || down > 2 || up != down {
			t.Errorf("store %d logged %d %q and %d %q; want one of each (a reconnect hiccup may add a pair):\n%s", i, down, msgDown, up, msgUp, l.text())
		}
		assertNoSecrets(t, "log", l.text())
		if strings.Contains(l.text(), "acc-") || strings.Contains(l.text(), "rt-") || strings.Contains(l.text(), testPassword) {
			t.Errorf("store %d's log holds a secret:\n%s", i, l.text())
		}
	}
}
