package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"unicode"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/specs"
	"github.com/getkin/kin-openapi/openapi3"
)

// restSpec is a REST provider's operations, read once from its spec.
type restSpec struct {
	ops  map[string]restOp
	list []*operation
}

type restOp struct {
	method, path string
	op           *openapi3.Operation
	// apiKeyHeaders are the headers of the operation's apiKey security
	// schemes (Stems' X-Company-Context), filled from the flags.
	apiKeyHeaders []string
}

var (
	restSpecsMu sync.Mutex
	restSpecs   = map[string]func() (*restSpec, error){}
)

// loadRESTSpec returns the operations of specs/<name>, loading the
// document on first use.
func loadRESTSpec(name string) (*restSpec, error) {
	restSpecsMu.Lock()
	load, ok := restSpecs[name]
	if !ok {
		load = sync.OnceValues(func() (*restSpec, error) { return newRESTSpec(name) })
		restSpecs[name] = load
	}
	restSpecsMu.Unlock()
	return load()
}

// restOperations is a provider's operations func for a REST spec.
func restOperations(spec string) func() ([]*operation, error) {
	return func() ([]*operation, error) {
		s, err := loadRESTSpec(spec)
		if err != nil {
			return nil, err
		}
		return s.list, nil
	}
}

// newRESTSpec reads the operations `call` can run: every operation that
// takes the bearer token. Those the spec opens to anyone (security: [],
// the token and authorize endpoints) are left to `complykit token`.
func newRESTSpec(name string) (*restSpec, error) {
	doc, err := specs.Load(name)
	if err != nil {
		return nil, err
	}
	s := &restSpec{ops: map[string]restOp{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue
			}
			ro := restOp{method: method, path: path, op: op, apiKeyHeaders: apiKeyHeaders(doc, op)}
			s.ops[kebab(op.OperationID)] = ro
		}
	}
	for name, ro := range s.ops {
		s.list = append(s.list, ro.describe(name))
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].name < s.list[j].name })
	return s, nil
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
	sort.Strings(names)
	return names
}

// kebab turns an operationId or a GraphQL operation name into a command
// name: listHazards -> list-hazards, CaseDetails -> case-details,
// getURLData -> get-url-data.
func kebab(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) ||
				(i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
				b.WriteByte('-')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// skipParam reports parameters the CLI sets itself.
func skipParam(p *openapi3.Parameter) bool {
	return p == nil || strings.EqualFold(p.Name, "Accept") || strings.EqualFold(p.Name, "User-Agent")
}

// headerFlags are the flags that fill a provider's header parameters and
// apiKey headers (see restCaller.headers).
var headerFlags = map[string]string{auth.HeaderCompanyContext: "--company"}

// describe renders the operation's help from the spec: what it does, its
// parameters, its body schema and its result.
func (ro restOp) describe(name string) *operation {
	op := ro.op
	o := &operation{name: name, short: firstLine(op.Summary)}
	if o.short == "" {
		o.short = firstLine(op.Description)
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(op.Summary))
	if d := strings.TrimSpace(op.Description); d != "" {
		b.WriteString("\n\n" + wrap(d, 80, ""))
	}
	fmt.Fprintf(&b, "\n\nRequest: %s %s", ro.method, ro.path)

	var rows [][]string
	for _, pref := range op.Parameters {
		p := pref.Value
		if skipParam(p) {
			continue
		}
		how := "--param " + p.Name + "=" + strings.ToUpper(schemaType(p.Schema))
		if f := headerFlags[http.CanonicalHeaderKey(p.Name)]; p.In == "header" && f != "" {
			how += " (or " + f + ")"
		}
		req := "optional"
		if p.Required {
			req = "required"
		}
		rows = append(rows, []string{how, p.In + ", " + req, oneLine(p.Description)})
		o.params = append(o.params, p.Name)
	}
	for _, h := range ro.apiKeyHeaders {
		from := headerFlags[http.CanonicalHeaderKey(h)]
		if from == "" {
			continue
		}
		rows = append(rows, []string{h + " header", "from " + from, "sent on every request"})
	}
	if len(rows) == 0 {
		b.WriteString("\n\nParameters: none")
	} else {
		b.WriteString("\n\nParameters:\n")
		b.WriteString(strings.TrimRight(table(rows, "  "), "\n"))
	}

	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		o.body = true
		req := "optional"
		if rb.Value.Required {
			req = "required"
		}
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			fmt.Fprintf(&b, "\n\nBody (--body FILE or -, JSON, %s): %s\n", req, schemaType(mt.Schema))
			b.WriteString(strings.TrimRight(schemaHelp(mt.Schema, "  "), "\n"))
		} else {
			fmt.Fprintf(&b, "\n\nBody (--body FILE or -, %s)", req)
		}
	} else {
		b.WriteString("\n\nBody: none")
	}

	if op.Responses != nil {
		codes := make([]string, 0)
		for code := range op.Responses.Map() {
			if strings.HasPrefix(code, "2") {
				codes = append(codes, code)
			}
		}
		sort.Strings(codes)
		for _, code := range codes {
			r := op.Responses.Value(code)
			if r == nil || r.Value == nil {
				continue
			}
			fmt.Fprintf(&b, "\n\nResult (%s): ", code)
			if mt := r.Value.Content.Get("application/json"); mt != nil {
				b.WriteString(schemaType(mt.Schema))
			} else {
				b.WriteString("no JSON body")
			}
			if desc := r.Value.Description; desc != nil && *desc != "" {
				b.WriteString(". " + oneLine(*desc))
			}
		}
	}
	o.long = strings.TrimRight(b.String(), "\n")
	return o
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// table aligns rows of cells.
func table(rows [][]string, indent string) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, indent+strings.Join(r, "\t"))
	}
	tw.Flush()
	return b.String()
}

// refName is the component name of a $ref, e.g. Hazard.
func refName(ref string) string {
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// schemaType describes a schema in a few words: "string", "array of
// Hazard", "object".
func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return "any"
	}
	if ref.Ref != "" {
		return refName(ref.Ref)
	}
	s := ref.Value
	switch {
	case s.Type.Is("array"):
		return "array of " + schemaType(s.Items)
	case len(s.OneOf) > 0:
		return "one of " + joinTypes(s.OneOf)
	case len(s.AnyOf) > 0:
		return "any of " + joinTypes(s.AnyOf)
	case len(s.AllOf) > 0:
		return "all of " + joinTypes(s.AllOf)
	}
	t := strings.Join(s.Type.Slice(), "|")
	if t == "" {
		t = "any"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t
}

func joinTypes(refs openapi3.SchemaRefs) string {
	var parts []string
	for _, r := range refs {
		parts = append(parts, schemaType(r))
	}
	return strings.Join(parts, ", ")
}

// schemaHelp lists a body schema: its description, then its properties
// (nested objects indented, each component expanded once).
func schemaHelp(ref *openapi3.SchemaRef, indent string) string {
	var rows [][]string
	var notes []string
	var walk func(ref *openapi3.SchemaRef, indent string, seen map[string]bool)
	walk = func(ref *openapi3.SchemaRef, indent string, seen map[string]bool) {
		if ref == nil || ref.Value == nil {
			return
		}
		if ref.Ref != "" {
			if seen[ref.Ref] {
				return
			}
			seen = with(seen, ref.Ref)
		}
		s := ref.Value
		if s.Type.Is("array") {
			walk(s.Items, indent, seen)
			return
		}
		for _, sub := range append(append(append(openapi3.SchemaRefs{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
			walk(sub, indent, seen)
		}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		required := map[string]bool{}
		for _, n := range s.Required {
			required[n] = true
		}
		for _, n := range names {
			p := s.Properties[n]
			typ := schemaType(p)
			if p.Value != nil && len(p.Value.Enum) > 0 {
				typ += " " + enumText(p.Value.Enum)
			}
			req := ""
			if required[n] {
				req = "required"
			}
			desc := ""
			if p.Value != nil {
				desc = oneLine(p.Value.Description)
			}
			rows = append(rows, []string{indent + n, typ, req, clipText(desc, 100)})
			if p.Value != nil && (len(p.Value.Properties) > 0 || (p.Value.Items != nil && p.Value.Items.Value != nil && len(p.Value.Items.Value.Properties) > 0)) {
				walk(p, indent+"  ", seen)
			}
		}
	}
	if ref != nil && ref.Value != nil && ref.Value.Description != "" {
		notes = append(notes, oneLine(ref.Value.Description))
	}
	walk(ref, indent, map[string]bool{})
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(wrap(n, 80, indent) + "\n")
	}
	if len(rows) > 0 {
		b.WriteString(table(rows, ""))
	}
	return b.String()
}

func with(seen map[string]bool, k string) map[string]bool {
	out := make(map[string]bool, len(seen)+1)
	for k, v := range seen {
		out[k] = v
	}
	out[k] = true
	return out
}

func enumText(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = fmt.Sprint(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// restCaller runs any operation of a REST spec through an authenticated
// Doer: path, query and header parameters from --param, the body from
// --body.
type restCaller struct {
	provider string
	spec     string
	baseURL  string
	doer     *auth.Doer
	ua       string
	// headers fills header parameters and apiKey headers the flags
	// already know (Stems' X-Company-Context from --company).
	headers map[string]string
}

func (c *restCaller) Call(ctx context.Context, name string, params map[string]string, body []byte) ([]byte, error) {
	spec, err := loadRESTSpec(c.spec)
	if err != nil {
		return nil, err
	}
	ro, ok := spec.ops[name]
	if !ok {
		return nil, usagef("%s has no operation %q", c.provider, name)
	}
	// A name the operation does not have is most likely a typo: say so
	// before anything else.
	var allowed []string
	for _, pref := range ro.op.Parameters {
		if !skipParam(pref.Value) {
			allowed = append(allowed, pref.Value.Name)
		}
	}
	for k := range params {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, usagef("%s %s: unknown parameter %q (the operation takes none)", c.provider, name, k)
			}
			return nil, usagef("%s %s: unknown parameter %q (parameters: %s)", c.provider, name, k, strings.Join(allowed, ", "))
		}
	}
	path := ro.path
	query := url.Values{}
	header := http.Header{}
	for _, pref := range ro.op.Parameters {
		p := pref.Value
		if skipParam(p) {
			continue
		}
		v, given := params[p.Name]
		if !given && p.In == "header" {
			v, given = c.headers[http.CanonicalHeaderKey(p.Name)]
		}
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

// wrap reflows prose to width columns: paragraphs (blank-line separated)
// are joined and broken at spaces; list items ("- ", "* ") start a new
// line and keep their continuation lines indented.
func wrap(s string, width int, indent string) string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		var items []string
		for _, line := range strings.Split(para, "\n") {
			t := strings.TrimSpace(line)
			if len(items) == 0 || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") {
				items = append(items, t)
			} else {
				items[len(items)-1] += " " + t
			}
		}
		var lines []string
		for _, item := range items {
			cont := indent
			if strings.HasPrefix(item, "- ") || strings.HasPrefix(item, "* ") {
				cont = indent + "  "
			}
			line := indent
			for _, w := range strings.Fields(item) {
				if len(line) > len(cont) && len(line)+1+len(w) > width {
					lines = append(lines, line)
					line = cont
				}
				if len(line) > len(indent) && line != cont {
					line += " "
				}
				line += w
			}
			lines = append(lines, line)
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return strings.Join(out, "\n\n")
}
