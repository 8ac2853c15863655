package main

import (
	"context"
	"flag"
	"sort"
	"strings"

	"golang.org/x/oauth2"
)

// session is a provider client opened from the command line.
type session interface {
	// Token returns the current access token (fetching one if needed).
	Token(ctx context.Context) (*oauth2.Token, error)
	// Call runs the operation (an operationId in kebab-case) and returns
	// its JSON result.
	Call(ctx context.Context, op string, params map[string]string, body []byte) ([]byte, error)
	// Operations lists what Call accepts.
	Operations() []string
}

// fake is a running fake server.
type fake interface {
	Close()
	// Describe lists what a test in any language needs: URLs and the test
	// client's credentials.
	Describe() []kv
}

type kv struct{ k, v string }

type provider struct {
	name        string
	baseURLHelp string
	flags       func(fs *flag.FlagSet, o *options)
	open        func(ctx context.Context, o *options) (session, error)
	startFake   func(addr string) (fake, error)
}

var providers = map[string]*provider{}

func register(p *provider) { providers[p.name] = p }

func providerNames() string {
	var names []string
	for n := range providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func lookupProvider(args []string) (*provider, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil, nil, usagef("missing provider (one of %s)", providerNames())
	}
	p, ok := providers[args[0]]
	if !ok {
		return nil, nil, usagef("unknown provider %q (one of %s)", args[0], providerNames())
	}
	return p, args[1:], nil
}

// requireCredentials checks the flags every client credentials provider needs.
func requireCredentials(o *options) error {
	var missing []string
	if o.clientID == "" {
		missing = append(missing, "--client-id")
	}
	if o.clientSecret == "" {
		missing = append(missing, "--client-secret")
	}
	if len(missing) > 0 {
		return usagef("%s: missing %s (or %s_CLIENT_ID / _CLIENT_SECRET)", o.provider, strings.Join(missing, " and "), envPrefix(o.provider))
	}
	return nil
}

func unknownOperation(provider, op string, ops []string) error {
	return usagef("%s has no operation %q; operations: %s", provider, op, strings.Join(ops, ", "))
}
