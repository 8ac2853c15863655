package authtest

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func TestSuggestsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"ClientSecret": true, "password": true, "AccessToken": true, "refreshTokens": true, "EncryptionKey": true,
		"PreviousKeys": true, "keyring": true, "Redactor": true, "codeVerifier": true, "APIKey": true, "secretSeen": true,
		"TokenURL": false, "tokenURL": false, "TokenType": false, "AuthStyle": false, "KeySize": false, "RefreshTokenGrace": false,
		"ClientID": false, "Username": false, "invalid": false, "TokenSource": true, "Prefix": false,
	} {
		if got := suggestsSecret(name); got != want {
			t.Errorf("suggestsSecret(%q) = %v (words %q); want %v", name, got, words(name), want)
		}
	}
}

type leaky struct {
	ID     string
	secret string
	nested struct{ Password []byte }
	tok    *struct{ AccessToken string }
	safe   protected
	URL    string
	mu     sync.Mutex
}

type protected struct{ Secret string }

func (protected) Format(fmt.State, rune)         {}
func (protected) MarshalJSON() ([]byte, error)   { return []byte(`{}`), nil }
func (protected) LogValue() (v slogValueForTest) { return }

type slogValueForTest = slog.Value

var _ = leaky{secret: "s", tok: nil, safe: protected{}, mu: sync.Mutex{}, nested: struct{ Password []byte }{}}

func TestSecretFields(t *testing.T) {
	got := SecretFields(reflect.TypeFor[leaky](), map[string]string{"leaky.URL": "not one"})
	want := []string{"leaky.secret", "leaky.nested.Password", "leaky.tok.AccessToken"}
	if !slices.Equal(got, want) {
		t.Errorf("SecretFields = %q; want %q", got, want)
	}
	if !holdsLock(reflect.TypeFor[leaky]()) || holdsLock(reflect.TypeFor[protected]()) {
		t.Error("holdsLock is wrong")
	}
}

func TestFindLooksIntoEncodings(t *testing.T) {
	const secret = `s3cr3t/Key+With=Sym&bols`
	forms := Forms(secret)
	for _, out := range []string{
		secret, "x=" + "s3cr3t%2FKey%2BWith%3DSym%26bols", "s3cr3t%2fKey%2bWith", hex.EncodeToString([]byte("msg " + secret)),
		strconv.Quote("msg " + secret), `s3cr3t\/Key+With=Sym\u0026bols`, "czNjcjN0L0tleStXaXRoPVN5bSZib2xz", "s3cr3t/K",
	} {
		if Find(out, forms) == "" {
			t.Errorf("Find(%q) found nothing", out)
		}
	}
	if f := Find("auth: token request failed: [redacted]", forms); f != "" {
		t.Errorf("Find found %q in clean text", f)
	}
}
