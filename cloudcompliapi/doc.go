// Package cloudcompliapi is a client for the CloudCompli API v2
// (environmental compliance: projects, their forms, form entries and
// photos), authenticated with OAuth 2.0.
//
// # Getting started
//
//	client, err := cloudcompliapi.NewClient("https://example.compli.cloud",
//		cloudcompliapi.ClientCredentials{
//			ClientID:     os.Getenv("CLOUDCOMPLI_CLIENT_ID"),
//			ClientSecret: os.Getenv("CLOUDCOMPLI_CLIENT_SECRET"),
//		})
//	projects, err := client.ListProjects(ctx)
//
// # Instances
//
// Every CloudCompli customer has its own host, and there is no shared
// default: NewClient requires the instance URL (https, or a bare host
// name). The token endpoint (/oauth2/token), the authorize endpoint
// (/oauth2/authorize) and the API (/api/v2) all live under it, and
// credentials are only ever sent to that origin.
//
// # Credentials
//
// CloudCompli offers three ways in, and Credentials is one of them:
//
//   - ClientCredentials: the client credentials grant, for system-level
//     integrations of one instance (Settings > App Settings > API Clients).
//     The client fetches a token on first use and a new one when it expires
//     or is refused.
//   - StaticToken: a token generated in that same settings page, valid for
//     one year or until Revoke All Tokens. It is never renewed: once
//     CloudCompli refuses it, calls fail with a 401 *Error (the request is
//     replayed once, with the same token, and never more).
//   - UserToken: a token from the authorization code grant, which acts for a
//     user with that user's permissions. NewAuthCodeFlow builds the flow
//     for an instance; flow.ReadCallback (or ParseCallback) reads the code
//     from the redirect and checks the state.
//
// # Vendor quirks of the authorization code grant
//
// CloudCompli's help article shows its authorization code grant differing
// from RFC 6749 in two ways; its own PHP client (cloudcompli-php-api) does
// neither, so both forms are observed:
//
//   - the article puts client_secret on the authorize URL. The user's
//     browser then sees the secret, and it may be kept in browser history,
//     proxy and server logs and Referer headers;
//   - the article's code exchange carries response_type=code in its body.
//
// NewAuthCodeFlow sends the PHP client's form by default, which keeps the
// secret out of the browser; WithAuthCodeQuirks(DocumentedQuirks()) sends
// the article's, for an instance that insists on it. Either way the flow
// adds a state (NewAuthCodeURL makes one; ReadCallback checks it) and PKCE:
// CloudCompli documents none, and a server that does not know it ignores
// it (RFC 7636 section 4.5). CloudCompli documents no refresh token: a
// user token lasts a year, after which calls fail with
// auth.ErrSignInRequired and the user must sign in again.
//
// # Options
//
// NewClient takes the options every client shares, from package option
// (WithHTTPClient, WithStore, WithLogger, WithUserAgent, WithRetryPolicy,
// WithCacheOptions, WithMaxResponseBytes, WithTokenSource); CloudCompli
// needs none of its own, since the instance URL is an argument.
//
// # The generated client
//
// Every call goes through the client generated from specs/cloudcompli.yaml
// (gen/cloudcompli), with auth.Doer as its HTTP doer and request editors
// for the User-Agent, Accept (application/json, */*) and Cache-Control
// (no-cache), as CloudCompli's documented requests send them. API returns
// that client for what the typed methods do not cover.
//
// # Tokens
//
// Tokens last one year (expires_in 31536000). The client shares one token
// between goroutines, renews it in the background before it expires, and
// after a 401 gets a new one and replays the request once. WithStore
// persists tokens across restarts or shares them across a fleet (see
// auth/redisstore); give UserToken a Subject when users share a Store.
//
// # Errors and retries
//
// Any non-2xx answer, or a 2xx whose body cannot be used, is an *Error
// carrying the status, CloudCompli's error and error_description, and the
// request id. CloudCompli documents no error format or rate limit; the
// client reads the RFC 6749 shape and tolerates any other body. GET
// requests are retried after 429, 502, 503 and 504 with exponential
// backoff and jitter, honouring Retry-After; form entries and photos
// (POST) are not, unless the context carries auth.WithIdempotent. A
// token that cannot be obtained gives an *auth.TokenError; an argument a
// method cannot use gives an error wrapping ErrInvalidArgument, before
// anything is sent.
//
// # Testing
//
// Package cloudcomplitest runs a fake CloudCompli instance validated against
// the contract, with both grants, UI tokens and sample data.
package cloudcompliapi
