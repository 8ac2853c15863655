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
			fs.StringVar(&o.username, "username", "", "Stems Accounts user, an email address (required)")
			fs.StringVar(&o.password, "password", "", "the user's password (required; prefer the environment variable)")
			fs.StringVar(&o.company, "company", "", "company `id` sent as X-Company-Context on every request")
		},
		open:       openStems,
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
	if err := requireCredentials(o); err != nil {
		return nil, err
	}
	if o.baseURL == "" {
		return nil, usagef("stems: --base-url is required (Stems does not publish its API base URL)")
	}
	if o.username == "" || o.password == "" {
		return nil, usagef("stems: --username and --password are required (or %s_USERNAME / _PASSWORD)", envPrefix("stems"))
	}
	opts := common
	if store != nil {
		opts = append(opts, option.WithStore(store))
	}
	if o.tokenURL != "" {
		opts = append(opts, stemsapi.WithTokenURL(o.tokenURL))
	}
	if len(o.scopes) > 0 {
		opts = append(opts, stemsapi.WithScopes(o.scopes...))
	}
	if o.company != "" {
		opts = append(opts, stemsapi.WithCompany(o.company))
	}
	c, err := stemsapi.NewClient(o.baseURL, stemsapi.Password(o.clientID, o.clientSecret, o.username, o.password), opts...)
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
