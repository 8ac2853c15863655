package main

import "errors"

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

var statusFuncs = []func(error) (int, bool){stennStatus}
