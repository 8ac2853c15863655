package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"golang.org/x/oauth2"
)

// Store persists tokens, refresh tokens included, across restarts and
// processes. A Cache loads from it before fetching and saves every token it
// fetches, before handing it out.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Load returns the token saved under key, or (nil, nil) if there is none.
	Load(ctx context.Context, key string) (*oauth2.Token, error)
	// Save replaces the token saved under key.
	Save(ctx context.Context, key string, tok *oauth2.Token) error
}

// Locker is implemented by stores shared between processes. A Cache holds
// the lock for key around each fetch and re-reads the store under it, so a
// fleet fetches one token per lifetime and two processes never race on a
// rotated refresh token. unlock must be called once.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// MemoryStore keeps tokens in this process only. It is the default Store.
// It prints, encodes and logs without its tokens, under every verb.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]*oauth2.Token
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{tokens: map[string]*oauth2.Token{}} }

// Load returns the token saved under key.
func (s *MemoryStore) Load(_ context.Context, key string) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[key], nil
}

// Save replaces the token saved under key.
func (s *MemoryStore) Save(_ context.Context, key string, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = map[string]*oauth2.Token{}
	}
	s.tokens[key] = tok
	return nil
}

// Delete forgets the token saved under key; forgetting one that is not
// there is not an error.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, key)
	return nil
}

func (s *MemoryStore) safe() Safe {
	s.mu.Lock()
	n := len(s.tokens)
	s.mu.Unlock()
	return Safe{Type: "auth.MemoryStore", Fields: []SafeField{Public("Tokens", n)}}
}

// String describes the store without its tokens.
func (s *MemoryStore) String() string { return s.safe().String() }

// Format prints String under every verb.
func (s *MemoryStore) Format(f fmt.State, verb rune) { s.safe().Format(f, verb) }

// MarshalJSON encodes the description, without the tokens.
func (s *MemoryStore) MarshalJSON() ([]byte, error) { return s.safe().MarshalJSON() }

// LogValue logs the description, without the tokens.
func (s *MemoryStore) LogValue() slog.Value { return s.safe().LogValue() }

// FileStore keeps one file per key in a directory, for tokens that should
// survive a restart (the CLI keeps its tokens in one). Files are written
// atomically (temporary file, fsync, rename) with mode 0600, and a file that
// is a symlink or readable by group or others is refused rather than read.
type FileStore struct {
	dir string
	mu  sync.Mutex
}

// NewFileStore returns a FileStore in dir, creating it with mode 0700 if
// needed.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("auth: file store: directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: file store: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

var fileKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

func (s *FileStore) path(key string) (string, error) {
	if !fileKeyPattern.MatchString(key) || key == "." || key == ".." {
		return "", errors.New("auth: file store: key must be 1-128 characters of [A-Za-z0-9._-]")
	}
	return filepath.Join(s.dir, key+".token.json"), nil
}

// Load reads the token saved under key.
func (s *FileStore) Load(_ context.Context, key string) (*oauth2.Token, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: file store: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("auth: file store: %s is a symlink; refusing to read it", p)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("auth: file store: %s is not a regular file", p)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("auth: file store: %s is readable by others (mode %#o); refusing to read it, chmod 600 it", p, fi.Mode().Perm())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("auth: file store: %w", err)
	}
	tok, err := UnmarshalToken(data)
	if err != nil {
		return nil, fmt.Errorf("auth: file store: %s: %w", p, err)
	}
	return tok, nil
}

// Save writes the token atomically with mode 0600.
func (s *FileStore) Save(_ context.Context, key string, tok *oauth2.Token) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	data, err := MarshalToken(tok)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeFileAtomic(p, data)
}

// Delete removes the file of the token saved under key (a sign-out);
// removing one that is not there is not an error.
func (s *FileStore) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("auth: file store: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".token-*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return fmt.Errorf("auth: file store: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("auth: file store: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("auth: file store: %w", err)
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("auth: file store: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("auth: file store: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("auth: file store: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // make the rename durable; best effort on filesystems without it
		d.Close()
	}
	return nil
}
