package firstamlapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
)

func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    firstamlapi.Event
	}{
		{"CaseCreated, caseId a number", `{"eventType":"CaseCreated","caseId":100234,"officeKey":"abc456789-3476-4cf6-8491-bdd1272cf015"}`,
			&firstamlapi.CaseCreated{CaseID: "100234", OfficeKey: "abc456789-3476-4cf6-8491-bdd1272cf015"}},
		{"CaseCreated, caseId a string, no office", `{"eventType":"CaseCreated","caseId":"100234","officeKey":null}`,
			&firstamlapi.CaseCreated{CaseID: "100234"}},
		{"CaseStatusUpdated", `{"eventType":"CaseStatusUpdated","caseId":7,"officeKey":"k"}`,
			&firstamlapi.CaseStatusUpdated{CaseID: "7", OfficeKey: "k"}},
		{"PdfUpdated", `{"eventType":"PdfUpdated","caseId":42,"pdfId":"pdf-1","pdfUrl":"https://api.firstaml.com/pdf/document","status":"Completed"}`,
			&firstamlapi.PdfUpdated{CaseID: "42", PdfID: "pdf-1", PdfURL: "https://api.firstaml.com/pdf/document", Status: firstamlapi.PdfCompleted}},
		{"VerificationReportGenerated, individual", `{"eventType":"VerificationReportGenerated","caseId":"42","individualId":"ind-1","entityId":null}`,
			&firstamlapi.VerificationReportGenerated{CaseID: "42", IndividualID: "ind-1"}},
		{"VerificationReportGenerated, entity, caseId a number", `{"eventType":"VerificationReportGenerated","caseId":42,"individualId":null,"entityId":"ent-1"}`,
			&firstamlapi.VerificationReportGenerated{CaseID: "42", EntityID: "ent-1"}},
		{"UnwrapStatusUpdated, shaped like a status update", `{"eventType":"UnwrapStatusUpdated","caseId":42,"officeKey":"k"}`,
			&firstamlapi.UnwrapStatusUpdated{CaseID: "42", OfficeKey: "k", Payload: []byte(`{"eventType":"UnwrapStatusUpdated","caseId":42,"officeKey":"k"}`)}},
		{"unknown type", `{"eventType":"CaseDeleted","caseId":42}`,
			&firstamlapi.UnknownEvent{Type: "CaseDeleted", CaseID: "42", Payload: []byte(`{"eventType":"CaseDeleted","caseId":42}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := firstamlapi.ParseEvent([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v; want %#v", got, tc.want)
			}
			if got.EventCaseID() != "42" && got.EventCaseID() != "100234" && got.EventCaseID() != "7" {
				t.Errorf("EventCaseID = %q", got.EventCaseID())
			}
		})
	}
	// UnwrapStatusUpdated's payload is not public: one without a caseId is
	// still an event, with its payload kept.
	if ev, err := firstamlapi.ParseEvent([]byte(`{"eventType":"UnwrapStatusUpdated","unwrapId":"u-9","status":"Completed"}`)); err != nil {
		t.Errorf("UnwrapStatusUpdated without caseId: %v", err)
	} else if u, ok := ev.(*firstamlapi.UnwrapStatusUpdated); !ok || u.CaseID != "" || !strings.Contains(string(u.Payload), `"unwrapId":"u-9"`) {
		t.Errorf("UnwrapStatusUpdated without caseId = %#v", ev)
	}
	for _, bad := range []string{
		``, `{`, `[]`, `"CaseCreated"`,
		`{"caseId":1}`,
		`{"eventType":"CaseCreated"}`,
		`{"eventType":"CaseCreated","caseId":1.5}`,
		`{"eventType":"CaseCreated","caseId":{"id":1}}`,
		`{"eventType":"VerificationReportGenerated","caseId":"1","individualId":null,"entityId":null}`,
		`{"eventType":"VerificationReportGenerated","caseId":"1","individualId":"a","entityId":"b"}`,
	} {
		if ev, err := firstamlapi.ParseEvent([]byte(bad)); !errors.Is(err, firstamlapi.ErrInvalidEvent) {
			t.Errorf("ParseEvent(%q) = %#v, %v; want ErrInvalidEvent", bad, ev, err)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	payload := firstamltest.CaseCreatedPayload("100234", "")
	if err := firstamlapi.VerifySignature(payload, key.Sign(payload), key.Base64()); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	other := firstamltest.NewWebhookKey()
	for name, tc := range map[string]struct{ payload, sig, key string }{
		"other key":            {string(payload), key.Sign(payload), other.Base64()},
		"changed payload":      {strings.Replace(string(payload), "100234", "100235", 1), key.Sign(payload), key.Base64()},
		"re-encoded JSON":      {strings.ReplaceAll(string(payload), ":", ": "), key.Sign(payload), key.Base64()},
		"missing signature":    {string(payload), "", key.Base64()},
		"not base64":           {string(payload), "!!!", key.Base64()},
		"raw key, not decoded": {string(payload), signWithRawKeyText(payload, key.Base64()), key.Base64()},
	} {
		if err := firstamlapi.VerifySignature([]byte(tc.payload), tc.sig, tc.key); !errors.Is(err, firstamlapi.ErrInvalidSignature) {
			t.Errorf("%s: err = %v; want ErrInvalidSignature", name, err)
		}
	}
	if err := firstamlapi.VerifySignature(payload, key.Sign(payload), "not base64!"); !errors.Is(err, firstamlapi.ErrInvalidVerifierKey) {
		t.Errorf("bad key: err = %v", err)
	}
}

// signWithRawKeyText signs with the key's base64 text as the HMAC key: the
// mistake of forgetting to decode it.
func signWithRawKeyText(payload []byte, b64 string) string {
	return firstamltest.WebhookKey(b64).Sign(payload)
}

func TestWebhookHandler(t *testing.T) {
	key := firstamltest.NewWebhookKey()
	var got []firstamlapi.Event
	h, err := firstamlapi.WebhookHandler(key.Base64(), func(_ context.Context, ev firstamlapi.Event) error {
		got = append(got, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(r *http.Request) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	good := firstamltest.CaseCreatedPayload("100234", firstamltest.SampleOfficeKey) // caseId as a number
	if code := serve(key.NewRequest("/hooks/firstaml", good)); code != http.StatusOK {
		t.Errorf("good signature: status %d; want 200", code)
	}
	vrg := firstamltest.VerificationReportGeneratedPayload("100234", "ind-7f3a", "") // caseId as a string
	if code := serve(key.NewRequest("/hooks/firstaml", vrg)); code != http.StatusOK {
		t.Errorf("VerificationReportGenerated: status %d; want 200", code)
	}
	if len(got) != 2 {
		t.Fatalf("callback got %d events; want 2", len(got))
	}
	if cc, ok := got[0].(*firstamlapi.CaseCreated); !ok || cc.CaseID != "100234" || cc.OfficeKey != firstamltest.SampleOfficeKey {
		t.Errorf("first event = %#v", got[0])
	}
	if v, ok := got[1].(*firstamlapi.VerificationReportGenerated); !ok || v.CaseID != "100234" || v.IndividualID != "ind-7f3a" || v.EntityID != "" {
		t.Errorf("second event = %#v", got[1])
	}

	bad := key.NewRequest("/", good)
	bad.Header.Set("x-faml-signature", firstamltest.NewWebhookKey().Sign(good))
	missing := key.NewRequest("/", good)
	missing.Header.Del("x-faml-signature")
	huge := []byte(`{"eventType":"CaseCreated","caseId":1,"pad":"` + strings.Repeat("x", firstamlapi.MaxEventBytes) + `"}`)
	get := key.NewRequest("/", good)
	get.Method = http.MethodGet
	for name, tc := range map[string]struct {
		req  *http.Request
		want int
	}{
		"bad signature":          {bad, http.StatusUnauthorized},
		"missing signature":      {missing, http.StatusUnauthorized},
		"oversized body":         {key.NewRequest("/", huge), http.StatusRequestEntityTooLarge},
		"signed, not an event":   {key.NewRequest("/", []byte(`{"hello":"world"}`)), http.StatusBadRequest},
		"signed, two report ids": {key.NewRequest("/", firstamltest.VerificationReportGeneratedPayload("1", "ind", "ent")), http.StatusBadRequest},
		"GET":                    {get, http.StatusMethodNotAllowed},
	} {
		if code := serve(tc.req); code != tc.want {
			t.Errorf("%s: status %d; want %d", name, code, tc.want)
		}
	}
	if len(got) != 2 {
		t.Errorf("the callback saw %d events; refused deliveries must not reach it", len(got))
	}

	failing, _ := firstamlapi.WebhookHandler(key.Base64(), func(context.Context, firstamlapi.Event) error { return errors.New("db down") })
	w := httptest.NewRecorder()
	failing.ServeHTTP(w, key.NewRequest("/", good))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("failing callback: status %d; want 500 so First AML delivers again", w.Code)
	}

	if _, err := firstamlapi.WebhookHandler("", func(context.Context, firstamlapi.Event) error { return nil }); !errors.Is(err, firstamlapi.ErrInvalidVerifierKey) {
		t.Errorf("empty key: err = %v", err)
	}
	if _, err := firstamlapi.WebhookHandler(key.Base64(), nil); err == nil {
		t.Error("nil callback accepted")
	}
}
