package cloudcompliapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
)

// FuzzErrorBody: any error answer, body or WWW-Authenticate challenge,
// becomes an *Error with the status and a bounded, single-line message.
func FuzzErrorBody(f *testing.F) {
	f.Add(401, "application/json", []byte(`{"error":"invalid_token","error_description":"The access token provided has expired"}`), `Bearer error="invalid_token"`)
	f.Add(404, "application/json", []byte(`{"error":"not_found"}`), "")
	f.Add(502, "text/html", []byte(`<html>Bad Gateway</html>`), "")
	f.Add(401, "", []byte(``), `Bearer realm="x", error="invalid_token", error_description="expired \"quoted\""`)
	f.Add(400, "application/json", []byte(`{"error":{"nested":true}}`), `Basic`)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, challenge string) {
		if status < 300 || status > 999 {
			status = 500
		}
		h := http.Header{"Content-Type": {contentType}}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		e := newError("get user", resp, auth.NewRedactor())
		if e.StatusCode != status {
			t.Fatalf("status %d; want %d", e.StatusCode, status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "cloudcompliapi: get user: ") || strings.ContainsAny(msg, "\n\r") || len(msg) > 2500 {
			t.Fatalf("message %q", msg)
		}
	})
}
