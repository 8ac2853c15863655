package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/complykit/complykit-go/option"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// options are the flags of one provider command (token, call or fake),
// the common ones and the provider's own (unused ones stay empty).
type options struct {
	provider     string
	tokenURL     string
	baseURL      string
	clientID     string
	clientSecret string
	scopes       []string
	output       string
	noCache      bool
	timeout      time.Duration
	trace        string
	// extra are more client options, e.g. --trace's tracer provider.
	extra []option.Option

	// Stems
	username, password, company string
	// Stenn
	sandbox bool
	// CloudCompli
	instance, accessToken string

	// call <provider> <operation>
	params []string
	body   string

	// fake
	addr    string
	verbose bool

	// login
	port             int
	browser          string
	authURL          string
	responseMode     string
	documentedQuirks bool

	// login is the provider's signed-in user (`complykit login`), for
	// token and call; nil if none, or with --no-cache.
	login *loginRecord
}

// noEnvAnnotation marks a flag that has no environment fallback: --param
// and --body belong to one operation, so a variable set for one call
// would silently apply to every other.
const noEnvAnnotation = "complykit_no_env"

// addProviderFlags declares the flags of `token <provider>` and
// `call <provider>`: the ones every provider takes, then the provider's
// own.
func addProviderFlags(fs *pflag.FlagSet, p *provider, o *options) {
	fs.StringVar(&o.clientID, "client-id", "", "OAuth client id (required)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "OAuth client secret (required; prefer the environment variable)")
	if p.flags != nil {
		p.flags(fs, o)
	}
	fs.StringVarP(&o.output, "output", "o", "json", "output `format`: json (for scripts) or text (tables for lists)")
	fs.BoolVar(&o.noCache, "no-cache", false, "do not read or write the token cache, nor act as the user of complykit login")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "overall time limit")
	fs.StringVar(&o.trace, "trace", "", "print where the time went on stderr: the span tree (--trace, or `tree`), or every span as JSON (json)")
	fs.Lookup("trace").NoOptDefVal = "tree"
}

// addOperationFlags declares the flags of `call <provider> <operation>`:
// --param if the operation has parameters, --body if it takes a body.
func addOperationFlags(fs *pflag.FlagSet, op *operation, o *options) {
	if len(op.params) > 0 {
		fs.StringArrayVar(&o.params, "param", nil, "a parameter as `name=value` (repeatable): path, query or header for REST, a scalar variable for GraphQL")
		fs.SetAnnotation("param", noEnvAnnotation, []string{"true"})
	}
	if op.body {
		fs.StringVar(&o.body, "body", "", "request body: a JSON `FILE`, or - for stdin")
		fs.SetAnnotation("body", noEnvAnnotation, []string{"true"})
	}
}

func envPrefix(provider string) string { return "COMPLYKIT_" + strings.ToUpper(provider) }

// envName is the variable a provider's flag falls back to.
func envName(provider, flag string) string {
	return envPrefix(provider) + "_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// takesEnv reports whether a flag falls back to the environment.
func takesEnv(f *pflag.Flag) bool {
	return f.Name != "help" && len(f.Annotations[noEnvAnnotation]) == 0
}

// applyEnv fills every flag of cmd not given on the command line from
// COMPLYKIT_<PROVIDER>_<FLAG>. A flag on the command line wins.
func applyEnv(cmd *cobra.Command, provider string, getenv env) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || !takesEnv(f) {
			return
		}
		name := envName(provider, f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		values := []string{v}
		if f.Value.Type() == "stringArray" {
			// Repeatable flags (--scope) take a list: "a b" or "a,b".
			values = strings.Fields(strings.ReplaceAll(v, ",", " "))
		}
		for _, v := range values {
			if e := cmd.Flags().Set(f.Name, v); e != nil {
				// The value may be a secret: never repeat it.
				err = usagef("environment variable %s: not a valid --%s (%s)", name, f.Name, f.Value.Type())
				return
			}
		}
	})
	return err
}

func (o *options) checkOutput() error {
	if o.output != "json" && o.output != "text" {
		return usagef("--output must be json or text, not %q", o.output)
	}
	return nil
}

// check validates what every provider command shares.
func (o *options) check() error {
	if err := o.checkOutput(); err != nil {
		return err
	}
	if o.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	return nil
}

// completeOutput completes --output.
func completeOutput(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{
		cobra.CompletionWithDesc("json", "indented JSON, the default, for scripts"),
		cobra.CompletionWithDesc("text", "readable tables and key: value lines"),
	}, cobra.ShellCompDirectiveNoFileComp
}

// flagHelp is appended to the help of every provider command.
func flagHelp(provider string) string {
	return fmt.Sprintf("Every flag but --param and --body falls back to the environment variable\n%s_<FLAG>, e.g. %s,\nso secrets need not be typed on a command line; a flag on the command line wins.",
		envPrefix(provider), envName(provider, "client-secret"))
}
