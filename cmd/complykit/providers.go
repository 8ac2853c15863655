package main

import (
	"context"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"sort"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/option"
	"github.com/spf13/pflag"
	"golang.org/x/oauth2"
)

// session is a provider client opened from the command line.
type session interface {
	// Token returns the current access token (fetching one if needed).
	Token(ctx context.Context) (*oauth2.Token, error)
	// Call runs the operation (one of the provider's operations, by
	// name) and returns its JSON result. A result that is an answer and
	// a failure at once (First AML's ValidationErrors) comes back with a
	// non-nil error too.
	Call(ctx context.Context, op string, params map[string]string, body []byte) ([]byte, error)
}

// operation is what `complykit call <provider> <name>` runs, described
// from the provider's spec so that help needs no credentials.
type operation struct {
	name  string // kebab-case operationId, or GraphQL operation name
	short string // one line
	long  string // what it does, its parameters, its body and its result
	// params are the names --param accepts, for completion.
	params []string
	// body reports whether the operation takes --body.
	body bool
}

// runningFake is a running fake server.
type runningFake interface {
	Close()
	// Describe lists what a test in any language needs: URLs and the test
	// client's credentials.
	Describe() []kv
	// Samples lists the records the fake starts with.
	Samples() []fake.Sample
	// Server is the machinery under the fake, for --verbose.
	Server() *fakeserver.Server
}

type kv struct{ k, v string }

// provider is one of the four APIs: its flags, how a session is opened
// from them, its operations and its fake.
type provider struct {
	order int    // where the design lists it: Stems, Stenn, CloudCompli, First AML
	name  string // as typed on the command line: stems
	title string // Stems Comply One
	// flags declares the provider's own flags (the CLI adds those every
	// provider takes: see addProviderFlags).
	flags func(fs *pflag.FlagSet, o *options)
	// refused explains, by flag name, why a flag that other providers
	// take is not one of this provider's; the error for an unknown flag
	// says it.
	refused map[string]string
	// open makes a client from the flags. common are the options the CLI
	// gives every client (User-Agent, logger, HTTP client); store is the
	// token cache, nil with --no-cache.
	open func(ctx context.Context, o *options, common []option.Option, store auth.Store) (session, error)
	// operations lists what `call` runs, from the spec.
	operations func() ([]*operation, error)
	startFake  func(addr string) (runningFake, error)
	// login is the user sign-in of `complykit login`, for providers with
	// one (Stems, CloudCompli).
	login *loginSpec
}

// providers in the order the design and the README present them.
var providers []*provider

func register(p *provider) {
	providers = append(providers, p)
	sort.SliceStable(providers, func(i, j int) bool { return providers[i].order < providers[j].order })
}

func lookupProvider(name string) *provider {
	for _, p := range providers {
		if p.name == name {
			return p
		}
	}
	return nil
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
