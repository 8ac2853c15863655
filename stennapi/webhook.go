package stennapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/complykit/complykit-go/gen/stenn"
)

// Event is a webhook event: {id, object: "event", type, livemode, data, created}.
type Event = stenn.Event

// EventType says what happened.
type EventType = stenn.EventType

// The documented invoice event types (https://api-docs.stenn.com/docs/invoice).
const (
	EventInvoiceNew                    EventType = "invoice.new"
	EventInvoiceAdditionalInfoRequired EventType = "invoice.additional_info_required"
	EventInvoiceDeclined               EventType = "invoice.declined"
	EventInvoiceRequestingSignatures   EventType = "invoice.requesting_signatures"
	EventInvoiceApproved               EventType = "invoice.approved"
	EventInvoiceFinanced               EventType = "invoice.financed"
	EventInvoiceRepaid                 EventType = "invoice.repaid"
	EventInvoiceOverdue                EventType = "invoice.overdue"
)

// KnownEventType reports whether t is one of the documented types. Stenn
// hints at other events; acknowledge and ignore the ones you do not know.
func KnownEventType(t EventType) bool {
	switch t {
	case EventInvoiceNew, EventInvoiceAdditionalInfoRequired, EventInvoiceDeclined, EventInvoiceRequestingSignatures,
		EventInvoiceApproved, EventInvoiceFinanced, EventInvoiceRepaid, EventInvoiceOverdue:
		return true
	}
	return false
}

// ErrInvalidEvent is returned (wrapped) by ParseEvent for a payload that is
// not a Stenn event.
var ErrInvalidEvent = errors.New("stennapi: invalid webhook event")

// MaxEventBytes caps a webhook payload.
const MaxEventBytes = 1 << 20

// ParseEvent decodes a webhook payload. Stenn documents no webhook
// signature, so authenticate deliveries some other way (a secret path, an
// allow-list) and treat the event as a hint: fetch what it names before
// acting on it.
func ParseEvent(payload []byte) (*Event, error) {
	if len(payload) > MaxEventBytes {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalidEvent, len(payload), MaxEventBytes)
	}
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidEvent)
	}
	switch {
	case ev.Object != "event":
		return nil, fmt.Errorf("%w: object is %q, want \"event\"", ErrInvalidEvent, truncate(string(ev.Object)))
	case ev.Id == "":
		return nil, fmt.Errorf("%w: no id", ErrInvalidEvent)
	case ev.Type == "":
		return nil, fmt.Errorf("%w: no type", ErrInvalidEvent)
	}
	return &ev, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// WebhookHandler returns an http.Handler for Stenn's webhook deliveries:
// it accepts POST only, caps the body at MaxEventBytes, parses the event
// and calls fn. It answers 200 when fn returns nil (Stenn retries anything
// else, several times over three days), 400 for a payload that is not an
// event, and 500 when fn fails.
func WebhookHandler(fn func(context.Context, *Event) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
		if err != nil {
			http.Error(w, "payload too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := ParseEvent(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := fn(r.Context(), ev); err != nil {
			http.Error(w, "event not processed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
