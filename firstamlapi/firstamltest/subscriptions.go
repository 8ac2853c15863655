package firstamltest

import (
	"net/url"
	"slices"
	"strconv"
)

// WebhookSubscription is a webhook subscription the fake holds, created
// with createWebhookSubscription. The fake does not deliver events to it.
type WebhookSubscription struct {
	// ID is the webhookSubscriptionId.
	ID string
	// URL is the https URL deliveries would be POSTed to.
	URL string
	// EventTypes are as the payloads spell them, e.g. "CaseCreated".
	EventTypes []string
	// Targets are the organizations and offices whose events it delivers.
	Targets []WebhookTarget
	// Key is the verifier key createWebhookSubscription returned: sign
	// test deliveries with it (Key.Sign, Key.NewRequest).
	Key WebhookKey
}

// WebhookTarget is an organization, or one of its offices, whose events
// a subscription delivers.
type WebhookTarget struct {
	// OrganizationID is the organization's organizationId.
	OrganizationID string
	// OfficeKey is "" for the whole organization.
	OfficeKey string
}

// moreState is the fake's state beyond organizations and cases, guarded
// by Server.mu like them.
type moreState struct {
	subs   []WebhookSubscription
	subSeq int
}

// WebhookSubscriptions returns a copy of the subscriptions the fake holds.
func (s *Server) WebhookSubscriptions() []WebhookSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]WebhookSubscription, len(s.more.subs))
	for i, sub := range s.more.subs {
		out[i] = cloneSubscription(sub)
	}
	return out
}

func cloneSubscription(sub WebhookSubscription) WebhookSubscription {
	sub.EventTypes = append([]string(nil), sub.EventTypes...)
	sub.Targets = append([]WebhookTarget(nil), sub.Targets...)
	sub.Key = append(WebhookKey(nil), sub.Key...)
	return sub
}

// webhookEventTypes are the documented event types
// (https://docs.firstaml.com/docs/webhooks/).
var webhookEventTypes = []string{"CaseCreated", "CaseStatusUpdated", "PdfUpdated", "VerificationReportGenerated", "UnwrapStatusUpdated"}

func subscriptionObject(sub WebhookSubscription, withKey bool) map[string]any {
	targets := make([]any, len(sub.Targets))
	for i, t := range sub.Targets {
		targets[i] = map[string]any{"organizationId": t.OrganizationID, "officeId": nullable(t.OfficeKey)}
	}
	obj := map[string]any{"__typename": "WebhookSubscription", "webhookSubscriptionId": sub.ID, "url": sub.URL,
		"eventTypes": append([]string{}, sub.EventTypes...), "targets": targets}
	if withKey {
		obj["verifierTokenKey"] = sub.Key.Base64()
	}
	return obj
}

// checkTarget checks that an organization (and office) is accessible;
// at is the fieldPath prefix of the target in the input.
func (s *Server) checkTarget(orgID string, officeID *string, at ...string) []ValidationError {
	o := s.org(orgID)
	if o == nil {
		return []ValidationError{{Message: "The organization does not exist or is not accessible to this API client.", FieldPath: append(at, "organizationId")}}
	}
	if officeID != nil && !slices.ContainsFunc(o.Offices, func(off Office) bool { return off.Key == *officeID }) {
		return []ValidationError{{Message: "officeId is not an office of the organization.", FieldPath: append(at, "officeId")}}
	}
	return nil
}

func resolveCreateWebhookSubscription(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeAPIManagement); err != nil {
		return nil, err
	}
	var in struct {
		URL        string   `json:"url"`
		EventTypes []string `json:"eventTypes"`
		Targets    []struct {
			OrganizationID string  `json:"organizationId"`
			OfficeID       *string `json:"officeId"`
		} `json:"targets"`
	}
	if err := decodeInput(args["input"], &in); err != nil {
		return nil, err
	}
	if errs, ok := e.s.nextScripted(); ok {
		return validationErrorsObject(errs), nil
	}
	var errs []ValidationError
	if u, err := url.Parse(in.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, ValidationError{Message: "Webhooks must be configured with a https:// destination URL, http:// is not supported.", FieldPath: fieldPath("url")})
	}
	if len(in.EventTypes) == 0 {
		errs = append(errs, ValidationError{Message: "At least one event type is required.", FieldPath: fieldPath("eventTypes")})
	}
	for i, t := range in.EventTypes {
		if !slices.Contains(webhookEventTypes, t) {
			errs = append(errs, ValidationError{Message: "Unknown event type " + clip(t) + ".", FieldPath: fieldPath("eventTypes", strconv.Itoa(i))})
		}
	}
	if len(in.Targets) == 0 {
		errs = append(errs, ValidationError{Message: "A webhook needs to target an organization.", FieldPath: fieldPath("targets")})
	}
	sub := WebhookSubscription{URL: in.URL, EventTypes: in.EventTypes}
	for i, t := range in.Targets {
		errs = append(errs, e.s.checkTarget(t.OrganizationID, t.OfficeID, "targets", strconv.Itoa(i))...)
		sub.Targets = append(sub.Targets, WebhookTarget{OrganizationID: t.OrganizationID, OfficeKey: deref(t.OfficeID)})
	}
	if len(errs) > 0 {
		return validationErrorsObject(errs), nil
	}
	e.s.more.subSeq++
	sub.ID = "whs-" + strconv.Itoa(e.s.more.subSeq)
	sub.Key = NewWebhookKey()
	e.s.more.subs = append(e.s.more.subs, sub)
	return subscriptionObject(sub, true), nil
}

// subscription returns the index of a subscription, or a validation error
// at the id's field.
func (s *Server) subscription(id string) (int, []ValidationError) {
	i := slices.IndexFunc(s.more.subs, func(sub WebhookSubscription) bool { return sub.ID == id })
	if i < 0 {
		return -1, []ValidationError{{Message: "The webhook subscription does not exist.", FieldPath: fieldPath("webhookSubscriptionId")}}
	}
	return i, nil
}

func resolveDeleteWebhookSubscription(e *executor, args map[string]any) (any, error) {
	if err := e.requireScope(scopeAPIManagement); err != nil {
		return nil, err
	}
	id, _ := args["webhookSubscriptionId"].(string)
	i, errs := e.s.subscription(id)
	if errs != nil {
		return validationErrorsObject(errs), nil
	}
	e.s.more.subs = slices.Delete(e.s.more.subs, i, i+1)
	return map[string]any{"__typename": "DeletedWebhookSubscription", "webhookSubscriptionId": id}, nil
}

// targetInput is WebhookSubscriptionTargetInput.
type targetInput struct {
	SubscriptionID string  `json:"webhookSubscriptionId"`
	OrganizationID string  `json:"organizationId"`
	OfficeID       *string `json:"officeId"`
}

func resolveAddWebhookSubscriptionTarget(e *executor, args map[string]any) (any, error) {
	return e.changeTarget(args, func(sub *WebhookSubscription, t WebhookTarget) []ValidationError {
		if slices.Contains(sub.Targets, t) {
			return []ValidationError{{Message: "The subscription already has this target.", FieldPath: fieldPath("organizationId")}}
		}
		sub.Targets = append(sub.Targets, t)
		return nil
	})
}

func resolveRemoveWebhookSubscriptionTarget(e *executor, args map[string]any) (any, error) {
	return e.changeTarget(args, func(sub *WebhookSubscription, t WebhookTarget) []ValidationError {
		i := slices.Index(sub.Targets, t)
		switch {
		case i < 0:
			return []ValidationError{{Message: "The subscription has no such target.", FieldPath: fieldPath("organizationId")}}
		case len(sub.Targets) == 1:
			// (inferred) a subscription targets at least one organization.
			return []ValidationError{{Message: "A webhook needs to target an organization: delete the subscription instead.", FieldPath: fieldPath("organizationId")}}
		}
		sub.Targets = slices.Delete(sub.Targets, i, i+1)
		return nil
	})
}

func (e *executor) changeTarget(args map[string]any, change func(*WebhookSubscription, WebhookTarget) []ValidationError) (any, error) {
	if err := e.requireScope(scopeAPIManagement); err != nil {
		return nil, err
	}
	var in targetInput
	if err := decodeInput(args["input"], &in); err != nil {
		return nil, err
	}
	i, errs := e.s.subscription(in.SubscriptionID)
	if errs == nil {
		errs = e.s.checkTarget(in.OrganizationID, in.OfficeID)
	}
	if errs == nil {
		errs = change(&e.s.more.subs[i], WebhookTarget{OrganizationID: in.OrganizationID, OfficeKey: deref(in.OfficeID)})
	}
	if errs != nil {
		return validationErrorsObject(errs), nil
	}
	return subscriptionObject(e.s.more.subs[i], false), nil
}
