package main

import (
	"context"
	"errors"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		order: 1,
		name:  "stems",
		title: "Stems Comply One",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.baseURL, "base-url", "", "Comply One API root the spec's paths are appended to (required: Stems does not publish it)")
			fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint (default "+stemsapi.DefaultTokenURL+")")
			fs.StringArrayVar(&o.scopes, "scope", nil, "`scope` to request instead of the defaults (repeatable; default "+strings.Join(stemsapi.DefaultScopes(), " ")+")")
			fs.StringVar(&o.username, "username", "", "Stems Accounts user, an email address (required, unless signed in with complykit login stems)")
			fs.StringVar(&o.password, "password", "", "the user's password (required with --username; prefer the environment variable)")
			fs.StringVar(&o.company, "company", "", "company `id` sent as X-Company-Context on every request")
		},
		open:       openStems,
		login:      stemsLogin,
		operations: restOperations("stems.yaml"),
		startFake: func(addr string) (runningFake, error) {
			s, err := stemstest.Start(stemstest.WithAddr(addr))
			if err != nil {
				return nil, err
			}
			return stemsFake{s}, nil
		},
	})
	statusFuncs = append(statusFuncs, func(err error) (int, bool) {
		var e *stemsapi.Error
		if errors.As(err, &e) {
			return e.StatusCode, true
		}
		return 0, false
	})
}

type stemsSession struct {
	*restCaller
	client *stemsapi.Client
}

func (s *stemsSession) Token(ctx context.Context) (*oauth2.Token, error) { return s.client.Token(ctx) }

func openStems(ctx context.Context, o *options, common []option.Option, store auth.Store) (session, error) {
	if o.baseURL == "" {
		return nil, usagef("stems: --base-url is required (Stems does not publish its API base URL)")
	}
	opts := common
	if o.company != "" {
		opts = append(opts, stemsapi.WithCompany(o.company))
	}
	var creds stemsapi.Credentials
	switch {
	case o.username != "" || o.password != "" || o.login == nil:
		if err := requireCredentials(o); err != nil {
			return nil, err
		}
		if o.username == "" || o.password == "" {
			return nil, usagef("stems: --username and --password are required (or %s_USERNAME / _PASSWORD), or sign in first with complykit login stems", envPrefix("stems"))
		}
		if store != nil {
			opts = append(opts, option.WithStore(store))
		}
		if o.tokenURL != "" {
			opts = append(opts, stemsapi.WithTokenURL(o.tokenURL))
		}
		if len(o.scopes) > 0 {
			opts = append(opts, stemsapi.WithScopes(o.scopes...))
		}
		creds = stemsapi.Password(o.clientID, o.clientSecret, o.username, o.password)
	default:
		// The user of complykit login stems, whose tokens are renewed with
		// the client they signed in to.
		rec := o.login
		switch {
		case o.clientID != "" && o.clientID != rec.ClientID:
			return nil, usagef("stems: signed in as %s with client %s, not --client-id %s: give --username and --password, or complykit login stems again", rec.User, rec.ClientID, o.clientID)
		case o.tokenURL != "" && o.tokenURL != rec.TokenURL:
			return nil, usagef("stems: signed in as %s at %s, not --token-url %s", rec.User, rec.TokenURL, o.tokenURL)
		case len(o.scopes) > 0:
			return nil, usagef("stems: signed in as %s, whose scopes were granted at login (%s): --scope applies to the password grant", rec.User, strings.Join(rec.Scopes, " "))
		case rec.Confidential && o.clientSecret == "":
			return nil, usagef("stems: signed in as %s with a confidential client: give its --client-secret (or %s_CLIENT_SECRET) to renew the tokens", rec.User, envPrefix("stems"))
		}
		flow, err := stemsapi.NewAuthCodeFlow(rec.ClientID, o.clientSecret, rec.RedirectURL, append(common,
			stemsapi.WithAuthURL(rec.AuthURL), stemsapi.WithTokenURL(rec.TokenURL), stemsapi.WithScopes(rec.Scopes...))...)
		if err != nil {
			return nil, usagef("%v", err)
		}
		tok, err := rec.token(ctx)
		if err != nil {
			return nil, err
		}
		creds = stemsapi.AuthorizedUser(flow, tok)
		opts = append(opts, option.WithStore(rec.tokens()))
	}
	c, err := stemsapi.NewClient(o.baseURL, creds, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	headers := map[string]string{}
	if o.company != "" {
		headers[auth.HeaderCompanyContext] = o.company
	}
	return &stemsSession{
		restCaller: &restCaller{provider: "stems", spec: "stems.yaml", baseURL: c.BaseURL(), doer: c.Doer(),
			ua: apiclient.UserAgent(userAgent), headers: headers},
		client: c,
	}, nil
}

// stemsLogin signs a Stems Accounts user in with the authorization code
// flow and PKCE; the code comes back as a form_post (the SDK's default)
// or in the query.
var stemsLogin = &loginSpec{
	flags: func(fs *pflag.FlagSet, o *options) {
		fs.StringVar(&o.clientSecret, "client-secret", "", "OAuth client secret of a confidential client (a public one, PKCE only, has none; prefer the environment variable)")
		fs.StringVar(&o.authURL, "auth-url", "", "authorize endpoint (default "+stemsapi.DefaultAuthURL+")")
		fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint (default "+stemsapi.DefaultTokenURL+")")
		fs.StringArrayVar(&o.scopes, "scope", nil, "`scope` to request instead of the defaults (repeatable; default "+strings.Join(stemsapi.DefaultAuthCodeScopes(), " ")+")")
		fs.StringVar(&o.responseMode, "response-mode", auth.ResponseModeFormPost, "how the code comes back: form_post (a POST to the redirect URI) or query")
	},
	begin: func(o *options, redirectURL string, common []option.Option) (*auth.AuthCodeFlow, *loginRecord, error) {
		if o.responseMode != auth.ResponseModeFormPost && o.responseMode != auth.ResponseModeQuery {
			return nil, nil, usagef("--response-mode must be form_post or query, not %q", o.responseMode)
		}
		rec := &loginRecord{AuthURL: o.authURL, TokenURL: o.tokenURL, Confidential: o.clientSecret != "", Scopes: o.scopes}
		if rec.AuthURL == "" {
			rec.AuthURL = stemsapi.DefaultAuthURL
		}
		if rec.TokenURL == "" {
			rec.TokenURL = stemsapi.DefaultTokenURL
		}
		if len(rec.Scopes) == 0 {
			rec.Scopes = stemsapi.DefaultAuthCodeScopes()
		}
		flow, err := stemsapi.NewAuthCodeFlow(o.clientID, o.clientSecret, redirectURL, append(common,
			stemsapi.WithAuthURL(rec.AuthURL), stemsapi.WithTokenURL(rec.TokenURL), stemsapi.WithScopes(rec.Scopes...),
			stemsapi.WithResponseMode(o.responseMode))...)
		if err != nil {
			return nil, nil, usagef("%v", err)
		}
		return flow, rec, nil
	},
	who: func(_ context.Context, _ *options, _ *loginRecord, tok *oauth2.Token, _ []option.Option) (string, string, error) {
		// Stems Accounts is an OpenID Connect provider: the id_token says
		// who signed in.
		claims := idTokenClaims(auth.IDToken(tok))
		sub, _ := claims["sub"].(string)
		for _, k := range []string{"email", "preferred_username", "name"} {
			if v, _ := claims[k].(string); v != "" {
				return v, sub, nil
			}
		}
		if sub != "" {
			return sub, sub, nil
		}
		return "a user Stems did not name (no id_token: ask for the openid scope)", "", nil
	},
}

type stemsFake struct{ s *stemstest.Server }

func (f stemsFake) Close()                     { f.s.Close() }
func (f stemsFake) Server() *fakeserver.Server { return f.s.Server }
func (f stemsFake) Samples() []fake.Sample     { return f.s.Samples() }
func (f stemsFake) Describe() []kv {
	return []kv{
		{"base URL", f.s.URL},
		{"token URL", f.s.TokenURL()},
		{"authorize URL", f.s.AuthorizeURL()},
		{"client id", f.s.ClientID},
		{"client secret", f.s.ClientSecret},
		{"username", stemstest.DefaultUsername},
		{"password", stemstest.DefaultPassword},
		{"company", stemstest.DefaultCompany},
	}
}
