package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/complykit/complykit-go/auth"
	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// Tokens at rest. The CLI keeps every token it obtains (a client's cached
// token, Stems' rotating refresh token, a signed-in user's tokens) in the
// operating system's keychain where there is one, as gh does: the macOS
// Keychain, the Windows Credential Manager, or the Secret Service (GNOME
// Keyring, KWallet) over D-Bus. Where there is none (CI, containers, a
// server without a desktop session), it falls back to auth.FileStore:
// one file per token in the user's cache directory, mode 0600.
//
// COMPLYKIT_TOKEN_STORE chooses: "keychain" (fail without one), "file", or
// unset (the keychain if it answers, else the file).

// keyringService is the service name of the CLI's keychain entries; the
// account is the token's key.
const keyringService = "complykit"

// tokenStoreEnv chooses the store.
const tokenStoreEnv = "COMPLYKIT_TOKEN_STORE"

// Kinds of token store, as login records name them.
const (
	storeKeychain = "keychain"
	storeFile     = "file"
)

// tokenStore is an auth.Store that can also forget a token and say where
// it keeps them.
type tokenStore interface {
	auth.Store
	// Delete forgets the token saved under key; forgetting one that is
	// not there is no error.
	Delete(ctx context.Context, key string) error
	// Kind is storeKeychain or storeFile.
	Kind() string
	// Where says where the tokens are and, for a file, why not the
	// keychain, for login's output; Name says where, briefly.
	Where() string
	Name() string
}

// openTokenStore returns the store COMPLYKIT_TOKEN_STORE asks for (see
// above), or an error saying why that one cannot be had, or nil, nil when
// there is no keychain and no fileDir (the fallback's directory).
func openTokenStore(getenv env, fileDir string) (tokenStore, error) {
	mode := getenv(tokenStoreEnv)
	switch mode {
	case "", "auto", storeKeychain, storeFile:
	default:
		return nil, usagef("%s=%q: want keychain, file or auto", tokenStoreEnv, mode)
	}
	var why string
	if mode != storeFile {
		err := keychainAnswers()
		if err == nil {
			var fallback *fileStore
			if fileDir != "" {
				fallback, _ = newFileStore(fileDir, "")
			}
			return &keychainStore{file: fallback}, nil
		}
		if mode == storeKeychain {
			return nil, fmt.Errorf("%s=keychain, but the OS keychain does not answer: %v", tokenStoreEnv, oneLine(err.Error()))
		}
		why = "no OS keychain here (" + oneLine(err.Error()) + ")"
	} else {
		why = tokenStoreEnv + "=file"
	}
	if fileDir == "" {
		return nil, nil // nowhere to keep tokens: none are kept
	}
	return newFileStore(fileDir, why)
}

// keychainAnswers reports whether the OS keychain can be used: a read of
// an entry that does not exist answers "not found".
func keychainAnswers() error {
	_, err := keyring.Get(keyringService, "complykit-probe")
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// keychainStore keeps tokens in the OS keychain, each under its key as
// the account of service "complykit", encoded by auth.MarshalToken. A token
// too large for the keychain (macOS and Windows bound an entry's size)
// goes to the file store instead, as does reading a token the CLI saved
// in a file before it found a keychain; saving it in the keychain removes
// the file.
type keychainStore struct {
	file *fileStore // nil without a cache directory
}

func (k *keychainStore) Kind() string { return storeKeychain }

func (k *keychainStore) Where() string {
	return fmt.Sprintf("the OS keychain (service %q)", keyringService)
}

func (k *keychainStore) Name() string { return "the OS keychain" }

func (k *keychainStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	s, err := keyring.Get(keyringService, key)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		if k.file != nil {
			return k.file.Load(ctx, key)
		}
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("OS keychain: %s", oneLine(err.Error()))
	}
	tok, err := auth.UnmarshalToken([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("OS keychain: entry %s: %w", key, err)
	}
	return tok, nil
}

func (k *keychainStore) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	data, err := auth.MarshalToken(tok)
	if err != nil {
		return err
	}
	err = keyring.Set(keyringService, key, string(data))
	if errors.Is(err, keyring.ErrSetDataTooBig) && k.file != nil {
		if err := k.file.Save(ctx, key, tok); err != nil {
			return err
		}
		if err := keyring.Delete(keyringService, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("OS keychain: %s", oneLine(err.Error()))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("OS keychain: %s", oneLine(err.Error()))
	}
	if k.file != nil {
		// A copy in a file, from before there was a keychain, or too
		// large once: the keychain's is the one now.
		return k.file.Delete(ctx, key)
	}
	return nil
}

func (k *keychainStore) Delete(ctx context.Context, key string) error {
	if err := keyring.Delete(keyringService, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("OS keychain: %s", oneLine(err.Error()))
	}
	if k.file != nil {
		return k.file.Delete(ctx, key)
	}
	return nil
}

// fileStore is auth.FileStore, which says where it keeps tokens: in dir,
// one file per key, mode 0600.
type fileStore struct {
	*auth.FileStore
	dir string
	why string // why not the keychain
}

func newFileStore(dir, why string) (*fileStore, error) {
	s, err := auth.NewFileStore(dir)
	if err != nil {
		return nil, err
	}
	return &fileStore{FileStore: s, dir: dir, why: why}, nil
}

func (f *fileStore) Kind() string { return storeFile }

func (f *fileStore) Where() string {
	return fmt.Sprintf("%s (files only you can read, mode 0600; %s)", f.dir, f.why)
}

func (f *fileStore) Name() string { return f.dir }

// tokenDir is the fallback's directory: complykit/tokens in the user's
// cache directory, or "" if there is none.
func tokenDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "complykit", "tokens")
}
