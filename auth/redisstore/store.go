package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

// Options configure a Store. The zero value is ready to use, but without an
// EncryptionKey the store refuses refresh tokens.
type Options struct {
	// EncryptionKey is a 32-byte AES-256 key. When it is set, every token is
	// stored encrypted and authenticated (AES-256-GCM), and only values
	// written with this key or one of PreviousKeys are accepted. Optional,
	// but required to store refresh tokens: without it, Save refuses a token
	// that carries one (ErrNoEncryptionKey) and stores other tokens as plain
	// JSON. Keep it out of source code, e.g. in a secret manager or an
	// environment variable.
	EncryptionKey []byte
	// PreviousKeys are older EncryptionKeys, still accepted when reading so
	// that the key can be rotated without dropping the stored tokens; new
	// values are always written with EncryptionKey. Optional; requires
	// EncryptionKey.
	PreviousKeys [][]byte
	// Prefix is put before every Redis key the store uses. Optional.
	// Default "complykit:token:".
	Prefix string
	// Timeout bounds every Redis operation, whatever the client's own
	// timeouts and retries are: it is the longest a call waits for an
	// unreachable Redis before the store falls back to process memory.
	// Optional. Default 1 s.
	Timeout time.Duration
	// LockTTL is how long a lock outlives a process that died holding it.
	// A live holder renews it every LockTTL/3 (for at most 10×LockTTL), so
	// a slow token fetch keeps its lock. Optional. Default 30 s.
	LockTTL time.Duration
	// RefreshTokenGrace is how long a token that carries a refresh token
	// stays in Redis after its access token expires, so that a fleet that
	// was stopped for a while can still renew it. Optional. Default 30 days.
	RefreshTokenGrace time.Duration
	// NoExpiryTTL is how long a token without an expiry stays in Redis after
	// it was saved (every save starts it again). Optional. Default 30 days.
	NoExpiryTTL time.Duration
	// RetryInterval is how long, after Redis failed, the store keeps tokens
	// in process memory without trying Redis again. Optional. Default 5 s.
	RetryInterval time.Duration
	// Logger sees Redis becoming unreachable and reachable again, tokens
	// written back after an outage and locks lost; never a token or a key.
	// Optional.
	Logger *slog.Logger
	// Redactor, when set, learns EncryptionKey and PreviousKeys (raw, hex
	// and base64), so that the client's errors and logs can never show
	// them, and redacts the store's own log lines. Give it the client's
	// Redactor (auth.FlowOptions.Redactor, auth.CacheOptions.Redactor).
	// Optional.
	Redactor *auth.Redactor
}

const (
	defaultPrefix            = "complykit:token:"
	defaultTimeout           = time.Second
	defaultLockTTL           = 30 * time.Second
	defaultRefreshTokenGrace = 30 * 24 * time.Hour
	defaultNoExpiryTTL       = 30 * 24 * time.Hour
	defaultRetryInterval     = 5 * time.Second
)

func (o *Options) validate() error {
	if len(o.EncryptionKey) != 0 && len(o.EncryptionKey) != KeySize {
		return fmt.Errorf("redisstore: EncryptionKey must be %d bytes (AES-256), not %d", KeySize, len(o.EncryptionKey))
	}
	if len(o.PreviousKeys) > 0 && len(o.EncryptionKey) == 0 {
		return errors.New("redisstore: PreviousKeys requires EncryptionKey")
	}
	for i, k := range o.PreviousKeys {
		if len(k) != KeySize {
			return fmt.Errorf("redisstore: PreviousKeys[%d] must be %d bytes (AES-256), not %d", i, KeySize, len(k))
		}
	}
	if o.Timeout < 0 || o.LockTTL < 0 || o.RefreshTokenGrace < 0 || o.NoExpiryTTL < 0 || o.RetryInterval < 0 {
		return errors.New("redisstore: Timeout, LockTTL, RefreshTokenGrace, NoExpiryTTL and RetryInterval may not be negative")
	}
	if o.LockTTL != 0 && o.LockTTL < 10*time.Millisecond {
		return fmt.Errorf("redisstore: LockTTL %v is too short (at least 10ms)", o.LockTTL)
	}
	return nil
}

func (o Options) safe() auth.Safe {
	return auth.Safe{Type: "redisstore.Options", Fields: []auth.SafeField{
		auth.Public("Prefix", o.Prefix), auth.Secret("EncryptionKey", o.EncryptionKey), auth.Public("PreviousKeys", len(o.PreviousKeys)),
		auth.Public("Timeout", o.Timeout), auth.Public("LockTTL", o.LockTTL), auth.Public("RefreshTokenGrace", o.RefreshTokenGrace),
		auth.Public("NoExpiryTTL", o.NoExpiryTTL), auth.Public("RetryInterval", o.RetryInterval),
	}}
}

// String describes the options without the keys: the number of previous
// keys, and whether EncryptionKey is set.
func (o Options) String() string { return o.safe().String() }

// GoString is String, so that %#v cannot print a key either.
func (o Options) GoString() string { return o.String() }

// Format prints String under every verb and flag (%d and %x too).
func (o Options) Format(f fmt.State, verb rune) { o.safe().Format(f, verb) }

// MarshalJSON encodes the options without the keys: they never marshal.
func (o Options) MarshalJSON() ([]byte, error) { return o.safe().MarshalJSON() }

// LogValue logs the options without the keys.
func (o Options) LogValue() slog.Value { return o.safe().LogValue() }

// ErrNoEncryptionKey is returned by Save for a token that carries a refresh
// token when the store has no EncryptionKey: refresh tokens are only ever
// stored encrypted.
var ErrNoEncryptionKey = errors.New("redisstore: refusing to store a refresh token without an EncryptionKey; set Options.EncryptionKey")

// ErrUnavailable is wrapped by the errors of Lock, and of Load when the
// process holds no copy of the token, while Redis cannot be reached.
var ErrUnavailable = errors.New("redis unreachable")

// Store is an auth.Store and auth.Locker backed by Redis, shared by every
// process of a fleet. It is safe for concurrent use.
//
// Keys are Prefix + the key the auth.Cache passes (a hash: no secret and no
// user name is ever part of a Redis key), and the lock for a key is that
// key + ":lock". Like auth.FileStore, the store accepts keys of 1-128
// characters of [A-Za-z0-9._-], which every flow's CacheKey is.
type Store struct {
	client            redis.UniversalClient
	keys              *keyring // nil without an EncryptionKey
	prefix            string
	timeout           time.Duration
	lockTTL           time.Duration
	refreshTokenGrace time.Duration
	noExpiryTTL       time.Duration
	retryInterval     time.Duration
	logger            *slog.Logger
	red               *auth.Redactor

	down    atomic.Bool  // Redis failed and has not answered since
	retryAt atomic.Int64 // unix nanos: while down, Redis is not tried before

	mu    sync.Mutex
	local map[string]*localToken // the newest token this process saved or loaded, per key
}

// localToken is the process's own copy of a key's token: what Load returns
// while Redis is unreachable. dirty marks a token saved while Redis was
// unreachable, to be written back when it returns.
type localToken struct {
	tok   *oauth2.Token
	dirty bool
}

var (
	_ auth.Store  = (*Store)(nil)
	_ auth.Locker = (*Store)(nil)
)

// New returns a Store that keeps tokens in Redis through client, which may
// be a single node, a Sentinel failover or a Cluster client, with TLS and
// credentials configured there. New does not contact Redis: a Redis that is
// down at start-up only means tokens stay in process memory until it is up.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: a redis client is required")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{
		client:            client,
		prefix:            opts.Prefix,
		timeout:           opts.Timeout,
		lockTTL:           opts.LockTTL,
		refreshTokenGrace: opts.RefreshTokenGrace,
		noExpiryTTL:       opts.NoExpiryTTL,
		retryInterval:     opts.RetryInterval,
		logger:            opts.Logger,
		red:               opts.Redactor,
		local:             map[string]*localToken{},
	}
	for _, k := range append([][]byte{opts.EncryptionKey}, opts.PreviousKeys...) {
		s.red.AddKey(k)
	}
	if len(opts.EncryptionKey) > 0 {
		k, err := newKeyring(opts.EncryptionKey, opts.PreviousKeys)
		if err != nil {
			return nil, err
		}
		s.keys = k
	}
	if s.prefix == "" {
		s.prefix = defaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = defaultTimeout
	}
	if s.lockTTL == 0 {
		s.lockTTL = defaultLockTTL
	}
	if s.refreshTokenGrace == 0 {
		s.refreshTokenGrace = defaultRefreshTokenGrace
	}
	if s.noExpiryTTL == 0 {
		s.noExpiryTTL = defaultNoExpiryTTL
	}
	if s.retryInterval == 0 {
		s.retryInterval = defaultRetryInterval
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

func (s *Store) safe() auth.Safe {
	return auth.Safe{Type: "redisstore.Store", Fields: []auth.SafeField{auth.Public("Prefix", s.prefix), auth.Public("Encrypted", s.keys != nil)}}
}

// String describes the store without its keys or tokens.
func (s *Store) String() string { return s.safe().String() }

// GoString is String.
func (s *Store) GoString() string { return s.String() }

// Format prints String under every verb and flag.
func (s *Store) Format(f fmt.State, verb rune) { s.safe().Format(f, verb) }

// MarshalJSON encodes the description, without keys or tokens.
func (s *Store) MarshalJSON() ([]byte, error) { return s.safe().MarshalJSON() }

// LogValue logs the description, without keys or tokens.
func (s *Store) LogValue() slog.Value { return s.safe().LogValue() }

// errText is err's message for a log line, redacted.
func (s *Store) errText(err error) string { return s.red.Redact(err.Error()) }

// Encrypted reports whether the store encrypts tokens (it has an
// EncryptionKey) and so accepts refresh tokens.
func (s *Store) Encrypted() bool { return s.keys != nil }

// keyPattern is auth.FileStore's: what auth.Key and every flow's CacheKey
// produce. It keeps ':' out of keys, so a token key never names a lock.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

func checkKey(key string) error {
	if !keyPattern.MatchString(key) {
		return errors.New("redisstore: key must be 1-128 characters of [A-Za-z0-9._-]")
	}
	return nil
}

func (s *Store) tokenKey(key string) string { return s.prefix + key }
func (s *Store) lockKey(key string) string  { return s.prefix + key + ":lock" }

// Load returns the token saved under key, or (nil, nil) if there is none.
//
// While Redis is unreachable it returns this process's own copy (the
// newest token it saved or loaded). When Redis answers again and holds an
// older token than one saved here during the outage, or none, Load writes
// the local one back and returns it.
func (s *Store) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if s.resting() {
		return s.localOr(key, nil)
	}
	data, err := call(s, ctx, func(ctx context.Context) ([]byte, error) {
		return s.client.Get(ctx, s.tokenKey(key)).Bytes()
	}, nil)
	if errors.Is(err, redis.Nil) {
		data, err = nil, nil
	}
	if err != nil {
		if s.outage(ctx, "load", err) {
			return s.localOr(key, err)
		}
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	s.reachable()
	var remote *oauth2.Token
	if data != nil {
		if remote, err = s.decode(key, data); err != nil {
			return nil, err
		}
	}
	return s.reconcile(ctx, key, remote), nil
}

// reconcile settles the local copy against what Redis holds.
func (s *Store) reconcile(ctx context.Context, key string, remote *oauth2.Token) *oauth2.Token {
	s.mu.Lock()
	l := s.local[key]
	s.mu.Unlock()
	if l != nil && l.dirty && (remote == nil || newer(l.tok, remote)) {
		// Saved here while Redis was unreachable, and still the newest.
		if err := s.write(ctx, key, l.tok); err != nil {
			s.logger.Warn("redisstore: writing back a token saved during the outage failed",
				slog.String("key", key), slog.String("error", s.errText(err)))
			return l.tok
		}
		s.logger.Info("redisstore: wrote back a token saved while redis was unreachable", slog.String("key", key))
		s.settle(key, l, l.tok)
		return l.tok
	}
	s.settle(key, l, remote)
	return remote
}

// settle replaces the local copy old with a clean copy of tok (or drops it
// when tok is nil), unless a Save replaced old in the meantime.
func (s *Store) settle(key string, old *localToken, tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local[key] != old {
		return
	}
	if tok == nil {
		delete(s.local, key)
		return
	}
	s.local[key] = &localToken{tok: tok}
}

// newer reports whether a expires later than b.
func newer(a, b *oauth2.Token) bool {
	return !a.Expiry.IsZero() && !b.Expiry.IsZero() && a.Expiry.After(b.Expiry)
}

func (s *Store) localOr(key string, cause error) (*oauth2.Token, error) {
	s.mu.Lock()
	l := s.local[key]
	s.mu.Unlock()
	if l != nil {
		return l.tok, nil
	}
	if cause != nil {
		return nil, fmt.Errorf("redisstore: load: %w and this process holds no copy of the token: %w", ErrUnavailable, cause)
	}
	return nil, fmt.Errorf("redisstore: load: %w and this process holds no copy of the token", ErrUnavailable)
}

// Save stores tok under key with a TTL that follows its expiry (see
// Options), encrypted when the store has an EncryptionKey. A token with a
// refresh token is refused without one (ErrNoEncryptionKey).
//
// While Redis is unreachable Save keeps the token in process memory and
// returns nil, so that an auth.Cache goes on using a rotated refresh token
// instead of failing its callers; the token is written back once Redis
// answers again (see Load).
func (s *Store) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if tok == nil {
		return errors.New("redisstore: save: nil token")
	}
	if tok.RefreshToken != "" && s.keys == nil {
		return ErrNoEncryptionKey
	}
	l := &localToken{tok: tok, dirty: true}
	s.mu.Lock()
	s.local[key] = l
	s.mu.Unlock()
	if s.resting() {
		return nil
	}
	if err := s.write(ctx, key, tok); err != nil {
		if s.outage(ctx, "save", err) {
			return nil
		}
		return fmt.Errorf("redisstore: save: %w", err)
	}
	s.reachable()
	s.settle(key, l, tok)
	return nil
}

func (s *Store) write(ctx context.Context, key string, tok *oauth2.Token) error {
	data, err := s.encode(key, tok)
	if err != nil {
		return err
	}
	ttl := s.ttl(tok, time.Now())
	_, err = call(s, ctx, func(ctx context.Context) (string, error) {
		return s.client.Set(ctx, s.tokenKey(key), data, ttl).Result()
	}, nil)
	return err
}

// ttl is how long Redis keeps tok: until its expiry, plus RefreshTokenGrace
// when it carries a refresh token; NoExpiryTTL without an expiry; never
// less than a second.
func (s *Store) ttl(tok *oauth2.Token, now time.Time) time.Duration {
	if tok.Expiry.IsZero() {
		return s.noExpiryTTL
	}
	d := tok.Expiry.Sub(now)
	if tok.RefreshToken != "" {
		d += s.refreshTokenGrace
	}
	return max(d, time.Second)
}

func (s *Store) encode(key string, tok *oauth2.Token) ([]byte, error) {
	data, err := auth.MarshalToken(tok)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if s.keys == nil {
		return data, nil
	}
	return s.keys.seal(key, data)
}

func (s *Store) decode(key string, data []byte) (*oauth2.Token, error) {
	switch {
	case len(data) > 0 && data[0] == '{':
		if s.keys != nil {
			return nil, errors.New("redisstore: the stored token is not encrypted but this store has an EncryptionKey; refusing it (is another process running without the key?)")
		}
	case len(data) > 0 && data[0] == formatV1:
		if s.keys == nil {
			return nil, errors.New("redisstore: the stored token is encrypted; set Options.EncryptionKey to read it")
		}
		var err error
		if data, err = s.keys.open(key, data); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("redisstore: the stored value is not a token written by this package")
	}
	tok, err := auth.UnmarshalToken(data)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return tok, nil
}

// resting reports whether Redis failed recently enough that it is not
// tried again yet.
func (s *Store) resting() bool {
	return s.down.Load() && time.Now().UnixNano() < s.retryAt.Load()
}

// outage reports whether err means Redis cannot be used right now (rather
// than the caller's context ending or a reply error such as a missing ACL
// permission, which are returned as they are), and if so records it,
// logging the transition once.
func (s *Store) outage(ctx context.Context, op string, err error) bool {
	if ctx.Err() != nil {
		return false // the caller gave up; that says nothing about Redis
	}
	if !unavailable(err) {
		return false
	}
	s.retryAt.Store(time.Now().Add(s.retryInterval).UnixNano())
	if s.down.CompareAndSwap(false, true) {
		s.logger.Warn("redisstore: redis unreachable; keeping tokens in process memory until it answers again",
			slog.String("op", op), slog.String("error", s.errText(err)), slog.Duration("retry_interval", s.retryInterval))
	}
	return true
}

func (s *Store) reachable() {
	if s.down.CompareAndSwap(true, false) {
		s.logger.Info("redisstore: redis reachable again")
	}
}

// unavailable classifies an error from a Redis call: our own timeout, a
// network or pool error, or a reply saying the server cannot serve right
// now. Other reply errors (WRONGTYPE, NOPERM, ...) are configuration
// problems.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return true
	}
	return redis.IsLoadingError(err) || redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) || redis.IsReadOnlyError(err) ||
		redis.IsOOMError(err)
}

// call runs f with the store's Timeout and returns when f returns or the
// timeout expires, whichever is first. go-redis applies context deadlines to
// socket reads and writes only with ContextTimeoutEnabled, which is the
// user's choice, so f may outlive the call: it then ends on the client's own
// timeouts, and late, if not nil, sees its result.
func call[T any](s *Store, ctx context.Context, f func(context.Context) (T, error), late func(T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch: // finished at the deadline: use it
			return r.v, r.err
		default:
		}
		if late != nil {
			go func() {
				r := <-ch
				late(r.v, r.err)
			}()
		}
		var zero T
		return zero, ctx.Err()
	}
}
