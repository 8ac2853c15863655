package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli/browser"
	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/option"
	"github.com/google/shlex"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"
)

// `complykit login <provider>` signs a user in with the authorization
// code flow as gh and gcloud do it for a CLI (RFC 8252, OAuth 2.0 for
// native apps): it listens on a loopback port, opens the browser on the
// authorize URL (PKCE S256, a random state), receives the code on the
// loopback redirect, checks the state, exchanges the code, keeps the
// tokens (the OS keychain, else a 0600 file) and says who signed in.
// From then on `token` and `call` for that provider act as that user,
// refreshing the tokens, until `complykit logout <provider>`.

// loginSpec is what a provider with a user sign-in adds.
type loginSpec struct {
	// flags declares the provider's own login flags.
	flags func(fs *pflag.FlagSet, o *options)
	// begin checks the flags and returns the flow for redirectURL and
	// the record to keep once the user has signed in (User and Subject
	// still empty).
	begin func(o *options, redirectURL string, common []option.Option) (*auth.AuthCodeFlow, *loginRecord, error)
	// who names the user tok acts for (what login prints) and returns the
	// subject the record keeps.
	who func(ctx context.Context, o *options, rec *loginRecord, tok *oauth2.Token, common []option.Option) (name, subject string, err error)
}

// loginRecord is what the CLI remembers of a sign-in, beside the tokens:
// nothing secret (the client secret is given again on each run, from the
// flag or its environment variable; the tokens are in the token store).
type loginRecord struct {
	Provider string `json:"provider"`
	// User names who signed in, for people; Subject identifies them.
	User    string `json:"user"`
	Subject string `json:"subject,omitempty"`
	// ClientID is the OAuth client the user signed in to; Confidential
	// says whether it has a secret (which refreshing needs again).
	ClientID     string `json:"client_id"`
	Confidential bool   `json:"confidential"`
	AuthURL      string `json:"auth_url,omitempty"`
	TokenURL     string `json:"token_url,omitempty"`
	// RedirectURL is the loopback redirect URI the code was issued for.
	RedirectURL string   `json:"redirect_url"`
	Scopes      []string `json:"scopes,omitempty"`
	// Instance is CloudCompli's host.
	Instance string `json:"instance,omitempty"`
	// Store is where the tokens are: storeKeychain or storeFile.
	Store    string    `json:"store"`
	SignedIn time.Time `json:"signed_in"`

	// store holds the tokens (set when the record is read).
	store tokenStore
}

// tokenKey is the key of a signed-in user's tokens in the token store.
func tokenKey(provider string) string { return "login-" + provider }

// tokens is the store of the signed-in user's tokens, for a client's
// option.WithStore: whatever key the client's cache uses, the tokens are
// the login's, so a rotated refresh token replaces the login's and
// `complykit logout` finds it.
func (r *loginRecord) tokens() auth.Store { return fixedKey{r.store, tokenKey(r.Provider)} }

// token loads the signed-in user's tokens.
func (r *loginRecord) token(ctx context.Context) (*oauth2.Token, error) {
	tok, err := r.store.Load(ctx, tokenKey(r.Provider))
	if err != nil {
		return nil, fmt.Errorf("%s: signed in as %s, but the tokens cannot be read from %s: %w", r.Provider, r.User, r.store.Where(), err)
	}
	if tok == nil {
		return nil, &authFailure{fmt.Sprintf("%s: signed in as %s, but %s holds no tokens any more: run complykit login %s again", r.Provider, r.User, r.store.Where(), r.Provider)}
	}
	return tok, nil
}

// authFailure is an authentication the user must redo (exit 3).
type authFailure struct{ msg string }

func (e *authFailure) Error() string { return e.msg }

type fixedKey struct {
	s   tokenStore
	key string
}

func (f fixedKey) Load(ctx context.Context, _ string) (*oauth2.Token, error) {
	return f.s.Load(ctx, f.key)
}
func (f fixedKey) Save(ctx context.Context, _ string, tok *oauth2.Token) error {
	return f.s.Save(ctx, f.key, tok)
}

// loginDir is where login records are kept: complykit in the user's
// config directory.
func loginDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory to keep the sign-in in: %w", err)
	}
	return filepath.Join(dir, "complykit"), nil
}

func loginPath(provider string) (string, error) {
	dir, err := loginDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "login-"+provider+".json"), nil
}

// readLogin returns the provider's login record, or nil if nobody is
// signed in.
func readLogin(provider string) (*loginRecord, error) {
	p, err := loginPath(provider)
	if err != nil {
		return nil, nil // nowhere one could have been kept
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec loginRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Provider != provider {
		return nil, fmt.Errorf("%s: the sign-in record %s is damaged: run complykit logout %s", provider, p, provider)
	}
	return &rec, nil
}

// writeLogin keeps rec, atomically, readable only by the user.
func writeLogin(rec *loginRecord) error {
	p, err := loginPath(rec.Provider)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".login-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// signedIn returns the provider's signed-in user, with the store that
// holds their tokens, or nil.
func (a *app) signedIn(p *provider, ts tokenStore) (*loginRecord, error) {
	rec, err := readLogin(p.name)
	if err != nil || rec == nil {
		return nil, err
	}
	if ts == nil || (rec.Store == storeKeychain && ts.Kind() != storeKeychain) {
		where := "nowhere to read tokens from here"
		if ts != nil {
			where = "here the tokens would be in " + ts.Where()
		}
		return nil, fmt.Errorf("%s: signed in as %s with the tokens in the OS keychain, which this session cannot use (%s): run complykit logout %s, or sign in again",
			p.name, rec.User, where, p.name)
	}
	rec.store = ts
	return rec, nil
}

func (a *app) loginCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login <provider>",
		Short: "Sign in as a user in the browser; token and call then act as that user",
		Long: `login signs you in to the provider in your browser, with the OAuth
authorization code flow for command-line apps (RFC 8252): it listens for the
redirect on a loopback port (http://127.0.0.1:PORT/callback), opens the
sign-in page in your browser, checks that the redirect answers the request it
made (state), exchanges the code with PKCE, keeps the tokens and prints who
signed in. From then on "complykit token <provider>" and "complykit call
<provider>" act as you, refreshing the tokens, until "complykit logout
<provider>".

The browser is --browser (a command; the URL is appended, or replaces %s),
else the BROWSER environment variable, else the system's opener; when none
can be started the URL is printed for you to open. Vendors need the redirect
URI registered: give the registered port with --port.

Tokens are kept in the OS keychain (macOS Keychain, Windows Credential
Manager, the Secret Service on Linux) where there is one, else in a file only
you can read (mode 0600) in your cache directory; login says which.
` + tokenStoreEnv + `=file or =keychain chooses.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun("provider"),
	}
	for _, p := range providers {
		if p.login == nil {
			continue
		}
		o := &options{provider: p.name}
		c := providerCmd(p, p.name, "Sign in to "+p.title+" as a user, in the browser")
		c.Long = "Sign in to " + p.title + " in your browser (see complykit login --help).\n\n" + flagHelp(p.name)
		c.Args = noArgs
		c.PersistentPreRunE = a.envHook(p)
		c.RunE = a.runE(func(cmd *cobra.Command, _ []string) error { return a.runLogin(cmd.Context(), p, o) })
		fs := c.Flags()
		fs.StringVar(&o.clientID, "client-id", "", "OAuth client id (required)")
		p.login.flags(fs, o)
		fs.IntVar(&o.port, "port", 0, "loopback `port` of the redirect URI http://127.0.0.1:PORT/callback (default a free one; give the one registered with the vendor)")
		fs.StringVar(&o.browser, "browser", "", "`command` that opens the sign-in URL (appended, or in place of %s); default $BROWSER, else the system's opener")
		fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the sign-in")
		cmd.AddCommand(c)
	}
	return cmd
}

func (a *app) logoutCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logout <provider>",
		Short: "Forget the signed-in user and their tokens",
		Long: `logout forgets the user "complykit login <provider>" signed in, and removes
their tokens from the OS keychain or the token file. token and call then use
the provider's other credentials again. Signing out when nobody is signed in
is no error.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun("provider"),
	}
	for _, p := range providers {
		if p.login == nil {
			continue
		}
		c := providerCmd(p, p.name, "Sign out of "+p.title)
		c.Args = noArgs
		c.RunE = a.runE(func(cmd *cobra.Command, _ []string) error { return a.runLogout(cmd.Context(), p) })
		cmd.AddCommand(c)
	}
	return cmd
}

func (a *app) runLogout(ctx context.Context, p *provider) error {
	rec, err := readLogin(p.name)
	if err != nil {
		// A damaged record: remove it and whatever tokens it had.
		rec = &loginRecord{Provider: p.name, User: "an unknown user"}
	}
	if rec == nil {
		fmt.Fprintf(a.stdout, "Not signed in to %s: nothing to forget.\n", p.title)
		return nil
	}
	ts, err := a.store()
	if err != nil {
		return err
	}
	where := "nowhere"
	if ts != nil {
		if rec.Store == storeKeychain && ts.Kind() != storeKeychain {
			return fmt.Errorf("%s: the tokens of %s are in the OS keychain, which this session cannot use: sign out where it can", p.name, rec.User)
		}
		if err := ts.Delete(ctx, tokenKey(p.name)); err != nil {
			return fmt.Errorf("%s: removing the tokens from %s: %w", p.name, ts.Where(), err)
		}
		where = ts.Name()
	}
	path, err := loginPath(p.name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	fmt.Fprintf(a.stdout, "Signed out of %s (%s); removed the tokens from %s.\n", p.title, rec.User, where)
	return nil
}

// callbackPath is the path of the loopback redirect URI.
const callbackPath = "/callback"

func (a *app) runLogin(ctx context.Context, p *provider, o *options) error {
	if o.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	if o.clientID == "" {
		return usagef("%s: missing --client-id (or %s_CLIENT_ID)", p.name, envPrefix(p.name))
	}
	if o.port < 0 || o.port > 65535 {
		return usagef("--port %d: not a port number", o.port)
	}
	ts, err := a.store()
	if err != nil {
		return err
	}
	if ts == nil {
		return errors.New("login: no OS keychain and no cache directory: nowhere to keep the tokens")
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)))
	if err != nil {
		return usagef("--port %d: cannot listen on 127.0.0.1: %v", o.port, err)
	}
	defer l.Close()
	host := l.Addr().String()
	redirectURL := "http://" + host + callbackPath

	common := []option.Option{
		option.WithUserAgent(userAgent),
		option.WithLogger(slog.New(a.progress.handler())),
		option.WithHTTPClient(a.progress.httpClient()),
	}
	flow, rec, err := p.login.begin(o, redirectURL, common)
	if err != nil {
		return err
	}
	rec.Provider, rec.ClientID, rec.RedirectURL, rec.Store = p.name, o.clientID, redirectURL, ts.Kind()
	authURL, state, verifier := flow.NewAuthCodeURL()

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	done := make(chan error, 1)
	var answered atomic.Bool // the first callback with this sign-in's state wins
	var user string
	out := &lockedWriter{w: a.stderr}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != host {
			// DNS rebinding: a page elsewhere reaching this port through
			// a name of its own.
			callbackPage(w, http.StatusBadRequest, "Wrong host", "This port answers only the sign-in's redirect, at "+redirectURL+".")
			return
		}
		if r.URL.Path != callbackPath {
			callbackPage(w, http.StatusNotFound, "Not found", "This port answers only the sign-in's redirect, at "+redirectURL+".")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			callbackPage(w, http.StatusMethodNotAllowed, "Method not allowed", "The sign-in's redirect is a GET or a POST.")
			return
		}
		code, err := flow.ReadCallback(r, state)
		var refused *auth.AuthorizationError
		if err != nil && !errors.As(err, &refused) {
			fmt.Fprintf(out, "complykit: login: ignored a request to %s: %s\n", redirectURL, oneLine(err.Error()))
			callbackPage(w, http.StatusBadRequest, "Not this sign-in",
				"This is not the answer to the sign-in complykit login is waiting for ("+oneLine(err.Error())+"). Go back to the terminal, or start again.")
			return
		}
		if !answered.CompareAndSwap(false, true) {
			callbackPage(w, http.StatusConflict, "Already answered", "complykit login already has its answer; you can close this window.")
			return
		}
		if refused != nil {
			callbackPage(w, http.StatusForbidden, "Sign-in refused", "The sign-in was refused: "+refused.Code+". Go back to the terminal.")
			done <- &authFailure{p.name + ": login: " + oneLine(refused.Error())}
			return
		}
		name, err := a.finishLogin(ctx, p, o, rec, flow, code, verifier, ts, common)
		if err != nil {
			callbackPage(w, http.StatusBadGateway, "Sign-in failed", "complykit could not finish the sign-in: "+oneLine(err.Error()))
			done <- err
			return
		}
		user = name
		callbackPage(w, http.StatusOK, "Signed in", "Signed in to "+p.title+" as "+name+". You can close this window and go back to the terminal.")
		done <- nil
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: o.timeout + time.Minute, IdleTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(l)
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
	}()

	fmt.Fprintf(out, "complykit: waiting up to %s for the sign-in's redirect to %s\n", o.timeout, redirectURL)
	a.openBrowser(ctx, out, o.browser, authURL, flow)

	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("login: no sign-in within %s (--timeout): %w", o.timeout, ctx.Err())
		}
		return fmt.Errorf("login: %w", ctx.Err())
	}
	fmt.Fprintf(a.stdout, "Signed in to %s as %s.\n", p.title, user)
	fmt.Fprintf(a.stdout, "Tokens kept in %s.\n", ts.Where())
	fmt.Fprintf(a.stdout, "complykit token %[1]s and complykit call %[1]s act as %[2]s until complykit logout %[1]s.\n", p.name, user)
	return nil
}

// finishLogin exchanges the code, finds out who signed in, and keeps the
// tokens and the record; it returns the user's name.
func (a *app) finishLogin(ctx context.Context, p *provider, o *options, rec *loginRecord, flow *auth.AuthCodeFlow, code, verifier string,
	ts tokenStore, common []option.Option) (string, error) {
	tok, err := flow.Exchange(ctx, code, verifier)
	if err != nil {
		return "", fmt.Errorf("%s: login: %w", p.name, err)
	}
	name, subject, err := p.login.who(ctx, o, rec, tok, common)
	if err != nil {
		return "", fmt.Errorf("%s: login: %w", p.name, err)
	}
	rec.User, rec.Subject, rec.SignedIn = name, subject, time.Now().UTC().Truncate(time.Second)
	if err := ts.Save(ctx, tokenKey(p.name), tok); err != nil {
		return "", fmt.Errorf("%s: login: keeping the tokens in %s: %w", p.name, ts.Where(), err)
	}
	if err := writeLogin(rec); err != nil {
		ts.Delete(ctx, tokenKey(p.name))
		return "", fmt.Errorf("%s: login: keeping the sign-in: %w", p.name, err)
	}
	return name, nil
}

// openBrowser opens authURL: with --browser's command, else $BROWSER's,
// else the system's opener (github.com/cli/browser, as gh does). When
// none can be started, or the command fails, it prints the URL for the
// user to open.
func (a *app) openBrowser(ctx context.Context, out io.Writer, command, authURL string, flow *auth.AuthCodeFlow) {
	showURL := func(why string) {
		note := ""
		if u, err := url.Parse(authURL); err == nil && u.Query().Has("client_secret") {
			note = " (it carries the client secret, as --documented-quirks asks: do not share it)"
		}
		fmt.Fprintf(out, "complykit: %s; open this URL in your browser to sign in%s:\n  %s\n", why, note, authURL)
	}
	where := authURL
	if u, err := url.Parse(authURL); err == nil {
		u.RawQuery = ""
		where = u.String()
	}
	if command == "" {
		command = a.getenv("BROWSER")
	}
	if command == "" {
		browser.Stdout, browser.Stderr = io.Discard, io.Discard
		if err := browser.OpenURL(authURL); err != nil {
			showURL("could not open a browser (" + oneLine(flow.Redactor().Redact(err.Error())) + ")")
			return
		}
		fmt.Fprintf(out, "complykit: opened the sign-in page (%s) in your browser\n", where)
		return
	}
	argv, err := shlex.Split(command)
	if err != nil || len(argv) == 0 {
		showURL(fmt.Sprintf("the browser command %q cannot be read", command))
		return
	}
	replaced := false
	for i, arg := range argv {
		if strings.Contains(arg, "%s") {
			argv[i], replaced = strings.ReplaceAll(arg, "%s", authURL), true
		}
	}
	if !replaced {
		argv = append(argv, authURL)
	}
	// Not tied to ctx: a browser the command starts outlives login.
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		showURL("could not start the browser command " + argv[0] + " (" + oneLine(err.Error()) + ")")
		return
	}
	fmt.Fprintf(out, "complykit: opened the sign-in page (%s) with %s\n", where, argv[0])
	go func() {
		// A browser that is already running hands the URL over and exits;
		// one that is not keeps running until closed. Only a failure is
		// news.
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			showURL("the browser command " + argv[0] + " failed (" + oneLine(err.Error()) + ")")
		}
	}()
}

// callbackPage is the small page the browser gets from the loopback
// redirect.
func callbackPage(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>complykit login: %[1]s</title>`+
		`<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}</style></head>`+
		`<body><h1 id="title">%[1]s</h1><p id="message">%[2]s</p></body></html>`, html.EscapeString(title), html.EscapeString(msg))
}

// lockedWriter serializes writes from the callback handler, the browser
// watcher and the command.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// idTokenClaims reads the claims of an id_token that came straight from
// the token endpoint over TLS, for display only (OpenID Connect Core
// 3.1.3.7 lets a client skip the signature check then): nothing is
// decided on them.
func idTokenClaims(idToken string) map[string]any {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(b, &claims) != nil {
		return nil
	}
	return claims
}
