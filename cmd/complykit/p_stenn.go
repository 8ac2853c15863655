package main

import (
	"context"
	"errors"
	"flag"

	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		name:        "stenn",
		baseURLHelp: "API root the spec's paths are appended to (default https://api.stenn.com; https://api.stenn.com/sandbox with --sandbox)",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.sandbox, "sandbox", false, "use the sandbox (test mode): token and API URLs both switch")
		},
		open: openStenn,
		startFake: func(addr string) (fake, error) {
			s, err := stenntest.Start(stenntest.WithAddr(addr))
			if err != nil {
				return nil, err
			}
			return stennFake{s}, nil
		},
	})
}

type stennSession struct {
	*restCaller
	client *stennapi.Client
}

func (s *stennSession) Token(ctx context.Context) (*oauth2.Token, error) { return s.client.Token(ctx) }

func openStenn(ctx context.Context, o *options) (session, error) {
	if err := requireCredentials(o); err != nil {
		return nil, err
	}
	if len(o.scopes) > 0 {
		return nil, usagef("stenn: the client credentials grant takes no scopes")
	}
	opts := []option.Option{option.WithUserAgent("complykit-cli")}
	if o.sandbox {
		opts = append(opts, stennapi.WithSandbox())
	}
	if o.baseURL != "" {
		opts = append(opts, stennapi.WithBaseURL(o.baseURL))
	}
	if o.tokenURL != "" {
		opts = append(opts, stennapi.WithTokenURL(o.tokenURL))
	}
	if st := o.store(); st != nil {
		opts = append(opts, option.WithStore(st))
	}
	c, err := stennapi.NewClient(o.clientID, o.clientSecret, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &stennSession{
		restCaller: &restCaller{provider: "stenn", spec: "stenn.yaml", baseURL: c.BaseURL(), doer: c.Doer(), ua: apiclient.UserAgent("complykit-cli")},
		client:     c,
	}, nil
}

type stennFake struct{ s *stenntest.Server }

func (f stennFake) Close() { f.s.Close() }
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
