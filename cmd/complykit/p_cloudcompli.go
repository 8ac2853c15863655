package main

import (
	"context"
	"errors"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"
)

func init() {
	register(&provider{
		order: 3,
		name:  "cloudcompli",
		title: "CloudCompli",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.instance, "instance", "", "the customer's CloudCompli host, e.g. https://example.compli.cloud (required: there is no shared host)")
			fs.StringVar(&o.accessToken, "access-token", "", "a token generated in CloudCompli's UI, instead of client credentials")
			fs.Lookup("client-id").Usage = "OAuth client id (required unless --access-token is given)"
			fs.Lookup("client-secret").Usage = "OAuth client secret (required unless --access-token is given; prefer the environment variable)"
		},
		refused: map[string]string{
			"base-url":  "the API root lives under --instance",
			"token-url": "the token endpoint lives under --instance",
			"scope":     "CloudCompli documents no scopes",
		},
		open:       openCloudCompli,
		operations: restOperations("cloudcompli.yaml"),
		startFake: func(addr string) (runningFake, error) {
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

func openCloudCompli(ctx context.Context, o *options, common []option.Option, store auth.Store) (session, error) {
	if o.instance == "" {
		return nil, usagef("cloudcompli: --instance is required (the customer's host, e.g. https://example.compli.cloud)")
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
	opts := common
	if store != nil && o.accessToken == "" {
		// A UI token is given on every run: nothing to keep.
		opts = append(opts, option.WithStore(store))
	}
	c, err := cloudcompliapi.NewClient(o.instance, creds, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &cloudcompliSession{
		restCaller: &restCaller{provider: "cloudcompli", spec: "cloudcompli.yaml", baseURL: c.BaseURL(), doer: c.Doer(), ua: apiclient.UserAgent(userAgent)},
		client:     c,
	}, nil
}

type cloudcompliFake struct{ s *cloudcomplitest.Server }

func (f cloudcompliFake) Close()                     { f.s.Close() }
func (f cloudcompliFake) Server() *fakeserver.Server { return f.s.Server }
func (f cloudcompliFake) Samples() []fake.Sample     { return f.s.Samples() }
func (f cloudcompliFake) Describe() []kv {
	return []kv{
		{"instance", f.s.URL},
		{"token URL", f.s.TokenURL()},
		{"authorize URL", f.s.AuthorizeURL()},
		{"client id", f.s.ClientID},
		{"client secret", f.s.ClientSecret},
		{"ui token", f.s.StaticToken},
		{"username", f.s.Username()},
		{"password", cloudcomplitest.DefaultPassword},
	}
}
