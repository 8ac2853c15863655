package firstamltest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
)

// WebhookKey is a webhook verifier key, as First AML issues one when a
// webhook is registered (given to integrators in base64).
type WebhookKey []byte

// NewWebhookKey returns a random 32-byte key.
func NewWebhookKey() WebhookKey {
	k := make(WebhookKey, 32)
	rand.Read(k)
	return k
}

// ParseWebhookKey decodes a base64 verifier key.
func ParseWebhookKey(b64 string) (WebhookKey, error) {
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(k) == 0 {
		return nil, errors.New("firstamltest: the webhook key is not base64")
	}
	return k, nil
}

// Base64 is the key as First AML gives it, what firstamlapi.WebhookHandler
// and firstamlapi.VerifySignature take.
func (k WebhookKey) Base64() string { return base64.StdEncoding.EncodeToString(k) }

// String redacts the key, so a test log cannot show it.
func (k WebhookKey) String() string { return "firstamltest.WebhookKey([redacted])" }

// GoString is String.
func (k WebhookKey) GoString() string { return k.String() }

// Sign returns the x-faml-signature of payload: the base64 HMAC-SHA256 of
// the payload's bytes keyed with k.
func (k WebhookKey) Sign(payload []byte) string {
	mac := hmac.New(sha256.New, k)
	mac.Write(payload)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// NewRequest returns a signed webhook delivery to target (a URL or a
// path), as First AML sends it: POST, JSON, x-faml-signature. Serve it to
// a handler with httptest.NewRecorder, or send it with an http.Client when
// target is a full URL. Like httptest.NewRequest, it panics when target is
// neither.
func (k WebhookKey) NewRequest(target string, payload []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(payload))
	req.RequestURI = "" // so that an http.Client accepts it too
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-faml-signature", k.Sign(payload))
	return req
}

// caseIDValue renders a case id the way the docs' examples do for most
// events: a JSON number when it is all digits.
func caseIDValue(id string) any {
	if id == "" {
		return nil
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return id
		}
	}
	return json.Number(id)
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func payload(fields map[string]any) []byte {
	b, err := json.Marshal(fields)
	if err != nil {
		panic("firstamltest: " + err.Error()) // only strings and json.Numbers of digits go in
	}
	return b
}

// CaseCreatedPayload is a CaseCreated delivery: {eventType, caseId,
// officeKey}, caseId a number when it is all digits (as in the docs'
// example), officeKey null when "".
func CaseCreatedPayload(caseID, officeKey string) []byte {
	return payload(map[string]any{"eventType": "CaseCreated", "caseId": caseIDValue(caseID), "officeKey": orNull(officeKey)})
}

// CaseStatusUpdatedPayload is a CaseStatusUpdated delivery, shaped like
// CaseCreatedPayload.
func CaseStatusUpdatedPayload(caseID, officeKey string) []byte {
	return payload(map[string]any{"eventType": "CaseStatusUpdated", "caseId": caseIDValue(caseID), "officeKey": orNull(officeKey)})
}

// PdfUpdatedPayload is a PdfUpdated delivery: {eventType, caseId, pdfId,
// pdfUrl, status}, status "Completed" or "Failed".
func PdfUpdatedPayload(caseID, pdfID, pdfURL, status string) []byte {
	return payload(map[string]any{"eventType": "PdfUpdated", "caseId": caseIDValue(caseID), "pdfId": orNull(pdfID),
		"pdfUrl": orNull(pdfURL), "status": orNull(status)})
}

// VerificationReportGeneratedPayload is a VerificationReportGenerated
// delivery: {eventType, caseId, individualId, entityId}, caseId a string
// (as in the docs' example) and "" ids null. First AML sets exactly one of
// individualId and entityId; pass both or neither to test a receiver's
// rejection.
func VerificationReportGeneratedPayload(caseID, individualID, entityID string) []byte {
	return payload(map[string]any{"eventType": "VerificationReportGenerated", "caseId": orNull(caseID),
		"individualId": orNull(individualID), "entityId": orNull(entityID)})
}

// UnwrapStatusUpdatedPayload is an UnwrapStatusUpdated delivery. First AML
// lists the type but not its payload; this one is shaped like
// CaseStatusUpdatedPayload (inferred), so test receivers against the shape
// the real deliveries turn out to have before relying on it.
func UnwrapStatusUpdatedPayload(caseID, officeKey string) []byte {
	return payload(map[string]any{"eventType": "UnwrapStatusUpdated", "caseId": caseIDValue(caseID), "officeKey": orNull(officeKey)})
}
