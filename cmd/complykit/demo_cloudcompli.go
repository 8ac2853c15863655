package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
)

func init() {
	demoProviders = append(demoProviders, demoProvider{order: 3, name: "CloudCompli (one host per customer: client credentials, authorization code, UI token)", setup: cloudcompliDemo})
}

// pngPixel is a 1x1 PNG, the photo the demo attaches.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func cloudcompliDemo(ctx context.Context) ([]demoStep, func() int, func(), error) {
	srv, err := cloudcomplitest.Start()
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	steps := []demoStep{
		{"cloudcompli", "token + typed calls (user, projects)", func(ctx context.Context) (string, error) {
			if _, err := c.GetUser(ctx); err != nil {
				return "", err
			}
			projects, err := c.ListProjects(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d projects, one-year token", len(projects)), expect(srv.TokenRequests() == 1, "want 1 token request")
		}},
		{"cloudcompli", "form entry + photo from bytes", func(ctx context.Context) (string, error) {
			entry, err := c.SubmitFormEntry(ctx, cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, cloudcompliapi.FormEntryData{"inspector": "Ivy", "passed": true})
			if err != nil {
				return "", err
			}
			if _, err := c.AttachPhoto(ctx, cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, entry.Id,
				cloudcompliapi.PhotoAttachment{Image: pngPixel, MIMEType: "image/png", Description: "site gate"}); err != nil {
				return "", err
			}
			return "entry " + entry.Id + " with a PNG attached", nil
		}},
		{"cloudcompli", "authorization code (PKCE, state)", func(ctx context.Context) (string, error) {
			app := cloudcompliapi.AuthCodeApp{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, RedirectURL: "https://app.example/callback"}
			flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, app)
			if err != nil {
				return "", err
			}
			authURL, state, verifier := flow.NewAuthCodeURL()
			// The fake's SignIn is the user's browser: it signs in on the
			// fake's sign-in page and returns the redirect back.
			callback, err := srv.SignIn(ctx, authURL)
			if err != nil {
				return "", err
			}
			code, err := flow.ReadCallback(callback, state)
			if err != nil {
				return "", err
			}
			tok, err := flow.Exchange(ctx, code, verifier)
			if err != nil {
				return "", err
			}
			uc, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app, Token: tok})
			if err != nil {
				return "", err
			}
			user, err := uc.GetUser(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("signed in on the sign-in page as %v (no secret on the authorize URL; state checked; S256 verifier)", user["email"]), nil
		}},
		{"cloudcompli", "UI token, then revoked: typed 401", func(ctx context.Context) (string, error) {
			ui, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: srv.StaticToken})
			if err != nil {
				return "", err
			}
			if _, err := ui.GetCompany(ctx); err != nil {
				return "", err
			}
			srv.RevokeAllTokens()
			_, err = ui.GetCompany(ctx)
			var ce *cloudcompliapi.Error
			if !errors.As(err, &ce) || ce.StatusCode != 401 {
				return "", fmt.Errorf("want a 401 *cloudcompliapi.Error, got %v", err)
			}
			return "*cloudcompliapi.Error 401 " + ce.Code + ", no retry loop", nil
		}},
	}
	return steps, srv.TokenRequests, srv.Close, nil
}
