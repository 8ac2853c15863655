package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/option"
)

// userAgent is the product every CLI request names first.
const userAgent = "complykit-cli"

// open checks the flags every provider shares and opens the provider's
// client with the options the CLI gives every client.
func (a *app) open(ctx context.Context, p *provider, o *options) (session, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	common := []option.Option{
		option.WithUserAgent(userAgent),
		option.WithLogger(slog.New(a.progress.handler())),
		option.WithHTTPClient(a.progress.httpClient()),
	}
	common = append(common, o.extra...)
	var store auth.Store
	if !o.noCache && a.store != nil {
		ts, err := a.store()
		if err != nil {
			return nil, err
		}
		if ts != nil {
			store = ts
		}
		if p.login != nil {
			if o.login, err = a.signedIn(p, ts); err != nil {
				return nil, err
			}
		}
	}
	return p.open(ctx, o, common, store)
}

func (a *app) runToken(ctx context.Context, p *provider, o *options) error {
	tr, err := newCLITrace(o.trace, a.stderr)
	if err != nil {
		return err
	}
	o.extra = append(o.extra, tr.options()...)
	ctx, endTrace := tr.start(ctx, "complykit token "+p.name)
	defer endTrace()
	s, err := a.open(ctx, p, o)
	if err != nil {
		return err
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
		fmt.Fprintf(a.stdout, "access_token: %s\ntoken_type: %s\n", out.AccessToken, out.TokenType)
		if out.Expiry != "" {
			fmt.Fprintf(a.stdout, "expiry: %s (in %s)\n", out.Expiry, time.Until(tok.Expiry).Round(time.Second))
		}
		if out.Scope != "" {
			fmt.Fprintf(a.stdout, "scope: %s\n", out.Scope)
		}
		return nil
	}
	return writeJSON(a.stdout, out)
}

func (a *app) runCall(ctx context.Context, p *provider, o *options, op *operation) error {
	if err := o.check(); err != nil {
		return err
	}
	params := map[string]string{}
	for _, kv := range o.params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usagef("--param %q: want name=value", kv)
		}
		params[k] = v
	}
	var body []byte
	var err error
	switch o.body {
	case "":
	case "-":
		if body, err = io.ReadAll(io.LimitReader(a.stdin, 16<<20)); err != nil {
			return usagef("--body -: %v", err)
		}
	default:
		if body, err = os.ReadFile(o.body); err != nil {
			return usagef("--body: %v", err)
		}
	}
	tr, err := newCLITrace(o.trace, a.stderr)
	if err != nil {
		return err
	}
	o.extra = append(o.extra, tr.options()...)
	ctx, endTrace := tr.start(ctx, "complykit call "+p.name+" "+op.name)
	defer endTrace()
	s, err := a.open(ctx, p, o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	out, callErr := s.Call(withWaitLabel(ctx, p.name+" "+op.name), op.name, params, body)
	if out != nil {
		if err := writeResult(a.stdout, out, o.output); err != nil {
			return fmt.Errorf("writing the result: %w", err)
		}
	}
	return callErr
}

// fakeAddr is where `complykit fake` listens: --addr (host, or
// host:port), with the port from PORT when --addr has none, else a free
// one.
func fakeAddr(addr, port string) (string, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		// A host alone (127.0.0.1, ::1, 0.0.0.0, localhost).
		host, p = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), ""
		if host == "" || strings.ContainsAny(host, "/ ") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
			return "", usagef("--addr %q: want host or host:port, e.g. 127.0.0.1:8089 or 0.0.0.0", addr)
		}
	}
	if p == "" {
		p = "0"
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return "", usagef("PORT=%q: not a port number", port)
			}
			p = port
		}
	}
	if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
		return "", usagef("--addr %q: %q is not a port number", addr, p)
	}
	return net.JoinHostPort(host, p), nil
}

func (a *app) runFake(ctx context.Context, p *provider, o *options) error {
	addr, err := fakeAddr(o.addr, a.getenv("PORT"))
	if err != nil {
		return err
	}
	f, err := p.startFake(addr)
	if err != nil {
		return err
	}
	defer f.Close()
	if host, _, _ := net.SplitHostPort(addr); !auth.IsLoopback(host) {
		fmt.Fprintf(a.stderr, "complykit: warning: fake %s listens on %s, not loopback: anyone who can reach it can use it, and its control API (%s) has no authentication\n",
			p.name, addr, fake.ControlPrefix)
	}
	if o.verbose {
		var mu sync.Mutex
		f.Server().Observe(func(r fake.Request, control bool) {
			line := fmt.Sprintf("complykit fake %s: %s %s", p.name, r.Method, r.Path)
			if r.Query != "" {
				line += "?" + r.Query
			}
			if control {
				line += " (control)"
			}
			line += " -> " + strconv.Itoa(r.Status)
			if r.Error != "" {
				line += ": " + oneLine(r.Error)
			}
			mu.Lock()
			fmt.Fprintln(a.stderr, line)
			mu.Unlock()
		})
	}
	fmt.Fprintf(a.stdout, "complykit fake %s\n", p.name)
	for _, e := range append(f.Describe(), kv{"control URL", f.Server().ControlURL()}) {
		fmt.Fprintf(a.stdout, "  %-14s %s\n", e.k+":", e.v)
	}
	if samples := f.Samples(); len(samples) > 0 {
		fmt.Fprintf(a.stdout, "  samples (kind, id, name):\n")
		var rows [][]string
		for _, s := range samples {
			name := s.Name
			if s.Parent != "" {
				name += " (" + s.Parent + ")"
			}
			rows = append(rows, []string{s.Kind, s.ID, name})
		}
		fmt.Fprint(a.stdout, table(rows, "    "))
	}
	// The last line of the banner: a script can wait for it.
	fmt.Fprintf(a.stdout, "complykit fake %s: ready, serving until interrupted\n", p.name)
	if f, ok := a.stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	<-ctx.Done()
	f.Server().Observe(nil)
	fmt.Fprintln(a.stdout, "complykit fake: stopped")
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
