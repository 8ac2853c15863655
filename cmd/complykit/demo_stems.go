package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
)

func init() {
	demoProviders = append(demoProviders, demoProvider{order: 1, name: "Stems Comply One (password grant, refresh-token rotation, X-Company-Context)", setup: stemsDemo})
}

func stemsDemo(ctx context.Context) ([]demoStep, func() int, func(), error) {
	clock := stemstest.NewClock(time.Now())
	srv, err := stemstest.Start(stemstest.WithClock(clock))
	if err != nil {
		return nil, nil, nil, err
	}
	creds := stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword)
	newClient := func(opts ...option.Option) (*stemsapi.Client, error) {
		opts = append([]option.Option{stemsapi.WithTokenURL(srv.TokenURL()), option.WithCacheOptions(auth.CacheOptions{Now: clock.Now})}, opts...)
		return stemsapi.NewClient(srv.URL, creds, opts...)
	}
	c, err := newClient(stemsapi.WithCompany(stemstest.DefaultCompany))
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	steps := []demoStep{
		{"stems", "password grant + typed call (ListHazards)", func(ctx context.Context) (string, error) {
			hz, err := c.ListHazards(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d hazards for company %s", len(hz), stemstest.DefaultCompany), expect(srv.TokenRequests() == 1, "want 1 token request")
		}},
		{"stems", "refresh-token rotation", func(ctx context.Context) (string, error) {
			tok, _ := c.Token(ctx)
			oldRefresh := tok.RefreshToken
			clock.Advance(29*time.Minute + 50*time.Second) // the 30-minute token is about to expire
			if _, err := c.ListHazards(ctx); err != nil {
				return "", err
			}
			tok, _ = c.Token(ctx)
			idt, _ := c.IDToken(ctx)
			return fmt.Sprintf("refresh_token grant: new refresh token, id_token of %d bytes, %d reused", len(idt), srv.ReusedRefreshTokens()),
				expect(tok.RefreshToken != oldRefresh && oldRefresh != "" && idt != "" && srv.ReusedRefreshTokens() == 0, "the refresh token did not rotate cleanly")
		}},
		{"stems", "per-call company (Company(\"235\"))", func(ctx context.Context) (string, error) {
			hz, err := c.ListHazards(ctx, stemsapi.Company("235"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d hazards for company 235", len(hz)), nil
		}},
		{"stems", "no company: refused before sending", func(ctx context.Context) (string, error) {
			bare, err := newClient()
			if err != nil {
				return "", err
			}
			before := len(srv.Requests())
			_, err = bare.ListHazards(ctx)
			return "ErrNoCompany, nothing sent", expect(errors.Is(err, stemsapi.ErrNoCompany) && len(srv.Requests()) == before, "got %v", err)
		}},
		{"stems", "foreign company: typed 403", func(ctx context.Context) (string, error) {
			_, err := c.ListHazards(ctx, stemsapi.Company("999"))
			var se *stemsapi.Error
			if !errors.As(err, &se) || se.StatusCode != 403 {
				return "", fmt.Errorf("want a 403 *stemsapi.Error, got %v", err)
			}
			return "*stemsapi.Error " + fmt.Sprint(se.StatusCode) + " " + se.Code, nil
		}},
	}
	return steps, srv.TokenRequests, srv.Close, nil
}
