package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ContextTokenSource is a token source whose fetch a context bounds. Every
// flow in this package implements it, and Cache calls it in preference to
// Token, which uses a background context with DefaultHTTPTimeout.
type ContextTokenSource interface {
	oauth2.TokenSource
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// Refresher is implemented by flows that can renew a token from the one
// they issued before (the refresh_token grant). Cache calls Refresh, rather
// than TokenContext, whenever the current token carries a refresh token.
type Refresher interface {
	Refresh(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error)
}

// Keyer is implemented by flows that know what identifies their tokens, so
// that a Store shared by several flows or processes keeps them apart.
type Keyer interface {
	CacheKey() string
}

func backgroundToken(src ContextTokenSource) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultHTTPTimeout)
	defer cancel()
	return src.TokenContext(ctx)
}

// ClientCredentialsFlow is the client credentials grant with a form body
// (RFC 6749 section 4.4), as Stenn and CloudCompli use it.
//
// It takes the familiar clientcredentials.Config but performs the exchange
// itself, so every flow parses responses the same way (see
// ParseTokenResponse) and never follows a token request to another origin.
// Each call fetches a new token: wrap the flow in a Cache.
//
// It prints, encodes and logs without its secret, under every verb.
type ClientCredentialsFlow struct {
	ep     *endpoint
	scopes []string
	params url.Values
}

// ClientCredentials returns the client credentials flow for cfg.
// cfg.TokenURL and cfg.ClientID are required, and cfg.AuthStyle must be set
// explicitly: AuthStyleInParams puts the credentials in the form body (what
// Stenn and CloudCompli document), AuthStyleInHeader uses HTTP Basic.
func ClientCredentials(cfg *clientcredentials.Config, opts FlowOptions) (*ClientCredentialsFlow, error) {
	if cfg == nil {
		return nil, errors.New("auth: client credentials: config is required")
	}
	ep, err := newEndpoint(cfg.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.AuthStyle, opts)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	for k, v := range cfg.EndpointParams {
		switch k {
		case "grant_type", "client_id", "client_secret", "scope":
			return nil, fmt.Errorf("auth: client credentials: EndpointParams may not set %q", k)
		}
		params[k] = append([]string(nil), v...)
	}
	return &ClientCredentialsFlow{
		ep:     ep,
		scopes: append([]string(nil), cfg.Scopes...),
		params: params,
	}, nil
}

// TokenContext fetches a new token.
func (f *ClientCredentialsFlow) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	form := url.Values{}
	for k, v := range f.params {
		form[k] = v
	}
	if len(f.scopes) > 0 {
		form.Set("scope", strings.Join(f.scopes, " "))
	}
	return f.ep.post(ctx, "client_credentials", form)
}

// Token fetches a new token with a background context.
func (f *ClientCredentialsFlow) Token() (*oauth2.Token, error) { return backgroundToken(f) }

// CacheKey identifies this flow's tokens: token URL, client id and scopes.
func (f *ClientCredentialsFlow) CacheKey() string {
	return Key(f.ep.tokenURL, f.ep.clientID, "", f.scopes)
}

// Redactor returns the Redactor that knows this flow's secrets and tokens.
func (f ClientCredentialsFlow) Redactor() *Redactor { return f.ep.red }

func (f ClientCredentialsFlow) safe() Safe {
	if f.ep == nil {
		return Safe{Type: "auth.ClientCredentialsFlow"}
	}
	return Safe{Type: "auth.ClientCredentialsFlow", Fields: []SafeField{
		Public("TokenURL", f.ep.tokenURL), Public("ClientID", f.ep.clientID), Secret("ClientSecret", f.ep.secret), Public("Scopes", f.scopes),
	}}
}

// String describes the flow without its secret.
func (f ClientCredentialsFlow) String() string { return f.safe().String() }

// GoString is String, so that %#v cannot print the secret either.
func (f ClientCredentialsFlow) GoString() string { return f.String() }

// Format prints String under every verb.
func (f ClientCredentialsFlow) Format(s fmt.State, verb rune) { f.safe().Format(s, verb) }

// MarshalJSON encodes the description, without the secret.
func (f ClientCredentialsFlow) MarshalJSON() ([]byte, error) { return f.safe().MarshalJSON() }

// LogValue logs the description, without the secret.
func (f ClientCredentialsFlow) LogValue() slog.Value { return f.safe().LogValue() }

// PasswordFlow is the resource owner password credentials grant followed
// by refresh_token grants, with refresh-token rotation (Stems Accounts).
// Include "offline_access" in the scopes to get a refresh token.
//
// When a refresh is refused with invalid_grant (the refresh token was
// revoked or expired), the flow signs in again with the password. It
// prints, encodes and logs without its secrets, under every verb.
type PasswordFlow struct {
	ep     *endpoint
	scopes []string
	user   *resourceOwner // behind a pointer: even %p of a copy cannot print it
}

type resourceOwner struct{ username, password string }

// Password returns the password flow. cfg.Endpoint.TokenURL, cfg.ClientID,
// username and password are required; cfg.Endpoint.AuthStyle must be set
// explicitly (Stems documents AuthStyleInParams).
func Password(cfg *oauth2.Config, username, password string, opts FlowOptions) (*PasswordFlow, error) {
	if cfg == nil {
		return nil, errors.New("auth: password: config is required")
	}
	if username == "" || password == "" {
		return nil, errors.New("auth: password: username and password are required")
	}
	ep, err := newEndpoint(cfg.Endpoint.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.Endpoint.AuthStyle, opts)
	if err != nil {
		return nil, err
	}
	ep.red.Add(password)
	return &PasswordFlow{
		ep:     ep,
		scopes: append([]string(nil), cfg.Scopes...),
		user:   &resourceOwner{username: username, password: password},
	}, nil
}

// TokenContext signs in with the password grant.
func (f *PasswordFlow) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	form := url.Values{"username": {f.user.username}, "password": {f.user.password}}
	if len(f.scopes) > 0 {
		form.Set("scope", strings.Join(f.scopes, " "))
	}
	return f.ep.post(ctx, "password", form)
}

// Token signs in with a background context.
func (f *PasswordFlow) Token() (*oauth2.Token, error) { return backgroundToken(f) }

// Refresh renews current with its refresh token. The response's refresh
// token replaces the old one (rotation); if the server sends none, the old
// one is kept by the Cache. On invalid_grant it signs in again.
func (f *PasswordFlow) Refresh(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error) {
	if current == nil || current.RefreshToken == "" {
		return f.TokenContext(ctx)
	}
	tok, err := refreshGrant(ctx, f.ep, current.RefreshToken)
	if err != nil && IsInvalidGrant(err) {
		f.ep.logger.WarnContext(ctx, "auth: refresh token refused (invalid_grant); signing in again")
		return f.TokenContext(ctx)
	}
	return tok, err
}

// CacheKey identifies this flow's tokens: token URL, client id, user and scopes.
func (f *PasswordFlow) CacheKey() string {
	return Key(f.ep.tokenURL, f.ep.clientID, f.user.username, f.scopes)
}

// Redactor returns the Redactor that knows this flow's secrets and tokens.
func (f PasswordFlow) Redactor() *Redactor { return f.ep.red }

func (f PasswordFlow) safe() Safe {
	if f.ep == nil || f.user == nil {
		return Safe{Type: "auth.PasswordFlow"}
	}
	return Safe{Type: "auth.PasswordFlow", Fields: []SafeField{
		Public("TokenURL", f.ep.tokenURL), Public("ClientID", f.ep.clientID), Secret("ClientSecret", f.ep.secret),
		Public("Username", f.user.username), Secret("Password", f.user.password), Public("Scopes", f.scopes),
	}}
}

// String describes the flow without its secrets.
func (f PasswordFlow) String() string { return f.safe().String() }

// GoString is String, so that %#v cannot print a secret either.
func (f PasswordFlow) GoString() string { return f.String() }

// Format prints String under every verb.
func (f PasswordFlow) Format(s fmt.State, verb rune) { f.safe().Format(s, verb) }

// MarshalJSON encodes the description, without the secrets.
func (f PasswordFlow) MarshalJSON() ([]byte, error) { return f.safe().MarshalJSON() }

// LogValue logs the description, without the secrets.
func (f PasswordFlow) LogValue() slog.Value { return f.safe().LogValue() }

func refreshGrant(ctx context.Context, ep *endpoint, refreshToken string) (*oauth2.Token, error) {
	ep.red.AddShortLived(refreshToken)
	return ep.post(ctx, "refresh_token", url.Values{"refresh_token": {refreshToken}})
}

// userOf names the user a token belongs to, so that the tokens of the
// users of one client keep apart in a shared Store: the id_token's sub
// claim (read, not verified: it only names a store entry), else the
// refresh or access token itself (Key hashes it; no secret is stored as a
// key).
func userOf(tok *oauth2.Token) string {
	if tok == nil {
		return ""
	}
	if sub := idTokenSubject(IDToken(tok)); sub != "" {
		return "sub:" + sub
	}
	if tok.RefreshToken != "" {
		return "rt:" + tok.RefreshToken
	}
	return "at:" + tok.AccessToken
}

func idTokenSubject(idToken string) string {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 || len(parts[1]) > 8192 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// ErrSignInRequired is returned by a RefreshTokenSource that has no token
// and no refresh token left: the user must sign in again.
var ErrSignInRequired = errors.New("auth: no valid token and no refresh token: the user must sign in again")

// RefreshTokenSource renews a token obtained elsewhere (an authorization
// code exchange) with the refresh_token grant. It prints, encodes and logs
// without its tokens, under every verb.
type RefreshTokenSource struct {
	ep  *endpoint
	key string
	st  *refreshState
}

// refreshState is what a RefreshTokenSource changes; behind a pointer, so
// that a copy of the source holds no lock.
type refreshState struct {
	mu      sync.Mutex
	initial *oauth2.Token
}

// TokenContext hands out the initial token once; after that a token can
// only come from Refresh.
func (s *RefreshTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.st.mu.Lock()
	tok := s.st.initial
	s.st.initial = nil
	s.st.mu.Unlock()
	if tok == nil {
		return nil, ErrSignInRequired
	}
	if tok.AccessToken == "" || (!tok.Expiry.IsZero() && !tok.Expiry.After(s.ep.now())) {
		return s.Refresh(ctx, tok)
	}
	// The token was issued earlier (an exchange, a store): its Expiry is
	// the truth, and expires_in no longer counts from now.
	cp := *tok
	cp.ExpiresIn = 0
	return &cp, nil
}

// Token is TokenContext with a background context.
func (s *RefreshTokenSource) Token() (*oauth2.Token, error) { return backgroundToken(s) }

// Refresh renews current with its refresh token.
func (s *RefreshTokenSource) Refresh(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error) {
	if current == nil || current.RefreshToken == "" {
		return nil, ErrSignInRequired
	}
	return refreshGrant(ctx, s.ep, current.RefreshToken)
}

// CacheKey identifies the tokens of this flow.
func (s *RefreshTokenSource) CacheKey() string { return s.key }

// Redactor returns the Redactor that knows this source's secrets and tokens.
func (s RefreshTokenSource) Redactor() *Redactor {
	if s.ep == nil {
		return nil
	}
	return s.ep.red
}

func (s RefreshTokenSource) safe() Safe {
	if s.ep == nil || s.st == nil {
		return Safe{Type: "auth.RefreshTokenSource"}
	}
	s.st.mu.Lock()
	pending := s.st.initial != nil
	s.st.mu.Unlock()
	return Safe{Type: "auth.RefreshTokenSource", Fields: []SafeField{
		Public("TokenURL", s.ep.tokenURL), Public("ClientID", s.ep.clientID), Secret("ClientSecret", s.ep.secret),
		Public("InitialToken", pending),
	}}
}

// String describes the source without its secrets.
func (s RefreshTokenSource) String() string { return s.safe().String() }

// Format prints String under every verb.
func (s RefreshTokenSource) Format(f fmt.State, verb rune) { s.safe().Format(f, verb) }

// MarshalJSON encodes the description, without the secrets.
func (s RefreshTokenSource) MarshalJSON() ([]byte, error) { return s.safe().MarshalJSON() }

// LogValue logs the description, without the secrets.
func (s RefreshTokenSource) LogValue() slog.Value { return s.safe().LogValue() }

// StaticTokenSource serves one token that was issued out of band, such as
// CloudCompli's one-year token generated in its web UI. It never fetches;
// after a 401 the Doer gives up and the caller sees the provider's error.
// It prints, encodes and logs without its token, under every verb.
type StaticTokenSource struct {
	tok *oauth2.Token
	red *Redactor
}

// StaticToken returns a source for accessToken. expiry may be zero when
// unknown. Its Redactor knows the token; a Cache over it uses that
// Redactor unless given its own (which then includes it).
func StaticToken(accessToken string, expiry time.Time) *StaticTokenSource {
	return &StaticTokenSource{
		tok: &oauth2.Token{AccessToken: accessToken, TokenType: "Bearer", Expiry: expiry},
		red: NewRedactor(accessToken),
	}
}

// TokenContext returns the static token, or an error once it has expired.
func (s *StaticTokenSource) TokenContext(context.Context) (*oauth2.Token, error) {
	if s.tok.AccessToken == "" {
		return nil, errors.New("auth: static token is empty")
	}
	if !s.tok.Expiry.IsZero() && !time.Now().Before(s.tok.Expiry) {
		return nil, errors.New("auth: static token has expired: generate a new one")
	}
	cp := *s.tok
	return &cp, nil
}

// Token returns the static token.
func (s *StaticTokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// CacheKey is a hash of the token, so two static tokens never share an entry.
func (s *StaticTokenSource) CacheKey() string {
	sum := sha256.Sum256([]byte(s.tok.AccessToken))
	return "static-" + hex.EncodeToString(sum[:12])
}

// Redactor returns the Redactor that knows the token.
func (s StaticTokenSource) Redactor() *Redactor { return s.red }

func (s StaticTokenSource) safe() Safe {
	if s.tok == nil {
		return Safe{Type: "auth.StaticTokenSource"}
	}
	fields := []SafeField{Secret("Token", s.tok.AccessToken)}
	if !s.tok.Expiry.IsZero() {
		fields = append(fields, Public("Expiry", s.tok.Expiry.UTC().Format(time.RFC3339)))
	}
	return Safe{Type: "auth.StaticTokenSource", Fields: fields}
}

// String describes the source without its token.
func (s StaticTokenSource) String() string { return s.safe().String() }

// GoString is String.
func (s StaticTokenSource) GoString() string { return s.String() }

// Format prints String under every verb.
func (s StaticTokenSource) Format(f fmt.State, verb rune) { s.safe().Format(f, verb) }

// MarshalJSON encodes the description, without the token.
func (s StaticTokenSource) MarshalJSON() ([]byte, error) { return s.safe().MarshalJSON() }

// LogValue logs the description, without the token.
func (s StaticTokenSource) LogValue() slog.Value { return s.safe().LogValue() }
