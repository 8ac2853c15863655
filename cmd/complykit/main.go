// Command complykit tries credentials against the four providers, calls
// any operation of their specs, runs their fakes standalone, and shows the
// SDK at work in a demo on embedded fakes.
//
//	complykit demo
//	complykit token <stems|stenn|cloudcompli|firstaml> [flags]
//	complykit call <provider> <operation> [--param name=value]... [--body FILE|-] [flags]
//	complykit fake <provider> [--addr 127.0.0.1:PORT]
//	complykit completion bash|zsh|fish|powershell
//	complykit help [command]
//
// The commands are github.com/spf13/cobra commands: GNU-style flags, help
// on stdout, completion scripts, suggestions for typos. The operations of
// `call` are read from the specs, so `complykit call <provider> --help`
// lists them without credentials.
//
// Every flag of a provider command but --param and --body falls back to
// an environment variable COMPLYKIT_<PROVIDER>_<FLAG>, e.g.
// COMPLYKIT_STENN_CLIENT_SECRET, so secrets need not appear on a command
// line.
//
// Exit codes: 0 success, 1 internal error (a failure of complykit itself),
// 2 usage error, 3 authentication refused (the token endpoint refused the
// credentials, or a 401), 4 the API answered an error (a 403, any other
// 4xx or 5xx, GraphQL errors, a First AML ValidationErrors result), 5 no
// answer (network, timeout, interrupt).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run runs one command line and returns its exit code. Errors are one line
// on stderr, "complykit: ...", plus a pointer to the help for usage errors.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, progress: newProgress(stderr)}
	a.store = sync.OnceValues(func() (tokenStore, error) { return openTokenStore(getenv, tokenDir()) })
	defer a.progress.stop()
	root, err := newRootCmd(a)
	if err != nil {
		fmt.Fprintln(stderr, "complykit: "+oneLine(err.Error()))
		return exitInternal
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if !a.ran {
		// cobra refused the command line before any command ran.
		if _, ok := err.(*usageError); !ok {
			err = &usageError{err.Error()}
		}
	}
	code := exitCode(err)
	if err == errUsageShown {
		return code
	}
	fmt.Fprintln(stderr, "complykit: "+oneLine(err.Error()))
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(stderr, "run %q for usage\n", cmd.CommandPath()+" --help")
	}
	return code
}
