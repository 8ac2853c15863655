package firstamlapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// SignatureHeader is the header that carries a delivery's signature
// (x-faml-signature): the base64 HMAC-SHA256 of the raw body, keyed with
// the base64-decoded verifier key First AML gives when a webhook is
// registered.
const SignatureHeader = "X-Faml-Signature"

// MaxEventBytes caps a webhook delivery. First AML's payloads carry ids
// only, so a few hundred bytes is typical.
const MaxEventBytes = 64 << 10

// EventType says what happened.
type EventType string

// The documented event types (https://docs.firstaml.com/docs/webhooks/).
const (
	EventCaseCreated                 EventType = "CaseCreated"
	EventCaseStatusUpdated           EventType = "CaseStatusUpdated"
	EventPdfUpdated                  EventType = "PdfUpdated"
	EventVerificationReportGenerated EventType = "VerificationReportGenerated"
	EventUnwrapStatusUpdated         EventType = "UnwrapStatusUpdated"
)

// Event is a webhook delivery: a *CaseCreated, *CaseStatusUpdated,
// *PdfUpdated, *VerificationReportGenerated, *UnwrapStatusUpdated or, for
// a type this SDK does not know, an *UnknownEvent. Events carry ids only:
// fetch the case with CaseDetails before acting on one.
type Event interface {
	// EventType is the payload's eventType.
	EventType() EventType
	// EventCaseID is the payload's caseId, as a string whether First AML
	// sent a string or a number.
	EventCaseID() string
}

// CaseCreated is sent when a case is created.
type CaseCreated struct {
	CaseID string
	// OfficeKey is the case's office, or "" if its organization has none.
	OfficeKey string
}

// CaseStatusUpdated is sent when a case's status changes; fetch the case
// for the new status.
type CaseStatusUpdated struct {
	CaseID string
	// OfficeKey is the case's office, or "" if its organization has none.
	OfficeKey string
}

// PdfStatus is the outcome of a case PDF's generation.
type PdfStatus string

// The documented PDF statuses.
const (
	PdfCompleted PdfStatus = "Completed"
	PdfFailed    PdfStatus = "Failed"
)

// PdfUpdated is sent when a case's PDF has been generated, or failed to be.
type PdfUpdated struct {
	CaseID string
	PdfID  string
	// PdfURL is where to download the PDF (authenticated like the API).
	PdfURL string
	Status PdfStatus
}

// VerificationReportGenerated is sent when an individual's or an entity's
// verification report is ready. Exactly one of IndividualID and EntityID is
// set.
type VerificationReportGenerated struct {
	CaseID       string
	IndividualID string
	EntityID     string
}

// UnwrapStatusUpdated is the fifth event type First AML lists
// (https://docs.firstaml.com/docs/webhooks/). Its payload is not in the
// public copy of the docs: the SDK reads caseId and officeKey when they are
// there, as in the other events, and keeps the whole payload for the rest.
// Fetch the case (when CaseID is set) for what changed.
type UnwrapStatusUpdated struct {
	// CaseID is the payload's caseId, "" if it has none.
	CaseID string
	// OfficeKey is the payload's officeKey, "" if it has none.
	OfficeKey string
	// Payload is the delivery's body, as received.
	Payload json.RawMessage
}

// UnknownEvent is a delivery of a type this SDK does not know yet;
// acknowledge it so First AML does not retry it.
type UnknownEvent struct {
	Type    EventType
	CaseID  string
	Payload json.RawMessage
}

// EventType implements Event.
func (*CaseCreated) EventType() EventType { return EventCaseCreated }

// EventType implements Event.
func (*CaseStatusUpdated) EventType() EventType { return EventCaseStatusUpdated }

// EventType implements Event.
func (*PdfUpdated) EventType() EventType { return EventPdfUpdated }

// EventType implements Event.
func (*VerificationReportGenerated) EventType() EventType { return EventVerificationReportGenerated }

// EventType implements Event.
func (*UnwrapStatusUpdated) EventType() EventType { return EventUnwrapStatusUpdated }

// EventType implements Event.
func (e *UnknownEvent) EventType() EventType { return e.Type }

// EventCaseID implements Event.
func (e *CaseCreated) EventCaseID() string { return e.CaseID }

// EventCaseID implements Event.
func (e *CaseStatusUpdated) EventCaseID() string { return e.CaseID }

// EventCaseID implements Event.
func (e *PdfUpdated) EventCaseID() string { return e.CaseID }

// EventCaseID implements Event.
func (e *VerificationReportGenerated) EventCaseID() string { return e.CaseID }

// EventCaseID implements Event.
func (e *UnwrapStatusUpdated) EventCaseID() string { return e.CaseID }

// EventCaseID implements Event.
func (e *UnknownEvent) EventCaseID() string { return e.CaseID }

// Errors of the webhook functions; they are returned wrapped, with details.
var (
	// ErrInvalidEvent: the payload is not a First AML event.
	ErrInvalidEvent = errors.New("firstamlapi: invalid webhook event")
	// ErrInvalidSignature: the signature is missing, malformed or wrong.
	ErrInvalidSignature = errors.New("firstamlapi: invalid webhook signature")
	// ErrInvalidVerifierKey: the verifier key is empty or not base64.
	ErrInvalidVerifierKey = errors.New("firstamlapi: the webhook verifier key must be the base64 key First AML issued")
)

// id is an identifier First AML sends as a JSON string or a number (the
// docs' examples do both for caseId).
type id string

func (v *id) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = id(s)
	default:
		for i, c := range b {
			if (c < '0' || c > '9') && !(i == 0 && c == '-' && len(b) > 1) {
				return errors.New("not a string or an integer")
			}
		}
		*v = id(b)
	}
	return nil
}

type wireEvent struct {
	EventType    string  `json:"eventType"`
	CaseID       id      `json:"caseId"`
	OfficeKey    id      `json:"officeKey"`
	PdfID        id      `json:"pdfId"`
	PdfURL       *string `json:"pdfUrl"`
	Status       *string `json:"status"`
	IndividualID id      `json:"individualId"`
	EntityID     id      `json:"entityId"`
}

// ParseEvent decodes a webhook payload. It does not check the signature:
// call VerifySignature first, or use WebhookHandler, which does both.
// caseId (and the other ids) may be JSON strings or numbers.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) > MaxEventBytes {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalidEvent, len(payload), MaxEventBytes)
	}
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return nil, fmt.Errorf("%w: %s is not a %s", ErrInvalidEvent, ute.Field, ute.Type)
		}
		if strings.Contains(err.Error(), "not a string or an integer") {
			return nil, fmt.Errorf("%w: an id is not a string or an integer", ErrInvalidEvent)
		}
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidEvent)
	}
	switch {
	case w.EventType == "":
		return nil, fmt.Errorf("%w: no eventType", ErrInvalidEvent)
	case w.CaseID == "" && EventType(w.EventType) != EventUnwrapStatusUpdated:
		// Every documented payload has one; UnwrapStatusUpdated's is not
		// public, so it may not.
		return nil, fmt.Errorf("%w: no caseId", ErrInvalidEvent)
	}
	caseID := string(w.CaseID)
	switch t := EventType(w.EventType); t {
	case EventCaseCreated:
		return &CaseCreated{CaseID: caseID, OfficeKey: string(w.OfficeKey)}, nil
	case EventCaseStatusUpdated:
		return &CaseStatusUpdated{CaseID: caseID, OfficeKey: string(w.OfficeKey)}, nil
	case EventPdfUpdated:
		return &PdfUpdated{CaseID: caseID, PdfID: string(w.PdfID), PdfURL: deref(w.PdfURL), Status: PdfStatus(deref(w.Status))}, nil
	case EventVerificationReportGenerated:
		if (w.IndividualID == "") == (w.EntityID == "") {
			return nil, fmt.Errorf("%w: VerificationReportGenerated needs exactly one of individualId and entityId", ErrInvalidEvent)
		}
		return &VerificationReportGenerated{CaseID: caseID, IndividualID: string(w.IndividualID), EntityID: string(w.EntityID)}, nil
	case EventUnwrapStatusUpdated:
		return &UnwrapStatusUpdated{CaseID: caseID, OfficeKey: string(w.OfficeKey), Payload: append(json.RawMessage(nil), payload...)}, nil
	default:
		return &UnknownEvent{Type: t, CaseID: caseID, Payload: append(json.RawMessage(nil), payload...)}, nil
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// decodeKey decodes a verifier key, accepting standard and URL-safe
// base64, padded or not.
func decodeKey(key string) ([]byte, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, ErrInvalidVerifierKey
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(key); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, ErrInvalidVerifierKey
}

// VerifySignature checks a delivery's x-faml-signature header against the
// raw request body: the base64 HMAC-SHA256 of payload keyed with the
// base64-decoded verifierKey, compared in constant time. Verify the bytes
// as received: re-encoding the JSON would change them.
func VerifySignature(payload []byte, signature, verifierKey string) error {
	key, err := decodeKey(verifierKey)
	if err != nil {
		return err
	}
	return verify(key, payload, signature)
}

func verify(key, payload []byte, signature string) error {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return fmt.Errorf("%w: no %s header", ErrInvalidSignature, strings.ToLower(SignatureHeader))
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		if got, err = base64.RawStdEncoding.DecodeString(signature); err != nil {
			return fmt.Errorf("%w: not base64", ErrInvalidSignature)
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(payload)
	if !hmac.Equal(mac.Sum(nil), got) {
		return fmt.Errorf("%w: does not match the payload", ErrInvalidSignature)
	}
	return nil
}

// WebhookOption configures WebhookHandler.
type WebhookOption func(*webhookConfig) error

type webhookConfig struct {
	guard *ReplayGuard
}

// WithReplayGuard makes WebhookHandler refuse replayed deliveries (409)
// with g; see ReplayGuard for what it does and does not catch. Optional;
// by default every correctly signed delivery is accepted, however often it
// arrives.
func WithReplayGuard(g *ReplayGuard) WebhookOption {
	return func(c *webhookConfig) error {
		if g == nil {
			return errors.New("WithReplayGuard: nil guard")
		}
		c.guard = g
		return nil
	}
}

// WebhookHandler returns an http.Handler for First AML's webhook
// deliveries. verifierKey (required) is the base64 key First AML gave when
// the webhook was registered; fn (required) receives each verified event.
//
// It accepts POST only (405 otherwise), reads at most MaxEventBytes (413
// for more), checks the x-faml-signature header against the raw body (401
// when it is missing or wrong), decodes the event (400 when it is not one)
// and calls fn: 200 when fn returns nil, 500 when it fails, so First AML
// delivers it again.
//
// With WithReplayGuard, a delivery whose signature the guard has seen
// within its TTL is refused with 409 Conflict before fn runs, and 503 when
// the guard's store fails (so First AML delivers it again later); when fn
// fails, the guard forgets the delivery, so that First AML's redelivery is
// accepted.
func WebhookHandler(verifierKey string, fn func(context.Context, Event) error, opts ...WebhookOption) (http.Handler, error) {
	key, err := decodeKey(verifierKey)
	if err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, errors.New("firstamlapi: WebhookHandler: nil callback")
	}
	var cfg webhookConfig
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("firstamlapi: WebhookHandler: option %d of %d is nil", i+1, len(opts))
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("firstamlapi: WebhookHandler: %w", err)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "payload unreadable", http.StatusBadRequest)
			return
		}
		if err := verify(key, body, r.Header.Get(SignatureHeader)); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, err := ParseEvent(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sig := r.Header.Get(SignatureHeader)
		if g := cfg.guard; g != nil {
			switch err := g.Check(r.Context(), ev, sig); {
			case errors.Is(err, ErrReplayedDelivery):
				http.Error(w, err.Error(), http.StatusConflict)
				return
			case err != nil:
				http.Error(w, "firstamlapi: replay guard unavailable; deliver again later", http.StatusServiceUnavailable)
				return
			}
		}
		if err := fn(r.Context(), ev); err != nil {
			if g := cfg.guard; g != nil {
				// Let First AML's redelivery through. If forgetting fails
				// too, the redelivery is refused until the TTL passes.
				_ = g.Forget(context.WithoutCancel(r.Context()), ev, sig)
			}
			http.Error(w, "event not processed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}), nil
}
