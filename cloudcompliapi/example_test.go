package cloudcompliapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
)

// List the projects of an instance and the forms they can submit, with
// client credentials. The fake stands in for https://example.compli.cloud.
func Example() {
	srv, err := cloudcomplitest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	projects, err := client.ListProjects(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range projects {
		name, _ := p.Get("name")
		cls, err := client.GetClassification(ctx, p.ClassificationId)
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range cls.Forms {
			fmt.Printf("%s: %s\n", name, f.Name)
		}
	}
	// Output:
	// Harbor Street Construction Site: construction-inspection
	// Harbor Street Construction Site: bmp-maintenance
	// Riverside Industrial Facility: industrial-inspection
}

// Submit a form entry and attach a photo to it.
func ExampleClient_AttachPhoto() {
	srv, _ := cloudcomplitest.Start()
	defer srv.Close()
	client, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})
	ctx := context.Background()

	entry, err := client.SubmitFormEntry(ctx, cloudcomplitest.SampleProjectID, "construction-inspection",
		cloudcompliapi.FormEntryData{"inspector": "Ivy Inspector", "rain_event": false})
	if err != nil {
		log.Fatal(err)
	}
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0} // your photo's bytes
	photo, err := client.AttachPhoto(ctx, cloudcomplitest.SampleProjectID, "construction-inspection", entry.Id,
		cloudcompliapi.PhotoAttachment{Image: jpeg, MIMEType: "image/jpeg", Description: "north outfall"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(entry.Id, len(photo.Data))
	// Output: 64b7f0c2a1e4d30000000001 4
}

// A token generated in CloudCompli's web UI (Settings > App Settings > API
// Clients > Manage > Generate a Token).
func ExampleStaticToken() {
	srv, _ := cloudcomplitest.Start()
	defer srv.Close()

	client, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: srv.StaticToken})
	if err != nil {
		log.Fatal(err)
	}
	company, err := client.GetCompany(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(company["name"])

	// Revoke All Tokens: the client cannot fetch another one.
	srv.RevokeAllTokens()
	_, err = client.GetCompany(context.Background())
	var ce *cloudcompliapi.Error
	if errors.As(err, &ce) && ce.TokenExpired() {
		fmt.Println(ce.StatusCode, ce.Code)
	}
	// Output:
	// Example Stormwater Co.
	// 401 invalid_token
}

// Sign a user in with the authorization code grant and act for them.
func ExampleNewAuthCodeFlow() {
	srv, _ := cloudcomplitest.Start()
	defer srv.Close()
	app := cloudcompliapi.AuthCodeApp{
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret, // sent in the exchange only, unless WithAuthCodeQuirks says otherwise
		RedirectURL:  "https://app.example/cloudcompli/callback",
	}
	flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, app)
	if err != nil {
		log.Fatal(err)
	}
	// Keep state and verifier in the user's session.
	authURL, state, verifier := flow.NewAuthCodeURL()

	// Your app redirects the user's browser to authURL; the user signs in
	// and CloudCompli sends the browser back to RedirectURL. Here the
	// fake's SignIn plays the browser and the user on the fake's sign-in
	// page, and returns the request your callback handler would receive.
	callback, err := srv.SignIn(context.Background(), authURL)
	if err != nil {
		log.Fatal(err)
	}

	// In your callback handler: flow.ReadCallback(r, state).
	code, err := flow.ReadCallback(callback, state)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := flow.Exchange(context.Background(), code, verifier)
	if err != nil {
		log.Fatal(err)
	}
	client, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app, Token: tok})
	if err != nil {
		log.Fatal(err)
	}
	user, err := client.GetUser(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user["email"])
	// Output: ivy.inspector@example.com
}

// Errors from the API are *cloudcompliapi.Error values carrying
// CloudCompli's error and error_description.
func ExampleError() {
	srv, _ := cloudcomplitest.Start()
	defer srv.Close()
	client, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})

	_, err := client.GetForm(context.Background(), "no-such-form")
	var ce *cloudcompliapi.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.StatusCode, ce.Code, ce.Description)
	}
	// Output: 404 not_found no form no-such-form
}

// Call an operation through the generated client itself: API() sends
// through the same Doer (token, origin check, 401 replay, retries) and
// request editors as the typed methods.
func ExampleClient_API() {
	srv, _ := cloudcomplitest.Start()
	defer srv.Close()
	client, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.ClientCredentials{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret})

	resp, err := client.API().GetFormWithResponse(context.Background(), cloudcomplitest.SampleFormName)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode(), (*resp.JSON200)["title"])
	// Output: 200 Construction Site Inspection
}
