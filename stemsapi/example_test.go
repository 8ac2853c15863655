package stemsapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
)

// List a company's approved hazards, signing in with the password grant.
// The fake stands in for both Stems Accounts and the Comply One API; in
// production, pass the API base URL Stems gave you and drop WithTokenURL.
func Example() {
	srv, err := stemstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, "john.smith@contoso.com", "P4ssw0rd"),
		stemsapi.WithTokenURL(srv.TokenURL()),
		stemsapi.WithCompany("234"))
	if err != nil {
		log.Fatal(err)
	}
	hazards, err := client.ListHazards(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hazards {
		fmt.Printf("%v %s (%s)\n", h["id"], h["title"], h["riskRating"])
	}
	// Output:
	// 1001 Wet floor in the loading bay (Medium)
	// 1002 Frayed extension lead (High)
}

// Act for another of the user's companies in one call.
func ExampleCompany() {
	srv, _ := stemstest.Start()
	defer srv.Close()
	client, _ := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
		stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany("234"))

	hazards, err := client.ListHazards(context.Background(), stemsapi.Company("235"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(hazards), hazards[0]["title"])
	// Output: 1 Uneven paving at the site entrance
}

// Sign a user in with the authorization code flow and PKCE, then call the
// API as that user. The fake's authorize endpoint signs its test user in
// without a page; a real user signs in to Stems Accounts in the browser.
func ExampleNewAuthCodeFlow() {
	srv, _ := stemstest.Start()
	defer srv.Close()
	ctx := context.Background()

	flow, err := stemsapi.NewAuthCodeFlow(srv.ClientID, srv.ClientSecret, "https://app.example/stems/callback",
		stemsapi.WithAuthURL(srv.AuthorizeURL()), stemsapi.WithTokenURL(srv.TokenURL()))
	if err != nil {
		log.Fatal(err)
	}
	// 1. Send the user to authURL; keep state and verifier in their session.
	authURL, state, verifier := flow.NewAuthCodeURL()

	// 2. Stems signs the user in and posts the code to the redirect URL
	// (response_mode=form_post): your callback handler reads it, checking
	// the state. Here the fake's SignIn plays the browser.
	callback, err := srv.SignIn(ctx, authURL)
	if err != nil {
		log.Fatal(err)
	}
	code, err := flow.ReadCallback(callback, state)
	if err != nil {
		log.Fatal(err)
	}

	// 3. Exchange the code, and build a client from the token.
	tok, err := flow.Exchange(ctx, code, verifier)
	if err != nil {
		log.Fatal(err)
	}
	client, err := stemsapi.NewClient(srv.URL, stemsapi.AuthorizedUser(flow, tok), stemsapi.WithCompany("234"))
	if err != nil {
		log.Fatal(err)
	}
	lookup, err := client.GetEventLookup(ctx)
	if err != nil {
		log.Fatal(err)
	}
	idToken, _ := client.IDToken(ctx)
	fmt.Println(len(*lookup.EventRecordForms), "event forms; id_token:", idToken != "")
	// Output: 4 event forms; id_token: true
}

// Errors from the API are *stemsapi.Error values carrying Stems' error
// fields; a call without a company fails before anything is sent.
func ExampleError() {
	srv, _ := stemstest.Start()
	defer srv.Close()
	client, _ := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
		stemsapi.WithTokenURL(srv.TokenURL()))
	ctx := context.Background()

	_, err := client.ListHazards(ctx)
	fmt.Println(errors.Is(err, stemsapi.ErrNoCompany), len(srv.Requests()))

	_, err = client.ListHazards(ctx, stemsapi.Company("999"))
	var se *stemsapi.Error
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, se.Code, se.Message)
	}
	// Output:
	// true 0
	// 403 forbidden The current user has no role in company "999"
}

// Submit an event that requires approval, with the v1.4 eventDetails.
func ExampleClient_CreateEventRequiringApproval() {
	srv, _ := stemstest.Start()
	defer srv.Close()
	client, _ := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
		stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany("234"))

	var form stemsapi.EventFormId
	_ = form.FromNumericId(4) // near miss, from GetEventLookup
	subheading, info := "Reversing truck nearly hit a pedestrian", "Gate 2, 07:40"
	ev, err := client.CreateEventRequiringApproval(context.Background(), &stemsapi.EventRecord{
		EventDetails: &stemsapi.EventDetails{EventFormId: &form, Subheading: &subheading, AdditionalInformation: &info},
	})
	if err != nil {
		log.Fatal(err)
	}
	status, _ := ev.Get("status")
	fmt.Println(*ev.EventDetails.Subheading, "-", status)
	// Output: Reversing truck nearly hit a pedestrian - awaiting_approval
}

// Call an operation through the generated client itself: API() sends
// through the same Doer and editors as the typed methods, X-Company-Context
// of WithCompany included; auth.CompanyContext as a request editor acts for
// another company in one call.
func ExampleClient_API() {
	srv, _ := stemstest.Start()
	defer srv.Close()
	client, _ := stemsapi.NewClient(srv.URL,
		stemsapi.Password(srv.ClientID, srv.ClientSecret, stemstest.DefaultUsername, stemstest.DefaultPassword),
		stemsapi.WithTokenURL(srv.TokenURL()), stemsapi.WithCompany("234"))

	ctx := context.Background()
	own, err := client.API().ListHazardsWithResponse(ctx)
	if err != nil {
		log.Fatal(err)
	}
	other, err := client.API().ListHazardsWithResponse(ctx, auth.CompanyContext("235"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(own.StatusCode(), len(*own.JSON200), "hazards;", other.StatusCode(), len(*other.JSON200), "for 235")
	// Output: 200 2 hazards; 200 1 for 235
}
