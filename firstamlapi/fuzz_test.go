package firstamlapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/option"
)

// memTransport answers the token request with a token and the GraphQL
// request with the fuzzed answer, without a network.
type memTransport struct {
	status int
	ct     string
	body   []byte
}

func (m memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	if strings.HasSuffix(req.URL.Path, "/oauth/token") {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
			Body: io.NopCloser(strings.NewReader(`{"access_token":"fuzz-access-token","token_type":"Bearer","expires_in":86400}`))}, nil
	}
	return &http.Response{StatusCode: m.status, Header: http.Header{"Content-Type": {m.ct}}, Request: req,
		Body: io.NopCloser(bytes.NewReader(m.body))}, nil
}

// FuzzGraphQLResponse: whatever /graphql/ answers, Me returns a result or
// an *firstamlapi.Error, never a panic, and never the token or secret in
// the message.
func FuzzGraphQLResponse(f *testing.F) {
	f.Add(200, "application/graphql-response+json", []byte(`{"data":{"me":{"apiClientId":"abc@clients","friendlyApiClientName":"x","scopes":["read-only"],"accessibleOrganizations":[]}}}`))
	f.Add(400, "application/graphql-response+json", []byte(`{"errors":[{"message":"Cannot query field \"x\"","locations":[{"line":1,"column":3}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`))
	f.Add(200, "application/json", []byte(`{"data":null,"errors":[{"message":"forbidden","path":["me",0,"x"]}]}`))
	f.Add(200, "application/json", []byte(`{"data":{"me":null}}`))
	f.Add(503, "text/html", []byte(`<html>busy</html>`))
	f.Add(200, "application/json", []byte(`{"data":{"me":{"scopes":"not-a-list"}}}`))
	f.Add(401, "application/json", []byte(`{"errors":[{"message":"fuzz-access-token is expired"}]}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		hc := &http.Client{Transport: memTransport{status, contentType, body}, Timeout: 5 * time.Second}
		c, err := firstamlapi.NewClient("fuzz-client", "fuzz-secret-value",
			firstamlapi.WithTokenURL("https://faml.test/oauth/token"), firstamlapi.WithGraphQLURL("https://faml.test/graphql/"),
			option.WithHTTPClient(hc), option.WithRetryPolicy(auth.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		me, err := c.Me(context.Background())
		if err != nil {
			var fe *firstamlapi.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *firstamlapi.Error: %v", err, err)
			}
			if msg := err.Error(); strings.Contains(msg, "fuzz-secret-value") || strings.Contains(msg, "fuzz-access-token") {
				t.Fatalf("secret in error: %s", msg)
			}
			return
		}
		if me == nil {
			t.Fatal("nil result without an error")
		}
	})
}

// FuzzWebhook: any payload and signature is either verified and decoded
// into an Event, or refused with ErrInvalidSignature / ErrInvalidEvent.
func FuzzWebhook(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	keyB64 := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	for _, p := range []string{
		`{"eventType":"CaseCreated","caseId":100234,"officeKey":"abc"}`,
		`{"eventType":"CaseStatusUpdated","caseId":"100234","officeKey":null}`,
		`{"eventType":"PdfUpdated","caseId":1,"pdfId":"p","pdfUrl":"https://api.firstaml.com/pdf/document","status":"Completed"}`,
		`{"eventType":"VerificationReportGenerated","caseId":"7","individualId":"i","entityId":null}`,
		`{"eventType":"Mystery","caseId":1.5e3}`,
		`not json`,
	} {
		f.Add([]byte(p), sign(key, []byte(p)))
		f.Add([]byte(p), "AAAA")
	}
	f.Fuzz(func(t *testing.T, payload []byte, signature string) {
		verr := firstamlapi.VerifySignature(payload, signature, keyB64)
		if verr != nil && !errors.Is(verr, firstamlapi.ErrInvalidSignature) {
			t.Fatalf("verify error %v is not ErrInvalidSignature", verr)
		}
		if verr == nil && !sameMAC(signature, sign(key, payload)) {
			t.Fatalf("accepted a signature that is not the HMAC of the payload")
		}
		ev, err := firstamlapi.ParseEvent(payload)
		if err != nil {
			if !errors.Is(err, firstamlapi.ErrInvalidEvent) {
				t.Fatalf("parse error %v is not ErrInvalidEvent", err)
			}
			return
		}
		if ev == nil || ev.EventType() == "" {
			t.Fatalf("event without a type: %#v", ev)
		}
	})
}

// sign is the documented scheme, written out independently of the package:
// base64(HMAC-SHA256(key, payload)).
func sign(key, payload []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sameMAC reports whether signature (padded or unpadded base64, spaces
// around it allowed) carries the same bytes as want.
func sameMAC(signature, want string) bool {
	signature = strings.TrimSpace(signature)
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		if got, err = base64.RawStdEncoding.DecodeString(signature); err != nil {
			return false
		}
	}
	w, _ := base64.StdEncoding.DecodeString(want)
	return hmac.Equal(got, w)
}
