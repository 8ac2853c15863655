package stennapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
)

// FuzzParseEvent: any payload gives an event or ErrInvalidEvent.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"invoice.new","livemode":false,"created":"2020-08-12T02:12:33.231Z","data":{"object":{"id":"inv_1","object":"invoice"}}}`))
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"x"}`))
	f.Add([]byte(`{"object":"event","data":{"object":[]}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"created":"not a date","id":"e","object":"event","type":"t"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := ParseEvent(payload)
		if err != nil {
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("error %v is not ErrInvalidEvent", err)
			}
			return
		}
		if ev.Object != "event" || ev.Id == "" || ev.Type == "" {
			t.Fatalf("invalid event accepted: %+v", ev)
		}
	})
}

// FuzzErrorBody: any error answer becomes an *Error with the status and a
// bounded, single-line message.
func FuzzErrorBody(f *testing.F) {
	f.Add(402, "application/json", []byte(`{"message":"Invoice is past due","exception_key":"EXC-1"}`))
	f.Add(500, "text/html", []byte(`<html><title>500</title></html>`))
	f.Add(429, "application/json", []byte(`{"message":null}`))
	f.Add(400, "application/json", []byte(`{"message":"`+strings.Repeat("x", 2000)+`"}`))
	f.Add(503, "", []byte{})
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 300 || status > 999 {
			status = 500
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}, "Retry-After": {"3"}}, Body: io.NopCloser(bytes.NewReader(body))}
		e := newError("list companies", resp, auth.NewRedactor())
		if e.StatusCode != status {
			t.Fatalf("status %d; want %d", e.StatusCode, status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "stennapi: list companies: status ") || strings.ContainsAny(msg, "\n\r") || len(msg) > 1400 {
			t.Fatalf("message %q", msg)
		}
	})
}
