package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/specs"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/validator"
)

// The GraphQL operations `complykit call firstaml` runs are those of
// specs/firstaml-operations.graphql, the file genqlient generates the
// typed client from: a new operation there is a new command here.

// validationErrorsType is the union member of First AML's results that
// reports business validation failures (with HTTP 200).
const validationErrorsType = "ValidationErrors"

// gqlOp is one operation of the operations file.
type gqlOp struct {
	def   *ast.OperationDefinition
	query string // the operation and the fragments it uses, as sent
	// bodyVar is the variable --body fills: the only one of an input
	// object or list type; "" if there is none (then --body is refused)
	// or several (then --body is a JSON object of variables by name).
	bodyVar string
}

type gqlSpec struct {
	schema *ast.Schema
	ops    map[string]*gqlOp
	list   []*operation
}

// rawGraphQLOp sends any GraphQL request; it is not in the operations file.
const rawGraphQLOp = "graphql"

var loadGQLSpec = sync.OnceValues(func() (*gqlSpec, error) {
	sdl, err := specs.FS.ReadFile("firstaml.graphql")
	if err != nil {
		return nil, err
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "firstaml.graphql", Input: string(sdl)})
	if err != nil {
		return nil, fmt.Errorf("specs: firstaml.graphql: %w", err)
	}
	src, err := specs.FS.ReadFile("firstaml-operations.graphql")
	if err != nil {
		return nil, err
	}
	doc, errs := gqlparser.LoadQuery(schema, string(src))
	if len(errs) > 0 {
		return nil, fmt.Errorf("specs: firstaml-operations.graphql: %w", errs)
	}
	s := &gqlSpec{schema: schema, ops: map[string]*gqlOp{}}
	for _, def := range doc.Operations {
		op := &gqlOp{def: def, query: operationText(doc, def)}
		var nonScalar []string
		for _, v := range def.VariableDefinitions {
			if !isScalarType(schema, v.Type) {
				nonScalar = append(nonScalar, v.Variable)
			}
		}
		if len(nonScalar) == 1 {
			op.bodyVar = nonScalar[0]
		}
		name := kebab(def.Name)
		s.ops[name] = op
		s.list = append(s.list, s.describe(name, op, len(nonScalar) > 1))
	}
	s.list = append(s.list, &operation{
		name:  rawGraphQLOp,
		short: "Send any GraphQL request, as written",
		long: `Send any GraphQL request, as written, through the authenticated client.

Parameters: none (the variables go in the body)

Body (--body FILE or -, JSON, required): {"query": "...", "variables": {...}, "operationName": "..."}

Nothing is retried: the request may be a mutation.`,
		body: true,
	})
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].name < s.list[j].name })
	return s, nil
})

func firstamlOperations() ([]*operation, error) {
	s, err := loadGQLSpec()
	if err != nil {
		return nil, err
	}
	return s.list, nil
}

// operationText is def with the fragments it uses, formatted for the wire
// (without the file's comments and genqlient directives).
func operationText(doc *ast.QueryDocument, def *ast.OperationDefinition) string {
	var frags ast.FragmentDefinitionList
	seen := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				if f := doc.Fragments.ForName(s.Name); f != nil {
					frags = append(frags, f)
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(def.SelectionSet)
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatQueryDocument(&ast.QueryDocument{
		Operations: ast.OperationList{def},
		Fragments:  frags,
	})
	return b.String()
}

func isScalarType(schema *ast.Schema, t *ast.Type) bool {
	if t.Elem != nil {
		return false
	}
	def := schema.Types[t.NamedType]
	return def != nil && (def.Kind == ast.Scalar || def.Kind == ast.Enum)
}

// describe renders an operation's help from the schema: the root field's
// description, the variables (scalars as --param, the input as --body with
// its fields) and the result type.
func (s *gqlSpec) describe(name string, op *gqlOp, bodyIsObject bool) *operation {
	o := &operation{name: name}
	root := s.schema.Query
	if op.def.Operation == ast.Mutation {
		root = s.schema.Mutation
	}
	var fields []*ast.FieldDefinition
	for _, sel := range op.def.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && root != nil {
			if fd := root.Fields.ForName(f.Name); fd != nil {
				fields = append(fields, fd)
			}
		}
	}
	var b strings.Builder
	if len(fields) > 0 && fields[0].Description != "" {
		desc := oneLine(fields[0].Description)
		o.short = clipText(firstSentence(desc), 72)
		b.WriteString(wrap(desc, 80, ""))
	} else {
		o.short = "the " + op.def.Name + " " + string(op.def.Operation)
		b.WriteString(o.short)
	}
	fmt.Fprintf(&b, "\n\nGraphQL: %s %s (specs/firstaml-operations.graphql)", op.def.Operation, op.def.Name)
	if op.def.Operation == ast.Mutation {
		b.WriteString("; a mutation is sent once, never retried")
	}

	var params [][]string
	for _, v := range op.def.VariableDefinitions {
		if isScalarType(s.schema, v.Type) {
			req := "optional"
			if v.Type.NonNull {
				req = "required"
			}
			params = append(params, []string{"--param " + v.Variable + "=" + strings.ToUpper(v.Type.NamedType), v.Type.String() + ", " + req})
			o.params = append(o.params, v.Variable)
		}
	}
	if len(params) == 0 {
		b.WriteString("\n\nParameters: none")
	} else {
		b.WriteString("\n\nParameters:\n" + strings.TrimRight(table(params, "  "), "\n"))
	}

	switch {
	case op.bodyVar != "":
		o.body = true
		v := op.def.VariableDefinitions.ForName(op.bodyVar)
		req := "optional"
		if v.Type.NonNull {
			req = "required"
		}
		fmt.Fprintf(&b, "\n\nBody (--body FILE or -, JSON, %s): $%s, a %s\n", req, v.Variable, v.Type.String())
		b.WriteString(strings.TrimRight(inputHelp(s.schema, v.Type, "  "), "\n"))
	case bodyIsObject:
		o.body = true
		b.WriteString("\n\nBody (--body FILE or -, JSON): an object of the variables by name")
	default:
		b.WriteString("\n\nBody: none")
	}

	for _, f := range fields {
		fmt.Fprintf(&b, "\n\nResult: %s: %s", f.Name, f.Type.String())
		if def := s.schema.Types[f.Type.Name()]; def != nil && def.Kind == ast.Union {
			fmt.Fprintf(&b, " (%s)", strings.Join(def.Types, " or "))
			for _, m := range def.Types {
				if m == validationErrorsType {
					b.WriteString(". A ValidationErrors result is printed, its errors go to stderr, and the exit code is 4")
				}
			}
		}
	}
	o.long = strings.TrimRight(b.String(), "\n")
	return o
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// inputHelp lists an input type's fields, nested input types indented
// (each expanded once along a path).
func inputHelp(schema *ast.Schema, t *ast.Type, indent string) string {
	var rows [][]string
	var walk func(name string, indent string, seen map[string]bool)
	walk = func(name string, indent string, seen map[string]bool) {
		def := schema.Types[name]
		if def == nil || def.Kind != ast.InputObject || seen[name] {
			return
		}
		seen = with(seen, name)
		for _, f := range def.Fields {
			typ := f.Type.String()
			if ed := schema.Types[f.Type.Name()]; ed != nil && ed.Kind == ast.Enum {
				var vals []string
				for _, ev := range ed.EnumValues {
					vals = append(vals, ev.Name)
				}
				typ += " (" + strings.Join(vals, ", ") + ")"
			}
			req := ""
			if f.Type.NonNull && f.DefaultValue == nil {
				req = "required"
			}
			rows = append(rows, []string{indent + f.Name, typ, req, clipText(oneLine(f.Description), 100)})
			walk(f.Type.Name(), indent+"  ", seen)
		}
	}
	walk(t.Name(), indent, map[string]bool{})
	return table(rows, "")
}

// variables builds an operation's variables: scalars from --param
// (converted to the variable's type), the input from --body; then checks
// them against the schema, so that a mistake is a usage error found
// before anything is sent.
func (s *gqlSpec) variables(name string, op *gqlOp, params map[string]string, body []byte) (map[string]any, error) {
	vars := map[string]any{}
	if body != nil {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, usagef("firstaml %s: --body is not valid JSON: %v", name, err)
		}
		switch {
		case op.bodyVar != "":
			vars[op.bodyVar] = v
		default:
			obj, ok := v.(map[string]any)
			hasInput := false
			for _, vd := range op.def.VariableDefinitions {
				hasInput = hasInput || !isScalarType(s.schema, vd.Type)
			}
			if !hasInput {
				return nil, usagef("firstaml %s: the operation takes no body", name)
			}
			if !ok {
				return nil, usagef("firstaml %s: --body must be a JSON object of the variables by name", name)
			}
			for k, v := range obj {
				vars[k] = v
			}
		}
	}
	for k, raw := range params {
		vd := op.def.VariableDefinitions.ForName(k)
		if vd == nil {
			var names []string
			for _, v := range op.def.VariableDefinitions {
				if isScalarType(s.schema, v.Type) {
					names = append(names, v.Variable)
				}
			}
			if len(names) == 0 {
				return nil, usagef("firstaml %s: unknown parameter %q (the operation takes none)", name, k)
			}
			return nil, usagef("firstaml %s: unknown parameter %q (parameters: %s)", name, k, strings.Join(names, ", "))
		}
		v, err := scalarValue(vd.Type, raw)
		if err != nil {
			return nil, usagef("firstaml %s: --param %s: %v", name, k, err)
		}
		vars[k] = v
	}
	for _, vd := range op.def.VariableDefinitions {
		if _, ok := vars[vd.Variable]; !ok && vd.Type.NonNull && vd.DefaultValue == nil {
			if isScalarType(s.schema, vd.Type) {
				return nil, usagef("firstaml %s: missing --param %s=...", name, vd.Variable)
			}
			return nil, usagef("firstaml %s: --body FILE (or -) is required: the $%s variable, a %s", name, vd.Variable, vd.Type.String())
		}
	}
	if _, err := validator.VariableValues(s.schema, op.def, vars); err != nil {
		return nil, usagef("firstaml %s: %v", name, err)
	}
	return vars, nil
}

// scalarValue converts a --param value to the JSON value of a scalar or
// enum variable.
func scalarValue(t *ast.Type, raw string) (any, error) {
	switch t.NamedType {
	case "Int":
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("not an Int: %q", raw)
		}
		return n, nil
	case "Float":
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("not a Float: %q", raw)
		}
		return f, nil
	case "Boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("not a Boolean: %q", raw)
		}
		return b, nil
	}
	return raw, nil // String, ID, custom scalars and enums
}

// fieldPathString renders First AML's fieldPath, a list of strings
// (["individuals","1","emailAddress"]), as firstamlapi.FormatFieldPath does.
func fieldPathString(v any) string {
	list, _ := v.([]any)
	parts := make([]string, 0, len(list))
	for _, p := range list {
		if s, ok := p.(string); ok {
			parts = append(parts, s)
		}
	}
	return firstamlapi.FormatFieldPath(parts)
}

// validationErrors collects the errors of every ValidationErrors object in
// a result, as "fieldPath: message".
func validationErrors(data any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["__typename"] == validationErrorsType {
				list, _ := x["errors"].([]any)
				for _, e := range list {
					m, _ := e.(map[string]any)
					msg, _ := m["message"].(string)
					if path := fieldPathString(m["fieldPath"]); path != "" {
						msg = path + ": " + msg
					}
					out = append(out, oneLine(msg))
				}
				if len(list) == 0 {
					out = append(out, "(no details)")
				}
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(data)
	return out
}
