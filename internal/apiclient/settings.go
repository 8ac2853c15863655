package apiclient

import (
	"log/slog"
	"net/http"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

// Settings are what every client's options set alike (WithHTTPClient,
// WithStore, WithLogger, WithUserAgent, WithRetryPolicy, WithTokenSource,
// WithCacheOptions, WithMaxResponseBytes); each provider package's config
// embeds it and adds its own URLs and credentials.
type Settings struct {
	HTTPClient   *http.Client
	Store        auth.Store
	Logger       *slog.Logger
	Product      string // prefixes the SDK's User-Agent
	Retry        *auth.RetryPolicy
	Source       oauth2.TokenSource // replaces the provider's own flow
	CacheOptions auth.CacheOptions
	MaxBody      int64
}

// UserAgent is the User-Agent sent on every request, API and token alike.
func (s *Settings) UserAgent() string { return UserAgent(s.Product) }

// FlowOptions are the options of a token flow: the same HTTP client,
// User-Agent and logger as the API calls, and the cache's clock.
func (s *Settings) FlowOptions() auth.FlowOptions {
	return auth.FlowOptions{HTTPClient: s.HTTPClient, UserAgent: s.UserAgent(), Logger: s.Logger, Now: s.CacheOptions.Now}
}

// NewCache wraps src in a token cache. WithStore and WithLogger, when
// given, take precedence over the Store and Logger of WithCacheOptions.
func (s *Settings) NewCache(src oauth2.TokenSource) (*auth.Cache, error) {
	co := s.CacheOptions
	if s.Store != nil {
		co.Store = s.Store
	}
	if s.Logger != nil {
		co.Logger = s.Logger
	}
	return auth.NewCache(src, co)
}

// NewDoer returns the Doer every API request goes through: credentials
// from cache for baseURL's origin only (originHeaders too), and the retry
// policy of WithRetryPolicy unless retry is given.
func (s *Settings) NewDoer(cache *auth.Cache, baseURL string, retry *auth.RetryPolicy, originHeaders ...string) (*auth.Doer, error) {
	if retry == nil {
		retry = s.Retry
	}
	return auth.NewDoer(cache, auth.DoerOptions{
		BaseURL:       baseURL,
		HTTPClient:    s.HTTPClient,
		Retry:         retry,
		OriginHeaders: originHeaders,
		Logger:        s.Logger,
	})
}
