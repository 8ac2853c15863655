package stemsapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
)

// Credentials say how the client obtains its access tokens from Stems
// Accounts. There are three kinds:
//
//   - Password: the resource owner password credentials grant, then
//     refresh_token grants (the quickest way to port an integration, and
//     the one the docs discourage, since your program holds a password);
//   - AuthorizedUser: the token a user's sign-in returned, through an
//     authorization code flow from NewAuthCodeFlow (PKCE), renewed with
//     refresh_token grants;
//   - TokenSource: any oauth2.TokenSource you already have.
//
// None of them shows a secret under any fmt verb, in JSON or in slog.
type Credentials interface {
	fmt.Stringer
	// source builds the token source; it seals the interface.
	source(cfg *config) (oauth2.TokenSource, error)
}

// PasswordCredentials are the inputs of the password grant. Build them with
// Password.
type PasswordCredentials struct {
	clientID, clientSecret, username, password string
}

// Password returns credentials for the resource owner password credentials
// grant (Stems' ROPC page): the client ID and secret of your API Client and
// the Stems Accounts user's email address and password. All four are
// required. The client signs in once, then renews its token with the
// refresh token (the default scopes ask for offline_access so that Stems
// issues one), replacing it on every rotation; if Stems refuses the refresh
// token, it signs in with the password again.
func Password(clientID, clientSecret, username, password string) *PasswordCredentials {
	return &PasswordCredentials{clientID: clientID, clientSecret: clientSecret, username: username, password: password}
}

func (p PasswordCredentials) safe() auth.Safe {
	return auth.Safe{Type: "stemsapi.Password", Fields: []auth.SafeField{
		auth.Public("ClientID", p.clientID),
		auth.Public("Username", p.username),
		auth.Secret("ClientSecret", p.clientSecret),
		auth.Secret("Password", p.password),
	}}
}

// String describes the credentials without the secret or the password;
// Format, MarshalJSON and LogValue show the same under every fmt verb, in
// JSON and in slog.
func (p PasswordCredentials) String() string { return p.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints a secret.
func (p PasswordCredentials) Format(f fmt.State, verb rune) { p.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without the secrets.
func (p PasswordCredentials) MarshalJSON() ([]byte, error) { return p.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without the secrets.
func (p PasswordCredentials) LogValue() slog.Value { return p.safe().LogValue() }

func (p *PasswordCredentials) source(cfg *config) (oauth2.TokenSource, error) {
	if p == nil {
		return nil, errors.New("credentials are required")
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"client id", p.clientID}, {"client secret", p.clientSecret}, {"username", p.username}, {"password", p.password},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("Password: required but empty: %s", strings.Join(missing, ", "))
	}
	return auth.Password(&oauth2.Config{
		ClientID:     p.clientID,
		ClientSecret: p.clientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: cfg.tokenURL, AuthStyle: oauth2.AuthStyleInParams}, // the docs put the client in the form
		Scopes:       cfg.scopes,
	}, p.username, p.password, cfg.FlowOptions())
}

// AuthorizedUser returns credentials for a user who signed in through flow
// (see NewAuthCodeFlow): tok is what flow.Exchange returned, or a token of
// that user you saved earlier. The client uses tok until it expires and
// then renews it with its refresh token; once no refresh token is left, a
// call fails with auth.ErrSignInRequired and the user must sign in again.
//
// The token store key includes the user's id (the sub claim of the
// id_token), so clients of different users may share one Store.
func AuthorizedUser(flow *auth.AuthCodeFlow, tok *oauth2.Token) Credentials {
	return &authorizedUser{flow: flow, tok: tok}
}

type authorizedUser struct {
	flow *auth.AuthCodeFlow
	tok  *oauth2.Token
}

func (a *authorizedUser) safe() auth.Safe {
	var tok string
	if a.tok != nil {
		tok = a.tok.AccessToken + a.tok.RefreshToken
	}
	return auth.Safe{Type: "stemsapi.AuthorizedUser", Fields: []auth.SafeField{auth.Secret("Token", tok)}}
}

func (a *authorizedUser) String() string                { return a.safe().String() }
func (a *authorizedUser) Format(f fmt.State, verb rune) { a.safe().Format(f, verb) }
func (a *authorizedUser) MarshalJSON() ([]byte, error)  { return a.safe().MarshalJSON() }
func (a *authorizedUser) LogValue() slog.Value          { return a.safe().LogValue() }

func (a *authorizedUser) source(cfg *config) (oauth2.TokenSource, error) {
	if a.flow == nil {
		return nil, errors.New("AuthorizedUser: the authorization code flow is required")
	}
	if a.tok == nil || (a.tok.AccessToken == "" && a.tok.RefreshToken == "") {
		return nil, errors.New("AuthorizedUser: a token with an access or refresh token is required")
	}
	// The source's key names the user (the id_token's sub), so clients of
	// different users may share one Store.
	return a.flow.TokenSource(a.tok), nil
}

// TokenSource returns credentials that take tokens from src, for tokens
// obtained some other way. The client still caches them, refreshes ahead of
// expiry and replays a request once after a 401; if src implements
// auth.Refresher, renewals go through it.
func TokenSource(src oauth2.TokenSource) Credentials { return &tokenSource{src: src} }

type tokenSource struct{ src oauth2.TokenSource }

func (t *tokenSource) safe() auth.Safe {
	return auth.Safe{Type: "stemsapi.TokenSource", Fields: []auth.SafeField{auth.Public("Source", fmt.Sprintf("%T", t.src))}}
}

func (t *tokenSource) String() string                { return t.safe().String() }
func (t *tokenSource) Format(f fmt.State, verb rune) { t.safe().Format(f, verb) }
func (t *tokenSource) MarshalJSON() ([]byte, error)  { return t.safe().MarshalJSON() }
func (t *tokenSource) LogValue() slog.Value          { return t.safe().LogValue() }

func (t *tokenSource) source(*config) (oauth2.TokenSource, error) {
	if t.src == nil {
		return nil, errors.New("TokenSource: nil token source")
	}
	return t.src, nil
}

// NewAuthCodeFlow returns the authorization code flow with PKCE for Stems
// Accounts, for applications whose users sign in with their own Stems
// account: send the user to the URL from AuthCodeURL, Exchange the code
// that comes back to redirectURL, and pass the token to AuthorizedUser.
//
// clientID and redirectURL (which must match the API Client's
// configuration) are required; clientSecret is for confidential clients
// (web servers) and "" for public ones (native and desktop apps). The
// default scopes are openid, resources_stems_api and offline_access (a
// refresh token; the API Client must be configured for it). The options
// that apply are WithAuthURL, WithTokenURL, WithScopes, WithResponseMode,
// option.WithHTTPClient, option.WithUserAgent and option.WithLogger; any
// other is refused.
//
// The authorize URL asks for response_mode=form_post unless
// WithResponseMode says query: without a response mode Stems Accounts
// answers in the URL fragment, which never reaches a server. Read the code
// from the callback with flow.ReadCallback, which takes either form and
// checks the state; flow.NewAuthCodeURL makes the state (and the PKCE
// verifier) for you.
func NewAuthCodeFlow(clientID, clientSecret, redirectURL string, opts ...option.Option) (*auth.AuthCodeFlow, error) {
	cfg := defaultConfig()
	cfg.scopes = DefaultAuthCodeScopes()
	if err := apiclient.Apply("stemsapi", &cfg.Settings, cfg, opts); err != nil {
		return nil, fmt.Errorf("stemsapi: auth code flow: %s", strings.TrimPrefix(err.Error(), "stemsapi: "))
	}
	for _, name := range cfg.GivenNames() {
		switch name {
		case "WithAuthURL", "WithTokenURL", "WithScopes", "WithResponseMode", "WithHTTPClient", "WithUserAgent", "WithLogger":
		default:
			return nil, fmt.Errorf("stemsapi: auth code flow: %s does not apply here; pass it to NewClient", name)
		}
	}
	if clientID == "" || redirectURL == "" {
		return nil, errors.New("stemsapi: auth code flow: client id and redirect URL are required")
	}
	flow, err := auth.AuthorizationCode(&oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Scopes:       cfg.scopes,
		Endpoint:     oauth2.Endpoint{AuthURL: cfg.authURL, TokenURL: cfg.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}, auth.AuthCodeOptions{FlowOptions: cfg.FlowOptions(), PKCE: true,
		AuthURLOptions: []oauth2.AuthCodeOption{auth.ResponseMode(cfg.responseMode)}})
	if err != nil {
		return nil, fmt.Errorf("stemsapi: auth code flow: %w", err)
	}
	return flow, nil
}
