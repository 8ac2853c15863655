package fakeserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors the Issuer reports; the fakes turn them into each provider's
// error body.
var (
	ErrUnknownToken = errors.New("the access token is not valid")
	ErrExpiredToken = errors.New("the access token has expired")
	ErrRevokedToken = errors.New("the access token has been revoked")
	ErrInvalidGrant = errors.New("invalid_grant")
)

// Grant is who a token was issued to.
type Grant struct {
	ClientID string
	Subject  string // a user name, or "" for client credentials
	Scopes   []string
	Expiry   time.Time
}

// Issued is what a token endpoint returns.
type Issued struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	ExpiresIn    int
	Scope        string
}

// Issuer mints and checks tokens the way a real authorization server does:
// access tokens expire on the Clock, refresh tokens are single-use and
// rotate (reusing one gives ErrInvalidGrant), authorization codes are
// single-use and bound to their client, redirect URI and PKCE challenge.
type Issuer struct {
	clock  *Clock
	prefix string

	mu       sync.Mutex
	lifetime time.Duration
	seq      int64
	access   map[string]*Grant
	revoked  map[string]bool
	refresh  map[string]*refreshRec
	codes    map[string]*codeRec
	issued   atomic.Int64
	reused   atomic.Int64
}

type refreshRec struct {
	grant   Grant
	used    bool // redeemed: presenting it again is a client bug
	revoked bool // revoked by the server: presenting it is not
}

type codeRec struct {
	grant       Grant
	redirectURI string
	challenge   string
	method      string
	used        bool
	expiry      time.Time
}

// NewIssuer returns an Issuer whose tokens start with prefix and live for
// lifetime on clock (nil: the real clock).
func NewIssuer(prefix string, clock *Clock, lifetime time.Duration) *Issuer {
	return &Issuer{
		clock:    clock,
		prefix:   prefix,
		lifetime: lifetime,
		access:   map[string]*Grant{},
		revoked:  map[string]bool{},
		refresh:  map[string]*refreshRec{},
		codes:    map[string]*codeRec{},
	}
}

// SetLifetime changes the lifetime of tokens issued from now on.
func (i *Issuer) SetLifetime(d time.Duration) {
	i.mu.Lock()
	i.lifetime = d
	i.mu.Unlock()
}

// Issued counts the access tokens issued.
func (i *Issuer) Issued() int64 { return i.issued.Load() }

// ReusedRefreshTokens counts refresh grants that presented an already used
// refresh token: a client that loses a rotated refresh token shows up here.
func (i *Issuer) ReusedRefreshTokens() int64 { return i.reused.Load() }

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Issue mints an access token (and a refresh token and an OpenID Connect
// id_token when asked) for g.
func (i *Issuer) Issue(g Grant, withRefresh, withIDToken bool) Issued {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.issueLocked(g, withRefresh, withIDToken)
}

func (i *Issuer) issueLocked(g Grant, withRefresh, withIDToken bool) Issued {
	i.seq++
	g.Expiry = i.clock.Now().Add(i.lifetime)
	g.Scopes = append([]string(nil), g.Scopes...)
	out := Issued{
		AccessToken: randomToken(i.prefix+"at-", 16),
		ExpiresIn:   int(i.lifetime / time.Second),
		Scope:       strings.Join(g.Scopes, " "),
	}
	gc := g
	i.access[out.AccessToken] = &gc
	i.issued.Add(1)
	if withRefresh {
		out.RefreshToken = randomToken(i.prefix+"rt-", 16)
		i.refresh[out.RefreshToken] = &refreshRec{grant: g}
	}
	if withIDToken {
		out.IDToken = fakeIDToken(g, i.clock.Now(), i.seq)
	}
	return out
}

// fakeIDToken is an unsigned JWT-shaped id_token carrying sub and aud.
func fakeIDToken(g Grant, now time.Time, seq int64) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"sub": g.Subject, "aud": g.ClientID, "iat": now.Unix(), "exp": g.Expiry.Unix(), "jti": seq})
	sum := sha256.Sum256(claims)
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(sum[:8])
}

// Refresh redeems a refresh token for clientID: the old one is spent and a
// new one issued (rotation), with an id_token if withIDToken says so for
// the token's grant. An unknown, spent or foreign refresh token gives
// ErrInvalidGrant.
func (i *Issuer) Refresh(refreshToken, clientID string, withIDToken func(Grant) bool) (Issued, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	rec, ok := i.refresh[refreshToken]
	if !ok || rec.grant.ClientID != clientID {
		return Issued{}, ErrInvalidGrant
	}
	if rec.used {
		i.reused.Add(1)
		return Issued{}, ErrInvalidGrant
	}
	if rec.revoked {
		return Issued{}, ErrInvalidGrant
	}
	rec.used = true
	return i.issueLocked(rec.grant, true, withIDToken != nil && withIDToken(rec.grant)), nil
}

// Authenticate checks a bearer token.
func (i *Issuer) Authenticate(accessToken string) (Grant, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	g, ok := i.access[accessToken]
	switch {
	case !ok:
		return Grant{}, ErrUnknownToken
	case i.revoked[accessToken]:
		return Grant{}, ErrRevokedToken
	case !i.clock.Now().Before(g.Expiry):
		return Grant{}, ErrExpiredToken
	}
	return *g, nil
}

// RevokeAccessTokens revokes every access token issued so far, as if the
// provider had rotated its keys: the next API call with one gets a 401.
func (i *Issuer) RevokeAccessTokens() { i.RevokeAll(true, false) }

// RevokeRefreshTokens revokes every refresh token, so the next refresh
// grant gets invalid_grant (without counting as a reuse).
func (i *Issuer) RevokeRefreshTokens() { i.RevokeAll(false, true) }

// RevokeAll revokes every access token (access) and every refresh token
// (refresh) issued so far, and returns how many it revoked that were not
// revoked, spent or expired already.
func (i *Issuer) RevokeAll(access, refresh bool) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	n := 0
	if access {
		now := i.clock.Now()
		for t, g := range i.access {
			if !i.revoked[t] && now.Before(g.Expiry) {
				n++
			}
			i.revoked[t] = true
		}
	}
	if refresh {
		for _, r := range i.refresh {
			if !r.revoked && !r.used {
				n++
			}
			r.revoked = true
		}
	}
	return n
}

// Revoke revokes one access or refresh token and reports whether the
// Issuer issued it.
func (i *Issuer) Revoke(token string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, ok := i.access[token]; ok {
		i.revoked[token] = true
		return true
	}
	if r, ok := i.refresh[token]; ok {
		r.revoked = true
		return true
	}
	return false
}

// Lifetime is the lifetime of the tokens issued from now on.
func (i *Issuer) Lifetime() time.Duration {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.lifetime
}

// NewCode mints a single-use authorization code for g, bound to
// redirectURI and, with PKCE, to challenge (method S256 or plain).
func (i *Issuer) NewCode(g Grant, redirectURI, challenge, method string) string {
	i.mu.Lock()
	defer i.mu.Unlock()
	code := randomToken(i.prefix+"code-", 12)
	i.codes[code] = &codeRec{grant: g, redirectURI: redirectURI, challenge: challenge, method: method, expiry: i.clock.Now().Add(10 * time.Minute)}
	return code
}

// Redeem spends a code. The client, redirect URI and PKCE verifier must
// match what the code was minted for.
func (i *Issuer) Redeem(code, clientID, redirectURI, verifier string) (Grant, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	rec, ok := i.codes[code]
	if !ok || rec.used || rec.grant.ClientID != clientID || rec.redirectURI != redirectURI || !i.clock.Now().Before(rec.expiry) {
		return Grant{}, ErrInvalidGrant
	}
	switch rec.method {
	case "":
		if verifier != "" {
			return Grant{}, ErrInvalidGrant
		}
	case "plain":
		if verifier != rec.challenge {
			return Grant{}, ErrInvalidGrant
		}
	default: // S256
		sum := sha256.Sum256([]byte(verifier))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != rec.challenge {
			return Grant{}, ErrInvalidGrant
		}
	}
	rec.used = true
	return rec.grant, nil
}
