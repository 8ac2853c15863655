package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/complykit/complykit-go/internal/version"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// app is one run of the CLI: its streams, its environment and what its
// commands share.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         env

	// store opens where tokens are kept between runs (the OS keychain,
	// or 0600 files: see tokenstore.go), or returns nil when there is
	// nowhere. It is the one place tokens at rest come from.
	store func() (tokenStore, error)
	// progress says on stderr what a call is waiting for.
	progress *progress

	// ran is set when one of our commands starts running: an error
	// before that is the command line's (cobra's own argument and flag
	// errors carry no type).
	ran bool
}

// env looks up environment variables; tests pass their own.
type env func(string) string

// Annotations on commands.
const (
	providerAnnotation  = "complykit_provider"  // the provider a command is for
	operationAnnotation = "complykit_operation" // the operation a `call` command runs
)

// exitCodes document the exit codes in help and in the README.
var exitCodes = []struct {
	code    int
	meaning string
}{
	{exitOK, "success"},
	{exitInternal, "internal error: a failure of complykit itself (a bug, a spec that does not load, output that cannot be written)"},
	{exitUsage, "usage error: unknown command or flag, missing or invalid value"},
	{exitAuth, "authentication refused: the token endpoint refused the credentials, or the API answered 401"},
	{exitAPI, "the API answered an error: 403 and every other 4xx or 5xx, GraphQL errors, a First AML ValidationErrors result"},
	{exitNetwork, "no answer: connection failure, timeout, interrupt"},
}

func exitCodeHelp() string {
	var b strings.Builder
	b.WriteString("Exit codes:\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %d  %s\n", e.code, e.meaning)
	}
	return strings.TrimRight(b.String(), "\n")
}

// cliVersion is what --version prints: the module version that `go
// install github.com/complykit/complykit-go/cmd/complykit@v1.2.3` stamps
// into the binary ("1.2.3"), or, for a local build (go build, go run: the
// main module's version is "(devel)"), the SDK version of
// internal/version marked as such ("0.1.0 (devel)").
func cliVersion(bi *debug.BuildInfo, ok bool) string {
	if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return version.Number + " (devel)"
}

// newRootCmd builds the command tree. Operations are read from the specs,
// so help and completion need no credentials.
func newRootCmd(a *app) (*cobra.Command, error) {
	// Commands in the order they are added: demo, token, call, fake; the
	// providers in the design's order; operations alphabetically.
	cobra.EnableCommandSorting = false
	root := &cobra.Command{
		Use:   "complykit <command>",
		Short: "Try the SDK's four providers from the command line",
		Long: `complykit tries the SDK's providers from the command line: it gets tokens,
calls any operation of their specs, serves their fakes on loopback, and shows
the SDK at work in a demo on embedded fakes.

Providers: ` + providerList() + `.

Every flag of a provider command falls back to the environment variable
COMPLYKIT_<PROVIDER>_<FLAG> (for example COMPLYKIT_STENN_CLIENT_SECRET), so
secrets need not be typed on a command line.

` + exitCodeHelp(),
		Version:       cliVersion(debug.ReadBuildInfo()),
		SilenceErrors: true, // run prints one line
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownSubcommand(cmd, "command", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			// No command: the help, on stderr since this is a mistake.
			cmd.SetOut(a.stderr)
			cmd.Help()
			return errUsageShown
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(flagError)
	root.InitDefaultVersionFlag() // now, so that the README's table has it
	root.SetUsageTemplate(usageTemplate(root.UsageTemplate()))

	call, err := a.callCmd()
	if err != nil {
		return nil, err
	}
	root.AddCommand(a.demoCmd(), a.tokenCmd(), call, a.loginCmd(), a.logoutCmd(), a.fakeCmd())
	// cobra's completion command, made now rather than at Execute so that
	// it is in the tree the README's flag table is made from, and so that
	// an unknown shell is a usage error rather than help and exit 0.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Use = "completion <bash|zsh|fish|powershell>"
			c.Args = cobra.ArbitraryArgs
			c.RunE = groupRun("shell")
		}
	}
	walk(root, func(c *cobra.Command) {
		// What cobra uses for its own "unknown command" error, for ours.
		c.SuggestionsMinimumDistance = 2
	})
	return root, nil
}

// usageTemplate adapts cobra's: a command that groups others and is
// runnable only to report a missing or unknown subcommand shows its Use
// line alone ("complykit call <provider> <operation>"), and inherited
// flags are the provider's, not global ones.
func usageTemplate(t string) string {
	t = strings.Replace(t, "{{if .HasAvailableSubCommands}}\n  {{.CommandPath}} [command]{{end}}",
		"{{if and .HasAvailableSubCommands (not .Runnable)}}\n  {{.CommandPath}} [command]{{end}}", 1)
	return strings.Replace(t, "Global Flags:", "Flags of {{.Parent.CommandPath}}:", 1)
}

// walk calls f on cmd and every command under it.
func walk(cmd *cobra.Command, f func(*cobra.Command)) {
	f(cmd)
	for _, c := range cmd.Commands() {
		walk(c, f)
	}
}

func providerList() string {
	var parts []string
	for _, p := range providers {
		parts = append(parts, p.name+" ("+p.title+")")
	}
	return strings.Join(parts, ", ")
}

// runE marks the start of one of our commands, so that its errors are
// classified by what went wrong rather than as usage errors.
func (a *app) runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran = true
		return f(cmd, args)
	}
}

// groupRun is the RunE of a command that only groups others (call,
// call stems, ...): reaching it means the subcommand is missing or
// unknown. It is a RunE rather than an Args check so that cobra treats
// the command as runnable and does not answer a typo with help and exit 0.
func groupRun(kind string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("%s: missing %s (one of %s)", relPath(cmd), kind, strings.Join(subcommandNames(cmd), ", "))
		}
		return unknownSubcommand(cmd, kind, args[0])
	}
}

func subcommandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" && c.Name() != "completion" {
			names = append(names, c.Name())
		}
	}
	return names
}

// unknownSubcommand says what was not found and, from cobra's
// suggestions, what was probably meant.
func unknownSubcommand(cmd *cobra.Command, kind, name string) error {
	msg := fmt.Sprintf("unknown %s %q for %q", kind, name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		return usagef("%s; did you mean %s?", msg, strings.Join(s, " or "))
	}
	return usagef("%s (one of %s)", msg, strings.Join(subcommandNames(cmd), ", "))
}

// relPath is cmd's path below the root, for messages that the root's
// name already begins ("complykit: call stems: ...").
func relPath(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", relPath(cmd), args[0])
	}
	return nil
}

// flagError turns pflag's errors into usage errors, with a hint: why a
// provider does not take a flag other providers take, the flag probably
// meant, or that long flags take two dashes.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if op := cmd.Annotations[operationAnnotation]; op != "" && name == "param" {
			return usagef("%s takes no parameters", op)
		}
		if op := cmd.Annotations[operationAnnotation]; op != "" && name == "body" {
			return usagef("%s takes no body", op)
		}
		if p := providerOf(cmd); p != nil && p.refused[name] != "" {
			return usagef("%s does not take --%s: %s", p.name, name, p.refused[name])
		}
		if s := suggestFlags(cmd.Flags(), name); len(s) > 0 {
			return usagef("%s; did you mean %s?", msg, strings.Join(s, " or "))
		}
	}
	if _, arg, ok := strings.Cut(msg, "' in -"); ok && strings.HasPrefix(msg, "unknown shorthand flag") {
		// "-base-url": a long flag with one dash, as the stdlib's flag
		// package (and older versions of this CLI) took them.
		name, _, _ := strings.Cut(arg, "=")
		if cmd.Flags().Lookup(name) != nil {
			return usagef("%s: long flags take two dashes: --%s", msg, name)
		}
	}
	return &usageError{msg}
}

// suggestFlags returns the flags whose names are close to name.
func suggestFlags(fs *pflag.FlagSet, name string) []string {
	var out []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if levenshtein.ComputeDistance(name, f.Name) <= 2 || (len(name) >= 3 && strings.HasPrefix(f.Name, name)) {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}

// providerOf returns the provider a command is for, if any.
func providerOf(cmd *cobra.Command) *provider {
	for c := cmd; c != nil; c = c.Parent() {
		if name := c.Annotations[providerAnnotation]; name != "" {
			return lookupProvider(name)
		}
	}
	return nil
}

// envHook is the PersistentPreRunE of a provider command: flags not on
// the command line come from the environment.
func (a *app) envHook(p *provider) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		return applyEnv(cmd, p.name, a.getenv)
	}
}

func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run every provider's flows through the SDK, on embedded fakes",
		Long: `demo starts the four fakes in-process on loopback and walks every provider
through its flows with the SDK itself: token grants, refresh ahead of expiry,
refresh-token rotation, 401 recovery, 429 retries, validation errors and
webhooks. It exits non-zero if any step misbehaves.`,
		Args: noArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), a.stdout)
		}),
	}
}

func providerCmd(p *provider, use, short string) *cobra.Command {
	return &cobra.Command{
		Use:         use,
		Short:       short,
		Annotations: map[string]string{providerAnnotation: p.name},
	}
}

func (a *app) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token <provider>",
		Short: "Get a token with the provider's credentials and print it",
		Long: `token gets an access token with the provider's credentials (from the
token cache when it holds a valid one) and prints it as JSON:
{"access_token", "token_type", "expiry", "scope"}; never a refresh token.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun("provider"),
	}
	for _, p := range providers {
		o := &options{provider: p.name}
		c := providerCmd(p, p.name, "Get a token from "+p.title)
		c.Long = "Get a token from " + p.title + " and print it.\n\n" + flagHelp(p.name)
		c.Args = noArgs
		c.PersistentPreRunE = a.envHook(p)
		c.RunE = a.runE(func(cmd *cobra.Command, _ []string) error { return a.runToken(cmd.Context(), p, o) })
		addProviderFlags(c.Flags(), p, o)
		c.RegisterFlagCompletionFunc("output", completeOutput)
		cmd.AddCommand(c)
	}
	return cmd
}

func (a *app) callCmd() (*cobra.Command, error) {
	cmd := &cobra.Command{
		Use:   "call <provider> <operation>",
		Short: "Run any operation of a provider's spec",
		Long: `call runs an operation of the provider's spec (specs/*.yaml, or First AML's
specs/firstaml-operations.graphql) with the provider's credentials and prints
its JSON result. Path, query and header parameters (GraphQL scalar variables)
are given with --param name=value, a request body (a GraphQL input variable)
with --body FILE, or --body - for stdin.

"complykit call <provider> --help" lists the operations and
"complykit call <provider> <operation> --help" their parameters and body
schema; neither needs credentials.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun("provider"),
	}
	for _, p := range providers {
		ops, err := p.operations()
		if err != nil {
			return nil, err
		}
		o := &options{provider: p.name}
		pc := providerCmd(p, p.name+" <operation>", "Run an operation of "+p.title+"'s API")
		pc.Long = "Run an operation of " + p.title + "'s API. The operations are listed below;\n" +
			`"complykit call ` + p.name + ` <operation> --help" shows each one's parameters and body.` + "\n\n" + flagHelp(p.name)
		pc.Args = cobra.ArbitraryArgs
		pc.RunE = groupRun("operation")
		pc.PersistentPreRunE = a.envHook(p)
		addProviderFlags(pc.PersistentFlags(), p, o)
		pc.RegisterFlagCompletionFunc("output", completeOutput)
		for _, op := range ops {
			oc := &cobra.Command{
				Use:         op.name,
				Short:       op.short,
				Long:        op.long,
				Annotations: map[string]string{operationAnnotation: op.name},
				Args:        noArgs,
				RunE:        a.runE(func(cmd *cobra.Command, _ []string) error { return a.runCall(cmd.Context(), p, o, op) }),
			}
			addOperationFlags(oc.Flags(), op, o)
			if op.body {
				oc.MarkFlagFilename("body", "json")
			}
			if len(op.params) > 0 {
				oc.RegisterFlagCompletionFunc("param", func(_ *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
					var out []cobra.Completion
					for _, name := range op.params {
						out = append(out, name+"=")
					}
					return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
				})
			}
			pc.AddCommand(oc)
		}
		cmd.AddCommand(pc)
	}
	return cmd, nil
}

func (a *app) fakeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fake <provider>",
		Short: "Serve a provider's fake until interrupted",
		Long: `fake serves the provider's spec-validated fake (the same one the Go tests
use) until interrupted, and prints its URLs, the test client's credentials
and the ids of the sample records it serves, so tests in any language can
use it. Its control API, under /__complykit/, scripts faults, reads the
request log and moves the clock (see the README).

It listens on loopback unless --addr names another interface (then it
warns: anyone who can reach the port can use the fake and its control API,
which has no authentication). The port is --addr's, else the PORT
environment variable's, else a free one.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun("provider"),
	}
	for _, p := range providers {
		o := &options{provider: p.name}
		c := providerCmd(p, p.name, "Serve "+p.title+"'s fake")
		c.Long = "Serve " + p.title + "'s fake until interrupted, on loopback unless --addr\nsays otherwise; the port is --addr's, else $PORT, else a free one.\n\n" + flagHelp(p.name)
		c.Args = noArgs
		c.PersistentPreRunE = a.envHook(p)
		c.RunE = a.runE(func(cmd *cobra.Command, _ []string) error { return a.runFake(cmd.Context(), p, o) })
		c.Flags().StringVar(&o.addr, "addr", "127.0.0.1", "`host[:port]` to listen on, any interface (a warning when not loopback); without a port, $PORT or a free one")
		c.Flags().BoolVar(&o.verbose, "verbose", false, "log each request to stderr: method, path, status and any contract violation")
		cmd.AddCommand(c)
	}
	return cmd
}
