package firstamltest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	_ "github.com/vektah/gqlparser/v2/validator/rules" // the spec's validation rules

	"github.com/complykit/complykit-go/gen/firstaml"
	"github.com/complykit/complykit-go/internal/fakeserver"
)

// execute runs one GraphQL-over-HTTP request: parse, validate against the
// schema, pick the operation, coerce the variables (any failure so far is
// a 400, as GraphQL-over-HTTP prescribes for application/graphql-response+json),
// then execute it (a 200 with data and any field errors).
func (s *Server) execute(body *firstaml.GraphQLRequest, grant fakeserver.Grant, base string) (resp firstaml.GraphqlResponseObject) {
	if body == nil || strings.TrimSpace(body.Query) == "" {
		return badRequest(gqlError("firstamltest: the request has no query", "BAD_REQUEST"))
	}
	doc, err := parser.ParseQuery(&ast.Source{Name: "request", Input: body.Query})
	if err != nil {
		return badRequest(fromGQLErrors(asList(err), "GRAPHQL_PARSE_FAILED")...)
	}
	if errs := validator.Validate(s.schema, doc); len(errs) > 0 {
		return badRequest(fromGQLErrors(errs, "GRAPHQL_VALIDATION_FAILED")...)
	}
	var op *ast.OperationDefinition
	switch name := deref(body.OperationName); {
	case name != "":
		if op = doc.Operations.ForName(name); op == nil {
			return badRequest(gqlError(fmt.Sprintf("Unknown operation named %q.", clip(name)), "BAD_REQUEST"))
		}
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	default:
		return badRequest(gqlError("Must provide operation name if query contains multiple operations.", "BAD_REQUEST"))
	}
	if op.Operation == ast.Subscription {
		return badRequest(gqlError("Subscriptions are not supported.", "BAD_REQUEST"))
	}
	vars, err := validator.VariableValues(s.schema, op, body.Variables)
	if err != nil {
		return badRequest(fromGQLErrors(asList(err), "BAD_USER_INPUT")...)
	}

	defer func() {
		// ArgumentMap panics on values validation should have refused; a
		// fake must answer rather than crash the test's server.
		if r := recover(); r != nil {
			resp = firstaml.Graphql500JSONResponse{GraphQLServerErrorJSONResponse: firstaml.GraphQLServerErrorJSONResponse{
				Errors: []firstaml.GraphQLError{gqlError(fmt.Sprintf("firstamltest: executor failed: %v", r), "INTERNAL_SERVER_ERROR")}}}
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &executor{s: s, schema: s.schema, vars: vars, grant: grant, base: base}
	root := s.schema.Query
	if op.Operation == ast.Mutation {
		root = s.schema.Mutation
	}
	data, ok := e.selectFields(root, nil, op.SelectionSet, nil)
	out := firstaml.GraphQLResultApplicationGraphqlResponsePlusJSONResponse{Errors: fromGQLErrors(e.errs, "")}
	if ok {
		out.Data = data
	}
	return firstaml.Graphql200ApplicationGraphqlResponsePlusJSONResponse{GraphQLResultApplicationGraphqlResponsePlusJSONResponse: out}
}

func asList(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var one *gqlerror.Error
	if errors.As(err, &one) {
		return gqlerror.List{one}
	}
	return gqlerror.List{gqlerror.Wrap(err)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// fromGQLErrors converts gqlparser errors to the contract's error objects,
// setting extensions.code to code where the error has none.
func fromGQLErrors(list gqlerror.List, code string) []firstaml.GraphQLError {
	var out []firstaml.GraphQLError
	for _, e := range list {
		ge := firstaml.GraphQLError{Message: e.Message, Extensions: map[string]any{}}
		for k, v := range e.Extensions {
			if k != "file" {
				ge.Extensions[k] = v
			}
		}
		if _, ok := ge.Extensions["code"]; !ok && code != "" {
			ge.Extensions["code"] = code
		}
		if len(ge.Extensions) == 0 {
			ge.Extensions = nil
		}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, firstaml.GraphQLLocation{Line: int32(l.Line), Column: int32(l.Column)})
		}
		for _, p := range e.Path {
			switch p := p.(type) {
			case ast.PathName:
				ge.Path = append(ge.Path, string(p))
			case ast.PathIndex:
				ge.Path = append(ge.Path, int(p))
			}
		}
		out = append(out, ge)
	}
	return out
}

// executor runs one validated operation over the fake's data. It is
// generic over the schema: the root fields are resolved by the functions
// in resolvers (like a real server's resolvers), introspection's
// included, and every other field is read from the GraphQL object (a map
// keyed by field name) its parent resolved to, or computed from its
// arguments when that value is lazy, then completed by its schema type: lists, scalars, enums,
// objects and abstract types (by __typename), with selection sets merged
// across fragments and inline fragments, and null propagation for errors
// (GraphQL spec section 6.4.4).
type executor struct {
	s      *Server
	schema *ast.Schema
	vars   map[string]any
	grant  fakeserver.Grant
	base   string // the fake's URL as the client reached it, for links
	errs   gqlerror.List
}

// resolver resolves a root field from its arguments.
type resolver func(e *executor, args map[string]any) (any, error)

// fieldError is an error a resolver reports for its field.
type fieldError struct{ msg, code string }

func (f *fieldError) Error() string { return f.msg }

func (e *executor) addError(msg, code string, path ast.Path, pos *ast.Position) {
	ge := &gqlerror.Error{Message: msg, Path: append(ast.Path(nil), path...)}
	if pos != nil {
		ge.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	if code != "" {
		ge.Extensions = map[string]any{"code": code}
	}
	e.errs = append(e.errs, ge)
}

// fieldGroup is the fields of one response key (several when fragments
// select the same field), in document order.
type fieldGroup struct {
	key    string
	fields []*ast.Field
}

// collect gathers the fields a selection set selects on an object of type
// typeName (GraphQL spec CollectFields).
func (e *executor) collect(typeName string, set ast.SelectionSet, groups []fieldGroup, visited map[string]bool) []fieldGroup {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if e.skipped(sel.Directives) {
				continue
			}
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			found := false
			for i := range groups {
				if groups[i].key == key {
					groups[i].fields = append(groups[i].fields, sel)
					found = true
					break
				}
			}
			if !found {
				groups = append(groups, fieldGroup{key: key, fields: []*ast.Field{sel}})
			}
		case *ast.InlineFragment:
			if e.skipped(sel.Directives) || (sel.TypeCondition != "" && !e.applies(sel.TypeCondition, typeName)) {
				continue
			}
			groups = e.collect(typeName, sel.SelectionSet, groups, visited)
		case *ast.FragmentSpread:
			if e.skipped(sel.Directives) || visited[sel.Name] || sel.Definition == nil {
				continue
			}
			visited[sel.Name] = true
			if !e.applies(sel.Definition.TypeCondition, typeName) {
				continue
			}
			groups = e.collect(typeName, sel.Definition.SelectionSet, groups, visited)
		}
	}
	return groups
}

// skipped applies @skip and @include.
func (e *executor) skipped(dirs ast.DirectiveList) bool {
	if d := dirs.ForName("skip"); d != nil && d.ArgumentMap(e.vars)["if"] == true {
		return true
	}
	if d := dirs.ForName("include"); d != nil && d.ArgumentMap(e.vars)["if"] == false {
		return true
	}
	return false
}

// applies reports whether a fragment on cond applies to an object of type
// typeName: the same type, or an abstract type it belongs to.
func (e *executor) applies(cond, typeName string) bool {
	if cond == typeName {
		return true
	}
	for _, def := range e.schema.PossibleTypes[cond] {
		if def.Name == typeName {
			return true
		}
	}
	return false
}

// selectFields executes a selection set on an object of type typ. obj is
// the object's data; nil for the root, whose fields come from resolvers.
// ok is false when a non-null field failed, so the object itself is null.
func (e *executor) selectFields(typ *ast.Definition, obj map[string]any, set ast.SelectionSet, path ast.Path) (map[string]any, bool) {
	out := map[string]any{}
	for _, g := range e.collect(typ.Name, set, nil, map[string]bool{}) {
		f := g.fields[0]
		fpath := append(append(ast.Path(nil), path...), ast.PathName(g.key))
		if f.Name == "__typename" {
			out[g.key] = typ.Name
			continue
		}
		def := typ.Fields.ForName(f.Name)
		if def == nil || (strings.HasPrefix(f.Name, "__") && obj != nil) {
			// Validation refuses unknown fields; this is a fake's bug.
			e.addError("firstamltest: field "+f.Name+" is not supported by the fake", "NOT_SUPPORTED", fpath, f.Position)
			if def != nil && def.Type.NonNull {
				return nil, false
			}
			out[g.key] = nil
			continue
		}
		var value any
		if obj == nil {
			r := rootResolver(typ.Name + "." + f.Name)
			if r == nil {
				e.addError("firstamltest: "+typ.Name+"."+f.Name+" is in the schema but the fake does not implement it", "NOT_IMPLEMENTED", fpath, f.Position)
				if def.Type.NonNull {
					return nil, false
				}
				out[g.key] = nil
				continue
			}
			v, err := r(e, f.ArgumentMap(e.vars))
			if err != nil {
				code := ""
				var fe *fieldError
				if errors.As(err, &fe) {
					code = fe.code
				}
				e.addError(err.Error(), code, fpath, f.Position)
				if def.Type.NonNull {
					return nil, false
				}
				out[g.key] = nil
				continue
			}
			value = v
		} else {
			value = obj[f.Name]
			if fn, ok := value.(lazy); ok { // computed from the field's arguments
				value = fn(f.ArgumentMap(e.vars))
			}
		}
		var sub ast.SelectionSet
		for _, ff := range g.fields {
			sub = append(sub, ff.SelectionSet...)
		}
		v, ok := e.complete(def.Type, value, sub, fpath, f.Position)
		if !ok {
			return nil, false // def.Type is non-null: the null propagates
		}
		out[g.key] = v
	}
	return out, true
}

// complete turns a field's value into its response value by its type. ok
// is false when the value is null (or became null) where typ is non-null,
// so the null must propagate to the parent.
func (e *executor) complete(typ *ast.Type, v any, sub ast.SelectionSet, path ast.Path, pos *ast.Position) (any, bool) {
	if isNull(v) {
		if typ.NonNull {
			e.addError("Cannot return null for non-nullable field.", "", path, pos)
			return nil, false
		}
		return nil, true
	}
	if typ.Elem != nil {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice {
			e.addError("firstamltest: the fake's data is not a list here", "INTERNAL_SERVER_ERROR", path, pos)
			return nil, !typ.NonNull
		}
		out := make([]any, rv.Len())
		for i := range out {
			item, ok := e.complete(typ.Elem, rv.Index(i).Interface(), sub, append(append(ast.Path(nil), path...), ast.PathIndex(i)), pos)
			if !ok {
				return nil, !typ.NonNull
			}
			out[i] = item
		}
		return out, true
	}
	def := e.schema.Types[typ.NamedType]
	if def == nil {
		e.addError("firstamltest: unknown type "+typ.NamedType, "INTERNAL_SERVER_ERROR", path, pos)
		return nil, !typ.NonNull
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		if !scalarOK(def.Name, v) {
			e.addError(fmt.Sprintf("firstamltest: the fake's data is not a %s here", def.Name), "INTERNAL_SERVER_ERROR", path, pos)
			return nil, !typ.NonNull
		}
		return v, true
	case ast.Object, ast.Union, ast.Interface:
		obj, isObj := v.(map[string]any)
		if !isObj {
			e.addError("firstamltest: the fake's data is not an object here", "INTERNAL_SERVER_ERROR", path, pos)
			return nil, !typ.NonNull
		}
		concrete := def
		if def.Kind != ast.Object {
			name, _ := obj["__typename"].(string)
			if concrete = e.schema.Types[name]; concrete == nil || !e.applies(def.Name, name) {
				e.addError(fmt.Sprintf("firstamltest: the fake's data has no valid __typename for %s", def.Name), "INTERNAL_SERVER_ERROR", path, pos)
				return nil, !typ.NonNull
			}
		}
		out, ok := e.selectFields(concrete, obj, sub, path)
		if !ok {
			return nil, !typ.NonNull
		}
		return out, true
	}
	e.addError("firstamltest: cannot output a "+string(def.Kind), "INTERNAL_SERVER_ERROR", path, pos)
	return nil, !typ.NonNull
}

func isNull(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// scalarOK checks the fake's own data against the scalar it is served as.
func scalarOK(name string, v any) bool {
	switch name {
	case "String", "ID":
		_, ok := v.(string)
		return ok
	case "Boolean":
		_, ok := v.(bool)
		return ok
	case "Int":
		switch v.(type) {
		case int, int32, int64:
			return true
		}
		return false
	case "Float":
		switch v.(type) {
		case float32, float64, int, int32, int64:
			return true
		}
		return false
	}
	return true // enums and custom scalars: as stored
}
