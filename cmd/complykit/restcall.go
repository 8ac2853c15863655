package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/specs"
	"github.com/getkin/kin-openapi/openapi3"
)

// restCaller runs any operation of a REST spec through an authenticated
// Doer: path, query and header parameters from --param, the body from
// --body. Token and authorize endpoints are left to `complykit token`.
type restCaller struct {
	provider string
	spec     string
	baseURL  string
	doer     *auth.Doer
	ua       string
	// headers fills header parameters the flags already know (Stems'
	// X-Company-Context from --company).
	headers map[string]string
}

type restOp struct {
	method, path string
	op           *openapi3.Operation
	// apiKeyHeaders are the headers of the operation's apiKey security
	// schemes (Stems' X-Company-Context), filled from headers.
	apiKeyHeaders []string
}

// apiKeyHeaders lists the header names of op's apiKey security schemes.
func apiKeyHeaders(doc *openapi3.T, op *openapi3.Operation) []string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var names []string
	for _, req := range reqs {
		for scheme := range req {
			if ref := doc.Components.SecuritySchemes[scheme]; ref != nil && ref.Value != nil && ref.Value.Type == "apiKey" && ref.Value.In == "header" {
				names = append(names, ref.Value.Name)
			}
		}
	}
	return names
}

func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (c *restCaller) operations() (map[string]restOp, error) {
	doc, err := specs.Load(c.spec)
	if err != nil {
		return nil, err
	}
	ops := map[string]restOp{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "requestToken" || op.OperationID == "authorize" {
				continue
			}
			ops[kebab(op.OperationID)] = restOp{method: method, path: path, op: op, apiKeyHeaders: apiKeyHeaders(doc, op)}
		}
	}
	return ops, nil
}

func (c *restCaller) Operations() []string {
	ops, _ := c.operations()
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *restCaller) Call(ctx context.Context, name string, params map[string]string, body []byte) ([]byte, error) {
	ops, err := c.operations()
	if err != nil {
		return nil, err
	}
	ro, ok := ops[name]
	if !ok {
		return nil, unknownOperation(c.provider, name, c.Operations())
	}
	used := map[string]bool{}
	path := ro.path
	query := url.Values{}
	header := http.Header{}
	var allowed []string
	for _, pref := range ro.op.Parameters {
		p := pref.Value
		if p == nil || strings.EqualFold(p.Name, "Accept") || strings.EqualFold(p.Name, "User-Agent") {
			continue
		}
		allowed = append(allowed, p.Name)
		v, given := params[p.Name]
		if !given && p.In == "header" {
			v, given = c.headers[http.CanonicalHeaderKey(p.Name)]
		}
		used[p.Name] = true
		if !given {
			if p.Required {
				return nil, usagef("%s %s: missing --param %s=... (%s parameter)", c.provider, name, p.Name, p.In)
			}
			continue
		}
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		case "query":
			query.Set(p.Name, v)
		case "header":
			header.Set(p.Name, v)
		}
	}
	for _, h := range ro.apiKeyHeaders {
		if v, ok := c.headers[http.CanonicalHeaderKey(h)]; ok {
			header.Set(h, v)
		}
	}
	for k := range params {
		if !used[k] {
			return nil, usagef("%s %s: unknown parameter %q (parameters: %s)", c.provider, name, k, strings.Join(allowed, ", "))
		}
	}
	if ro.op.RequestBody != nil && ro.op.RequestBody.Value != nil && ro.op.RequestBody.Value.Required && body == nil {
		return nil, usagef("%s %s: this operation needs a request body: --body FILE (or - for stdin)", c.provider, name)
	}
	if body != nil && (ro.op.RequestBody == nil) {
		return nil, usagef("%s %s: this operation takes no request body", c.provider, name)
	}
	if body != nil && !json.Valid(body) {
		return nil, usagef("%s %s: --body is not valid JSON", c.provider, name)
	}
	target := strings.TrimRight(c.baseURL, "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, ro.method, target, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.doer.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(c.provider, name, resp)
	}
	var out json.RawMessage
	if err := apiclient.DecodeJSON(resp, 0, &out); err != nil {
		return nil, &apiError{provider: c.provider, op: name, status: resp.StatusCode, msg: err.Error()}
	}
	return out, nil
}

// apiError is an error answer from a provider to `complykit call`.
type apiError struct {
	provider, op string
	status       int
	msg          string
	requestID    string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s %s: status %d %s", e.provider, e.op, e.status, http.StatusText(e.status))
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.requestID != "" {
		s += " (request id " + e.requestID + ")"
	}
	return s
}

func newAPIError(provider, op string, resp *http.Response) *apiError {
	e := &apiError{provider: provider, op: op, status: resp.StatusCode, requestID: auth.RequestID(resp.Header)}
	body := apiclient.ReadErrorBody(resp)
	var fields struct {
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
		ExceptionKey     string `json:"exception_key"`
		Errors           []struct {
			Message string `json:"message"`
		} `json:"errors"` // GraphQL-over-HTTP
	}
	if apiclient.ErrorFields(body, resp.Header.Get("Content-Type"), &fields) {
		var parts []string
		if s, ok := fields.Error.(string); ok && s != "" {
			parts = append(parts, s)
		}
		for _, s := range []string{fields.ErrorDescription, fields.Message} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		for _, ge := range fields.Errors {
			if ge.Message != "" {
				parts = append(parts, ge.Message)
			}
		}
		if fields.ExceptionKey != "" {
			parts = append(parts, "exception_key "+fields.ExceptionKey)
		}
		e.msg = strings.Join(parts, ": ")
	} else if ct := resp.Header.Get("Content-Type"); ct != "" && !apiclient.IsJSON(ct) {
		e.msg = "response is not JSON (" + strings.SplitN(ct, ";", 2)[0] + ")"
	}
	return e
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
