package stemsapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
)

// FuzzErrorBody: any error answer becomes an *Error with the status and a
// bounded, single-line message.
func FuzzErrorBody(f *testing.F) {
	f.Add(400, "application/json", []byte(`{"error":"invalid_request","message":"X-Company-Context is required","error_description":"missing header"}`))
	f.Add(403, "application/json", []byte(`{"error":"forbidden"}`))
	f.Add(500, "text/html", []byte(`<html><body>Internal Server Error</body></html>`))
	f.Add(401, "application/json", []byte(`{"error":null,"message":12}`))
	f.Add(404, "", []byte(``))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 300 || status > 999 {
			status = 500
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(bytes.NewReader(body))}
		e := newError("list hazards", resp, auth.NewRedactor())
		if e.StatusCode != status {
			t.Fatalf("status %d; want %d", e.StatusCode, status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "stemsapi: list hazards: ") || strings.ContainsAny(msg, "\n\r") || len(msg) > 2000 {
			t.Fatalf("message %q", msg)
		}
	})
}
