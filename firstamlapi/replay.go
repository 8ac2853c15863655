package firstamlapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrReplayedDelivery is returned (wrapped) by ReplayGuard.Check for a
// delivery whose signature the guard has already seen within its TTL.
var ErrReplayedDelivery = errors.New("firstamlapi: webhook delivery replayed: its signature was seen within the replay window")

// ReplayStore remembers keys for a while, for a ReplayGuard. The default is
// a MemoryReplayStore, which protects one process; a fleet of receivers
// behind a load balancer needs a shared store, so that a delivery replayed
// to another instance is caught too. Implementations must be safe for
// concurrent use.
//
// auth/redisstore.ReplayStore is the Redis one: Add is SET key 1 NX PX
// <ttl in ms> (true when the reply is OK, false when it is nil: the key
// exists) and Remove is DEL key. The keys ReplayGuard passes are short
// ASCII strings that start with "firstamlapi:webhook:".
type ReplayStore interface {
	// Add records key until ttl has passed, unless it is recorded already,
	// and reports whether it recorded it: true the first time, false for
	// a key already recorded. It must be atomic: of two concurrent calls
	// with the same key, exactly one returns true.
	Add(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Remove forgets key; removing an unknown key is not an error.
	Remove(ctx context.Context, key string) error
}

// Defaults of ReplayGuardOptions.
const (
	// DefaultReplayTTL is how long a delivery is remembered by default.
	DefaultReplayTTL = time.Hour
	// DefaultReplayEntries bounds the default in-memory store.
	DefaultReplayEntries = 10000
)

// ReplayGuardOptions configure a ReplayGuard.
type ReplayGuardOptions struct {
	// Store remembers the deliveries seen. Optional; default a
	// MemoryReplayStore of MaxEntries. Give a shared store (Redis) when
	// several processes receive the same webhook.
	Store ReplayStore
	// TTL is how long a delivery is remembered: the window in which a
	// replay is caught, and in which a genuine second delivery of the same
	// body is refused too (see ReplayGuard). Optional; default
	// DefaultReplayTTL.
	TTL time.Duration
	// MaxEntries bounds the default store; past it, the oldest deliveries
	// are forgotten early. Optional; default DefaultReplayEntries. Unused
	// when Store is given.
	MaxEntries int
	// GuardStatusUpdates guards CaseStatusUpdated and UnwrapStatusUpdated
	// deliveries too. Optional; by default they pass unguarded, because
	// their bodies repeat by design ({eventType, caseId, officeKey} for
	// every status change of a case), so the guard would refuse a genuine
	// second status change within the TTL, while a replayed one only
	// makes the receiver fetch the case again.
	GuardStatusUpdates bool
}

// ReplayGuard refuses webhook deliveries it has already seen. First AML's
// x-faml-signature covers the body only, with no timestamp or delivery
// id, so a captured delivery stays valid forever; the guard remembers the
// signature (the HMAC's bytes, however the header spells them) of every
// delivery it accepts, for a TTL, in a ReplayStore, and refuses it if it
// comes again.
//
// Its limits, which no receiver can lift with First AML's signature as it
// is:
//
//   - A delivery older than the TTL, or forgotten early by a full store,
//     is accepted again when replayed.
//   - A delivery captured before it reached the guard (intercepted and
//     withheld, then sent first) is accepted once, as the first delivery;
//     the genuine one is then refused as a replay.
//   - Two genuine deliveries with the same body within the TTL are
//     indistinguishable from a replay: the second is refused (a
//     regenerated verification report for the same individual, say;
//     status updates are exempt by default, see GuardStatusUpdates).
//     Whether First AML delivers a refused event again later is not
//     documented.
//   - A store shared by a fleet must be reachable: when it fails, Check
//     fails (WebhookHandler answers 503) rather than accept unchecked.
//
// Use it with WithReplayGuard, or call Check after VerifySignature and
// ParseEvent. It is safe for concurrent use.
type ReplayGuard struct {
	store              ReplayStore
	ttl                time.Duration
	guardStatusUpdates bool
}

// NewReplayGuard returns a guard; see ReplayGuardOptions for the
// defaults. A negative TTL or MaxEntries is an error.
func NewReplayGuard(opts ReplayGuardOptions) (*ReplayGuard, error) {
	if opts.TTL < 0 || opts.MaxEntries < 0 {
		return nil, errors.New("firstamlapi: NewReplayGuard: TTL and MaxEntries must not be negative")
	}
	g := &ReplayGuard{store: opts.Store, ttl: opts.TTL, guardStatusUpdates: opts.GuardStatusUpdates}
	if g.ttl == 0 {
		g.ttl = DefaultReplayTTL
	}
	if g.store == nil {
		g.store = NewMemoryReplayStore(opts.MaxEntries)
	}
	return g, nil
}

// Check records a verified delivery and returns nil the first time, an
// error wrapping ErrReplayedDelivery when the same signature was seen
// within the TTL, an error wrapping ErrInvalidSignature when signature is
// not base64, and the store's error, wrapped, when it fails. Status
// updates pass unchecked unless GuardStatusUpdates is set. Verify the
// signature first: Check does not.
func (g *ReplayGuard) Check(ctx context.Context, ev Event, signature string) error {
	key, guarded, err := g.key(ev, signature)
	if err != nil || !guarded {
		return err
	}
	first, err := g.store.Add(ctx, key, g.ttl)
	switch {
	case err != nil:
		return fmt.Errorf("firstamlapi: replay guard: %w", err)
	case !first:
		return fmt.Errorf("%w (%s)", ErrReplayedDelivery, ev.EventType())
	}
	return nil
}

// Forget drops a delivery Check recorded, so that First AML's redelivery
// of it is accepted: call it when processing the event failed.
func (g *ReplayGuard) Forget(ctx context.Context, ev Event, signature string) error {
	key, guarded, err := g.key(ev, signature)
	if err != nil || !guarded {
		return err
	}
	if err := g.store.Remove(ctx, key); err != nil {
		return fmt.Errorf("firstamlapi: replay guard: %w", err)
	}
	return nil
}

// replayKeyPrefix starts every key a ReplayGuard stores.
const replayKeyPrefix = "firstamlapi:webhook:"

// key is the store key of a delivery: the HMAC's bytes, so that two
// spellings of one signature (padded or not, non-canonical trailing bits)
// are one delivery.
func (g *ReplayGuard) key(ev Event, signature string) (string, bool, error) {
	if ev == nil {
		return "", false, fmt.Errorf("%w: nil event", ErrInvalidEvent)
	}
	if !g.guardStatusUpdates {
		switch ev.EventType() {
		case EventCaseStatusUpdated, EventUnwrapStatusUpdated:
			return "", false, nil
		}
	}
	signature = strings.TrimSpace(signature)
	mac, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		if mac, err = base64.RawStdEncoding.DecodeString(signature); err != nil {
			return "", false, fmt.Errorf("%w: not base64", ErrInvalidSignature)
		}
	}
	if len(mac) == 0 {
		return "", false, fmt.Errorf("%w: empty", ErrInvalidSignature)
	}
	return replayKeyPrefix + base64.RawURLEncoding.EncodeToString(mac), true, nil
}

// MemoryReplayStore is the in-memory ReplayStore: bounded in size, each
// key kept for its TTL. It protects one process only. Use
// NewMemoryReplayStore; it is safe for concurrent use.
type MemoryReplayStore struct {
	mu    sync.Mutex
	max   int
	now   func() time.Time
	seen  map[string]time.Time // key -> expiry
	queue []replayEntry        // keys in the order added, for expiry and eviction
	head  int
}

type replayEntry struct {
	key    string
	expiry time.Time
}

// NewMemoryReplayStore returns a store of at most maxEntries keys (0:
// DefaultReplayEntries); when it is full, the oldest key is forgotten
// first.
func NewMemoryReplayStore(maxEntries int) *MemoryReplayStore {
	if maxEntries <= 0 {
		maxEntries = DefaultReplayEntries
	}
	return &MemoryReplayStore{max: maxEntries, now: time.Now, seen: map[string]time.Time{}}
}

// Add implements ReplayStore.
func (s *MemoryReplayStore) Add(_ context.Context, key string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if exp, ok := s.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	// Drop expired keys from the front, then the oldest while full.
	for s.head < len(s.queue) {
		e := s.queue[s.head]
		exp, ok := s.seen[e.key]
		current := ok && exp.Equal(e.expiry) // not re-added or removed since
		if current && now.Before(exp) && len(s.seen) < s.max {
			break
		}
		if current {
			delete(s.seen, e.key)
		}
		s.queue[s.head] = replayEntry{}
		s.head++
	}
	if s.head > len(s.queue)/2 { // reclaim the consumed front
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
	exp := now.Add(ttl)
	s.seen[key] = exp
	s.queue = append(s.queue, replayEntry{key: key, expiry: exp})
	return true, nil
}

// Remove implements ReplayStore.
func (s *MemoryReplayStore) Remove(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, key)
	return nil
}

// Len reports how many keys the store holds, expired ones not yet dropped
// included.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}
