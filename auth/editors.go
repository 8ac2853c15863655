package auth

import (
	"context"
	"errors"
	"net/http"
)

// HeaderCompanyContext is the header that selects the company a Stems
// Comply One request acts for.
const HeaderCompanyContext = "X-Company-Context"

// The request editors below have the unnamed type
// func(context.Context, *http.Request) error, so they fit the
// RequestEditorFn of every generated package without auth importing gen/.

// SetHeader returns a request editor that sets a static header. It costs
// no allocation per request: every request shares one value slice, which
// net/http never modifies in place.
func SetHeader(name, value string) func(context.Context, *http.Request) error {
	name = http.CanonicalHeaderKey(name)
	v := []string{value}
	return func(_ context.Context, req *http.Request) error {
		req.Header[name] = v
		return nil
	}
}

// ErrNoCompany is returned by CompanyContext's editor when no company id
// was given: Comply One scopes every request to a company.
var ErrNoCompany = errors.New("auth: X-Company-Context: a company id is required")

// CompanyContext returns a request editor that sets X-Company-Context, or
// fails before anything is sent when id is empty. Send it through a Doer
// configured with OriginHeaders: []string{HeaderCompanyContext} so the
// header never follows a redirect off the API's origin.
func CompanyContext(id string) func(context.Context, *http.Request) error {
	v := []string{id}
	return func(_ context.Context, req *http.Request) error {
		if id == "" {
			return ErrNoCompany
		}
		req.Header[HeaderCompanyContext] = v
		return nil
	}
}

// Bearer returns a request editor that sets Authorization from src. Unlike
// the Doer it cannot see redirects or 401s: prefer the Doer, and use this
// only with a client whose every request goes to the token's own API.
func Bearer(src ContextTokenSource) func(context.Context, *http.Request) error {
	return func(ctx context.Context, req *http.Request) error {
		tok, err := src.TokenContext(ctx)
		if err != nil {
			return err
		}
		req.Header["Authorization"] = []string{tok.Type() + " " + tok.AccessToken}
		return nil
	}
}
