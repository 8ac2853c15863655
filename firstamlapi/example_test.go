package firstamlapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/gen/firstamlgql"
	"github.com/complykit/complykit-go/option"
)

// Check the credentials and create a case. The fake stands in for First
// AML's sandbox; against the real sandbox, drop the two URL options.
func Example() {
	srv, err := firstamltest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()),
		option.WithUserAgent("acme-onboarding/2.1"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	me, err := client.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	org := me.AccessibleOrganizations[0]
	fmt.Printf("%s can act for %s (%d offices)\n", me.ApiClientId, org.Name, len(org.Offices))

	res, err := client.CreateLiteCase(ctx, firstamlapi.CreateLiteCaseInput{
		OrganizationId: org.OrganizationId,
		OfficeId:       firstamlapi.Ptr(org.Offices[1].Key),
		Reference:      firstamlapi.Ptr("ONB-1042"),
		InitialState:   firstamlapi.Ptr(firstamlapi.CaseInitialStateSubmitToFirstAml),
		Individual: firstamlapi.LiteCaseIndividualInput{
			PreferredName: firstamlapi.NameInput{FirstName: "Ana", LastName: "Silva"},
			EmailAddress:  firstamlapi.Ptr("ana@example.com"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	switch r := res.(type) {
	case *firstamlapi.CreateCaseResultCaseInformation:
		fmt.Printf("case %s is %s\n", r.CaseId, r.CaseStatus)
	case *firstamlapi.CreateCaseResultValidationErrors:
		for _, e := range r.Errors {
			fmt.Printf("fix %s: %s\n", firstamlapi.FormatFieldPath(e.FieldPath), e.Message)
		}
	}
	// Output:
	// firstaml-test-client@clients can act for Your org inc. (2 offices)
	// case 100502 is IN_PROGRESS
}

// Validation failures are results to switch on, with a field path each.
func ExampleClient_CreateCaseForIndividuals() {
	srv, _ := firstamltest.Start()
	defer srv.Close()
	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))

	res, err := client.CreateCaseForIndividuals(context.Background(), firstamlapi.CreateCaseForIndividualsInput{
		OrganizationId: firstamltest.SampleOrganizationID, // has offices, but no OfficeId given
		InitialState:   firstamlapi.Ptr(firstamlapi.CaseInitialStateSubmitToFirstAml),
		Individuals: []firstamlapi.IndividualInput{{
			LegalName:     &firstamlapi.NameInput{FirstName: "Jo", LastName: "Smith"},
			IsCaseContact: firstamlapi.Ptr(true), // but no email or phone
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if ve, ok := res.(*firstamlapi.CreateCaseResultValidationErrors); ok {
		for _, e := range ve.Errors {
			fmt.Printf("%q: %s\n", e.FieldPath, e.Message)
		}
	}
	// Output:
	// ["officeId"]: officeId is required: the organization has offices.
	// ["individuals" "0" "emailAddress"]: A case contact needs an email address or a phone number.
}

// Failed calls are *firstamlapi.Error values carrying the HTTP status and
// First AML's GraphQL errors.
func ExampleError() {
	srv, _ := firstamltest.Start(firstamltest.WithScopes("read-only"))
	defer srv.Close()
	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))

	_, err := client.CreateLiteCase(context.Background(), firstamlapi.CreateLiteCaseInput{
		OrganizationId: firstamltest.SampleNoOfficeOrganizationID,
		Individual: firstamlapi.LiteCaseIndividualInput{
			PreferredName: firstamlapi.NameInput{FirstName: "Ana", LastName: "Silva"},
			PhoneNumber:   firstamlapi.Ptr("+64 21 555 0100"),
		},
	})
	var fe *firstamlapi.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.StatusCode, fe.Errors[0].Path, fe.Errors[0].Code)
	}
	// Output: 200 createLiteCase FORBIDDEN
}

// Receive First AML's webhooks. The verifier key comes with the webhook's
// registration; here the fake makes one and signs a delivery with it.
func ExampleWebhookHandler() {
	key := firstamltest.NewWebhookKey()
	handler, err := firstamlapi.WebhookHandler(key.Base64(), func(ctx context.Context, ev firstamlapi.Event) error {
		switch ev := ev.(type) {
		case *firstamlapi.CaseStatusUpdated:
			fmt.Println("case", ev.CaseID, "changed status: fetch it with CaseDetails")
		default:
			fmt.Println("ignored", ev.EventType())
		}
		return nil // 200: First AML stops delivering it
	})
	if err != nil {
		log.Fatal(err)
	}

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, key.NewRequest("/hooks/firstaml", firstamltest.CaseStatusUpdatedPayload("100234", "")))
	fmt.Println(w.Code == http.StatusOK)
	// Output:
	// case 100234 changed status: fetch it with CaseDetails
	// true
}

// Run a GraphQL operation through genqlient with the client's transport:
// GraphQLClient sends through the same Doer, User-Agent and Accept as the
// typed methods and reports failures as *firstamlapi.Error. Here it runs
// the generated Me query of gen/firstamlgql; your own genqlient operations
// work the same way.
func ExampleClient_GraphQLClient() {
	srv, _ := firstamltest.Start()
	defer srv.Close()
	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))

	resp, err := firstamlgql.Me(auth.WithIdempotent(context.Background()), client.GraphQLClient())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Me.ApiClientId)
	// Output: firstaml-test-client@clients
}
