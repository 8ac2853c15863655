// Package auth gets, keeps and applies OAuth 2.0 tokens so that the
// provider clients (and their users) never think about them. It knows no
// provider: stemsapi, stennapi, cloudcompliapi and firstamlapi configure it.
//
// # Flows
//
// Every flow is an oauth2.TokenSource (and a ContextTokenSource), so it can
// be used anywhere golang.org/x/oauth2 types are:
//
//   - ClientCredentials: the client credentials grant with a form body
//     (Stenn, CloudCompli), configured with a clientcredentials.Config whose
//     AuthStyle must be explicit.
//   - Password: the resource owner password grant, then refresh_token
//     grants with refresh-token rotation (Stems Accounts).
//   - AuthorizationCode: the authorize URL and code exchange, with PKCE
//     (Stems) or CloudCompli's documented quirks; its TokenSource renews the
//     token with refresh_token grants.
//   - StaticToken: a token issued out of band (CloudCompli's UI token).
//   - Anything else: a provider package builds the request itself (First
//     AML's JSON body) and parses the answer with ParseTokenResponse.
//
// All of them read token responses the same way: bodies capped at 1 MiB,
// expires_in as a number or a numeric string, a missing token_type taken as
// Bearer and any other type refused, and every failure a *TokenError with no
// secret in its message. Token requests never follow a redirect to another
// origin, and a single-use grant (refresh token, authorization code) is never
// retried.
//
// # The cache
//
// Cache wraps any source. Reading a valid token takes no lock; all callers
// that need a new token share one fetch, which runs on its own timeout; the
// token is refreshed in the background once it has used RefreshAfter of its
// life, so after the first request no request waits on the token endpoint;
// Invalidate drops a token only if it is still the cached one. A Store
// (MemoryStore, FileStore, or auth/redisstore for a fleet) persists tokens,
// and a rotated refresh token is saved before the new access token is used.
//
// # Applying credentials
//
// Doer sends requests with Authorization: Bearer from a Cache, only to the
// configured origin (scheme, host and port) on every redirect hop, replays a
// request once after a 401 with a new token, and retries 429, 502, 503, 504
// and connection errors for idempotent requests (RetryPolicy). It fits
// oapi-codegen's HttpRequestDoer and genqlient's graphql.Doer. The request
// editors (SetHeader, CompanyContext, Bearer) have the unnamed type
// func(context.Context, *http.Request) error, so they fit every generated
// package.
//
// URLs must be https; plain http is accepted only for loopback hosts, where
// fakes and tests live (CheckURL).
package auth
