package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
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
	// AuthURLOptions are added to every authorize URL, before the extra
	// options of AuthCodeURL (which may override them), e.g.
	// ResponseMode(ResponseModeFormPost) for a provider that would
	// otherwise answer in the URL fragment. Optional.
	AuthURLOptions []oauth2.AuthCodeOption
}

// AuthCodeFlow is the authorization code grant (RFC 6749 section 4.1), with
// PKCE when asked for. Send the user to the URL from NewAuthCodeURL (or
// AuthCodeURL), read the code from the redirect with ReadCallback, Exchange
// it, and wrap TokenSource(token) in a Cache to keep it fresh.
//
// It prints, encodes and logs without its secret, under every verb.
type AuthCodeFlow struct {
	cfg  *oauth2.Config // behind a pointer: even %p of a copy cannot print the secret
	ep   *endpoint
	opts *AuthCodeOptions
}

// AuthorizationCode returns the authorization code flow for cfg.
// cfg.Endpoint.AuthURL, cfg.Endpoint.TokenURL, cfg.ClientID and
// cfg.RedirectURL are required; cfg.Endpoint.AuthStyle must be explicit.
// The redirect URL must pass CheckRedirectURL: https, or http on a loopback
// host for native apps.
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
	if _, err := CheckRedirectURL(cfg.RedirectURL); err != nil {
		return nil, err
	}
	ep, err := newEndpoint(cfg.Endpoint.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.Endpoint.AuthStyle, opts.FlowOptions)
	if err != nil {
		return nil, err
	}
	cp := *cfg
	cp.Scopes = append([]string(nil), cfg.Scopes...)
	return &AuthCodeFlow{cfg: &cp, ep: ep, opts: &opts}, nil
}

// Response modes for the authorize request (OAuth 2.0 Multiple Response
// Type Encoding Practices, and Form Post Response Mode). Without one, an
// OpenID Connect server may answer the code flow in the URL fragment, which
// never reaches a server: Stems (IdentityServer) does. See ResponseMode.
const (
	// ResponseModeQuery returns the code in the redirect's query (a GET).
	ResponseModeQuery = "query"
	// ResponseModeFormPost returns the code in a form POSTed to the
	// redirect URI: the usual choice for server-side apps.
	ResponseModeFormPost = "form_post"
)

// ResponseMode is an AuthCodeURL option that sets response_mode, e.g.
// ResponseMode(ResponseModeFormPost). ReadCallback reads either mode.
func ResponseMode(mode string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("response_mode", mode)
}

// NewState returns a new random state for an authorize request: 128 bits
// from crypto/rand. Keep it where only this user's session can read it
// (a server-side session, or an HttpOnly, SameSite cookie) and check the
// redirect's state against it (ReadCallback does), which makes a forged
// redirect (CSRF, RFC 6749 section 10.12) fail.
func NewState() string { return rand.Text() }

// CheckState reports whether got is the state that was sent (want), in
// constant time. An empty want never matches.
func CheckState(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// AuthCodeURL returns the URL to send the user to and, with PKCE, the
// verifier to keep (server side, with state) until the code comes back.
// Without PKCE verifier is "". extra adds parameters, e.g.
// ResponseMode(ResponseModeFormPost) or oauth2.SetAuthURLParam("prompt",
// "login"). Prefer NewAuthCodeURL, which also makes the state.
func (f *AuthCodeFlow) AuthCodeURL(state string, extra ...oauth2.AuthCodeOption) (authURL, verifier string) {
	opts := append(append([]oauth2.AuthCodeOption(nil), f.opts.AuthURLOptions...), extra...)
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

// NewAuthCodeURL is AuthCodeURL with a new random state (NewState). Keep
// state and verifier server side, bound to the user's session, until the
// redirect comes back; then pass them to ReadCallback and Exchange.
func (f *AuthCodeFlow) NewAuthCodeURL(extra ...oauth2.AuthCodeOption) (authURL, state, verifier string) {
	state = NewState()
	authURL, verifier = f.AuthCodeURL(state, extra...)
	return authURL, state, verifier
}

// MaxCallbackBytes caps the body of a form_post redirect that ReadCallback
// reads: a code, a state and perhaps an id_token.
const MaxCallbackBytes = 64 << 10

// ErrStateMismatch is returned by ReadCallback and ParseCallback when the
// redirect's state is not the one sent: the sign-in was not started by
// this user's session (or was started twice), and must not be completed.
var ErrStateMismatch = errors.New("auth: authorization callback: the state does not match the one sent; refusing a sign-in this session did not start")

// ErrNoCode is returned by ReadCallback and ParseCallback when the redirect
// carries neither a code nor an error.
var ErrNoCode = errors.New("auth: authorization callback: the redirect carries no code")

// AuthorizationError is the authorization server's refusal, as the
// redirect reports it (RFC 6749 section 4.1.2.1): the user declined
// (access_denied), the request was invalid, and so on. Its fields are
// redacted and bounded.
type AuthorizationError struct {
	// Code is the OAuth "error" field, e.g. "access_denied".
	Code string
	// Description is "error_description".
	Description string
	// URI is "error_uri".
	URI string
}

func (e *AuthorizationError) Error() string {
	msg := "auth: authorization refused: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.URI != "" {
		msg += " (" + e.URI + ")"
	}
	return msg
}

// Format prints Error for every verb.
func (e *AuthorizationError) Format(f fmt.State, verb rune) { FormatText(f, verb, e.Error()) }

// MarshalJSON encodes the message and the fields.
func (e *AuthorizationError) MarshalJSON() ([]byte, error) {
	return marshalErrorJSON(e.Error(), []SafeField{Public("code", e.Code), Public("description", e.Description), Public("uri", e.URI)})
}

// LogValue is a group of the message and the code.
func (e *AuthorizationError) LogValue() slog.Value {
	return slog.GroupValue(slog.String("error", e.Error()), slog.String("code", e.Code))
}

// ReadCallback reads the authorization response from the request the
// user's browser made to the redirect URI, whichever way it came:
//
//   - GET with code and state in the query (response_mode=query, the
//     OAuth 2.0 default);
//   - POST with code and state in an application/x-www-form-urlencoded
//     body (response_mode=form_post), read up to MaxCallbackBytes; the
//     query is ignored then. If r.PostForm is already parsed, it is used.
//
// It checks the state against wantState (what NewAuthCodeURL returned) in
// constant time, and returns the code to Exchange. A state that differs is
// ErrStateMismatch; a refusal (error=...) is an *AuthorizationError; a
// parameter given twice, another method or content type, or an oversized
// body is an error too. Nothing a server sent appears in an error
// unredacted.
func (f *AuthCodeFlow) ReadCallback(r *http.Request, wantState string) (code string, err error) {
	if r == nil {
		return "", errors.New("auth: authorization callback: no request")
	}
	var params url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		params = r.URL.Query()
	case http.MethodPost:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			return "", fmt.Errorf("auth: authorization callback: a POST must be application/x-www-form-urlencoded (response_mode=form_post), not %q",
				f.ep.red.FieldN(mt, 64))
		}
		if r.PostForm != nil {
			params = r.PostForm
			break
		}
		if r.Body == nil {
			return "", errors.New("auth: authorization callback: the POST has no body")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxCallbackBytes+1))
		if err != nil {
			return "", fmt.Errorf("auth: authorization callback: reading the body: %w", f.ep.red.Error(err))
		}
		if len(body) > MaxCallbackBytes {
			return "", fmt.Errorf("auth: authorization callback: the body exceeds %d bytes", MaxCallbackBytes)
		}
		if params, err = url.ParseQuery(string(body)); err != nil {
			return "", errors.New("auth: authorization callback: the body is not valid form data")
		}
	default:
		return "", fmt.Errorf("auth: authorization callback: method %s; want GET (response_mode=query) or POST (form_post)",
			f.ep.red.FieldN(r.Method, 16))
	}
	return f.ParseCallback(params, wantState)
}

// ParseCallback is ReadCallback for parameters already read, e.g. the
// query of a redirect URL a native app intercepted (u.Query()).
func (f *AuthCodeFlow) ParseCallback(params url.Values, wantState string) (code string, err error) {
	if wantState == "" {
		return "", errors.New("auth: authorization callback: no state to check the redirect against; pass the one sent (NewAuthCodeURL)")
	}
	for _, k := range []string{"state", "code", "error", "error_description", "error_uri"} {
		if len(params[k]) > 1 {
			return "", fmt.Errorf("auth: authorization callback: %s is given more than once", k)
		}
	}
	if !CheckState(wantState, params.Get("state")) {
		return "", ErrStateMismatch
	}
	red := f.ep.red
	if e := params.Get("error"); e != "" {
		return "", &AuthorizationError{Code: red.FieldN(e, 64), Description: red.Field(params.Get("error_description")),
			URI: red.FieldN(params.Get("error_uri"), 256)}
	}
	code = params.Get("code")
	if code == "" {
		return "", ErrNoCode
	}
	red.AddShortLived(code)
	return code, nil
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
	if f.ep == nil || f.cfg == nil || f.opts == nil {
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
