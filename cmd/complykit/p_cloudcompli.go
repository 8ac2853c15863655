package main

import (
	"context"
	"errors"
	"flag"

	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		name:        "cloudcompli",
		baseURLHelp: "not used for cloudcompli: give --instance",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.instance, "instance", "", "the customer's CloudCompli host, e.g. https://example.compli.cloud (required: there is no shared host)")
			fs.StringVar(&o.accessToken, "access-token", "", "a token generated in CloudCompli's UI, instead of client credentials")
		},
		open: openCloudCompli,
		startFake: func(addr string) (fake, error) {
			s, err := cloudcomplitest.Start(cloudcomplitest.WithAddr(addr))
			if err != nil {
				return nil, err
			}
			return cloudcompliFake{s}, nil
		},
	})
	statusFuncs = append(statusFuncs, func(err error) (int, bool) {
		var e *cloudcompliapi.Error
		if errors.As(err, &e) {
			return e.StatusCode, true
		}
		return 0, false
	})
}

type cloudcompliSession struct {
	*restCaller
	client *cloudcompliapi.Client
}

func (s *cloudcompliSession) Token(ctx context.Context) (*oauth2.Token, error) {
	return s.client.Token(ctx)
}

func openCloudCompli(ctx context.Context, o *options) (session, error) {
	if o.instance == "" {
		return nil, usagef("cloudcompli: --instance is required (the customer's host, e.g. https://example.compli.cloud)")
	}
	if o.baseURL != "" || o.tokenURL != "" {
		return nil, usagef("cloudcompli: the token URL and API root live under --instance; --base-url and --token-url do not apply")
	}
	if len(o.scopes) > 0 {
		return nil, usagef("cloudcompli: CloudCompli documents no scopes")
	}
	var creds cloudcompliapi.Credentials
	switch {
	case o.accessToken != "":
		creds = cloudcompliapi.StaticToken{Token: o.accessToken}
	default:
		if err := requireCredentials(o); err != nil {
			return nil, usagef("%v (or --access-token with a token from CloudCompli's UI)", err)
		}
		creds = cloudcompliapi.ClientCredentials{ClientID: o.clientID, ClientSecret: o.clientSecret}
	}
	opts := []option.Option{option.WithUserAgent("complykit-cli")}
	if st := o.store(); st != nil && o.accessToken == "" {
		opts = append(opts, option.WithStore(st))
	}
	c, err := cloudcompliapi.NewClient(o.instance, creds, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &cloudcompliSession{
		restCaller: &restCaller{provider: "cloudcompli", spec: "cloudcompli.yaml", baseURL: c.BaseURL(), doer: c.Doer(), ua: apiclient.UserAgent("complykit-cli")},
		client:     c,
	}, nil
}

type cloudcompliFake struct{ s *cloudcomplitest.Server }

func (f cloudcompliFake) Close() { f.s.Close() }
func (f cloudcompliFake) Describe() []kv {
	return []kv{
		{"instance", f.s.URL},
		{"token URL", f.s.TokenURL()},
		{"authorize URL", f.s.AuthorizeURL()},
		{"client id", f.s.ClientID},
		{"client secret", f.s.ClientSecret},
		{"ui token", f.s.StaticToken},
	}
}
