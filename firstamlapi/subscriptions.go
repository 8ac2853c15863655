package firstamlapi

import (
	"context"

	"github.com/Khan/genqlient/graphql"

	"github.com/complykit/complykit-go/gen/firstamlgql"
	"github.com/complykit/complykit-go/option"
)

// CreateWebhookSubscription subscribes a https URL to event types (use the
// Event* constants: string(EventCaseCreated), ...) of organizations or some
// of their offices. The client needs the api-management scope. Switch on
// the result:
//
//	switch r := res.(type) {
//	case *firstamlapi.CreateWebhookSubscriptionResultWebhookSubscription:
//		// r.WebhookSubscriptionId; r.VerifierTokenKey.Reveal() is the base64 key for WebhookHandler
//	case *firstamlapi.CreateWebhookSubscriptionResultValidationErrors: // e.g. a URL that is not https
//	}
//
// The verifier key is a secret: store it as you store the client secret.
// Nil EventTypes and Targets are sent as empty lists (the fields are
// non-null), so First AML reports what is missing. Never retried: a retry
// could create a second subscription, and every event would then arrive
// twice.
func (c *Client) CreateWebhookSubscription(ctx context.Context, input CreateWebhookSubscriptionInput, opts ...option.CallOption) (CreateWebhookSubscriptionResult, error) {
	if input.EventTypes == nil {
		input.EventTypes = []string{}
	}
	if input.Targets == nil {
		input.Targets = []WebhookTargetInput{}
	}
	return mutate(c, ctx, "CreateWebhookSubscription", "createWebhookSubscription", opts, func(ctx context.Context, gc graphql.Client) (CreateWebhookSubscriptionResult, error) {
		resp, err := firstamlgql.CreateWebhookSubscription(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.CreateWebhookSubscription, nil
	})
}

// DeleteWebhookSubscription deletes a subscription; the client needs the
// api-management scope. The result is a
// *DeleteWebhookSubscriptionResultDeletedWebhookSubscription or a
// *DeleteWebhookSubscriptionResultValidationErrors (an unknown id, say).
func (c *Client) DeleteWebhookSubscription(ctx context.Context, subscriptionID string, opts ...option.CallOption) (DeleteWebhookSubscriptionResult, error) {
	return mutate(c, ctx, "DeleteWebhookSubscription", "deleteWebhookSubscription", opts, func(ctx context.Context, gc graphql.Client) (DeleteWebhookSubscriptionResult, error) {
		resp, err := firstamlgql.DeleteWebhookSubscription(ctx, gc, subscriptionID)
		if err != nil {
			return nil, err
		}
		return resp.DeleteWebhookSubscription, nil
	})
}

// AddWebhookSubscriptionTarget adds an organization (OfficeId nil) or one
// of its offices to a subscription, without recreating it; the client
// needs the api-management scope. The result is a
// *WebhookSubscriptionResultWebhookSubscription (with the new targets) or
// a *WebhookSubscriptionResultValidationErrors.
func (c *Client) AddWebhookSubscriptionTarget(ctx context.Context, input WebhookSubscriptionTargetInput, opts ...option.CallOption) (WebhookSubscriptionResult, error) {
	return mutate(c, ctx, "AddWebhookSubscriptionTarget", "addWebhookSubscriptionTarget", opts, func(ctx context.Context, gc graphql.Client) (WebhookSubscriptionResult, error) {
		resp, err := firstamlgql.AddWebhookSubscriptionTarget(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.AddWebhookSubscriptionTarget, nil
	})
}

// RemoveWebhookSubscriptionTarget removes an organization or office
// target from a subscription; the client needs the api-management scope.
// The result is a WebhookSubscriptionResult, as for
// AddWebhookSubscriptionTarget.
func (c *Client) RemoveWebhookSubscriptionTarget(ctx context.Context, input WebhookSubscriptionTargetInput, opts ...option.CallOption) (WebhookSubscriptionResult, error) {
	return mutate(c, ctx, "RemoveWebhookSubscriptionTarget", "removeWebhookSubscriptionTarget", opts, func(ctx context.Context, gc graphql.Client) (WebhookSubscriptionResult, error) {
		resp, err := firstamlgql.RemoveWebhookSubscriptionTarget(ctx, gc, input)
		if err != nil {
			return nil, err
		}
		return resp.RemoveWebhookSubscriptionTarget, nil
	})
}
