package main

import (
	"context"
	"errors"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		order: 2,
		name:  "stenn",
		title: "Stenn",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.baseURL, "base-url", "", "API root the spec's paths are appended to (default "+stennapi.LiveBaseURL+"; "+stennapi.SandboxBaseURL+" with --sandbox)")
			fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint (default: the API root + /auth/v1/token)")
			fs.BoolVar(&o.sandbox, "sandbox", false, "use the sandbox (test mode): token and API URLs both switch")
		},
		refused:    map[string]string{"scope": "the client credentials grant takes no scopes"},
		open:       openStenn,
		operations: restOperations("stenn.yaml"),
		startFake: func(addr string) (runningFake, error) {
			s, err := stenntest.Start(stenntest.WithAddr(addr))
			if err != nil {
				return nil, err
			}
			return stennFake{s}, nil
		},
	})
	statusFuncs = append(statusFuncs, stennStatus)
}

type stennSession struct {
	*restCaller
	client *stennapi.Client
}

func (s *stennSession) Token(ctx context.Context) (*oauth2.Token, error) { return s.client.Token(ctx) }

func openStenn(ctx context.Context, o *options, common []option.Option, store auth.Store) (session, error) {
	if err := requireCredentials(o); err != nil {
		return nil, err
	}
	opts := common
	if store != nil {
		opts = append(opts, option.WithStore(store))
	}
	if o.sandbox {
		opts = append(opts, stennapi.WithSandbox())
	}
	if o.baseURL != "" {
		opts = append(opts, stennapi.WithBaseURL(o.baseURL))
	}
	if o.tokenURL != "" {
		opts = append(opts, stennapi.WithTokenURL(o.tokenURL))
	}
	c, err := stennapi.NewClient(o.clientID, o.clientSecret, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &stennSession{
		restCaller: &restCaller{provider: "stenn", spec: "stenn.yaml", baseURL: c.BaseURL(), doer: c.Doer(), ua: apiclient.UserAgent(userAgent)},
		client:     c,
	}, nil
}

type stennFake struct{ s *stenntest.Server }

func (f stennFake) Close()                     { f.s.Close() }
func (f stennFake) Server() *fakeserver.Server { return f.s.Server }
func (f stennFake) Samples() []fake.Sample     { return f.s.Samples() }
func (f stennFake) Describe() []kv {
	return []kv{
		{"base URL", f.s.URL},
		{"token URL", f.s.TokenURL()},
		{"client id", f.s.ClientID},
		{"client secret", f.s.ClientSecret},
	}
}

func stennStatus(err error) (int, bool) {
	var e *stennapi.Error
	if errors.As(err, &e) {
		return e.StatusCode, true
	}
	return 0, false
}
