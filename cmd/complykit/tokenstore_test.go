package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// These tests replace go-keyring's provider (its mock): not in parallel.

func testToken(access string) *oauth2.Token {
	return (&oauth2.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: "rt-" + access,
		Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}).WithExtra(map[string]any{"id_token": "a.b.c", "scope": "openid"})
}

func envOf(m map[string]string) env { return func(k string) string { return m[k] } }

// With a keychain, tokens go there (nothing in clear on disk), round trip
// with their refresh token, id_token and scope, and are deleted.
func TestKeychainStore(t *testing.T) {
	keyring.MockInit()
	t.Cleanup(func() { keyring.MockInitWithError(errors.New("no keychain in this test")) })
	ctx := context.Background()
	dir := t.TempDir()
	s, err := openTokenStore(envOf(nil), dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind() != storeKeychain || !strings.Contains(s.Where(), `the OS keychain (service "complykit")`) {
		t.Fatalf("store = %s %q; want the keychain", s.Kind(), s.Where())
	}
	if tok, err := s.Load(ctx, "k1"); tok != nil || err != nil {
		t.Errorf("Load of nothing = %v, %v", tok, err)
	}
	if err := s.Save(ctx, "k1", testToken("at-1")); err != nil {
		t.Fatal(err)
	}
	raw, err := keyring.Get(keyringService, "k1")
	if err != nil || !strings.Contains(raw, `"refresh_token":"rt-at-1"`) {
		t.Errorf("keychain entry = %q, %v; want the token as auth.MarshalToken writes it", raw, err)
	}
	got, err := s.Load(ctx, "k1")
	if err != nil || got.AccessToken != "at-1" || got.RefreshToken != "rt-at-1" || auth.IDToken(got) != "a.b.c" ||
		auth.GrantedScope(got) != "openid" || !got.Expiry.Equal(testToken("").Expiry) {
		t.Errorf("Load = %+v, %v", got, err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("the keychain store wrote files: %v", files)
	}
	if err := s.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(keyringService, "k1"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("after Delete: %v; want not found", err)
	}
	if err := s.Delete(ctx, "k1"); err != nil {
		t.Errorf("Delete of nothing: %v", err)
	}

	// A token a file holds from before the keychain was there is read,
	// and moves into the keychain (the file goes) when saved again.
	fs, _ := newFileStore(dir, "")
	if err := fs.Save(ctx, "old", testToken("at-old")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "old"); err != nil || got == nil || got.AccessToken != "at-old" {
		t.Fatalf("Load of a file token = %v, %v", got, err)
	}
	if err := s.Save(ctx, "old", testToken("at-new")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.token.json")); !os.IsNotExist(err) {
		t.Errorf("the file copy in clear is still there: %v", err)
	}

	// COMPLYKIT_TOKEN_STORE=file skips the keychain even where there is one.
	f, err := openTokenStore(envOf(map[string]string{tokenStoreEnv: "file"}), dir)
	if err != nil || f.Kind() != storeFile || !strings.Contains(f.Where(), "COMPLYKIT_TOKEN_STORE=file") {
		t.Errorf("COMPLYKIT_TOKEN_STORE=file: %v %v", f, err)
	}
	if _, err := openTokenStore(envOf(map[string]string{tokenStoreEnv: "vault"}), dir); err == nil || exitCode(err) != exitUsage {
		t.Errorf("COMPLYKIT_TOKEN_STORE=vault: %v; want a usage error", err)
	}
}

// Without a keychain, tokens go to 0600 files, for real: the fallback
// says why, and a keychain that must be there is an error.
func TestFileFallback(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "tokens")
	s, err := openTokenStore(envOf(nil), dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind() != storeFile || !strings.Contains(s.Where(), dir+" (files only you can read, mode 0600; no OS keychain here (org.freedesktop.secrets") {
		t.Fatalf("store = %s %q; want the file fallback saying why", s.Kind(), s.Where())
	}
	if err := s.Save(ctx, "login-stems", testToken("at-1")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "login-stems.token.json")
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file %v %v; want mode 0600", fi, err)
	}
	if got, err := s.Load(ctx, "login-stems"); err != nil || got.RefreshToken != "rt-at-1" {
		t.Errorf("Load = %v, %v", got, err)
	}
	if err := s.Delete(ctx, "login-stems"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("after Delete: %v", err)
	}
	if err := s.Delete(ctx, "../escape"); err == nil {
		t.Error("Delete accepted a key that is a path")
	}
	if _, err := openTokenStore(envOf(map[string]string{tokenStoreEnv: "keychain"}), dir); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("COMPLYKIT_TOKEN_STORE=keychain without one: %v; want an error", err)
	}
	if s, err := openTokenStore(envOf(nil), ""); s != nil || err != nil {
		t.Errorf("no keychain and no directory: %v, %v; want no store", s, err)
	}
}

// The CLI in-process with the mock keychain: login keeps the user's
// tokens in the keychain and says so; call finds them there; logout
// removes them.
func TestLoginWithKeychain(t *testing.T) {
	keyring.MockInit()
	t.Cleanup(func() { keyring.MockInitWithError(errors.New("no keychain in this test")) })
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	srv := stemstest.NewServer(t)
	f := newBrowserForward(t)
	t.Setenv(browserHelperEnv, f.addr) // the helper inherits this process's environment
	vars := envOf(map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": srv.ClientSecret, "COMPLYKIT_STEMS_BROWSER": f.command()})
	runCLI := func(args ...string) result {
		var out, errb strings.Builder
		code := run(context.Background(), args, strings.NewReader(""), &out, &errb, vars)
		return result{code, out.String(), errb.String()}
	}
	done := make(chan result)
	go func() { done <- runCLI(append([]string{"login"}, stemsLoginArgs(srv)...)...) }()
	callback, err := srv.SignIn(t.Context(), f.next(t))
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, callback)
	r := <-done
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to Stems Comply One as "+stemstest.DefaultUsername+".") ||
		!strings.Contains(r.stdout, `Tokens kept in the OS keychain (service "complykit").`) {
		t.Fatalf("login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	raw, err := keyring.Get(keyringService, tokenKey("stems"))
	if err != nil || !strings.Contains(raw, `"refresh_token":"stems-`) {
		t.Fatalf("keychain entry %q, %v; want the user's tokens", raw, err)
	}
	if files, _ := filepath.Glob(filepath.Join(home, "cache", "complykit", "tokens", "*")); len(files) != 0 {
		t.Errorf("tokens in files too: %v", files)
	}
	if rec, err := readLogin("stems"); err != nil || rec.Store != storeKeychain || strings.Contains(fmt.Sprint(rec), srv.ClientSecret) {
		t.Errorf("record %+v, %v", rec, err)
	}
	r = runCLI("call", "stems", "list-hazards", "--base-url", srv.URL, "--company", stemstest.DefaultCompany)
	if r.code != 0 || !strings.Contains(r.stdout, "Wet floor") {
		t.Fatalf("call: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	// A session without the keychain cannot use a keychain sign-in.
	a := &app{getenv: vars}
	fileOnly, _ := newFileStore(t.TempDir(), "no keychain")
	if _, err := a.signedIn(lookupProvider("stems"), fileOnly); err == nil || !strings.Contains(err.Error(), "OS keychain, which this session cannot use") {
		t.Errorf("keychain sign-in without a keychain: %v", err)
	}
	r = runCLI("logout", "stems")
	if r.code != 0 || !strings.Contains(r.stdout, `removed the tokens from the OS keychain.`) {
		t.Errorf("logout: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := keyring.Get(keyringService, tokenKey("stems")); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("after logout the keychain holds the tokens: %v", err)
	}
	if rec, err := readLogin("stems"); rec != nil || err != nil {
		t.Errorf("after logout the record is %v, %v", rec, err)
	}
}
