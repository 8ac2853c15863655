package apiclient

import (
	"context"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

// Every client builds its cache here, so the precedence its
// WithCacheOptions documents holds for all four: WithStore wins, and a
// Store given only through WithCacheOptions is used, not dropped.
func TestNewCacheStorePrecedence(t *testing.T) {
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok", Expiry: time.Now().Add(time.Hour)})
	inOptions, given := auth.NewMemoryStore(), auth.NewMemoryStore()
	for name, tc := range map[string]struct {
		s          Settings
		want, idle *auth.MemoryStore
	}{
		"WithStore wins":             {Settings{Store: given, CacheOptions: auth.CacheOptions{Store: inOptions, Key: "a"}}, given, inOptions},
		"cache options' store alone": {Settings{CacheOptions: auth.CacheOptions{Store: inOptions, Key: "b"}}, inOptions, given},
	} {
		c, err := tc.s.NewCache(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Token(); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if tok, _ := tc.want.Load(ctx, c.Key()); tok == nil || tok.AccessToken != "tok" {
			t.Errorf("%s: the token is not in the store that should hold it", name)
		}
		if tok, _ := tc.idle.Load(ctx, c.Key()); tok != nil {
			t.Errorf("%s: the token went to the other store", name)
		}
	}
}

// The token flow runs on the cache's clock, so an injected clock moves
// issued tokens' expiry too.
func TestFlowOptionsShareTheCacheClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Settings{Product: "acme/1.0", CacheOptions: auth.CacheOptions{Now: func() time.Time { return at }}}
	fo := s.FlowOptions()
	if fo.Now == nil || !fo.Now().Equal(at) {
		t.Error("flow options do not carry the cache's clock")
	}
	if fo.UserAgent != s.UserAgent() || fo.UserAgent == UserAgent("") {
		t.Errorf("flow User-Agent %q; want the product's %q", fo.UserAgent, s.UserAgent())
	}
}
