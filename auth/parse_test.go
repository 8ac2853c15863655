package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

func TestTokenResponsesReadTolerantly(t *testing.T) {
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		wantExpires int64
		wantType    string
	}{
		{"expires_in number", "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":1800}`, 1800, "Bearer"},
		{"expires_in numeric string", "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":"1800"}`, 1800, "Bearer"},
		{"expires_in float", "application/json", `{"access_token":"a","expires_in":1800.0}`, 1800, "Bearer"},
		{"expires_in null", "application/json", `{"access_token":"a","expires_in":null}`, 0, "Bearer"},
		{"missing token_type is Bearer", "application/json", `{"access_token":"a","expires_in":60}`, 60, "Bearer"},
		{"lower-case bearer", "application/json", `{"access_token":"a","token_type":"bearer","expires_in":60}`, 60, "Bearer"},
		{"charset and no content type", "", `  {"access_token":"a","expires_in":60}`, 60, "Bearer"},
		{"form-encoded answer", "application/x-www-form-urlencoded", `access_token=a&expires_in=60&token_type=bearer`, 60, "Bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.Write([]byte(tc.body))
			})
			tok, err := clientCredentials(t, ts.URL()).TokenContext(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "a" || tok.ExpiresIn != tc.wantExpires || tok.TokenType != tc.wantType {
				t.Errorf("token = %q %d %q; want a %d %q", tok.AccessToken, tok.ExpiresIn, tok.TokenType, tc.wantExpires, tc.wantType)
			}
			if tc.wantExpires == 0 && !tok.Expiry.IsZero() {
				t.Errorf("expiry = %v; want zero for an unknown lifetime", tok.Expiry)
			}
		})
	}
}

func clientCredentials(t *testing.T, tokenURL string) auth.ContextTokenSource {
	t.Helper()
	flow, err := auth.Password(&oauth2.Config{
		ClientID: testClientID, ClientSecret: testClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}, testUser, testPassword, auth.FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flow
}

// Every faulty answer a token endpoint can give becomes a *TokenError whose
// message names the problem and carries none of the secrets, even when the
// server echoes them back.
func TestFaultyTokenResponses(t *testing.T) {
	const leakedAccess = "leaked-access-token-value"
	const leakedRefresh = "leaked-refresh-token-value"
	echo := "client_secret=" + testClientSecret + " password=" + testPassword
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		wantCode    string
		wantReason  string // substring of the message
	}{
		{"invalid_grant", 400, "application/json", `{"error":"invalid_grant","error_description":"bad password ` + testPassword + `"}`, "invalid_grant", "invalid_grant"},
		{"invalid_client echoing secret", 401, "application/json", `{"error":"invalid_client","error_description":"` + echo + `"}`, "invalid_client", "invalid_client"},
		{"stems message field", 400, "application/json", `{"error":"invalid_request","message":"Missing Accept header"}`, "invalid_request", "Missing Accept header"},
		{"error in a 200", 200, "application/json", `{"error":"access_denied"}`, "access_denied", "access_denied"},
		{"html error page", 502, "text/html", `<html><body><h1>502 Bad Gateway</h1></body></html>`, "", "not JSON (text/html)"},
		{"html with 200", 200, "text/html", `<!doctype html><p>login</p>`, "", "not JSON (text/html)"},
		{"empty body", 200, "application/json", ``, "", "empty"},
		{"truncated json", 200, "application/json", `{"access_token":"` + leakedAccess, "", "truncated or malformed"},
		{"trailing garbage", 200, "application/json", `{"access_token":"a"} {"x":1}`, "", "trailing data"},
		{"json array", 200, "application/json", `["access_token"]`, "", "not JSON"},
		{"no access_token", 200, "application/json", `{"token_type":"Bearer","refresh_token":"` + leakedRefresh + `"}`, "", "no access_token"},
		{"access_token not a string", 200, "application/json", `{"access_token":12345}`, "", "no access_token"},
		{"unsupported token type", 200, "application/json", `{"access_token":"` + leakedAccess + `","token_type":"mac"}`, "", `unsupported token_type "mac"`},
		{"expires_in garbage", 200, "application/json", `{"access_token":"` + leakedAccess + `","expires_in":"soon"}`, "", "expires_in"},
		{"expires_in negative", 200, "application/json", `{"access_token":"a","expires_in":-5}`, "", "negative"},
		{"expires_in object", 200, "application/json", `{"access_token":"a","expires_in":{"s":1}}`, "", "not a number"},
		{"oversized body", 200, "application/json", `{"access_token":"` + strings.Repeat("x", auth.MaxTokenResponseBytes) + `"}`, "", "exceeds 1 MiB"},
		{"error without fields", 403, "application/json", `{"detail":"nope"}`, "", "without an OAuth error field"},
		{"plain text 500", 500, "text/plain", `internal error: ` + echo, "", "not JSON (text/plain)"},
		{"429 json", 429, "application/json", `{"error":"slow_down"}`, "slow_down", "status 429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
				w.Header().Set("Content-Type", tc.contentType)
				w.Header().Set("X-Request-Id", "req-42")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			flow := clientCredentials(t, ts.URL())
			_, err := flow.TokenContext(context.Background())
			var te *auth.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T); want *auth.TokenError", err, err)
			}
			if te.StatusCode != tc.status {
				t.Errorf("StatusCode = %d; want %d", te.StatusCode, tc.status)
			}
			if te.Code != tc.wantCode {
				t.Errorf("Code = %q; want %q", te.Code, tc.wantCode)
			}
			if te.RequestID != "req-42" {
				t.Errorf("RequestID = %q; want req-42", te.RequestID)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantReason) {
				t.Errorf("message %q does not mention %q", msg, tc.wantReason)
			}
			if !strings.HasPrefix(msg, "auth: ") {
				t.Errorf("message %q does not start with the package name", msg)
			}
			if len(msg) > 2000 {
				t.Errorf("message is %d bytes long; error text must stay bounded", len(msg))
			}
			assertNoSecret(t, "error", msg, leakedAccess, leakedRefresh)
		})
	}
}

func TestTransportErrorIsTyped(t *testing.T) {
	ts := newTokenServer(t, nil)
	url := ts.URL()
	ts.srv.Close()
	_, err := clientCredentials(t, url).TokenContext(context.Background())
	var te *auth.TokenError
	if !errors.As(err, &te) || te.Err == nil || !te.Temporary() {
		t.Fatalf("err = %v; want a temporary TokenError wrapping the transport error", err)
	}
	assertNoSecret(t, "error", err.Error())
}

func TestParseTokenResponseForOtherFlows(t *testing.T) {
	resp := &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       ioNopCloser(`{"access_token":"eyJhbGciOiJS....OkFx38SFQ","expires_in":86400,"token_type":"Bearer"}`),
	}
	tok, err := auth.ParseTokenResponse(resp, "client_credentials", testClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 86400 || time.Until(tok.Expiry) < 23*time.Hour {
		t.Errorf("token = %+v; want a day's lifetime", tok)
	}
	resp.StatusCode, resp.Body = 403, ioNopCloser(`{"error":"access_denied","error_description":"Unauthorized: `+testClientSecret+`"}`)
	_, err = auth.ParseTokenResponse(resp, "client_credentials", testClientSecret)
	if !auth.IsInvalidGrant(err) && (err == nil || strings.Contains(err.Error(), testClientSecret)) {
		t.Errorf("err = %v; want a scrubbed TokenError", err)
	}
}
