package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplayStore remembers keys in Redis for a while: a webhook replay guard's
// store shared by a fleet of receivers (firstamlapi.ReplayGuardOptions's
// Store), so that a delivery replayed to another instance is caught too.
// Add is SET key 1 NX PX ttl, atomic across processes; Remove is DEL.
//
// When Redis cannot be reached, Add returns the error, so the guard can
// refuse the delivery with a temporary failure and the sender retries it
// later; nothing is let through unchecked.
type ReplayStore struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// ReplayOptions configure a ReplayStore. The zero value is ready to use.
type ReplayOptions struct {
	// Prefix is put before every key. Optional. Default
	// "complykit:replay:".
	Prefix string
	// Timeout bounds every Redis operation. Optional. Default 1 s.
	Timeout time.Duration
}

// NewReplayStore returns a ReplayStore on client.
func NewReplayStore(client redis.UniversalClient, opts ReplayOptions) (*ReplayStore, error) {
	if client == nil {
		return nil, errors.New("redisstore: a redis client is required")
	}
	if opts.Timeout < 0 {
		return nil, errors.New("redisstore: Timeout may not be negative")
	}
	if opts.Prefix == "" {
		opts.Prefix = "complykit:replay:"
	}
	if opts.Timeout == 0 {
		opts.Timeout = defaultTimeout
	}
	return &ReplayStore{client: client, prefix: opts.Prefix, timeout: opts.Timeout}, nil
}

// Add records key for ttl unless it is recorded already, and reports
// whether it recorded it. Of concurrent calls with one key, in any number
// of processes, exactly one returns true.
func (s *ReplayStore) Add(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("redisstore: replay TTL must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.client.SetNX(ctx, s.prefix+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: replay store: %w", err)
	}
	return ok, nil
}

// Remove forgets key.
func (s *ReplayStore) Remove(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Del(ctx, s.prefix+key).Err(); err != nil {
		return fmt.Errorf("redisstore: replay store: %w", err)
	}
	return nil
}
