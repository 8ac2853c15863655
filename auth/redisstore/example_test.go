package redisstore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/redisstore"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Every process of a fleet builds the same cache over one Redis: together
// they fetch one token per lifetime. This example needs a Redis server and
// a token endpoint, so it is compiled but not run; the package's tests run
// the same wiring against a redis-server of their own.
func Example() {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: []string{os.Getenv("REDIS_ADDR")}, // one address, Sentinel or Cluster seeds
	})
	defer rdb.Close()

	// 32 random bytes, e.g. `openssl rand -base64 32`, from a secret store.
	key, err := base64.StdEncoding.DecodeString(os.Getenv("COMPLYKIT_TOKEN_KEY"))
	if err != nil {
		log.Fatal("COMPLYKIT_TOKEN_KEY is not base64")
	}
	store, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: key, Logger: slog.Default()})
	if err != nil {
		log.Fatal(err)
	}

	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID:     os.Getenv("CLIENT_ID"),
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     "https://api.stenn.com/auth/v1/token",
		AuthStyle:    oauth2.AuthStyleInParams,
	}, auth.FlowOptions{})
	if err != nil {
		log.Fatal(err)
	}
	cache, err := auth.NewCache(flow, auth.CacheOptions{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := cache.TokenContext(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token expires at", tok.Expiry)
}
