package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/complykit/complykit-go/auth"
)

var errHelp = errors.New("help shown")

// options are the flags every provider takes, plus the provider-specific
// ones (unused ones stay empty).
type options struct {
	provider     string
	tokenURL     string
	baseURL      string
	clientID     string
	clientSecret string
	scopes       stringList
	output       string
	noCache      bool
	timeout      time.Duration

	// Stems
	username, password, company string
	// Stenn
	sandbox bool
	// CloudCompli
	instance, accessToken string

	// call
	params stringList
	body   string
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// newFlagSet declares the flags of a command for one provider.
func newFlagSet(cmd string, p *provider, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("complykit "+cmd+" "+p.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint (default: the provider's documented one)")
	fs.StringVar(&o.baseURL, "base-url", "", p.baseURLHelp)
	fs.StringVar(&o.clientID, "client-id", "", "OAuth client id")
	fs.StringVar(&o.clientSecret, "client-secret", "", "OAuth client secret (prefer the environment variable)")
	fs.Var(&o.scopes, "scope", "scope to request (repeatable)")
	fs.StringVar(&o.output, "output", "json", "output format: json or text")
	fs.BoolVar(&o.noCache, "no-cache", false, "do not read or write the token cache")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "overall time limit")
	if p.flags != nil {
		p.flags(fs, o)
	}
	if cmd == "call" {
		fs.Var(&o.params, "param", "path, query or header parameter as name=value (repeatable)")
		fs.StringVar(&o.body, "body", "", "request body: a JSON file, or - for stdin")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nEvery flag falls back to the environment variable %s_<FLAG>, e.g. %s_CLIENT_SECRET.\n",
			envPrefix(p.name), envPrefix(p.name))
	}
	return fs
}

func envPrefix(provider string) string { return "COMPLYKIT_" + strings.ToUpper(provider) }

// parseFlags parses args and fills every flag not given on the command
// line from COMPLYKIT_<PROVIDER>_<FLAG>.
func parseFlags(fs *flag.FlagSet, provider string, args []string, getenv env) ([]string, error) {
	// Allow flags after positional arguments ("call stenn list-companies --sandbox").
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{err.Error()}
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || f.Name == "body" || f.Name == "param" {
			return
		}
		name := envPrefix(provider) + "_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" {
			return
		}
		if f.Name == "scope" {
			for _, s := range strings.Fields(strings.ReplaceAll(v, ",", " ")) {
				f.Value.Set(s)
			}
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = usagef("environment variable %s: invalid value", name)
		}
	})
	return positional, err
}

// store returns the token cache shared between runs: a FileStore in the
// user's cache directory (keys are hashes, never secrets), or nil with
// --no-cache.
func (o *options) store() auth.Store {
	if o.noCache {
		return nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	s, err := auth.NewFileStore(filepath.Join(dir, "complykit", "tokens"))
	if err != nil {
		return nil
	}
	return s
}

func (o *options) checkOutput() error {
	if o.output != "json" && o.output != "text" {
		return usagef("--output must be json or text, not %q", o.output)
	}
	return nil
}

func newFakeFlags(provider string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("complykit fake "+provider, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
