package stemsapi_test

import (
	"testing"

	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
)

const (
	symSecret   = `s3cr3t/Key+With=Sym&bols<>"\ x`
	symPassword = `P4ss w0rd+/=&<>"\`
)

// Every exported type of the package that holds a secret shows none under
// any fmt verb, in JSON or in slog; a new type without a sample here fails.
func TestNoExportedTypeShowsASecret(t *testing.T) {
	srv := stemstest.NewServer(t)
	creds := stemsapi.Password("client-id", symSecret, "john@example.com", symPassword)
	c, err := stemsapi.NewClient(srv.URL, creds, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	authtest.CheckPackage(t, ".", []authtest.Sample{
		{Value: creds, Secrets: []string{symSecret, symPassword}},
		{Value: c, Secrets: []string{symSecret, symPassword}},
		{Value: &stemsapi.Error{Op: "list hazards", StatusCode: 400, Code: "invalid_request"}},
	}, nil)
	for _, v := range []any{stemsapi.AuthorizedUser(nil, nil), stemsapi.TokenSource(nil)} {
		authtest.CheckValue(t, v, authtest.AllForms(symSecret))
	}
}
