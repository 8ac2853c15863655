package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth/redisstore"
)

const lockKey = "complykit:token:" + storeKey + ":lock"

func TestLockMutualExclusion(t *testing.T) {
	r := startRedis(t)
	const stores, perStore, rounds = 4, 3, 5
	var inside, maxInside, entered atomic.Int64
	var wg sync.WaitGroup
	for range stores {
		s := newStore(t, r.client(t), redisstore.Options{}) // one client each, like separate processes
		for range perStore {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					unlock, err := s.Lock(ctx, storeKey)
					cancel()
					if err != nil {
						t.Error(err)
						return
					}
					n := inside.Add(1)
					for m := maxInside.Load(); n > m && !maxInside.CompareAndSwap(m, n); m = maxInside.Load() {
					}
					entered.Add(1)
					time.Sleep(2 * time.Millisecond)
					inside.Add(-1)
					unlock()
				}
			}()
		}
	}
	wg.Wait()
	if got := maxInside.Load(); got != 1 {
		t.Errorf("at most %d holders at once; want 1", got)
	}
	if got, want := entered.Load(), int64(stores*perStore*rounds); got != want {
		t.Errorf("lock taken %d times; want %d", got, want)
	}
	if n, _ := r.client(t).Exists(context.Background(), lockKey).Result(); n != 0 {
		t.Error("the lock is still held after every unlock")
	}
}

func TestUnlockDeletesOnlyItsOwnLock(t *testing.T) {
	r := startRedis(t)
	raw := r.client(t)
	ctx := context.Background()
	a := newStore(t, r.client(t), redisstore.Options{})
	b := newStore(t, r.client(t), redisstore.Options{})

	unlockA, err := a.Lock(ctx, storeKey)
	if err != nil {
		t.Fatal(err)
	}
	// A stalls past its lock's TTL (simulated: the lock vanishes) and B
	// takes the lock.
	raw.Del(ctx, lockKey)
	unlockB, err := b.Lock(ctx, storeKey)
	if err != nil {
		t.Fatal(err)
	}
	ownerB, err := raw.Get(ctx, lockKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	unlockA() // must not delete B's lock
	unlockA() // and a second call is harmless
	if got, err := raw.Get(ctx, lockKey).Result(); err != nil || got != ownerB {
		t.Fatalf("after A's unlock the lock is %q, %v; want B's (%q)", got, err, ownerB)
	}
	unlockB()
	if n, _ := raw.Exists(ctx, lockKey).Result(); n != 0 {
		t.Error("B's unlock left the lock in place")
	}
}

func TestLockOfADeadProcessExpires(t *testing.T) {
	r := startRedis(t)
	raw := r.client(t)
	ctx := context.Background()
	// A process died holding the lock; it expires after its TTL.
	raw.Set(ctx, lockKey, "dead-owner", 300*time.Millisecond)
	s := newStore(t, r.client(t), redisstore.Options{})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, storeKey)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if got, _ := raw.Get(ctx, lockKey).Result(); got == "dead-owner" || got == "" {
		t.Errorf("lock owner = %q; want this store's", got)
	}
}

func TestHeldLockIsRenewed(t *testing.T) {
	r := startRedis(t)
	raw := r.client(t)
	ctx := context.Background()
	const ttl = 1500 * time.Millisecond // renewed every 500ms
	a := newStore(t, r.client(t), redisstore.Options{LockTTL: ttl})
	unlock, err := a.Lock(ctx, storeKey)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := raw.Get(ctx, lockKey).Result()
	time.Sleep(2 * ttl) // a fetch slower than the lock's TTL
	if got, err := raw.Get(ctx, lockKey).Result(); err != nil || got != owner {
		t.Fatalf("after twice its TTL the lock is %q, %v; want it still held by %q", got, err, owner)
	}
	unlock()
	if n, _ := raw.Exists(ctx, lockKey).Result(); n != 0 {
		t.Error("unlock left the lock in place")
	}
}

func TestLockWaitEndsWithContext(t *testing.T) {
	r := startRedis(t)
	raw := r.client(t)
	a := newStore(t, r.client(t), redisstore.Options{})
	b := newStore(t, r.client(t), redisstore.Options{})
	unlockA, err := a.Lock(context.Background(), storeKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		unlock, err := b.Lock(ctx, storeKey)
		if err == nil {
			unlock()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let B poll a few times
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock = %v; want an error wrapping context.Canceled", err)
		}
		if errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("a cancelled wait was taken for an outage: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Lock kept waiting after its context was cancelled")
	}
	unlockA()
	if n, _ := raw.Exists(context.Background(), lockKey).Result(); n != 0 {
		t.Error("the cancelled waiter left a lock behind")
	}

	// A deadline works the same way.
	unlockA, _ = a.Lock(context.Background(), storeKey)
	defer unlockA()
	dctx, dcancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer dcancel()
	if _, err := b.Lock(dctx, storeKey); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock = %v; want an error wrapping context.DeadlineExceeded", err)
	}
}
