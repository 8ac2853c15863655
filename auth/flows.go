package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
type ClientCredentialsFlow struct {
	ep     *endpoint
	scopes []string
	params url.Values
	scrub  scrubber
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
		scrub:  newScrubber(cfg.ClientSecret),
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
	return f.ep.post(ctx, "client_credentials", form, f.scrub)
}

// Token fetches a new token with a background context.
func (f *ClientCredentialsFlow) Token() (*oauth2.Token, error) { return backgroundToken(f) }

// CacheKey identifies this flow's tokens: token URL, client id and scopes.
func (f *ClientCredentialsFlow) CacheKey() string {
	return Key(f.ep.tokenURL, f.ep.clientID, "", f.scopes)
}

// String describes the flow without its secret.
func (f *ClientCredentialsFlow) String() string {
	return fmt.Sprintf("auth.ClientCredentialsFlow{token_url=%s client_id=%s scopes=%q}", f.ep.tokenURL, f.ep.clientID, f.scopes)
}

// GoString is String, so that %#v cannot print the secret either.
func (f *ClientCredentialsFlow) GoString() string { return f.String() }

// PasswordFlow is the resource owner password credentials grant followed
// by refresh_token grants, with refresh-token rotation (Stems Accounts).
// Include "offline_access" in the scopes to get a refresh token.
//
// When a refresh is refused with invalid_grant (the refresh token was
// revoked or expired), the flow signs in again with the password.
type PasswordFlow struct {
	ep       *endpoint
	scopes   []string
	username string
	password string
	scrub    scrubber
}

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
	return &PasswordFlow{
		ep:       ep,
		scopes:   append([]string(nil), cfg.Scopes...),
		username: username,
		password: password,
		scrub:    newScrubber(cfg.ClientSecret, password),
	}, nil
}

// TokenContext signs in with the password grant.
func (f *PasswordFlow) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	form := url.Values{"username": {f.username}, "password": {f.password}}
	if len(f.scopes) > 0 {
		form.Set("scope", strings.Join(f.scopes, " "))
	}
	return f.ep.post(ctx, "password", form, f.scrub)
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
	tok, err := refreshGrant(ctx, f.ep, current.RefreshToken, f.scrub)
	if err != nil && IsInvalidGrant(err) {
		f.ep.logger.WarnContext(ctx, "auth: refresh token refused (invalid_grant); signing in again")
		return f.TokenContext(ctx)
	}
	return tok, err
}

// CacheKey identifies this flow's tokens: token URL, client id, user and scopes.
func (f *PasswordFlow) CacheKey() string {
	return Key(f.ep.tokenURL, f.ep.clientID, f.username, f.scopes)
}

// String describes the flow without its secrets.
func (f *PasswordFlow) String() string {
	return fmt.Sprintf("auth.PasswordFlow{token_url=%s client_id=%s scopes=%q}", f.ep.tokenURL, f.ep.clientID, f.scopes)
}

// GoString is String, so that %#v cannot print a secret either.
func (f *PasswordFlow) GoString() string { return f.String() }

func refreshGrant(ctx context.Context, ep *endpoint, refreshToken string, scrub scrubber) (*oauth2.Token, error) {
	scrub = scrub.with(refreshToken)
	return ep.post(ctx, "refresh_token", url.Values{"refresh_token": {refreshToken}}, scrub)
}

// AuthCodeOptions configure AuthorizationCode.
type AuthCodeOptions struct {
	FlowOptions
	// PKCE adds an S256 code challenge to the authorize URL and the
	// verifier to the exchange (RFC 7636). Stems recommends it. Optional.
	PKCE bool
	// SecretInAuthURL puts client_secret on the authorize URL. This is a
	// vendor quirk (CloudCompli's docs require it) that shows the secret to
	// the user's browser; leave it false for every other provider. Optional.
	SecretInAuthURL bool
	// ResponseTypeInExchange adds response_type=code to the code exchange
	// body, as CloudCompli's docs show (a vendor quirk; RFC 6749 has no such
	// field there). Optional.
	ResponseTypeInExchange bool
}

// AuthCodeFlow is the authorization code grant (RFC 6749 section 4.1), with
// PKCE when asked for. Send the user to AuthCodeURL, Exchange the code that
// comes back, and wrap TokenSource(token) in a Cache to keep it fresh.
type AuthCodeFlow struct {
	cfg   oauth2.Config
	ep    *endpoint
	opts  AuthCodeOptions
	scrub scrubber
}

// AuthorizationCode returns the authorization code flow for cfg.
// cfg.Endpoint.AuthURL, cfg.Endpoint.TokenURL, cfg.ClientID and
// cfg.RedirectURL are required; cfg.Endpoint.AuthStyle must be explicit.
func AuthorizationCode(cfg *oauth2.Config, opts AuthCodeOptions) (*AuthCodeFlow, error) {
	if cfg == nil {
		return nil, errors.New("auth: authorization code: config is required")
	}
	if _, err := CheckURL(cfg.Endpoint.AuthURL); err != nil {
		return nil, fmt.Errorf("auth: authorize URL: %w", errors.Unwrap(err))
	}
	if cfg.RedirectURL == "" {
		return nil, errors.New("auth: authorization code: RedirectURL is required")
	}
	ep, err := newEndpoint(cfg.Endpoint.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.Endpoint.AuthStyle, opts.FlowOptions)
	if err != nil {
		return nil, err
	}
	return &AuthCodeFlow{cfg: *cfg, ep: ep, opts: opts, scrub: newScrubber(cfg.ClientSecret)}, nil
}

// AuthCodeURL returns the URL to send the user to and, with PKCE, the
// verifier to keep (server side, with state) until the code comes back.
// Without PKCE verifier is "".
func (f *AuthCodeFlow) AuthCodeURL(state string, extra ...oauth2.AuthCodeOption) (authURL, verifier string) {
	opts := append([]oauth2.AuthCodeOption(nil), extra...)
	if f.opts.PKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	if f.opts.SecretInAuthURL {
		opts = append(opts, oauth2.SetAuthURLParam("client_secret", f.cfg.ClientSecret))
	}
	return f.cfg.AuthCodeURL(state, opts...), verifier
}

// Exchange trades the code from the redirect for a token. verifier is the
// one AuthCodeURL returned ("" without PKCE). A code is single-use, so a
// failed exchange is never retried.
func (f *AuthCodeFlow) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	if code == "" {
		return nil, errors.New("auth: authorization code: code is required")
	}
	if f.opts.PKCE && verifier == "" {
		return nil, errors.New("auth: authorization code: PKCE verifier is required")
	}
	form := url.Values{"code": {code}, "redirect_uri": {f.cfg.RedirectURL}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	if f.opts.ResponseTypeInExchange {
		form.Set("response_type", "code")
	}
	return f.ep.post(ctx, "authorization_code", form, f.scrub.with(code, verifier))
}

// TokenSource returns a source that starts from tok (what Exchange
// returned, or a token restored from a Store) and renews it with the
// refresh_token grant. When there is no refresh token left, it returns
// ErrSignInRequired: the user must go through AuthCodeURL again.
func (f *AuthCodeFlow) TokenSource(tok *oauth2.Token) *RefreshTokenSource {
	return &RefreshTokenSource{ep: f.ep, scrub: f.scrub, initial: tok, key: Key(f.ep.tokenURL, f.ep.clientID, userOf(tok), f.cfg.Scopes)}
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
// code exchange) with the refresh_token grant.
type RefreshTokenSource struct {
	ep      *endpoint
	scrub   scrubber
	key     string
	mu      sync.Mutex
	initial *oauth2.Token
}

// TokenContext hands out the initial token once; after that a token can
// only come from Refresh.
func (s *RefreshTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	tok := s.initial
	s.initial = nil
	s.mu.Unlock()
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
	return refreshGrant(ctx, s.ep, current.RefreshToken, s.scrub)
}

// CacheKey identifies the tokens of this flow.
func (s *RefreshTokenSource) CacheKey() string { return s.key }

// StaticTokenSource serves one token that was issued out of band, such as
// CloudCompli's one-year token generated in its web UI. It never fetches;
// after a 401 the Doer gives up and the caller sees the provider's error.
type StaticTokenSource struct {
	tok *oauth2.Token
}

// StaticToken returns a source for accessToken. expiry may be zero when
// unknown.
func StaticToken(accessToken string, expiry time.Time) *StaticTokenSource {
	return &StaticTokenSource{tok: &oauth2.Token{AccessToken: accessToken, TokenType: "Bearer", Expiry: expiry}}
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

// String describes the source without its token.
func (s *StaticTokenSource) String() string { return "auth.StaticTokenSource{token=[redacted]}" }

// GoString is String.
func (s *StaticTokenSource) GoString() string { return s.String() }
