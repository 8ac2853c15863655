package auth_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
)

// FuzzParseTokenResponse: whatever a token endpoint answers, parsing gives
// a usable Bearer token or a *TokenError, never a panic, and the message
// never carries the secret the request held.
func FuzzParseTokenResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":1800,"refresh_token":"r","id_token":"i"}`},
		{200, "application/json", `{"access_token":"a","expires_in":"3600"}`},
		{200, "application/x-www-form-urlencoded", `access_token=a&token_type=bearer&expires_in=60`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"bad","message":"m"}`},
		{502, "text/html", `<html>bad gateway</html>`},
		{200, "application/json", `{"access_token":"a","token_type":"mac"}`},
		{200, "application/json", `{"access_token":"a","expires_in":1e400}`},
		{200, "", ``},
		{401, "application/json", `{"error":"invalid_client","error_description":"fuzz-secret-value"}`},
	} {
		f.Add(seed.status, seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(strings.NewReader(string(body)))}
		tok, err := auth.ParseTokenResponse(resp, "client_credentials", "fuzz-secret-value")
		if err != nil {
			var te *auth.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *TokenError", err)
			}
			if strings.Contains(err.Error(), "fuzz-secret-value") {
				t.Fatalf("secret in error: %s", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn < 0 {
			t.Fatalf("unusable token accepted: %+v", tok)
		}
	})
}
