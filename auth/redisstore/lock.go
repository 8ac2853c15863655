package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// releaseScript deletes the lock only if this owner still holds it: a lock
// that expired and was taken by another process is left alone.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// renewScript extends the lock only if this owner still holds it.
var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// maxHoldTTLs bounds renewal: a lock never released (a bug in the holder)
// still expires after maxHoldTTLs×LockTTL plus one LockTTL.
const maxHoldTTLs = 10

// Polling while another process holds the lock starts at minPoll and
// doubles up to maxPoll, each sleep jittered by ±50%.
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// Lock takes the fleet-wide lock for key, waiting (by polling with jittered
// sleeps) as long as ctx allows while another process holds it. The auth.Cache
// holds it around each token fetch, so that a fleet fetches one token per
// lifetime and never races on a rotated refresh token.
//
// The lock is SET NX PX with a random owner token; it is renewed every
// LockTTL/3 while held (for at most 10×LockTTL, 5 minutes by default) and
// expires LockTTL after a holder dies. unlock releases it with a
// compare-and-delete, on its own short timeout, and is safe to call more
// than once.
//
// When Redis is unreachable Lock fails within Timeout, and at once for
// RetryInterval after that, with an error wrapping ErrUnavailable; the
// auth.Cache then fetches without the lock.
func (s *Store) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if s.resting() {
		return nil, fmt.Errorf("redisstore: lock: %w", ErrUnavailable)
	}
	owner, err := newOwner()
	if err != nil {
		return nil, err
	}
	lk := s.lockKey(key)
	delay := minPoll
	for {
		ok, err := s.tryLock(ctx, lk, owner)
		if err != nil {
			if s.outage(ctx, "lock", err) {
				return nil, fmt.Errorf("redisstore: lock: %w: %w", ErrUnavailable, err)
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("redisstore: waiting for the lock: %w", ctx.Err())
			}
			return nil, fmt.Errorf("redisstore: lock: %w", err)
		}
		s.reachable()
		if ok {
			return s.hold(key, lk, owner), nil
		}
		if err := sleep(ctx, jitter(delay)); err != nil {
			return nil, fmt.Errorf("redisstore: waiting for the lock: %w", err)
		}
		delay = min(2*delay, maxPoll)
	}
}

func (s *Store) tryLock(ctx context.Context, lk, owner string) (bool, error) {
	return call(s, ctx, func(ctx context.Context) (bool, error) {
		return s.client.SetNX(ctx, lk, owner, s.lockTTL).Result()
	}, func(ok bool, _ error) {
		if ok { // taken after this call gave up on it: give it back
			s.release(lk, owner)
		}
	})
}

// hold starts renewing the lock and returns its unlock function.
func (s *Store) hold(key, lk, owner string) func() {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(s.lockTTL / 3)
		defer t.Stop()
		giveUp := time.Now().Add(maxHoldTTLs * s.lockTTL)
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				if now.After(giveUp) {
					s.logger.Warn("redisstore: lock held too long without being released; no longer renewing it",
						slog.String("key", key), slog.Duration("held", maxHoldTTLs*s.lockTTL))
					return
				}
			}
			renewed, err := call(s, context.Background(), func(ctx context.Context) (int64, error) {
				return renewScript.Run(ctx, s.client, []string{lk}, owner, s.lockTTL.Milliseconds()).Int64()
			}, nil)
			switch {
			case err != nil:
				if !s.outage(context.Background(), "lock renewal", err) {
					s.logger.Warn("redisstore: renewing a lock failed", slog.String("key", key), slog.String("error", s.errText(err)))
				}
			case renewed == 0:
				select {
				case <-stop: // released meanwhile
				default:
					s.logger.Warn("redisstore: lock expired while held; another process may fetch a token at the same time",
						slog.String("key", key))
				}
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			// A renewal still in flight is harmless: both scripts compare
			// the owner, so it cannot revive the lock once it is deleted.
			close(stop)
			s.release(lk, owner)
		})
	}
}

// release deletes the lock if owner still holds it, on its own timeout. A
// lock that cannot be released expires after LockTTL.
func (s *Store) release(lk, owner string) {
	_, err := call(s, context.Background(), func(ctx context.Context) (int64, error) {
		return releaseScript.Run(ctx, s.client, []string{lk}, owner).Int64()
	}, nil)
	if err != nil && !s.outage(context.Background(), "unlock", err) {
		s.logger.Warn("redisstore: releasing a lock failed; it expires on its own", slog.String("error", s.errText(err)))
	}
}

func newOwner() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("redisstore: generating a lock owner: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// jitter returns d ± 50%.
func jitter(d time.Duration) time.Duration {
	return d/2 + mrand.N(d)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
