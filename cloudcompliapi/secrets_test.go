package cloudcompliapi_test

import (
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"golang.org/x/oauth2"
)

const (
	symSecret = `s3cr3t/Key+With=Sym&bols<>"\ x`
	symToken  = `ui-token+/=&<>"\ long-enough`
	symAccess = `user-access+/=&<>"\ token`
)

// Every exported type of the package that holds a secret shows none under
// any fmt verb, in JSON or in slog; a new type without a sample here fails.
func TestNoExportedTypeShowsASecret(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	creds := cloudcompliapi.ClientCredentials{ClientID: "client-id", ClientSecret: symSecret}
	c, err := cloudcompliapi.NewClient(srv.URL, creds)
	if err != nil {
		t.Fatal(err)
	}
	app := cloudcompliapi.AuthCodeApp{ClientID: "app", ClientSecret: symSecret, RedirectURL: "https://app.example/cb"}
	authtest.CheckPackage(t, ".", []authtest.Sample{
		{Value: &creds, Secrets: []string{symSecret}},
		{Value: c, Secrets: []string{symSecret}},
		{Value: &cloudcompliapi.StaticToken{Token: symToken, Expiry: time.Now()}, Secrets: []string{symToken}},
		{Value: &app, Secrets: []string{symSecret}},
		{Value: &cloudcompliapi.UserToken{App: app, Token: &oauth2.Token{AccessToken: symAccess}}, Secrets: []string{symSecret, symAccess}},
		{Value: &cloudcompliapi.AuthCodeQuirks{SecretInAuthURL: true}},
		{Value: &cloudcompliapi.PhotoAttachment{Image: []byte{0xff}, MIMEType: "image/jpeg"}},
		{Value: &cloudcompliapi.Error{Op: "get user", StatusCode: 401, Code: "invalid_token"}},
	}, nil)
}
