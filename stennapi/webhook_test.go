package stennapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/stennapi"
)

const invoiceEvent = `{"id":"evt_1NXNIZ2eZvKYlo2Cw5tRU4gY","object":"event","type":"invoice.approved","livemode":false,
"created":"2020-08-12T02:12:33.231Z","data":{"object":{"id":"inv_ZYfeeV3qxdmYoG","object":"invoice",
"supplier":"company_ZYfeeV3qxdmYoG","buyer":"company_BuyerQ7xk2Lm9","client_reference_id":"PO-1001","status":"approved"}}}`

func TestParseEvent(t *testing.T) {
	ev, err := stennapi.ParseEvent([]byte(invoiceEvent))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != stennapi.EventInvoiceApproved || !stennapi.KnownEventType(ev.Type) {
		t.Errorf("type = %q", ev.Type)
	}
	inv := ev.Data.Object
	if inv.Id != "inv_ZYfeeV3qxdmYoG" || *inv.ClientReferenceId != "PO-1001" || *inv.Status != "approved" {
		t.Errorf("invoice = %+v", inv)
	}
	unknown, err := stennapi.ParseEvent([]byte(strings.Replace(invoiceEvent, "invoice.approved", "buyer_limit.approved", 1)))
	if err != nil || stennapi.KnownEventType(unknown.Type) {
		t.Errorf("an unknown type must parse and be reported as unknown: %v", err)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"object":"invoice","id":"x","type":"invoice.new"}`, `{"object":"event","type":"invoice.new"}`, `{"object":"event","id":"evt_1"}`} {
		if _, err := stennapi.ParseEvent([]byte(bad)); !errors.Is(err, stennapi.ErrInvalidEvent) {
			t.Errorf("ParseEvent(%q) = %v; want ErrInvalidEvent", bad, err)
		}
	}
}

func TestWebhookHandler(t *testing.T) {
	var got *stennapi.Event
	h := stennapi.WebhookHandler(func(_ context.Context, ev *stennapi.Event) error { got = ev; return nil })
	for _, tc := range []struct {
		method, body string
		want         int
	}{
		{"POST", invoiceEvent, 200},
		{"POST", `{"object":"nope"}`, 400},
		{"GET", "", 405},
		{"POST", `{"id":"` + strings.Repeat("x", stennapi.MaxEventBytes) + `"}`, 413},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, "/hooks/stenn", strings.NewReader(tc.body)))
		if w.Code != tc.want {
			t.Errorf("%s %.30q: status %d; want %d", tc.method, tc.body, w.Code, tc.want)
		}
	}
	if got == nil || got.Id != "evt_1NXNIZ2eZvKYlo2Cw5tRU4gY" {
		t.Errorf("callback got %+v", got)
	}
	failing := stennapi.WebhookHandler(func(context.Context, *stennapi.Event) error { return errors.New("db down") })
	w := httptest.NewRecorder()
	failing.ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(invoiceEvent)))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("failing callback: status %d; want 500 so Stenn retries", w.Code)
	}
}
