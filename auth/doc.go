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
// secret in its message and the response's Retry-After in its RetryAfter.
// Token requests never follow a redirect to another origin. A failed request
// is retried by the same RetryPolicy as API calls (FlowOptions.Retry: 429,
// 502, 503, 504 and connection errors, jittered backoff, Retry-After
// honoured up to MaxRetryAfter), except a single-use grant (refresh token,
// authorization code), which is sent once whatever the answer.
//
// # Authorization code: redirect URIs, state, PKCE, callbacks
//
// The redirect URI is checked when the flow is built (CheckRedirectURL):
// https, or plain http only on a loopback host (127.0.0.1, [::1],
// localhost) as RFC 8252 allows for native apps; no other scheme
// (javascript:, data:, file:, private-use schemes), no userinfo, no
// fragment, no spaces, control characters, backslashes or non-ASCII. The
// error wraps ErrInvalidRedirectURL and names the problem.
//
// NewAuthCodeURL makes the authorize URL with a random state (NewState,
// crypto/rand) and, with AuthCodeOptions.PKCE, an S256 challenge; PKCE works
// with CloudCompli's variant too, since a server that ignores it is unharmed
// (RFC 7636 section 4.5). ResponseMode(ResponseModeFormPost) asks for the
// code in a POSTed form (an OpenID Connect server such as Stems' otherwise
// answers in the URL fragment, which never reaches a server).
// ReadCallback reads code and state from the redirect, a query (GET) or a
// form_post (POST, capped at MaxCallbackBytes), checks the state in
// constant time (ErrStateMismatch), and returns a refusal as a redacted
// *AuthorizationError.
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
// A failed fetch makes the next one wait, for every caller of the cache and
// for the background refresh alike: exponential backoff with jitter
// (CacheOptions.FailureBackoff, doubling up to MaxFailureBackoff), never
// shorter than the token response's Retry-After (up to an hour). Refused
// credentials (invalid_grant, invalid_client or unauthorized_client, or a
// bare 401, on a password or client credentials grant) are not tried again
// for RefusedCooldown (15 minutes by default) or until Cache.ResetBackoff:
// repeated wrong passwords lock accounts. Meanwhile a caller that needs a new
// token gets a *BackoffError at once, with Until and the last error wrapped
// (errors.As(err, &tokenErr) still works). A fetch that follows a failure
// makes a single request: the backoff is its retry. With a token endpoint
// that refuses everything, 20 callers for 3 s make one token request (and
// six against one that answers 503).
//
// # Secrets
//
// One Redactor per client knows all of its secrets: the client secret, the
// password, the HTTP Basic pair, encryption keys (auth/redisstore's
// Options.Redactor), static tokens, and, as they are issued or loaded, the
// access, refresh and ID tokens, codes and PKCE verifiers (the newest 48
// short-lived values). It removes each in every form it takes on the wire
// and in text: raw; URL- and form-encoded (%20 or +, either hex case, even
// twice); JSON-, Go- and HTML-escaped (\u003c, \/, &amp; ...); base64 in both
// alphabets with or without padding, at any alignment, including
// base64(id:secret); any mix of these; and any run of 8 or more bytes that
// begins a secret, so a secret a server echoed in part or that straddles a
// cut leaves nothing. Field redacts before it sanitizes and truncates.
// Values shorter than MinSecretLen (6) are not secrets to it: they would
// garble ordinary words.
//
// Give the same Redactor to the flow (FlowOptions.Redactor) and its cache
// (CacheOptions.Redactor; by default the cache takes the source's), and
// pass every text a provider copies from a response (error fields, a
// request id, Content-Type, a body excerpt) through Field, headers through
// Header and errors through Error. Every TokenError, every error the cache
// returns and every line auth logs has been through it.
//
// Every type that holds a secret shows none under any fmt verb and flag
// (%v %+v %#v %s %q %x %d ...: they implement fmt.Formatter, not only
// String), in encoding/json (json.Marshaler: redisstore's keys never
// marshal) and in log/slog (slog.LogValuer). Safe does it for any type in
// four one-line methods; auth/authtest finds the types of a package that
// hold secrets and checks them.
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
