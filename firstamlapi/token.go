package firstamlapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/gen/firstaml"
)

// grantType names the grant in token errors and logs.
const grantType = string(firstaml.TokenRequestGrantTypeClientCredentials)

// tokenFlow is First AML's client credentials grant: a JSON body with the
// audience, sent with the client generated from specs/firstaml.yaml, its
// response read by auth.ParseTokenResponse. It is an oauth2.TokenSource,
// an auth.ContextTokenSource and an auth.Keyer; each call fetches a new
// token, so the Client wraps it in an auth.Cache.
type tokenFlow struct {
	gen      *firstaml.Client
	tokenURL string
	clientID string
	secret   string
	headers  firstaml.RequestEditorFn
	logger   *slog.Logger
	red      *auth.Redactor // the client's: knows the secret and every token
	retry    auth.RetryPolicy
}

var (
	_ auth.ContextTokenSource = (*tokenFlow)(nil)
	_ auth.Keyer              = (*tokenFlow)(nil)
)

func newTokenFlow(clientID, secret, tokenURL, userAgent string, base *http.Client, logger *slog.Logger, red *auth.Redactor, tel *auth.Telemetry) (*tokenFlow, error) {
	if clientID == "" || secret == "" {
		return nil, errors.New("firstamlapi: client id and client secret are required")
	}
	if red == nil {
		red = auth.NewRedactor()
	}
	// The secret travels in a JSON body: the Redactor removes it in every
	// form, JSON-escaped included.
	red.Add(secret)
	red.AddBasic(clientID, secret)
	u, err := auth.CheckURL(tokenURL)
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: token URL: %w", err)
	}
	// The generated client appends the documented path to its server URL.
	server := strings.TrimSuffix(u.String(), tokenPath)
	hc, err := auth.TokenHTTPClient(base, u.String())
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: token URL: %w", err)
	}
	gen, err := firstaml.NewClient(server, firstaml.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("firstamlapi: token client: %w", err)
	}
	ua := []string{userAgent}
	accept := []string{"application/json"}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &tokenFlow{
		gen:      gen,
		tokenURL: u.String(),
		clientID: clientID,
		secret:   secret,
		headers: func(ctx context.Context, req *http.Request) error {
			req.Header["User-Agent"] = ua
			req.Header["Accept"] = accept
			tel.InjectTokenRequest(ctx, req.Header) // only with option.WithTokenTracePropagation
			return nil
		},
		logger: logger,
		red:    red,
	}, nil
}

// TokenContext requests a new token.
func (f *tokenFlow) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	// A client credentials grant is safe to repeat after a temporary
	// failure: the same policy as API calls, Retry-After honoured.
	return auth.RetryTemporaryWith(ctx, f.retry, nil, f.once)
}

func (f *tokenFlow) once(ctx context.Context) (*oauth2.Token, error) {
	body := firstaml.TokenRequest{
		ClientId:     f.clientID,
		ClientSecret: f.secret,
		Audience:     firstaml.TokenRequestAudienceFirstAML,
		GrantType:    firstaml.TokenRequestGrantTypeClientCredentials,
	}
	start := time.Now()
	resp, err := f.gen.RequestToken(ctx, body, f.headers)
	if err != nil {
		f.logger.LogAttrs(ctx, slog.LevelWarn, "firstamlapi: token request failed",
			slog.String("token_url", f.tokenURL), slog.Duration("took", time.Since(start)))
		return nil, f.red.Error(&auth.TokenError{Grant: grantType, Err: err})
	}
	f.logger.LogAttrs(ctx, slog.LevelDebug, "firstamlapi: token response",
		slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		resp.Body.Close()
		return nil, &auth.TokenError{Grant: grantType, StatusCode: resp.StatusCode, RequestID: f.red.Field(auth.RequestID(resp.Header)),
			Reason: "token endpoint redirected to another origin; not followed"}
	}
	return auth.ParseTokenResponseWith(resp, grantType, auth.ParseOptions{Redactor: f.red})
}

// Token requests a new token with a background context bounded by
// auth.DefaultHTTPTimeout.
func (f *tokenFlow) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), auth.DefaultHTTPTimeout)
	defer cancel()
	return f.TokenContext(ctx)
}

// CacheKey identifies this flow's tokens: token URL, client id and audience.
func (f *tokenFlow) CacheKey() string {
	return auth.Key(f.tokenURL, f.clientID, "", []string{"audience=" + Audience})
}

// String describes the flow without its secret.
func (f *tokenFlow) safe() auth.Safe {
	return auth.Safe{Type: "firstamlapi.tokenFlow", Fields: []auth.SafeField{
		auth.Public("TokenURL", f.tokenURL), auth.Public("ClientID", f.clientID), auth.Public("Audience", Audience),
		auth.Secret("ClientSecret", f.secret)}}
}

func (f *tokenFlow) String() string                { return f.safe().String() }
func (f *tokenFlow) Format(s fmt.State, verb rune) { f.safe().Format(s, verb) }
func (f *tokenFlow) MarshalJSON() ([]byte, error)  { return f.safe().MarshalJSON() }
func (f *tokenFlow) LogValue() slog.Value          { return f.safe().LogValue() }

// Redactor is the client's Redactor, which the cache then uses too.
func (f *tokenFlow) Redactor() *auth.Redactor { return f.red }
