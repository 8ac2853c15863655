// Command complykit tries credentials against the four providers, calls
// any operation of their specs, runs their fakes standalone, and shows the
// SDK at work in a demo on embedded fakes.
//
//	complykit demo
//	complykit token <stems|stenn|cloudcompli|firstaml> [flags]
//	complykit call <provider> <operation> [--param name=value]... [--body FILE|-] [flags]
//	complykit fake <provider> [--addr 127.0.0.1:PORT]
//
// Every flag falls back to an environment variable
// COMPLYKIT_<PROVIDER>_<FLAG>, e.g. COMPLYKIT_STENN_CLIENT_SECRET, so
// secrets need not appear on a command line.
//
// Exit codes: 0 success, 2 usage error, 3 authentication refused, 4 the API
// answered an error, 5 network or timeout.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitUsage    = 2
	exitAuth     = 3
	exitAPI      = 4
	exitNetwork  = 5
	exitInternal = 1
)

const usageText = `complykit: try the SDK's providers from the command line.

Usage:
  complykit demo                               run every provider's flows on embedded fakes
  complykit token <provider> [flags]           get a token and print it as JSON
  complykit call <provider> <operation> [flags] [--param name=value]... [--body FILE|-]
                                               run an operation of the provider's spec
  complykit fake <provider> [--addr HOST:PORT] serve the provider's fake until interrupted
  complykit help [command]

Providers: stems, stenn, cloudcompli, firstaml.
Run "complykit token <provider> --help" for the provider's flags. Every flag
falls back to the environment variable COMPLYKIT_<PROVIDER>_<FLAG> (for
example COMPLYKIT_STENN_CLIENT_SECRET), so secrets need not be typed on a
command line.

Exit codes: 0 success, 2 usage error, 3 authentication refused,
4 the API answered an error, 5 network or timeout.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env looks up environment variables; tests pass their own.
type env func(string) string

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "demo":
		err = runDemo(ctx, args[1:], stdout)
	case "token":
		err = runToken(ctx, args[1:], stdout, stderr, getenv)
	case "call":
		err = runCall(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "fake":
		err = runFake(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		err = usagef("unknown command %q", args[0])
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintln(stderr, "complykit: "+oneLine(err.Error()))
	if code == exitUsage {
		fmt.Fprintln(stderr, `run "complykit help" for usage`)
	}
	return code
}
