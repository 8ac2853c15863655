// Package contract checks HTTP exchanges against an OpenAPI document with
// kin-openapi. The contract tests in specs/ and the fake servers share it, so
// "the spec allows this" means the same thing in both places.
//
// Routes are matched on the path relative to the API root, ignoring the
// document's servers: a fake on 127.0.0.1 and a test of a documented example
// both check the same operations without rewriting server URLs.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// ErrNoRoute is returned (wrapped) when no operation of the document matches
// a request's method and path.
var ErrNoRoute = errors.New("contract: no operation matches")

var htmlOnce sync.Once

// Validator matches requests to the operations of one OpenAPI document and
// validates requests and responses against them. It is safe for concurrent
// use.
type Validator struct {
	doc    *openapi3.T
	routes []route
}

type route struct {
	template string
	segments []string // literal segments, or "" for a {parameter}
	names    []string // parameter name per segment ("" for literals)
	literals int
	item     *openapi3.PathItem
}

// New returns a Validator for doc, which should already be validated
// (specs.Load does that).
func New(doc *openapi3.T) *Validator {
	// kin-openapi decodes text/plain bodies but not text/html, which the
	// authorize endpoints answer with (a form_post page, an error page).
	// The registration is global to kin-openapi, guarded by its lock, and
	// only ever adds a decoder.
	htmlOnce.Do(func() {
		if openapi3filter.RegisteredBodyDecoder("text/html") == nil {
			openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		}
	})
	v := &Validator{doc: doc}
	for template, item := range doc.Paths.Map() {
		r := route{template: template, item: item}
		for _, seg := range splitPath(template) {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				r.segments = append(r.segments, "")
				r.names = append(r.names, seg[1:len(seg)-1])
				continue
			}
			r.segments = append(r.segments, seg)
			r.names = append(r.names, "")
			r.literals++
		}
		v.routes = append(v.routes, r)
	}
	// Prefer the most literal match: /hazards/approvaldata before /hazards/{id}.
	sort.Slice(v.routes, func(i, j int) bool {
		if v.routes[i].literals != v.routes[j].literals {
			return v.routes[i].literals > v.routes[j].literals
		}
		return v.routes[i].template < v.routes[j].template
	})
	return v
}

// Doc returns the document the Validator checks against.
func (v *Validator) Doc() *openapi3.T { return v.doc }

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// FindRoute returns the operation for method and path (relative to the API
// root, without a query) and the path parameters it binds.
func (v *Validator) FindRoute(method, path string) (*routers.Route, map[string]string, error) {
	segs := splitPath(path)
	pathMatched := false
	for _, r := range v.routes {
		if len(r.segments) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, s := range r.segments {
			switch {
			case s == "":
				if segs[i] == "" {
					ok = false
				}
				params[r.names[i]] = segs[i]
			case s != segs[i]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		pathMatched = true
		op := r.item.GetOperation(strings.ToUpper(method))
		if op == nil {
			continue
		}
		return &routers.Route{
			Spec:      v.doc,
			Path:      r.template,
			PathItem:  r.item,
			Method:    strings.ToUpper(method),
			Operation: op,
		}, params, nil
	}
	if pathMatched {
		return nil, nil, fmt.Errorf("%w: method %s not allowed on %s", ErrNoRoute, method, path)
	}
	return nil, nil, fmt.Errorf("%w: %s %s", ErrNoRoute, method, path)
}

// Exchange is one request, checked against the document, whose response can
// then be checked too.
type Exchange struct {
	Route *routers.Route
	input *openapi3filter.RequestValidationInput
}

// ValidateRequest matches req to an operation by req.Method and path (the
// request path relative to the API root) and validates its parameters,
// headers and body. The body is read and restored, so req can still be
// served afterwards. Of the security requirements, only apiKey schemes are
// checked here (the header, query parameter or cookie must be present, as
// Stems' X-Company-Context); the fakes decide for themselves which bearer
// tokens are valid.
func (v *Validator) ValidateRequest(ctx context.Context, req *http.Request, path string) (*Exchange, error) {
	rt, params, err := v.FindRoute(req.Method, path)
	if err != nil {
		return nil, err
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("contract: read request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		defer func() { req.Body = io.NopCloser(bytes.NewReader(body)) }()
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      rt,
		Options: &openapi3filter.Options{
			AuthenticationFunc:                apiKeyPresent,
			RejectWhenRequestBodyNotSpecified: true,
			MultiError:                        true,
			SkipSettingDefaults:               true,
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return &Exchange{Route: rt, input: in}, fmt.Errorf("contract: %s %s: %w", rt.Method, rt.Path, err)
	}
	return &Exchange{Route: rt, input: in}, nil
}

// apiKeyPresent checks that an apiKey scheme's credential is present and
// accepts every other scheme (the fakes check bearer tokens themselves).
func apiKeyPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	ss := in.SecurityScheme
	if ss == nil || ss.Type != "apiKey" {
		return nil
	}
	req := in.RequestValidationInput.Request
	var present bool
	switch ss.In {
	case "header":
		present = req.Header.Get(ss.Name) != ""
	case "query":
		present = req.URL.Query().Get(ss.Name) != ""
	case "cookie":
		c, err := req.Cookie(ss.Name)
		present = err == nil && c.Value != ""
	}
	if !present {
		return fmt.Errorf("%s %s is required (security scheme %s)", ss.In, ss.Name, in.SecuritySchemeName)
	}
	return nil
}

// ValidateResponse checks a response to the exchange's request: the status
// must be declared by the operation and the body must match its schema for
// the response's Content-Type.
func (x *Exchange) ValidateResponse(ctx context.Context, status int, header http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: x.input,
		Status:                 status,
		Header:                 header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("contract: response %d to %s %s: %w", status, x.Route.Method, x.Route.Path, err)
	}
	return nil
}
