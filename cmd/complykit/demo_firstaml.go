package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/option"
)

func init() {
	demoProviders = append(demoProviders, demoProvider{order: 4, name: "First AML (JSON-body client credentials, GraphQL, signed webhooks)", setup: firstamlDemo})
}

func firstamlDemo(ctx context.Context) ([]demoStep, func() int, func(), error) {
	srv, err := firstamltest.Start()
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()), option.WithUserAgent("complykit-demo"))
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	steps := []demoStep{
		{"firstaml", "JSON-body token + Me", func(ctx context.Context) (string, error) {
			me, err := c.Me(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s, %d organization(s), scopes %v", me.FriendlyApiClientName, len(me.AccessibleOrganizations), me.Scopes),
				expect(srv.TokenRequests() == 1, "want 1 token request")
		}},
		{"firstaml", "validation error (union result)", func(ctx context.Context) (string, error) {
			res, err := c.CreateCaseForIndividuals(ctx, firstamlapi.CreateCaseForIndividualsInput{
				OrganizationId: firstamltest.SampleOrganizationID,
				InitialState:   firstamlapi.Ptr(firstamlapi.CaseInitialStateSubmitToFirstAml),
				Individuals:    []firstamlapi.IndividualInput{{LegalName: &firstamlapi.NameInput{FirstName: "Jo", LastName: "Smith"}, IsCaseContact: firstamlapi.Ptr(true)}},
			})
			if err != nil {
				return "", err
			}
			ve, ok := res.(*firstamlapi.CreateCaseResultValidationErrors)
			if !ok || len(ve.Errors) == 0 {
				return "", fmt.Errorf("want ValidationErrors, got %T", res)
			}
			var paths []string
			for _, e := range ve.Errors {
				if len(e.FieldPath) > 0 {
					paths = append(paths, firstamlapi.FormatFieldPath(e.FieldPath))
				}
			}
			return fmt.Sprintf("%d errors at %s", len(ve.Errors), names(paths)), nil
		}},
		{"firstaml", "case created, then read back", func(ctx context.Context) (string, error) {
			res, err := c.CreateLiteCase(ctx, firstamlapi.CreateLiteCaseInput{
				OrganizationId: firstamltest.SampleNoOfficeOrganizationID,
				InitialState:   firstamlapi.Ptr(firstamlapi.CaseInitialStateSubmitToFirstAml),
				Individual: firstamlapi.LiteCaseIndividualInput{
					PreferredName: firstamlapi.NameInput{FirstName: "Ana", LastName: "Silva"},
					EmailAddress:  firstamlapi.Ptr("ana@example.com"),
				},
			})
			if err != nil {
				return "", err
			}
			ci, ok := res.(*firstamlapi.CreateCaseResultCaseInformation)
			if !ok {
				return "", fmt.Errorf("want CaseInformation, got %T", res)
			}
			got, err := c.CaseDetails(ctx, ci.CaseId)
			if err != nil {
				return "", err
			}
			if _, ok := got.(*firstamlapi.CaseDetailsResultCaseInformation); !ok {
				return "", fmt.Errorf("case %s not found after creation", ci.CaseId)
			}
			return "case " + ci.CaseId + " " + ci.CaseStatus, nil
		}},
		{"firstaml", "mutation not retried after a 503", func(ctx context.Context) (string, error) {
			before := srv.APIRequests()
			srv.Script(firstamltest.APICalls, 1, firstamltest.Status(503))
			_, err := c.CreateLiteCase(ctx, firstamlapi.CreateLiteCaseInput{OrganizationId: firstamltest.SampleNoOfficeOrganizationID,
				Individual: firstamlapi.LiteCaseIndividualInput{PreferredName: firstamlapi.NameInput{FirstName: "A", LastName: "B"}, EmailAddress: firstamlapi.Ptr("a@b.example")}})
			return "503 reached the caller after 1 request (it may have run)", expect(err != nil && srv.APIRequests() == before+1, "want one request and an error, got %v after %d", err, srv.APIRequests()-before)
		}},
		{"firstaml", "webhook verified (x-faml-signature)", func(ctx context.Context) (string, error) {
			key := firstamltest.NewWebhookKey()
			var got firstamlapi.Event
			h, err := firstamlapi.WebhookHandler(key.Base64(), func(_ context.Context, ev firstamlapi.Event) error { got = ev; return nil })
			if err != nil {
				return "", err
			}
			payload := firstamltest.CaseStatusUpdatedPayload(firstamltest.SampleCaseID, firstamltest.SampleOfficeKey)
			good := httptest.NewRecorder()
			h.ServeHTTP(good, key.NewRequest("/hooks/firstaml", payload))
			tampered := key.NewRequest("/hooks/firstaml", bytes.Replace(payload, []byte(firstamltest.SampleCaseID), []byte("999999"), 1))
			tampered.Header.Set(firstamlapi.SignatureHeader, key.Sign(payload))
			bad := httptest.NewRecorder()
			h.ServeHTTP(bad, tampered)
			if good.Code != http.StatusOK || bad.Code != http.StatusUnauthorized || got == nil {
				return "", fmt.Errorf("signed: %d, tampered: %d", good.Code, bad.Code)
			}
			return fmt.Sprintf("%s for case %s accepted; a tampered copy got 401", got.EventType(), got.EventCaseID()), nil
		}},
	}
	return steps, srv.TokenRequests, srv.Close, nil
}
