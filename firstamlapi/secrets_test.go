package firstamlapi_test

import (
	"testing"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
)

const (
	symSecret = `s3cr3t/Key+With=Sym&bols<>"\ x`
	symKey    = `dmVyaWZpZXIta2V5K3dpdGgvc3ltYm9scz0=`
)

// Every exported type of the package that holds a secret shows none under
// any fmt verb, in JSON or in slog; a new type without a sample here fails.
// The webhook subscription's verifier key, a generated field, is bound to
// auth.SecretString for the same reason.
func TestNoExportedTypeShowsASecret(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c, err := firstamlapi.NewClient("client-id", symSecret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := firstamlapi.NewReplayGuard(firstamlapi.ReplayGuardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	authtest.CheckPackage(t, ".", []authtest.Sample{
		{Value: c, Secrets: []string{symSecret}},
		{Value: &firstamlapi.Error{Op: "Me", StatusCode: 401}},
		{Value: &firstamlapi.GraphQLError{Message: "denied"}},
		{Value: &firstamlapi.ReplayGuardOptions{}},
		{Value: guard},
		{Value: firstamlapi.NewMemoryReplayStore(10)},
		{Value: &firstamlapi.CaseCreated{}},
		{Value: &firstamlapi.CaseStatusUpdated{}},
		{Value: &firstamlapi.PdfUpdated{}},
		{Value: &firstamlapi.VerificationReportGenerated{}},
		{Value: &firstamlapi.UnwrapStatusUpdated{}},
		{Value: &firstamlapi.UnknownEvent{}},
	}, map[string]string{
		"ReplayGuardOptions.Store":      "where deliveries' HMACs are remembered: no secret",
		"ReplayGuard.store":             "as ReplayGuardOptions.Store",
		"MemoryReplayStore.queue.key":   "a delivery's HMAC, public in its x-faml-signature header",
		"CaseCreated.OfficeKey":         "First AML's office identifier (its 'key' field), not a credential",
		"CaseStatusUpdated.OfficeKey":   "First AML's office identifier, not a credential",
		"UnwrapStatusUpdated.OfficeKey": "First AML's office identifier, not a credential",
	})
	sub := &firstamlapi.CreateWebhookSubscriptionResultWebhookSubscription{VerifierTokenKey: auth.SecretString(symKey)}
	authtest.CheckValue(t, sub, authtest.AllForms(symKey))
	if sub.VerifierTokenKey.Reveal() != symKey {
		t.Error("Reveal does not return the key")
	}
}
