package stennapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// List the companies your credentials can see. The fake stands in for
// https://api.stenn.com; in production, drop WithBaseURL (or use
// WithSandbox for test mode).
func Example() {
	srv, err := stenntest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	companies, err := client.ListCompanies(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range companies {
		fmt.Printf("%s %s (%s), %d contact(s)\n", c.Id, *c.Name, *c.Address.CountryCode, len(c.Contacts.Data))
	}
	// Output:
	// company_ZYfeeV3qxdmYoG Acme Supplies Ltd (GB), 1 contact(s)
	// company_BuyerQ7xk2Lm9 Globex Trading Inc (US), 1 contact(s)
}

// Errors from the API are *stennapi.Error values carrying Stenn's message.
func ExampleError() {
	srv, _ := stenntest.Start()
	defer srv.Close()
	client, _ := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL))

	srv.Script(stenntest.APICalls, 1, stenntest.Status(http.StatusPaymentRequired))
	_, err := client.ListCompanies(context.Background())
	var se *stennapi.Error
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, se.Message, se.Temporary())
	}
	// Output: 402 stenntest: scripted 402 false
}

// Decode a webhook delivery.
func ExampleParseEvent() {
	payload := []byte(`{"id":"evt_1","object":"event","type":"invoice.financed","livemode":true,
		"data":{"object":{"id":"inv_9","object":"invoice","status":"financed"}}}`)
	ev, err := stennapi.ParseEvent(payload)
	if err != nil {
		log.Fatal(err)
	}
	switch ev.Type {
	case stennapi.EventInvoiceFinanced:
		fmt.Println("financed:", ev.Data.Object.Id)
	default:
		fmt.Println("ignored:", ev.Type)
	}
	// Output: financed: inv_9
}

// Serve Stenn's webhooks.
func ExampleWebhookHandler() {
	http.Handle("/hooks/stenn", stennapi.WebhookHandler(func(ctx context.Context, ev *stennapi.Event) error {
		log.Printf("stenn event %s: %s", ev.Id, ev.Type)
		return nil // 200: Stenn stops retrying
	}))
}

// Call an operation through the generated client itself: API() sends
// through the same Doer (token, origin check, 401 replay, retries) and
// request editors as the typed methods.
func ExampleClient_API() {
	srv, _ := stenntest.Start()
	defer srv.Close()
	client, _ := stennapi.NewClient(srv.ClientID, srv.ClientSecret, stennapi.WithBaseURL(srv.URL))

	resp, err := client.API().ListCompaniesWithResponse(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode(), len(resp.JSON200.Data), "companies")
	// Output: 200 2 companies
}
