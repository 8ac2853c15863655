package main

import (
	"context"
	"errors"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"net/url"
	"strings"

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
		login:      cloudcompliLogin,
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
	instance := o.instance
	rec := o.login
	if instance == "" && rec != nil {
		instance = rec.Instance // the signed-in user's
	}
	if rec != nil && !sameInstance(rec.Instance, instance) {
		rec = nil // signed in to another instance
	}
	if instance == "" {
		return nil, usagef("cloudcompli: --instance is required (the customer's host, e.g. https://example.compli.cloud)")
	}
	var creds cloudcompliapi.Credentials
	opts := common
	switch {
	case o.accessToken != "":
		// A UI token is given on every run: nothing to keep.
		creds = cloudcompliapi.StaticToken{Token: o.accessToken}
	case rec != nil:
		// The user of complykit login cloudcompli.
		switch {
		case o.clientID != "" && o.clientID != rec.ClientID:
			return nil, usagef("cloudcompli: signed in to %s as %s with client %s, not --client-id %s: complykit logout cloudcompli to use client credentials", rec.Instance, rec.User, rec.ClientID, o.clientID)
		case o.clientSecret == "":
			return nil, usagef("cloudcompli: signed in to %s as %s: give the app's --client-secret (or %s_CLIENT_SECRET), which CloudCompli's user tokens need", rec.Instance, rec.User, envPrefix("cloudcompli"))
		}
		tok, err := rec.token(ctx)
		if err != nil {
			return nil, err
		}
		creds = cloudcompliapi.UserToken{
			App:     cloudcompliapi.AuthCodeApp{ClientID: rec.ClientID, ClientSecret: o.clientSecret, RedirectURL: rec.RedirectURL},
			Token:   tok,
			Subject: rec.Subject,
		}
		opts = append(opts, option.WithStore(rec.tokens()))
	default:
		if err := requireCredentials(o); err != nil {
			return nil, usagef("%v (or --access-token with a token from CloudCompli's UI, or complykit login cloudcompli)", err)
		}
		creds = cloudcompliapi.ClientCredentials{ClientID: o.clientID, ClientSecret: o.clientSecret}
		if store != nil {
			opts = append(opts, option.WithStore(store))
		}
	}
	c, err := cloudcompliapi.NewClient(instance, creds, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &cloudcompliSession{
		restCaller: &restCaller{provider: "cloudcompli", spec: "cloudcompli.yaml", baseURL: c.BaseURL(), doer: c.Doer(), ua: apiclient.UserAgent(userAgent)},
		client:     c,
	}, nil
}

// sameInstance reports whether two instance URLs name the same host.
func sameInstance(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" {
			return strings.ToLower(strings.TrimRight(s, "/"))
		}
		return strings.ToLower(u.Scheme + "://" + u.Host + strings.TrimRight(u.Path, "/"))
	}
	return norm(a) == norm(b)
}

// cloudcompliLogin signs a CloudCompli user in with the authorization code
// flow (PKCE and state, which CloudCompli does not document and a server
// that does not know them ignores), in the vendor's PHP client's form or,
// with --documented-quirks, its help article's.
var cloudcompliLogin = &loginSpec{
	flags: func(fs *pflag.FlagSet, o *options) {
		fs.StringVar(&o.clientSecret, "client-secret", "", "the app's OAuth client secret (required; prefer the environment variable)")
		fs.StringVar(&o.instance, "instance", "", "the customer's CloudCompli host, e.g. https://example.compli.cloud (required)")
		fs.BoolVar(&o.documentedQuirks, "documented-quirks", false, "use the help article's form: the client secret on the authorize URL (your browser sees it) and response_type in the exchange")
	},
	begin: func(o *options, redirectURL string, common []option.Option) (*auth.AuthCodeFlow, *loginRecord, error) {
		if o.instance == "" {
			return nil, nil, usagef("cloudcompli: --instance is required (the customer's host, e.g. https://example.compli.cloud)")
		}
		if o.clientSecret == "" {
			return nil, nil, usagef("cloudcompli: missing --client-secret (or %s_CLIENT_SECRET)", envPrefix("cloudcompli"))
		}
		opts := common
		if o.documentedQuirks {
			opts = append(opts, cloudcompliapi.WithAuthCodeQuirks(cloudcompliapi.DocumentedQuirks()))
		}
		flow, err := cloudcompliapi.NewAuthCodeFlow(o.instance, cloudcompliapi.AuthCodeApp{ClientID: o.clientID, ClientSecret: o.clientSecret, RedirectURL: redirectURL}, opts...)
		if err != nil {
			return nil, nil, usagef("%v", err)
		}
		return flow, &loginRecord{Instance: o.instance, Confidential: true}, nil
	},
	who: func(ctx context.Context, o *options, rec *loginRecord, tok *oauth2.Token, common []option.Option) (string, string, error) {
		// CloudCompli's user endpoint answers for the token's user.
		c, err := cloudcompliapi.NewClient(rec.Instance, cloudcompliapi.UserToken{
			App:   cloudcompliapi.AuthCodeApp{ClientID: rec.ClientID, ClientSecret: o.clientSecret, RedirectURL: rec.RedirectURL},
			Token: tok,
		}, common...)
		if err != nil {
			return "", "", err
		}
		u, err := c.GetUser(ctx)
		if err != nil {
			return "", "", err
		}
		id, _ := u["id"].(string)
		name := ""
		for _, k := range []string{"email", "name", "username"} {
			if v, _ := u[k].(string); v != "" {
				name = v
				break
			}
		}
		if name == "" {
			name = "user " + id
		}
		return name, id, nil
	},
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
