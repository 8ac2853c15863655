package cloudcompliapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Credentials say how a Client gets its access token. A Credentials is one
// of ClientCredentials, StaticToken or UserToken; the set is closed.
type Credentials interface {
	// tokenSource returns the flow for the instance and, when the
	// credentials know better than the flow, the key of its tokens in a
	// Store ("" for the flow's own).
	tokenSource(in *instance, fo auth.FlowOptions) (src oauth2.TokenSource, key string, err error)
}

// ClientCredentials authenticate as an API client of one CloudCompli
// instance, with the client credentials grant: system-level access to the
// instance's whole data set. Create the client under Settings > App
// Settings > API Clients.
type ClientCredentials struct {
	// ClientID is the API client's id. Required.
	ClientID string
	// ClientSecret is the API client's secret. Required.
	ClientSecret string
}

func (c ClientCredentials) tokenSource(in *instance, fo auth.FlowOptions) (oauth2.TokenSource, string, error) {
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, "", errors.New("cloudcompliapi: ClientCredentials: ClientID and ClientSecret are required")
	}
	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     in.tokenURL,
		AuthStyle:    oauth2.AuthStyleInParams, // the documented form body
	}, fo)
	if err != nil {
		return nil, "", fmt.Errorf("cloudcompliapi: %w", err)
	}
	return flow, "", nil
}

func (c ClientCredentials) safe() auth.Safe {
	return auth.Safe{Type: "cloudcompliapi.ClientCredentials", Fields: []auth.SafeField{
		auth.Public("ClientID", c.ClientID), auth.Secret("ClientSecret", c.ClientSecret)}}
}

// String describes the credentials without the secret; Format,
// MarshalJSON and LogValue show the same under every fmt verb, in JSON and
// in slog.
func (c ClientCredentials) String() string { return c.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints the secret.
func (c ClientCredentials) Format(f fmt.State, verb rune) { c.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without the secret.
func (c ClientCredentials) MarshalJSON() ([]byte, error) { return c.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without the secret.
func (c ClientCredentials) LogValue() slog.Value { return c.safe().LogValue() }

// StaticToken is a bearer token generated in CloudCompli's web UI
// (Settings > App Settings > API Clients > Manage > Generate a Token), as
// CloudCompli recommends for connectors such as Power BI. It lasts one year,
// or until someone presses Revoke All Tokens; the client never fetches
// another, so once CloudCompli refuses it every call fails with a 401 *Error
// until you generate a new token.
type StaticToken struct {
	// Token is the bearer token, without a "Bearer " prefix. Required.
	Token string
	// Expiry is when the token expires: one year after it was generated.
	// Optional; zero means unknown, and the token is used until CloudCompli
	// refuses it.
	Expiry time.Time
}

func (s StaticToken) tokenSource(*instance, auth.FlowOptions) (oauth2.TokenSource, string, error) {
	if err := checkToken(s.Token); err != nil {
		return nil, "", fmt.Errorf("cloudcompliapi: StaticToken: %w", err)
	}
	return auth.StaticToken(s.Token, s.Expiry), "", nil
}

func (s StaticToken) safe() auth.Safe {
	exp := "unknown"
	if !s.Expiry.IsZero() {
		exp = s.Expiry.UTC().Format(time.RFC3339)
	}
	return auth.Safe{Type: "cloudcompliapi.StaticToken", Fields: []auth.SafeField{auth.Secret("Token", s.Token), auth.Public("Expiry", exp)}}
}

// String describes the token without revealing it; so do Format,
// MarshalJSON and LogValue.
func (s StaticToken) String() string { return s.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints the token.
func (s StaticToken) Format(f fmt.State, verb rune) { s.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without the token.
func (s StaticToken) MarshalJSON() ([]byte, error) { return s.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without the token.
func (s StaticToken) LogValue() slog.Value { return s.safe().LogValue() }

func checkToken(tok string) error {
	if tok == "" {
		return errors.New("token is required")
	}
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		return errors.New(`give the token without the "Bearer " prefix`)
	}
	for _, r := range tok {
		if r <= ' ' || r >= 0x7f {
			return errors.New("token contains whitespace or non-ASCII characters")
		}
	}
	return nil
}

// AuthCodeApp is an API consumer registered with CloudCompli Support for
// the authorization code grant, which acts for a user with that user's
// permissions and may span customer instances. Support issues the client
// id and secret for the Endpoint URI you gave them.
type AuthCodeApp struct {
	// ClientID is the consumer's client id. Required.
	ClientID string
	// ClientSecret is the consumer's client secret. Required. CloudCompli's
	// authorize URL carries it: see NewAuthCodeFlow.
	ClientSecret string
	// RedirectURL is the Endpoint URI registered with CloudCompli Support,
	// where the user's browser comes back with ?code=. Required.
	RedirectURL string
}

func (a AuthCodeApp) safe() auth.Safe {
	return auth.Safe{Type: "cloudcompliapi.AuthCodeApp", Fields: []auth.SafeField{
		auth.Public("ClientID", a.ClientID), auth.Secret("ClientSecret", a.ClientSecret), auth.Public("RedirectURL", a.RedirectURL)}}
}

// String describes the app without its secret; so do Format, MarshalJSON
// and LogValue.
func (a AuthCodeApp) String() string { return a.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints the secret.
func (a AuthCodeApp) Format(f fmt.State, verb rune) { a.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without the secret.
func (a AuthCodeApp) MarshalJSON() ([]byte, error) { return a.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without the secret.
func (a AuthCodeApp) LogValue() slog.Value { return a.safe().LogValue() }

// AuthCodeQuirks are the two ways CloudCompli's documented authorization
// code grant departs from RFC 6749. Its help article (seed 003) shows
// both; its own PHP client (cloudcompli-php-api, on league/oauth2-client)
// sends neither, and works. Both forms are therefore observed, and the
// zero value, the PHP client's, is the default: it keeps the client
// secret out of the browser. DocumentedQuirks is the help article's form,
// for an instance that refuses the other.
type AuthCodeQuirks struct {
	// SecretInAuthURL puts client_secret on the authorize URL, as the help
	// article shows. The secret then passes through the user's browser: it
	// can end up in the browser's history, in proxy and server logs and in
	// Referer headers. Treat it as exposed to your users. Optional.
	SecretInAuthURL bool
	// ResponseTypeInExchange sends response_type=code in the code exchange,
	// as the help article shows (RFC 6749 has no such field there).
	// Optional.
	ResponseTypeInExchange bool
}

// DocumentedQuirks returns the form of CloudCompli's help article: the
// client secret on the authorize URL and response_type=code in the
// exchange.
func DocumentedQuirks() AuthCodeQuirks {
	return AuthCodeQuirks{SecretInAuthURL: true, ResponseTypeInExchange: true}
}

// WithAuthCodeQuirks chooses the form of the authorization code grant for
// NewAuthCodeFlow. Optional. Default: AuthCodeQuirks{}, the vendor's own
// client's form, without the secret on the authorize URL.
func WithAuthCodeQuirks(q AuthCodeQuirks) option.Option {
	return apiclient.For("WithAuthCodeQuirks", func(c *config) error {
		c.quirks = q
		return nil
	})
}

// NewAuthCodeFlow returns the authorization code flow of app for one
// CloudCompli instance, with PKCE (S256: CloudCompli documents none, and a
// server that does not know it ignores it, RFC 7636 section 4.5) and a
// state on every authorize URL.
//
// Send the user to the URL of flow.NewAuthCodeURL (keep its state and
// verifier in the user's session), read the code from the redirect with
// flow.ReadCallback (or ParseCallback), exchange it with
// flow.Exchange(ctx, code, verifier), and build a Client with UserToken.
// CloudCompli documents no refresh token: a user token lasts one year, and
// after that the user must sign in again.
//
// The form of the grant, the vendor's own client's (the default) or its
// help article's, is chosen with WithAuthCodeQuirks. Of the other options,
// only option.WithHTTPClient, option.WithUserAgent, option.WithLogger and
// the clock of option.WithCacheOptions apply (to the token exchange); the
// others are ignored.
func NewAuthCodeFlow(instanceURL string, app AuthCodeApp, opts ...option.Option) (*auth.AuthCodeFlow, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	in, err := newInstance(instanceURL)
	if err != nil {
		return nil, err
	}
	return in.authCodeFlow(app, flowOptions(cfg), cfg.quirks)
}

func (in *instance) authCodeFlow(app AuthCodeApp, fo auth.FlowOptions, q AuthCodeQuirks) (*auth.AuthCodeFlow, error) {
	if app.ClientID == "" || app.ClientSecret == "" || app.RedirectURL == "" {
		return nil, errors.New("cloudcompliapi: AuthCodeApp: ClientID, ClientSecret and RedirectURL are required")
	}
	flow, err := auth.AuthorizationCode(&oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		RedirectURL:  app.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   in.authorizeURL,
			TokenURL:  in.tokenURL,
			AuthStyle: oauth2.AuthStyleInParams, // the documented form body
		},
	}, auth.AuthCodeOptions{FlowOptions: fo, PKCE: true,
		SecretInAuthURL: q.SecretInAuthURL, ResponseTypeInExchange: q.ResponseTypeInExchange})
	if err != nil {
		return nil, fmt.Errorf("cloudcompliapi: AuthCodeApp: %w", err)
	}
	return flow, nil
}

// UserToken authenticates as a user, with a token from the authorization
// code grant (see NewAuthCodeFlow). The Client is bound to the instance
// given to NewClient; use the same instance the token came from.
type UserToken struct {
	// App is the API consumer the token was issued to. Required.
	App AuthCodeApp
	// Token is what the flow's Exchange returned, or such a token restored
	// from your own storage. Required.
	Token *oauth2.Token
	// Subject names the user (e.g. your own user id) in a Store shared by
	// several users' clients: it keys the user's tokens there. Optional;
	// without it the key is derived from Token, which is never shared
	// between users but changes when the user signs in again.
	Subject string
}

func (u UserToken) tokenSource(in *instance, fo auth.FlowOptions) (oauth2.TokenSource, string, error) {
	if u.Token == nil || (u.Token.AccessToken == "" && u.Token.RefreshToken == "") {
		return nil, "", errors.New("cloudcompliapi: UserToken: Token is required")
	}
	if u.Token.AccessToken != "" {
		if err := checkToken(u.Token.AccessToken); err != nil {
			return nil, "", fmt.Errorf("cloudcompliapi: UserToken: %w", err)
		}
	}
	flow, err := in.authCodeFlow(u.App, fo, AuthCodeQuirks{}) // renewals only: the exchange is done
	if err != nil {
		return nil, "", err
	}
	key := auth.Key(in.tokenURL, u.App.ClientID, "user:"+u.Subject, nil)
	if u.Subject == "" {
		seed := u.Token.AccessToken
		if seed == "" {
			seed = u.Token.RefreshToken
		}
		sum := sha256.Sum256([]byte(in.tokenURL + "\x00" + seed))
		key = "cloudcompli-user-" + hex.EncodeToString(sum[:12])
	}
	return flow.TokenSource(userToken(u.Token, fo.Now)), key, nil
}

// userToken prepares a token from the exchange (or restored from storage)
// for the cache, which dates a token by its expires_in as if it had just
// been issued. Its absolute Expiry is what counts: a token restored months
// later must not live a year from now. Without a refresh token (what
// CloudCompli documents) expires_in is dropped altogether, so the cache
// does not try to renew it ahead of expiry, which could only fail.
func userToken(tok *oauth2.Token, now func() time.Time) *oauth2.Token {
	if tok.Expiry.IsZero() {
		return tok
	}
	cp := *tok
	cp.ExpiresIn = 0
	if cp.RefreshToken != "" {
		if now == nil {
			now = time.Now
		}
		if left := int64(cp.Expiry.Sub(now()) / time.Second); left > 0 {
			cp.ExpiresIn = left
		}
	}
	return &cp
}

func (u UserToken) safe() auth.Safe {
	var tok string
	if u.Token != nil {
		tok = u.Token.AccessToken + u.Token.RefreshToken
	}
	return auth.Safe{Type: "cloudcompliapi.UserToken", Fields: []auth.SafeField{
		auth.Public("App", u.App), auth.Secret("Token", tok), auth.Public("Subject", u.Subject)}}
}

// String describes the user token without its secrets; so do Format,
// MarshalJSON and LogValue.
func (u UserToken) String() string { return u.safe().String() }

// Format implements fmt.Formatter: no verb or flag prints a secret.
func (u UserToken) Format(f fmt.State, verb rune) { u.safe().Format(f, verb) }

// MarshalJSON implements json.Marshaler without the secrets.
func (u UserToken) MarshalJSON() ([]byte, error) { return u.safe().MarshalJSON() }

// LogValue implements slog.LogValuer without the secrets.
func (u UserToken) LogValue() slog.Value { return u.safe().LogValue() }

// ParseCallback reads the redirect CloudCompli sent the user's browser to
// (your RedirectURL with ?code=...) and returns the code to Exchange. Pass
// the state you gave AuthCodeURL; a redirect whose state differs is
// refused (it was not started by you). A refusal by the user or by
// CloudCompli (?error=...) is an *Error with Op "authorize" and its Code
// and Description.
func ParseCallback(redirect *url.URL, state string) (code string, err error) {
	const op = "authorize"
	if redirect == nil {
		return "", &argError{op, "no redirect URL"}
	}
	q := redirect.Query()
	if e := q.Get("error"); e != "" {
		return "", &Error{Op: op, Code: clean(e), Description: clean(q.Get("error_description")),
			Reason: "the authorization was refused"}
	}
	if state != "" && !auth.CheckState(state, q.Get("state")) {
		return "", &Error{Op: op, Reason: "the redirect's state does not match the one sent: refusing a login this client did not start"}
	}
	code = q.Get("code")
	if code == "" {
		return "", &Error{Op: op, Reason: "the redirect carries no code"}
	}
	return code, nil
}
