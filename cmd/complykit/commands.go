package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
)

// openSession parses a provider's flags and opens a client.
func openSession(ctx context.Context, cmd string, args []string, stderr io.Writer, getenv env) (*options, session, []string, error) {
	p, rest, err := lookupProvider(args)
	if err != nil {
		return nil, nil, nil, err
	}
	o := &options{provider: p.name}
	fs := newFlagSet(cmd, p, o, stderr)
	positional, err := parseFlags(fs, p.name, rest, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := o.checkOutput(); err != nil {
		return nil, nil, nil, err
	}
	if o.timeout <= 0 {
		return nil, nil, nil, usagef("--timeout must be positive")
	}
	s, err := p.open(ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	return o, s, positional, nil
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	o, s, positional, err := openSession(ctx, "token", args, stderr, getenv)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usagef("token: unexpected argument %q", positional[0])
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tok, err := s.Token(ctx)
	if err != nil {
		return err
	}
	// Never the refresh token, never a secret.
	out := struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Expiry      string `json:"expiry,omitempty"`
		Scope       string `json:"scope,omitempty"`
	}{AccessToken: tok.AccessToken, TokenType: tok.Type(), Scope: auth.GrantedScope(tok)}
	if !tok.Expiry.IsZero() {
		out.Expiry = tok.Expiry.UTC().Format(time.RFC3339)
	}
	if o.output == "text" {
		fmt.Fprintf(stdout, "access_token: %s\ntoken_type: %s\n", out.AccessToken, out.TokenType)
		if out.Expiry != "" {
			fmt.Fprintf(stdout, "expiry: %s (in %s)\n", out.Expiry, time.Until(tok.Expiry).Round(time.Second))
		}
		if out.Scope != "" {
			fmt.Fprintf(stdout, "scope: %s\n", out.Scope)
		}
		return nil
	}
	return writeJSON(stdout, out)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runCall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	o, s, positional, err := openSession(ctx, "call", args, stderr, getenv)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("call %s: want exactly one operation (one of %s)", o.provider, strings.Join(s.Operations(), ", "))
	}
	params := map[string]string{}
	for _, p := range o.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return usagef("--param %q: want name=value", p)
		}
		params[k] = v
	}
	var body []byte
	switch o.body {
	case "":
	case "-":
		if body, err = io.ReadAll(io.LimitReader(stdin, 16<<20)); err != nil {
			return usagef("--body -: %v", err)
		}
	default:
		if body, err = os.ReadFile(o.body); err != nil {
			return usagef("--body: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	out, err := s.Call(ctx, positional[0], params, body)
	if err != nil {
		return err
	}
	var v any
	if json.Unmarshal(out, &v) != nil {
		_, err := stdout.Write(append(out, '\n'))
		return err
	}
	return writeJSON(stdout, v)
}

func runFake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p, rest, err := lookupProvider(args)
	if err != nil {
		return err
	}
	fs := newFakeFlags(p.name, stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	if _, err := parseFlags(fs, p.name, rest, func(string) string { return "" }); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usagef("--addr %q: %v", *addr, err)
	}
	if !auth.IsLoopback(host) {
		return usagef("--addr %q: the fake serves loopback only (127.0.0.1, ::1 or localhost)", *addr)
	}
	f, err := p.startFake(*addr)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(stdout, "complykit fake %s serving until interrupted\n", p.name)
	for _, e := range f.Describe() {
		fmt.Fprintf(stdout, "  %-14s %s\n", e.k+":", e.v)
	}
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "complykit fake: stopped")
	return nil
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var te *auth.TokenError
	if errors.As(err, &te) {
		if te.StatusCode == 0 || te.Temporary() {
			return exitNetwork
		}
		return exitAuth
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return exitNetwork
	}
	if status, ok := apiStatus(err); ok {
		if status == 401 || status == 403 {
			return exitAuth
		}
		return exitAPI
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return exitNetwork
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return exitNetwork
	}
	return exitInternal
}

// oneLine keeps error output to one clear line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
