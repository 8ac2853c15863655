package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/complykit/complykit-go/auth"
)

// Exit codes, as documented in the package comment and the README.
const (
	exitOK       = 0
	exitInternal = 1 // a failure of complykit itself: a bug, a spec that does not load, unwritable output
	exitUsage    = 2 // the command line is wrong: unknown command or flag, a missing or invalid value
	exitAuth     = 3 // authentication refused: the token endpoint refused the credentials, or the API answered 401
	exitAPI      = 4 // the API answered an error: any other 4xx or 5xx (403 included), GraphQL errors, a ValidationErrors result
	exitNetwork  = 5 // no answer: connection failure, timeout, interrupt
)

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errUsageShown is a usage error whose explanation (the help text) is
// already on stderr.
var errUsageShown = &usageError{}

// validationError is an answer that is a failure: First AML's
// ValidationErrors result, which arrives with HTTP 200.
type validationError struct {
	provider, op string
	errs         []string // "fieldPath: message" or "message"
}

func (e *validationError) Error() string {
	n := len(e.errs)
	s := fmt.Sprintf("%s %s: %d validation error", e.provider, e.op, n)
	if n != 1 {
		s += "s"
	}
	return s + ": " + strings.Join(e.errs, "; ")
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ve *validationError
	if errors.As(err, &ve) {
		return exitAPI
	}
	var af *authFailure
	if errors.As(err, &af) {
		return exitAuth
	}
	var ae *auth.AuthorizationError
	if errors.As(err, &ae) {
		return exitAuth
	}
	if errors.Is(err, auth.ErrSignInRequired) {
		return exitAuth
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
		// 401 says the token was not accepted: authentication. 403 says
		// the caller is known but may not do this (Stems' foreign
		// company, a First AML scope): authorization, an API answer like
		// any other; retrying with other credentials is not the fix.
		if status == 401 {
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

// apiStatus returns the HTTP status of an error the API answered.
func apiStatus(err error) (int, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, true
	}
	for _, f := range statusFuncs {
		if s, ok := f(err); ok {
			return s, true
		}
	}
	return 0, false
}

// statusFuncs read the status of each provider package's error type.
var statusFuncs []func(error) (int, bool)

// oneLine keeps error output to one clear line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
