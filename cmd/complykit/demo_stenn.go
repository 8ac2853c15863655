package main

import (
	"context"
	"fmt"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

func init() {
	demoProviders = append(demoProviders, demoProvider{order: 2, name: "Stenn (client credentials, form body)", setup: stennDemo})
}

func stennDemo(ctx context.Context) ([]demoStep, func() int, func(), error) {
	clock := stenntest.NewClock(time.Now())
	srv, err := stenntest.Start(stenntest.WithClock(clock), stenntest.WithTokenLifetime(time.Hour))
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL),
		option.WithCacheOptions(auth.CacheOptions{Now: clock.Now}))
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	list := func(ctx context.Context) ([]stennapi.Company, error) { return c.ListCompanies(ctx) }
	steps := []demoStep{
		{"stenn", "token + typed call (ListCompanies)", func(ctx context.Context) (string, error) {
			got, err := list(ctx)
			if err != nil {
				return "", err
			}
			var ns []string
			for _, co := range got {
				ns = append(ns, *co.Name)
			}
			return fmt.Sprintf("%d companies: %s", len(got), names(ns)), expect(srv.TokenRequests() == 1, "want 1 token request, saw %d", srv.TokenRequests())
		}},
		{"stenn", "refresh ahead, no caller waits", func(ctx context.Context) (string, error) {
			before, _ := c.Token(ctx)
			clock.Advance(50 * time.Minute) // past 75% of the hour
			srv.Script(stenntest.TokenCalls, 1, stenntest.Slow(300*time.Millisecond))
			t0 := time.Now()
			if _, err := list(ctx); err != nil {
				return "", err
			}
			callTook := time.Since(t0)
			if !waitUntil(ctx, func() bool { return srv.TokenRequests() == 2 && c.TokenFetches() == 2 }) {
				return "", fmt.Errorf("no background refresh")
			}
			after, _ := c.Token(ctx)
			return "call served in " + short(callTook) + " while the token endpoint took 300ms in the background",
				expect(after.AccessToken != before.AccessToken && callTook < 300*time.Millisecond, "the call waited on the refresh")
		}},
		{"stenn", "401 recovered (token revoked)", func(ctx context.Context) (string, error) {
			before := srv.TokenRequests()
			srv.Issuer.RevokeAccessTokens()
			if _, err := list(ctx); err != nil {
				return "", err
			}
			return "401, one new token, request replayed", expect(srv.TokenRequests() == before+1, "want 1 new token, saw %d", srv.TokenRequests()-before)
		}},
		{"stenn", "429 retried (Retry-After: 1)", func(ctx context.Context) (string, error) {
			before := srv.APIRequests()
			srv.Script(stenntest.APICalls, 1, stenntest.TooManyRequests("1"))
			if _, err := list(ctx); err != nil {
				return "", err
			}
			return "429, waited 1s as asked, then 200", expect(srv.APIRequests() == before+2, "want 2 API requests, saw %d", srv.APIRequests()-before)
		}},
		{"stenn", "webhook event parsed", func(ctx context.Context) (string, error) {
			ev, err := stennapi.ParseEvent([]byte(`{"id":"evt_1","object":"event","type":"invoice.financed","livemode":false,"data":{"object":{"id":"inv_42","object":"invoice","status":"financed"}}}`))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s for %s", ev.Type, ev.Data.Object.Id), nil
		}},
	}
	return steps, srv.TokenRequests, srv.Close, nil
}
