package firstamlapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

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
		InitialState:   firstamlapi.Ptr(firstamlapi.InitialCaseStateSubmitToFirstAml),
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
		InitialState:   firstamlapi.Ptr(firstamlapi.InitialCaseStateSubmitToFirstAml),
		Individuals: []firstamlapi.IndividualDetailsInput{{
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

// Create a case with the AML profile and the verification type, as First
// AML documents createCase: the user to assign and the verification type
// come from Organizations.
func ExampleClient_CreateCase() {
	srv, _ := firstamltest.Start()
	defer srv.Close()
	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))
	ctx := context.Background()

	orgs, err := client.Organizations(ctx)
	if err != nil {
		log.Fatal(err)
	}
	org, office := orgs[0], orgs[0].Offices[1]
	res, err := client.CreateCase(ctx, firstamlapi.CreateCaseInput{
		OrganizationId:             org.OrganizationId,
		OfficeId:                   firstamlapi.Ptr(office.Key),
		Reference:                  firstamlapi.Ptr("ONB-2044"),
		InitialState:               firstamlapi.InitialCaseStateSubmitToFirstAml,
		RunVerificationChecks:      firstamlapi.RunVerificationChecksRunAll,
		IndividualVerificationType: &firstamlapi.VerificationTypeInput{VerificationTypeId: office.DefaultIndividualVerificationType.VerificationTypeId},
		AssignedUsers:              []string{office.Users[0].Id},
		Lead:                       &firstamlapi.ContactDetailsInput{FullName: office.Users[0].Name, EmailAddress: office.Users[0].EmailAddress},
		Individuals: []firstamlapi.IndividualDetailsInput{{
			LegalName:     &firstamlapi.NameInput{FirstName: "Mere", LastName: "Tane"},
			EmailAddress:  firstamlapi.Ptr("mere@example.com"),
			IsCaseContact: firstamlapi.Ptr(true),
		}},
		CddLevel:         firstamlapi.Ptr(firstamlapi.CddLevelStandard),
		TransactionValue: json.Number("1250000.00"), // sent as a JSON number, digit for digit
		CapturedActivity: firstamlapi.Ptr("Residential sale"),
		Purpose:          firstamlapi.Ptr("Downsizing"),
	})
	if err != nil {
		log.Fatal(err)
	}
	switch r := res.(type) {
	case *firstamlapi.CreateCaseResultCaseInformation:
		fmt.Printf("case %s is %s, assigned to %s\n", r.CaseId, r.CaseStatus, *office.Users[0].Name)
	case *firstamlapi.CreateCaseResultValidationErrors:
		for _, e := range r.Errors {
			fmt.Printf("fix %s: %s\n", firstamlapi.FormatFieldPath(e.FieldPath), e.Message)
		}
	}
	// Output: case 100502 is IN_PROGRESS, assigned to Priya Raman
}

// Subscribe to webhook events (the client needs the api-management scope)
// and verify deliveries with the key the subscription comes with.
func ExampleClient_CreateWebhookSubscription() {
	srv, _ := firstamltest.Start(firstamltest.WithScopes("api-management"))
	defer srv.Close()
	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))

	res, err := client.CreateWebhookSubscription(context.Background(), firstamlapi.CreateWebhookSubscriptionInput{
		Url:        "https://hooks.example.com/firstaml",
		EventTypes: []string{string(firstamlapi.EventCaseCreated), string(firstamlapi.EventCaseStatusUpdated)},
		Targets:    []firstamlapi.WebhookTargetInput{{OrganizationId: firstamltest.SampleOrganizationID}},
	})
	if err != nil {
		log.Fatal(err)
	}
	sub, ok := res.(*firstamlapi.CreateWebhookSubscriptionResultWebhookSubscription)
	if !ok {
		log.Fatalf("refused: %#v", res)
	}
	// Store sub.VerifierTokenKey.Reveal() as a secret; the handler needs it.
	handler, err := firstamlapi.WebhookHandler(sub.VerifierTokenKey.Reveal(), func(_ context.Context, ev firstamlapi.Event) error {
		fmt.Println("received", ev.EventType(), "for case", ev.EventCaseID())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subscribed", sub.WebhookSubscriptionId, "to", sub.EventTypes)

	// Here the fake signs a delivery with the subscription's key.
	key := srv.WebhookSubscriptions()[0].Key
	handler.ServeHTTP(httptest.NewRecorder(), key.NewRequest("/hooks/firstaml", firstamltest.CaseCreatedPayload("100502", "")))
	// Output:
	// subscribed whs-1 to [CaseCreated CaseStatusUpdated]
	// received CaseCreated for case 100502
}

// Download a case's documents: list them with CaseDocuments, then stream
// each file to where it belongs. First AML may redirect a download to
// storage on another host; the token is not sent there.
func ExampleClient_DownloadDocument() {
	srv, _ := firstamltest.Start()
	defer srv.Close()
	client, _ := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret,
		firstamlapi.WithTokenURL(srv.TokenURL()), firstamlapi.WithGraphQLURL(srv.GraphQLURL()))
	ctx := context.Background()

	res, err := client.CaseDocuments(ctx, firstamltest.SampleCaseID)
	if err != nil {
		log.Fatal(err)
	}
	cs, ok := res.(*firstamlapi.CaseDocumentsResultCaseInformation)
	if !ok {
		log.Fatalf("no such case: %#v", res)
	}
	for _, ind := range cs.Individuals {
		for _, doc := range ind.Documents {
			for _, f := range doc.Files {
				var out bytes.Buffer // an *os.File or an object store writer in real code
				n, err := client.DownloadDocument(ctx, *f.ContentsUrl, &out)
				if err != nil {
					log.Fatal(err)
				}
				fmt.Printf("%s: %s.%s, %t\n", *ind.PreferredName.FullName, *f.FileTitle, *f.FileExtension, n == int64(out.Len()) && n > 0)
			}
		}
	}
	// Output:
	// Aroha Ngata: Driver licence (front).png, true
	// Aroha Ngata: Driver licence (back).png, true
}

// Refuse replayed webhook deliveries. The guard remembers each delivery's
// signature for its TTL; give it a shared store (Redis) when several
// processes receive the webhook.
func ExampleWithReplayGuard() {
	key := firstamltest.NewWebhookKey() // First AML's verifier key, in real code
	guard, err := firstamlapi.NewReplayGuard(firstamlapi.ReplayGuardOptions{TTL: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	handler, err := firstamlapi.WebhookHandler(key.Base64(), func(_ context.Context, ev firstamlapi.Event) error {
		return nil
	}, firstamlapi.WithReplayGuard(guard))
	if err != nil {
		log.Fatal(err)
	}

	delivery := firstamltest.CaseCreatedPayload("100234", "")
	for _, attempt := range []string{"delivery", "replay"} {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, key.NewRequest("/hooks/firstaml", delivery))
		fmt.Println(attempt, w.Code)
	}
	// Output:
	// delivery 200
	// replay 409
}
