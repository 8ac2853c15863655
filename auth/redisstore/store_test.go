package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/redisstore"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

const (
	storeKey     = "0123456789abcdef0123456789abcdef" // what auth.Key looks like
	accessToken  = "at-secret-access-4f2a"
	refreshToken = "rt-secret-refresh-9c1d"
	idToken      = "eyJ.id-token-secret.sig"
)

func fullToken(expiry time.Time) *oauth2.Token {
	tok := &oauth2.Token{
		AccessToken:  accessToken,
		TokenType:    "Bearer",
		RefreshToken: refreshToken,
		Expiry:       expiry,
		ExpiresIn:    1800,
	}
	return tok.WithExtra(map[string]any{"id_token": idToken, "scope": "openid offline_access"})
}

func checkSameToken(t *testing.T, got, want *oauth2.Token) {
	t.Helper()
	if got == nil {
		t.Fatal("Load = nil; want a token")
	}
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken || got.TokenType != want.TokenType {
		t.Errorf("Load = %q/%q/%q; want %q/%q/%q", got.AccessToken, got.RefreshToken, got.TokenType,
			want.AccessToken, want.RefreshToken, want.TokenType)
	}
	if !got.Expiry.Equal(want.Expiry) {
		t.Errorf("Expiry = %v; want %v", got.Expiry, want.Expiry)
	}
	if got.ExpiresIn != want.ExpiresIn {
		t.Errorf("ExpiresIn = %d; want %d", got.ExpiresIn, want.ExpiresIn)
	}
	if g, w := auth.IDToken(got), auth.IDToken(want); g != w {
		t.Errorf("id_token = %q; want %q", g, w)
	}
	if g, w := auth.GrantedScope(got), auth.GrantedScope(want); g != w {
		t.Errorf("scope = %q; want %q", g, w)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	expiry := time.Now().Add(30 * time.Minute).Round(time.Millisecond)

	t.Run("encrypted", func(t *testing.T) {
		s := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1), Prefix: "rt1:"})
		if tok, err := s.Load(ctx, storeKey); tok != nil || err != nil {
			t.Fatalf("Load of a missing key = %v, %v; want nil, nil", tok, err)
		}
		want := fullToken(expiry)
		if err := s.Save(ctx, storeKey, want); err != nil {
			t.Fatal(err)
		}
		// A new store (another process) reads it back from Redis.
		other := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(1), Prefix: "rt1:"})
		got, err := other.Load(ctx, storeKey)
		if err != nil {
			t.Fatal(err)
		}
		checkSameToken(t, got, want)
	})

	t.Run("plain without refresh token", func(t *testing.T) {
		c := r.client(t)
		s := newStore(t, c, redisstore.Options{Prefix: "rt2:"})
		want := fullToken(expiry)
		want.RefreshToken = ""
		if err := s.Save(ctx, storeKey, want); err != nil {
			t.Fatal(err)
		}
		raw, err := c.Get(ctx, "rt2:"+storeKey).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "{") || !strings.Contains(raw, accessToken) {
			t.Errorf("raw value = %q; want auth.MarshalToken's JSON", raw)
		}
		got, err := newStore(t, r.client(t), redisstore.Options{Prefix: "rt2:"}).Load(ctx, storeKey)
		if err != nil {
			t.Fatal(err)
		}
		checkSameToken(t, got, want)
	})
}

func TestTTLFollowsExpiry(t *testing.T) {
	r := startRedis(t)
	c := r.client(t)
	ctx := context.Background()
	const grace = 48 * time.Hour
	s := newStore(t, c, redisstore.Options{EncryptionKey: testKey(1), RefreshTokenGrace: grace, NoExpiryTTL: 7 * time.Hour})
	tests := []struct {
		name string
		tok  *oauth2.Token
		want time.Duration
	}{
		{"access token only", &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(time.Hour)}, time.Hour},
		{"with refresh token", &oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}, time.Hour + grace},
		{"no expiry", &oauth2.Token{AccessToken: "a", RefreshToken: "r"}, 7 * time.Hour},
		{"already expired", &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(-time.Hour)}, time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("ttl-%d", i)
			if err := s.Save(ctx, key, tt.tok); err != nil {
				t.Fatal(err)
			}
			got, err := c.PTTL(ctx, "complykit:token:"+key).Result()
			if err != nil {
				t.Fatal(err)
			}
			// Some time passes between Save and PTTL; a minute is plenty.
			if got > tt.want || got < tt.want-time.Minute {
				t.Errorf("PTTL = %v; want %v (less a little)", got, tt.want)
			}
		})
	}
}

func TestRefreshTokensAreStoredOnlyEncrypted(t *testing.T) {
	r := startRedis(t)
	c := r.client(t)
	ctx := context.Background()
	tok := fullToken(time.Now().Add(time.Hour))

	t.Run("raw value holds no token", func(t *testing.T) {
		s := newStore(t, c, redisstore.Options{EncryptionKey: testKey(1)})
		if err := s.Save(ctx, storeKey, tok); err != nil {
			t.Fatal(err)
		}
		raw, err := c.Get(ctx, "complykit:token:"+storeKey).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{accessToken, refreshToken, idToken, "offline_access", "access_token"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("raw Redis value contains %q", secret)
			}
		}
		if raw[0] != 0x01 {
			t.Errorf("raw value starts with %#x; want the format byte 0x01", raw[0])
		}
		// A fresh nonce per write: the same token never encrypts the same way.
		if err := s.Save(ctx, storeKey, tok); err != nil {
			t.Fatal(err)
		}
		raw2, _ := c.Get(ctx, "complykit:token:"+storeKey).Bytes()
		if string(raw2) == string(raw) {
			t.Error("two writes of one token gave the same ciphertext")
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		s := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(2)})
		got, err := s.Load(ctx, storeKey)
		if err == nil {
			t.Fatalf("Load with the wrong key = %v; want an error", got)
		}
		if !strings.Contains(err.Error(), "another key") {
			t.Errorf("error = %q; want it to say the token was encrypted with another key", err)
		}
		assertNoSecrets(t, "error", err.Error())
	})

	t.Run("no key reading an encrypted value", func(t *testing.T) {
		s := newStore(t, r.client(t), redisstore.Options{})
		if _, err := s.Load(ctx, storeKey); err == nil || !strings.Contains(err.Error(), "EncryptionKey") {
			t.Errorf("Load = %v; want an error asking for the EncryptionKey", err)
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		s := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(2), PreviousKeys: [][]byte{testKey(1)}})
		got, err := s.Load(ctx, storeKey)
		if err != nil {
			t.Fatal(err)
		}
		checkSameToken(t, got, tok)
		if err := s.Save(ctx, storeKey, got); err != nil { // rewritten with the new key
			t.Fatal(err)
		}
		if _, err := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(2)}).Load(ctx, storeKey); err != nil {
			t.Errorf("after rotation, the new key alone: %v", err)
		}
	})

	t.Run("tampered value", func(t *testing.T) {
		raw, _ := c.Get(ctx, "complykit:token:"+storeKey).Bytes()
		raw[len(raw)-1] ^= 1
		c.Set(ctx, "complykit:token:"+storeKey, raw, time.Minute)
		_, err := newStore(t, r.client(t), redisstore.Options{EncryptionKey: testKey(2)}).Load(ctx, storeKey)
		if err == nil || !strings.Contains(err.Error(), "cannot be decrypted") {
			t.Errorf("Load of a tampered value = %v; want a decryption error", err)
		}
	})

	t.Run("value moved to another key", func(t *testing.T) {
		s := newStore(t, c, redisstore.Options{EncryptionKey: testKey(1)})
		if err := s.Save(ctx, "victim", tok); err != nil {
			t.Fatal(err)
		}
		raw, _ := c.Get(ctx, "complykit:token:victim").Bytes()
		c.Set(ctx, "complykit:token:attacker", raw, time.Minute)
		if _, err := s.Load(ctx, "attacker"); err == nil {
			t.Error("a value copied to another key decrypted")
		}
	})

	t.Run("plain value when a key is set", func(t *testing.T) {
		c.Set(ctx, "complykit:token:planted", `{"access_token":"planted"}`, time.Minute)
		s := newStore(t, c, redisstore.Options{EncryptionKey: testKey(1)})
		if got, err := s.Load(ctx, "planted"); err == nil {
			t.Errorf("Load of an unencrypted value = %v; want it refused", got.AccessToken)
		}
	})

	t.Run("no key refuses a refresh token", func(t *testing.T) {
		s := newStore(t, c, redisstore.Options{})
		err := s.Save(ctx, "nokey", tok)
		if !errors.Is(err, redisstore.ErrNoEncryptionKey) {
			t.Fatalf("Save = %v; want ErrNoEncryptionKey", err)
		}
		if !strings.Contains(err.Error(), "EncryptionKey") || !strings.Contains(err.Error(), "refresh token") {
			t.Errorf("error = %q; want it to explain the refresh token needs an EncryptionKey", err)
		}
		if n, _ := c.Exists(ctx, "complykit:token:nokey").Result(); n != 0 {
			t.Error("the refused token was written to Redis")
		}
		if got, err := s.Load(ctx, "nokey"); got != nil || err != nil {
			t.Errorf("Load after a refused Save = %v, %v; want nil, nil", got, err)
		}
	})
}

func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{accessToken, refreshToken, idToken,
		string(testKey(1)), string(testKey(2)), hex.EncodeToString(testKey(1)), hex.EncodeToString(testKey(2)),
		fmt.Sprint(testKey(1))[1:40], fmt.Sprint(testKey(2))[1:40]} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains a secret: %s", what, s)
		}
	}
}

func TestNoKeyAndRefreshTokenLeavesCacheTokenPending(t *testing.T) {
	// The documented behaviour: the Cache gets ErrNoEncryptionKey from Save
	// for a rotated refresh token, keeps the token pending and tells its
	// callers why.
	r := startRedis(t)
	ts := newTokenServer(t)
	s := newStore(t, r.client(t), redisstore.Options{})
	cache, err := auth.NewCache(passwordFlow(t, ts.URL()), auth.CacheOptions{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cache.TokenContext(context.Background())
	if !errors.Is(err, redisstore.ErrNoEncryptionKey) {
		t.Fatalf("TokenContext = %v; want an error wrapping ErrNoEncryptionKey", err)
	}
}

func TestOptionsValidated(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	bad := []redisstore.Options{
		{EncryptionKey: []byte("short")},
		{PreviousKeys: [][]byte{testKey(1)}},
		{EncryptionKey: testKey(1), PreviousKeys: [][]byte{[]byte("short")}},
		{EncryptionKey: testKey(1), PreviousKeys: [][]byte{testKey(1)}},
		{Timeout: -1},
		{LockTTL: time.Millisecond},
		{RetryInterval: -time.Second},
	}
	for i, o := range bad {
		if _, err := redisstore.New(c, o); err == nil {
			t.Errorf("%d: New(%v) succeeded; want an error", i, o)
		} else {
			assertNoSecrets(t, "error", err.Error())
		}
	}
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil client) succeeded")
	}
	s, err := redisstore.New(c, redisstore.Options{EncryptionKey: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Encrypted() {
		t.Error("Encrypted() = false with a key")
	}
	for _, k := range []string{"", "a:b", "a/b", strings.Repeat("a", 129)} {
		if err := s.Save(context.Background(), k, &oauth2.Token{AccessToken: "a"}); err == nil {
			t.Errorf("Save with key %q succeeded; want an error", k)
		}
	}
	opts := redisstore.Options{EncryptionKey: testKey(1), PreviousKeys: [][]byte{testKey(2)}}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecrets(t, f+" of Options", fmt.Sprintf(f, opts))
		assertNoSecrets(t, f+" of *Options", fmt.Sprintf(f, &opts))
		assertNoSecrets(t, f+" of Store", fmt.Sprintf(f, s))
	}
}
