// Package stemsapi is a client for the Stems Comply One API (formerly Stems
// One API): hazards and events, authenticated through Stems Accounts, the
// vendor's OpenID Connect provider.
//
// # Getting started
//
//	client, err := stemsapi.NewClient(os.Getenv("STEMS_API_URL"),
//		stemsapi.Password(clientID, clientSecret, "john.smith@contoso.com", password),
//		stemsapi.WithCompany("234"))
//	hazards, err := client.ListHazards(ctx)
//
// Stems does not publish the API's base URL, so NewClient requires it: use
// the one Stems gave you, version path included. The token endpoint
// defaults to the documented https://accounts.stems.com.au/auth/connect/token.
//
// # Credentials
//
// Password is the resource owner password credentials grant, which the
// docs discourage (your program holds the user's password) but call the
// quickest way to port an integration. The client asks for the scopes
// openid, resources_stems_api and offline_access (DefaultScopes; see
// WithScopes), so Stems issues a refresh token, and an id_token with each
// refresh: later tokens come from the refresh_token grant, and each
// rotated refresh token replaces the last.
//
// For applications whose users sign in themselves, NewAuthCodeFlow returns
// the authorization code flow with PKCE for Stems Accounts; pass the token
// its Exchange returns to AuthorizedUser. TokenSource accepts any other
// oauth2.TokenSource.
//
// # Company context
//
// Comply One requires X-Company-Context, the id of a company the user
// belongs to, on every request; it decides the data and permissions of the
// call. WithCompany sets the default and Company("235") overrides it for
// one call. A call with neither fails with ErrNoCompany before anything is
// sent. The header is sent only to the API's origin, never along a
// redirect to another host. A company the user has no role in gets a 403
// *Error.
//
// # Options
//
// NewClient takes the options every client shares, from package option
// (WithHTTPClient, WithStore, WithLogger, WithUserAgent, WithRetryPolicy,
// WithCacheOptions, WithMaxResponseBytes, WithTokenSource), and this
// package's own: WithCompany, WithTokenURL, WithScopes (and WithAuthURL
// for NewAuthCodeFlow). Company is a per-call option.
//
// # The generated client
//
// Every call goes through the client generated from specs/stems.yaml
// (gen/stems), with auth.Doer as its HTTP doer and request editors for the
// User-Agent, Accept and X-Company-Context (auth.CompanyContext). The spec
// models X-Company-Context as an apiKey security scheme, so the generated
// operations take no company argument: API returns the generated client
// with the WithCompany editor, and auth.CompanyContext(id) as a call's
// editor acts for another company.
//
// # Tokens
//
// Stems' access tokens last half an hour. The client fetches one on first
// use, shares it between goroutines, refreshes it in the background before
// it expires, and after a 401 fetches a new one and replays the request
// once. If Stems refuses the refresh token, a Password client signs in
// again; an AuthorizedUser client fails with auth.ErrSignInRequired.
// IDToken returns the id_token Stems sends with each refresh. WithStore
// persists tokens across restarts or shares them across a fleet (see
// auth/redisstore).
//
// # Errors and retries
//
// Any non-2xx answer, or a 2xx whose body cannot be used, is an *Error
// carrying the status, Stems' error, message and error_description fields
// and the request id. 429, 502, 503 and 504 answers to GET and PUT requests
// are retried with exponential backoff and jitter, honouring Retry-After;
// POSTs only with auth.WithIdempotent(ctx). A token that cannot be obtained
// gives an *auth.TokenError.
//
// # Models
//
// Stems publishes no resource reference; the types (Hazard, EventRecord
// and the rest, generated from specs/stems.yaml) type only the fields the
// migration guides name, and keep every other field, ids included.
//
// # Testing
//
// Package stemstest runs a fake Comply One API and Stems Accounts,
// validated against the contract.
package stemsapi
