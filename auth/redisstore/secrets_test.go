package redisstore_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/auth/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every exported struct type of redisstore is listed here; those that hold
// keys redact them under every fmt verb, in JSON and in slog, and the keys
// never marshal. No Redis is needed: New does not connect.
func TestKeysNeverPrintMarshalOrLog(t *testing.T) {
	current := bytes.Repeat([]byte{0xfb, 0xef, 0x3e, '+', '/', '='}, 6)[:redisstore.KeySize]
	previous := bytes.Repeat([]byte("old-key/+="), 4)[:redisstore.KeySize]
	red := auth.NewRedactor()
	opts := redisstore.Options{EncryptionKey: current, PreviousKeys: [][]byte{previous}, Prefix: "p:", Redactor: red}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	store, err := redisstore.New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{string(current), string(previous)}
	replay, err := redisstore.NewReplayStore(rdb, redisstore.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	authtest.CheckPackage(t, ".", []authtest.Sample{
		{Value: &opts, Secrets: keys},
		{Value: store, Secrets: keys},
		{Value: replay}, // holds no secret: the keys it stores are HMACs
		{Value: &redisstore.ReplayOptions{Prefix: "p:"}},
	}, nil)

	// fmt prints a []byte as decimal numbers; json as base64.
	decimal := []string{strings.Trim(fmt.Sprint(current), "[]"), strings.Trim(fmt.Sprint(previous), "[]")}
	for _, v := range []any{opts, &opts} {
		authtest.CheckValue(t, v, decimal)
	}
	b, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded["EncryptionKey"] != "[redacted]" || decoded["PreviousKeys"] != float64(1) {
		t.Errorf("json = %s; want the key redacted and the previous keys counted", b)
	}

	// The client's Redactor learned the keys, in the forms keys are written.
	for _, form := range []string{base64.StdEncoding.EncodeToString(current), fmt.Sprintf("%x", previous), fmt.Sprintf("%X", current)} {
		if got := red.Redact("key=" + form); strings.Contains(got, form) {
			t.Errorf("Redact kept the key form %q: %s", form, got)
		}
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("store", "opts", opts, "store", store)
	authtest.CheckText(t, "slog", logs.String(), authtest.AllForms(keys...))
}
