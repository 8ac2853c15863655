// Package firstamlapi is a client for First AML's Public API, a GraphQL API
// for anti-money-laundering case management, authenticated with the OAuth
// 2.0 client credentials flow.
//
// # Getting started
//
//	client, err := firstamlapi.NewClient(os.Getenv("FIRSTAML_CLIENT_ID"), os.Getenv("FIRSTAML_CLIENT_SECRET"),
//		option.WithUserAgent("acme-onboarding/2.1"))
//	me, err := client.Me(ctx) // the documented first call: who am I, which organizations
//	res, err := client.CreateLiteCase(ctx, firstamlapi.CreateLiteCaseInput{
//		OrganizationId: me.AccessibleOrganizations[0].OrganizationId,
//		OfficeId:       firstamlapi.Ptr(me.AccessibleOrganizations[0].Offices[0].Key),
//		Individual: firstamlapi.LiteCaseIndividualInput{
//			PreferredName: firstamlapi.NameInput{FirstName: "Ana", LastName: "Silva"},
//			EmailAddress:  firstamlapi.Ptr("ana@example.com"),
//		},
//	})
//
// # Environments
//
// The client talks to the sandbox by default: https://public-api-sandbox.firstaml.com,
// /oauth/token for tokens and /graphql/ for the API. First AML does not
// publish its production host, so the SDK does not guess one: pass both
// WithTokenURL and WithGraphQLURL (NewClient refuses one without the
// other, so a client never mixes environments).
//
// # Options
//
// NewClient takes the options every client shares, from package option
// (WithHTTPClient, WithStore, WithLogger, WithUserAgent, WithRetryPolicy,
// WithCacheOptions, WithMaxResponseBytes, WithTokenSource), and this
// package's own: WithTokenURL, WithGraphQLURL and WithDocumentOrigin.
//
// # The generated clients
//
// The token request goes through the client generated from
// specs/firstaml.yaml (gen/firstaml); GraphQL operations through genqlient's
// code generated from specs/firstaml-operations.graphql (gen/firstamlgql),
// whose transport is auth.Doer. GraphQLClient returns that transport for
// operations of your own.
//
// # Tokens
//
// Tokens come from First AML's client credentials grant, which takes a
// JSON body with the audience https://api.firstaml.com (never a form
// body), sent with the client generated from specs/firstaml.yaml. The
// client fetches a token on first use, shares it between goroutines,
// refreshes it in the background before it expires (tokens last 24 hours)
// as First AML's go-live review asks, and after a 401 fetches a new one and
// replays the request once. WithStore persists tokens across restarts or
// shares them across a fleet (see auth/redisstore). A token request never
// follows a redirect to another origin.
//
// # Operations and results
//
// Every method runs one operation of specs/firstaml-operations.graphql
// through genqlient:
//
//   - reading: Me, Organizations (with users, for AssignedUsers, and
//     verification types), CaseDetails, RiskAssessment, CaseDocuments;
//   - creating cases (scope case-management): CreateLiteCase,
//     CreateCaseForIndividuals, CreateCase (every documented option:
//     verification type, RunVerificationChecks, CDD level, risk, the
//     transaction value as a json.Number, root entity, ...) and
//     CreateCaseForEntities;
//   - moving cases along (case-management): SubmitCase (DRAFT to
//     IN_PROGRESS), CompleteCase (READY_FOR_REVIEW to COMPLETED),
//     EscalateLiteCase;
//   - webhook subscriptions (scope api-management):
//     CreateWebhookSubscription, DeleteWebhookSubscription,
//     AddWebhookSubscriptionTarget, RemoveWebhookSubscriptionTarget.
//
// First AML publishes no schema; specs/firstaml.graphql says, for every
// type and field, whether First AML documents it or it is inferred (the
// inputs of CreateCaseForEntities and of the subscription mutations, the
// workflow mutations' argument, the CddLevel and RiskAssessment values).
// The result types are re-exported from the generated package; nullable
// fields are pointers. Results that are GraphQL unions are Go interfaces to switch
// on: a create mutation returns a *CreateCaseResultCaseInformation (the
// case) or a *CreateCaseResultValidationErrors (each failure's Message and
// FieldPath, a list of strings such as ["individuals", "1", "emailAddress"]
// as First AML documents it; FormatFieldPath renders one), and CaseDetails
// likewise. Validation failures are results,
// not errors. GraphQLClient runs operations this package does not model.
//
// Every request, token requests included, carries a User-Agent (the SDK's
// name and version, after your product from WithUserAgent): First AML's
// go-live review requires one.
//
// # Errors and retries
//
// Anything else is an *Error: a GraphQL-over-HTTP error status (400 for a
// request that is not valid GraphQL, 401, 429, 5xx) with the GraphQL
// errors of its body, GraphQL errors in a 200, a body that cannot be used
// (an HTML error page, malformed or oversized JSON, a wrong Content-Type),
// or a failure before any answer, whose cause (an *auth.TokenError when no
// token could be obtained, a context error) errors.As and errors.Is find.
//
// Queries are retried on 429, 502, 503, 504 and connection errors, with
// exponential backoff and jitter, honouring Retry-After. Mutations are
// never retried once they may have reached First AML, so a case is never
// created twice; retry a failed create yourself only after checking that
// it did not happen.
//
// # Documents
//
// CaseDocuments lists the documents of a case, its individuals and its
// entities; DownloadDocument streams a file's contentsUrl (or a PdfUpdated
// event's pdfUrl) to an io.Writer with the bearer token. First AML may
// redirect the download to storage on another host: the redirect is
// followed, without the Authorization header. A contentsUrl on another
// origin than the GraphQL endpoint's is refused unless WithDocumentOrigin
// names it.
//
// # Webhooks
//
// WebhookHandler verifies the x-faml-signature header (HMAC-SHA256 of the
// raw body, keyed with the base64 verifier key from the webhook's
// registration), caps the body, and hands the typed event (CaseCreated,
// CaseStatusUpdated, PdfUpdated, VerificationReportGenerated,
// UnwrapStatusUpdated) to your callback. VerifySignature and ParseEvent
// do the same steps separately.
//
// The signature has no timestamp, so a captured delivery verifies forever.
// WithReplayGuard refuses a delivery seen within a TTL (409), in memory or,
// for a fleet, in a shared ReplayStore such as Redis (SET NX PX); see
// ReplayGuard for what it cannot catch.
//
// # Testing
//
// Package firstamltest runs a fake First AML: a token endpoint that takes
// only the documented JSON body, a /graphql/ endpoint that validates every
// operation against the schema, answers introspection and executes the
// operations against in-memory organizations, cases and webhook
// subscriptions, and document downloads with redirects. It also signs
// webhook payloads for tests.
package firstamlapi
