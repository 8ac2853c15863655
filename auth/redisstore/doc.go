// Package redisstore shares tokens between the processes of a fleet through
// Redis, so that the whole fleet fetches one token per lifetime and never
// races on a rotated refresh token.
//
// A *Store is an auth.Store and an auth.Locker. Give it to an auth.Cache
// (auth.CacheOptions.Store, or the Store option of a provider package): the
// cache takes the store's lock around each fetch, re-reads the store under
// it, adopts a token another process fetched while it is still fresh, and
// otherwise refreshes with the newest refresh token in the store and saves
// the result before using it.
//
// # Setting up
//
// Pass any redis.UniversalClient (a single node, Sentinel, Cluster; TLS and
// credentials are configured on the client) and a 32-byte EncryptionKey:
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"redis:6379"}})
//	key, err := base64.StdEncoding.DecodeString(os.Getenv("TOKEN_STORE_KEY")) // openssl rand -base64 32
//	store, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: key})
//	cache, err := auth.NewCache(flow, auth.CacheOptions{Store: store})
//
// # What is stored
//
// Each token is a Redis string under Prefix + the cache's key (a hash of the
// token URL, client id, subject and scopes: never a secret) with a TTL that
// follows the token: its expiry for an access token alone, its expiry plus
// RefreshTokenGrace (default 30 days) when it carries a refresh token, and
// NoExpiryTTL (default 30 days, restarted by every save) when it has no
// expiry. id_token and the granted scope are kept.
//
// # Encryption
//
// With an EncryptionKey every token is encrypted and authenticated with
// AES-256-GCM: a format byte, a 4-byte key id, a random 12-byte nonce and
// the ciphertext, bound to its Redis key. PreviousKeys are still accepted
// for reading, so the key can be rotated: deploy the new key with the old
// one in PreviousKeys, and drop the old one after RefreshTokenGrace. A token
// written with an unknown key, altered, moved to another Redis key, or
// stored unencrypted is refused with an error that says which, never
// showing a token or a key.
//
// The keys never show: Options and Store print, encode (encoding/json) and
// log (log/slog) without them under every verb, and Options.Redactor, set to
// the client's auth.Redactor, learns them (raw, hex and base64) so that no
// error or log line of the client can carry one.
//
// Without an EncryptionKey, tokens without a refresh token are stored as
// plain JSON, and Save refuses a token with a refresh token
// (ErrNoEncryptionKey). An auth.Cache then keeps such a token pending and
// its callers get that error: refresh tokens are never written in clear.
//
// # Locking
//
// Lock is SET NX PX with a random owner, renewed while held and released by
// a compare-and-delete script, so a lock that outlived a stalled holder and
// was taken by another process is never deleted by the first. Waiting
// polls with short jittered sleeps, bounded by the context.
//
// # When Redis is down
//
// A Redis outage is not an SDK outage. Every Redis call is bounded by
// Timeout (default 1 s) even when the client ignores context deadlines.
// When Redis cannot be reached, the store logs one warning and, for
// RetryInterval (default 5 s) at a time, stops trying it: Save keeps the
// token in process memory and returns nil (a rotated refresh token is used,
// not turned into an error), Load returns that copy, and Lock fails at once
// (ErrUnavailable) so the cache fetches without it. Each process then
// fetches its own tokens (and, with rotating refresh tokens, processes may
// spend one another's: auth.PasswordFlow signs in again when that happens,
// a RefreshTokenSource returns the provider's invalid_grant). When Redis
// answers again the store logs that once, resumes, and writes back a token
// saved during the outage if Redis holds an older one or none.
package redisstore
