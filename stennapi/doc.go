// Package stennapi is a client for the Stenn API (invoice and trade
// finance), authenticated with the OAuth 2.0 client credentials flow.
//
// # Getting started
//
//	client, err := stennapi.NewClient(os.Getenv("STENN_CLIENT_ID"), os.Getenv("STENN_CLIENT_SECRET"),
//		stennapi.WithSandbox())
//	companies, err := client.ListCompanies(ctx)
//
// # Environments
//
// Live is the default (https://api.stenn.com); WithSandbox switches both
// the token URL and the API root to https://api.stenn.com/sandbox. Which
// mode you are in also depends on the credentials: events carry livemode.
//
// # Options
//
// NewClient takes the options every client shares, from package option
// (WithHTTPClient, WithStore, WithLogger, WithUserAgent, WithRetryPolicy,
// WithCacheOptions, WithMaxResponseBytes, WithTokenSource), and this
// package's own: WithSandbox, WithBaseURL, WithTokenURL.
//
// # The generated client
//
// Every call goes through the client generated from specs/stenn.yaml
// (gen/stenn), with auth.Doer as its HTTP doer and request editors for the
// User-Agent and Accept. API returns that client for what the typed
// methods do not cover; Doer and HTTPClient serve hand-built requests.
//
// # Tokens
//
// The client fetches a token on first use, shares it between goroutines,
// refreshes it in the background before it expires (Stenn's tokens last up
// to a day), and after a 401 fetches a new one and replays the request
// once. WithStore persists tokens across restarts or shares them across a
// fleet (see auth/redisstore).
//
// # Errors and retries
//
// Any non-2xx answer, or a 2xx whose body cannot be used, is an *Error
// carrying the status, Stenn's message and exception_key and the request
// id. Stenn rate-limits at 100 operations/s live and 25/s in test mode;
// 429, 502, 503 and 504 answers to idempotent requests are retried with
// exponential backoff and jitter, honouring Retry-After. A token that
// cannot be obtained gives an *auth.TokenError.
//
// # Webhooks
//
// ParseEvent and WebhookHandler decode Stenn's webhook events, including
// the eight invoice event types. Stenn documents no signature scheme.
//
// # Testing
//
// Package stenntest runs a fake Stenn API validated against the contract.
package stennapi
