package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"golang.org/x/oauth2"
)

// AuthCodeOptions configure AuthorizationCode.
type AuthCodeOptions struct {
	FlowOptions
	// PKCE adds an S256 code challenge to the authorize URL and the
	// verifier to the exchange (RFC 7636). Stems recommends it. It works
	// with the CloudCompli variant below too: a server that does not know
	// PKCE ignores the challenge and the verifier (RFC 7636 section 4.5).
	// Optional.
	PKCE bool
	// SecretInAuthURL puts client_secret on the authorize URL. This is a
	// vendor quirk (CloudCompli's docs show it; its own PHP client does not
	// send it) that shows the secret to the user's browser, its history,
	// proxies and Referer headers; leave it false unless the vendor refuses
	// the authorize request without it. Optional.
	SecretInAuthURL bool
	// ResponseTypeInExchange adds response_type=code to the code exchange
	// body, as CloudCompli's docs show (a vendor quirk; RFC 6749 has no such
	// field there). Optional.
	ResponseTypeInExchange bool
}

// AuthCodeFlow is the authorization code grant (RFC 6749 section 4.1), with
// PKCE when asked for. Send the user to AuthCodeURL, Exchange the code that
// comes back, and wrap TokenSource(token) in a Cache to keep it fresh.
//
// It prints, encodes and logs without its secret, under every verb.
type AuthCodeFlow struct {
	cfg  oauth2.Config
	ep   *endpoint
	opts AuthCodeOptions
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
	cp := *cfg
	cp.Scopes = append([]string(nil), cfg.Scopes...)
	return &AuthCodeFlow{cfg: cp, ep: ep, opts: opts}, nil
}

// AuthCodeURL returns the URL to send the user to and, with PKCE, the
// verifier to keep (server side, with state) until the code comes back.
// Without PKCE verifier is "". extra adds parameters, e.g.
// ResponseMode(ResponseModeFormPost) or oauth2.SetAuthURLParam("prompt",
// "login"). Prefer NewAuthCodeURL, which also makes the state.
func (f *AuthCodeFlow) AuthCodeURL(state string, extra ...oauth2.AuthCodeOption) (authURL, verifier string) {
	opts := append([]oauth2.AuthCodeOption(nil), extra...)
	if f.opts.PKCE {
		verifier = oauth2.GenerateVerifier()
		f.ep.red.AddShortLived(verifier)
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
	f.ep.red.AddShortLived(code, verifier)
	form := url.Values{"code": {code}, "redirect_uri": {f.cfg.RedirectURL}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	if f.opts.ResponseTypeInExchange {
		form.Set("response_type", "code")
	}
	return f.ep.post(ctx, "authorization_code", form)
}

// TokenSource returns a source that starts from tok (what Exchange
// returned, or a token restored from a Store) and renews it with the
// refresh_token grant. When there is no refresh token left, it returns
// ErrSignInRequired: the user must go through AuthCodeURL again.
func (f *AuthCodeFlow) TokenSource(tok *oauth2.Token) *RefreshTokenSource {
	f.ep.red.AddToken(tok)
	return &RefreshTokenSource{ep: f.ep, st: &refreshState{initial: tok}, key: Key(f.ep.tokenURL, f.ep.clientID, userOf(tok), f.cfg.Scopes)}
}

// Redactor returns the Redactor that knows this flow's secrets and tokens.
func (f AuthCodeFlow) Redactor() *Redactor { return f.ep.red }

func (f AuthCodeFlow) safe() Safe {
	if f.ep == nil {
		return Safe{Type: "auth.AuthCodeFlow"}
	}
	return Safe{Type: "auth.AuthCodeFlow", Fields: []SafeField{
		Public("AuthURL", f.cfg.Endpoint.AuthURL), Public("TokenURL", f.ep.tokenURL), Public("ClientID", f.ep.clientID),
		Secret("ClientSecret", f.cfg.ClientSecret), Public("RedirectURL", f.cfg.RedirectURL), Public("Scopes", f.cfg.Scopes),
		Public("PKCE", f.opts.PKCE), Public("SecretInAuthURL", f.opts.SecretInAuthURL),
	}}
}

// String describes the flow without its secret.
func (f AuthCodeFlow) String() string { return f.safe().String() }

// GoString is String.
func (f AuthCodeFlow) GoString() string { return f.String() }

// Format prints String under every verb.
func (f AuthCodeFlow) Format(s fmt.State, verb rune) { f.safe().Format(s, verb) }

// MarshalJSON encodes the description, without the secret.
func (f AuthCodeFlow) MarshalJSON() ([]byte, error) { return f.safe().MarshalJSON() }

// LogValue logs the description, without the secret.
func (f AuthCodeFlow) LogValue() slog.Value { return f.safe().LogValue() }
