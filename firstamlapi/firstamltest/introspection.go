package firstamltest

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Introspection (GraphQL spec section 4): __schema and __type at the root,
// __typename everywhere, so that GraphiQL, Insomnia, Altair or any GraphQL
// tool can be pointed at the fake. gqlparser provides the introspection
// types (__Schema, __Type, ...) and validates introspection queries; it has
// no resolvers for them, and gqlgen's (graphql/introspection) are typed Go
// wrappers for gqlgen's own executor, so the fake presents the parsed
// schema as GraphQL objects like the rest of its data. Fields with
// arguments (fields and enumValues with includeDeprecated) and the nested
// types are lazy: the executor calls them only when selected, which also
// keeps the recursive type graph finite.

// lazy is a field value computed when the field is selected, from its
// arguments (defaults applied).
type lazy func(args map[string]any) any

func resolveSchema(e *executor, _ map[string]any) (any, error) {
	return e.schemaObject(), nil
}

func resolveType(e *executor, args map[string]any) (any, error) {
	name, _ := args["name"].(string)
	def := e.schema.Types[name]
	if def == nil {
		return nil, nil
	}
	return e.typeObject(def), nil
}

func (e *executor) schemaObject() map[string]any {
	obj := map[string]any{
		"description": nullable(e.schema.Description),
		"types": lazy(func(map[string]any) any {
			names := make([]string, 0, len(e.schema.Types))
			for name := range e.schema.Types {
				names = append(names, name)
			}
			slices.Sort(names)
			out := make([]any, len(names))
			for i, name := range names {
				out[i] = e.typeObject(e.schema.Types[name])
			}
			return out
		}),
		"queryType": e.typeObject(e.schema.Query),
		"directives": lazy(func(map[string]any) any {
			names := make([]string, 0, len(e.schema.Directives))
			for name := range e.schema.Directives {
				names = append(names, name)
			}
			slices.Sort(names)
			out := make([]any, len(names))
			for i, name := range names {
				d := e.schema.Directives[name]
				locs := make([]any, len(d.Locations))
				for j, l := range d.Locations {
					locs[j] = string(l)
				}
				out[i] = map[string]any{"name": d.Name, "description": nullable(d.Description), "locations": locs,
					"args": e.argsObjects(d.Arguments), "isRepeatable": d.IsRepeatable}
			}
			return out
		}),
	}
	if e.schema.Mutation != nil {
		obj["mutationType"] = e.typeObject(e.schema.Mutation)
	}
	if e.schema.Subscription != nil {
		obj["subscriptionType"] = e.typeObject(e.schema.Subscription)
	}
	return obj
}

// typeObject presents a named type as a __Type.
func (e *executor) typeObject(def *ast.Definition) map[string]any {
	obj := map[string]any{"kind": string(def.Kind), "name": def.Name, "description": nullable(def.Description)}
	switch def.Kind {
	case ast.Object, ast.Interface:
		obj["fields"] = lazy(func(args map[string]any) any {
			withDeprecated := args["includeDeprecated"] == true
			var out []any
			for _, f := range def.Fields {
				if strings.HasPrefix(f.Name, "__") || (!withDeprecated && deprecated(f.Directives)) {
					continue // __schema, __type and __typename are not listed
				}
				out = append(out, map[string]any{"name": f.Name, "description": nullable(f.Description),
					"args": e.argsObjects(f.Arguments), "type": e.typeRef(f.Type),
					"isDeprecated": deprecated(f.Directives), "deprecationReason": deprecationReason(f.Directives)})
			}
			return orEmpty(out)
		})
		obj["interfaces"] = lazy(func(map[string]any) any {
			out := make([]any, 0, len(def.Interfaces))
			for _, name := range def.Interfaces {
				out = append(out, e.typeObject(e.schema.Types[name]))
			}
			return out
		})
	case ast.InputObject:
		obj["inputFields"] = lazy(func(map[string]any) any {
			out := make([]any, len(def.Fields))
			for i, f := range def.Fields {
				out[i] = e.inputValue(f.Name, f.Description, f.Type, f.DefaultValue)
			}
			return out
		})
	case ast.Enum:
		obj["enumValues"] = lazy(func(args map[string]any) any {
			withDeprecated := args["includeDeprecated"] == true
			var out []any
			for _, v := range def.EnumValues {
				if !withDeprecated && deprecated(v.Directives) {
					continue
				}
				out = append(out, map[string]any{"name": v.Name, "description": nullable(v.Description),
					"isDeprecated": deprecated(v.Directives), "deprecationReason": deprecationReason(v.Directives)})
			}
			return orEmpty(out)
		})
	case ast.Scalar:
		if d := def.Directives.ForName("specifiedBy"); d != nil {
			if u := d.Arguments.ForName("url"); u != nil && u.Value != nil {
				obj["specifiedByURL"] = u.Value.Raw
			}
		}
	}
	if def.Kind == ast.Union || def.Kind == ast.Interface {
		obj["possibleTypes"] = lazy(func(map[string]any) any {
			types := e.schema.GetPossibleTypes(def)
			out := make([]any, len(types))
			for i, t := range types {
				out[i] = e.typeObject(t)
			}
			return out
		})
	}
	return obj
}

// typeRef presents a type reference: NON_NULL and LIST wrappers around a
// named type.
func (e *executor) typeRef(t *ast.Type) any {
	switch {
	case t.NonNull:
		inner := *t
		inner.NonNull = false
		return map[string]any{"kind": "NON_NULL", "name": nil, "ofType": lazy(func(map[string]any) any { return e.typeRef(&inner) })}
	case t.Elem != nil:
		return map[string]any{"kind": "LIST", "name": nil, "ofType": lazy(func(map[string]any) any { return e.typeRef(t.Elem) })}
	}
	return e.typeObject(e.schema.Types[t.NamedType])
}

func (e *executor) argsObjects(args ast.ArgumentDefinitionList) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = e.inputValue(a.Name, a.Description, a.Type, a.DefaultValue)
	}
	return out
}

// inputValue presents an argument or input field as an __InputValue; its
// defaultValue is the default in GraphQL syntax, or null.
func (e *executor) inputValue(name, description string, t *ast.Type, def *ast.Value) map[string]any {
	obj := map[string]any{"name": name, "description": nullable(description), "type": lazy(func(map[string]any) any { return e.typeRef(t) })}
	if def != nil {
		obj["defaultValue"] = def.String()
	}
	return obj
}

func deprecated(dirs ast.DirectiveList) bool { return dirs.ForName("deprecated") != nil }

func deprecationReason(dirs ast.DirectiveList) any {
	d := dirs.ForName("deprecated")
	if d == nil {
		return nil
	}
	if r := d.Arguments.ForName("reason"); r != nil && r.Value != nil {
		return r.Value.Raw
	}
	return "No longer supported" // the directive's default
}

func orEmpty(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}
