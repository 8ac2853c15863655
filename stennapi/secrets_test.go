package stennapi_test

import (
	"testing"

	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

const symSecret = `s3cr3t/Key+With=Sym&bols<>"\ x`

// Every exported type of the package that holds a secret shows none under
// any fmt verb, in JSON or in slog; a new type without a sample here fails.
func TestNoExportedTypeShowsASecret(t *testing.T) {
	srv := stenntest.NewServer(t)
	c, err := stennapi.NewClient("client-id", symSecret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	authtest.CheckPackage(t, ".", []authtest.Sample{
		{Value: c, Secrets: []string{symSecret}},
		{Value: &stennapi.Error{Op: "list companies", StatusCode: 402, Message: "payment required"}},
	}, map[string]string{
		"Error.ExceptionKey": "Stenn's internal error reference for its support team, not a credential",
	})
}
