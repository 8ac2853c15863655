package auth_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"golang.org/x/oauth2"
)

func TestFileStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := auth.NewFileStore(filepath.Join(dir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if tok, err := s.Load(ctx, "k1"); tok != nil || err != nil {
		t.Fatalf("empty store: %v, %v", tok, err)
	}
	in := (&oauth2.Token{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: time.Unix(2e9, 0).UTC(), ExpiresIn: 1800}).
		WithExtra(map[string]any{"id_token": "idt", "scope": "email offline_access"})
	if err := s.Save(ctx, "k1", in); err != nil {
		t.Fatal(err)
	}
	out, err := s.Load(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if out.AccessToken != "at" || out.RefreshToken != "rt" || !out.Expiry.Equal(in.Expiry) || out.ExpiresIn != 1800 ||
		auth.IDToken(out) != "idt" || auth.GrantedScope(out) != "email offline_access" {
		t.Errorf("round trip lost something: %+v", out)
	}
	fi, _ := os.Stat(filepath.Join(dir, "tokens", "k1.token.json"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Join(dir, "tokens"))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v; want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "tokens"))
	if len(entries) != 1 {
		t.Errorf("%d files; the temporary file was left behind", len(entries))
	}
}

func TestFileStoreRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := auth.NewFileStore(dir)
	ctx := context.Background()
	s.Save(ctx, "k", &oauth2.Token{AccessToken: "at"})
	path := filepath.Join(dir, "k.token.json")

	os.Chmod(path, 0o644)
	if _, err := s.Load(ctx, "k"); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("group/world-readable file: err = %v", err)
	}
	os.Chmod(path, 0o600)

	target := filepath.Join(t.TempDir(), "elsewhere.json")
	os.WriteFile(target, []byte(`{"access_token":"planted"}`), 0o600)
	link := filepath.Join(dir, "evil.token.json")
	os.Symlink(target, link)
	if _, err := s.Load(ctx, "evil"); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("symlink: err = %v", err)
	}
	for _, key := range []string{"../escape", "a/b", "", ".."} {
		if err := s.Save(ctx, key, &oauth2.Token{AccessToken: "x"}); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
	os.WriteFile(path, []byte("not json"), 0o600)
	if _, err := s.Load(ctx, "k"); err == nil {
		t.Error("corrupt file accepted")
	}
}

func TestFileStoreConcurrentWriters(t *testing.T) {
	s, _ := auth.NewFileStore(t.TempDir())
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := s.Save(ctx, "k", &oauth2.Token{AccessToken: "at-" + itoa(int64(i))}); err != nil {
				t.Error(err)
			}
			if _, err := s.Load(ctx, "k"); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
}

func TestCacheRestoresFromFileStoreAfterRestart(t *testing.T) {
	rs := newRotatingServer(t, 1800)
	dir := t.TempDir()
	newStems := func() *auth.Cache {
		store, _ := auth.NewFileStore(dir)
		flow, _ := auth.Password(stemsConfig(rs.URL(), "offline_access"), testUser, testPassword, auth.FlowOptions{})
		return newCache(t, flow, auth.CacheOptions{Store: store})
	}
	first, _ := newStems().Token()
	// A new process: the token comes from the file, not the server.
	second, err := newStems().Token()
	if err != nil || second.AccessToken != first.AccessToken || rs.requests.Load() != 1 {
		t.Errorf("after restart: %v, %v, %d requests; want the stored token", second, err, rs.requests.Load())
	}
}

func TestMarshalTokenKeepsWhatStoresNeed(t *testing.T) {
	if _, err := auth.MarshalToken(nil); err == nil {
		t.Error("nil token marshalled")
	}
	if _, err := auth.UnmarshalToken([]byte(`{}`)); err == nil {
		t.Error("empty token accepted")
	}
	k1 := auth.Key("https://t", "id", "user", []string{"b", "a"})
	k2 := auth.Key("https://t", "id", "user", []string{"a", "b"})
	k3 := auth.Key("https://t", "id", "other", []string{"a", "b"})
	if k1 != k2 || k1 == k3 || strings.Contains(k1, "user") {
		t.Errorf("keys %s %s %s: want order-independent, subject-sensitive hashes", k1, k2, k3)
	}
}

// A sign-out deletes one key's token and leaves the others; deleting twice,
// or a key never saved, is not an error; a key that could escape the
// directory is refused.
func TestStoresDelete(t *testing.T) {
	ctx := context.Background()
	fs, err := auth.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]interface {
		auth.Store
		Delete(context.Context, string) error
	}{"memory": auth.NewMemoryStore(), "file": fs} {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"a", "b"} {
				if err := s.Save(ctx, k, &oauth2.Token{AccessToken: "at-" + k}); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if err := s.Delete(ctx, "a"); err != nil {
					t.Fatalf("Delete: %v", err)
				}
			}
			if err := s.Delete(ctx, "never"); err != nil {
				t.Errorf("Delete of a key never saved: %v", err)
			}
			if tok, err := s.Load(ctx, "a"); tok != nil || err != nil {
				t.Errorf("after Delete, Load = %v, %v; want nil, nil", tok, err)
			}
			if tok, _ := s.Load(ctx, "b"); tok == nil || tok.AccessToken != "at-b" {
				t.Errorf("Delete of a removed b too: %v", tok)
			}
		})
	}
	if err := fs.Delete(ctx, "../escape"); err == nil {
		t.Error("FileStore.Delete accepted a key with a path separator")
	}
}
