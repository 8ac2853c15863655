package firstamltest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/specs"
)

// introspected is the part of an introspection result the test reads.
type introspected struct {
	Kind          string
	Name          string
	Description   *string
	Fields        []introField
	InputFields   []introInput
	EnumValues    []struct{ Name string }
	PossibleTypes []typeRef
}

type introField struct {
	Name        string
	Description *string
	Args        []introInput
	Type        typeRef
}

type introInput struct {
	Name         string
	Type         typeRef
	DefaultValue *string
}

type typeRef struct {
	Kind   string
	Name   *string
	OfType *typeRef
}

func (t typeRef) String() string {
	switch t.Kind {
	case "NON_NULL":
		return t.OfType.String() + "!"
	case "LIST":
		return "[" + t.OfType.String() + "]"
	}
	return *t.Name
}

// sdl renders an introspection result back into SDL, as a GraphQL tool's
// buildClientSchema would rebuild the schema.
func sdl(types []introspected) string {
	var b strings.Builder
	args := func(in []introInput) string {
		if len(in) == 0 {
			return ""
		}
		var parts []string
		for _, a := range in {
			p := a.Name + ": " + a.Type.String()
			if a.DefaultValue != nil {
				p += " = " + *a.DefaultValue
			}
			parts = append(parts, p)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	for _, t := range types {
		if strings.HasPrefix(t.Name, "__") || slices.Contains([]string{"Int", "Float", "String", "Boolean", "ID"}, t.Name) {
			continue
		}
		switch t.Kind {
		case "OBJECT":
			fmt.Fprintf(&b, "type %s {\n", t.Name)
			for _, f := range t.Fields {
				fmt.Fprintf(&b, "  %s%s: %s\n", f.Name, args(f.Args), f.Type)
			}
			b.WriteString("}\n")
		case "INPUT_OBJECT":
			fmt.Fprintf(&b, "input %s {\n", t.Name)
			for _, f := range t.InputFields {
				fmt.Fprintf(&b, "  %s\n", strings.Trim(args([]introInput{f}), "()"))
			}
			b.WriteString("}\n")
		case "ENUM":
			fmt.Fprintf(&b, "enum %s {", t.Name)
			for _, v := range t.EnumValues {
				b.WriteString(" " + v.Name)
			}
			b.WriteString(" }\n")
		case "UNION":
			var members []string
			for _, m := range t.PossibleTypes {
				members = append(members, *m.Name)
			}
			fmt.Fprintf(&b, "union %s = %s\n", t.Name, strings.Join(members, " | "))
		case "SCALAR":
			fmt.Fprintf(&b, "scalar %s\n", t.Name)
		default:
			fmt.Fprintf(&b, "# unexpected kind %s of %s\n", t.Kind, t.Name)
		}
	}
	return b.String()
}

// The standard introspection query, as GraphiQL and Insomnia send it,
// describes the schema of specs/firstaml.graphql exactly: rebuilt from the
// answer, every type, field, argument, input field, enum value and union
// member is the original's, descriptions included.
func TestIntrospection(t *testing.T) {
	srv := firstamltest.NewServer(t)
	tok := token(t, srv)
	query, err := os.ReadFile("testdata/introspection-query.graphql")
	if err != nil {
		t.Fatal(err)
	}
	status, _, gr := graphql(t, srv, tok, ua, map[string]any{"query": string(query), "operationName": "IntrospectionQuery"})
	if status != 200 || len(gr.Errors) != 0 {
		t.Fatalf("got %d %+v", status, gr.Errors)
	}
	raw := gr.Data["__schema"].(map[string]any)
	if name := raw["queryType"].(map[string]any)["name"]; name != "Query" {
		t.Errorf("queryType = %v", name)
	}
	if name := raw["mutationType"].(map[string]any)["name"]; name != "Mutation" {
		t.Errorf("mutationType = %v", name)
	}
	if raw["subscriptionType"] != nil {
		t.Errorf("subscriptionType = %v; want null", raw["subscriptionType"])
	}
	var types []introspected
	remarshal(t, raw["types"], &types)

	sdlText, _ := specs.FS.ReadFile("firstaml.graphql")
	want, err := gqlparser.LoadSchema(&ast.Source{Name: "firstaml.graphql", Input: string(sdlText)})
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, gerr := gqlparser.LoadSchema(&ast.Source{Name: "introspected", Input: sdl(types)})
	if gerr != nil {
		t.Fatalf("the introspection result does not rebuild a schema: %v\n%s", gerr, sdl(types))
	}
	var wantNames, gotNames []string
	for name, def := range want.Types {
		if !def.BuiltIn {
			wantNames = append(wantNames, name)
		}
	}
	for name, def := range rebuilt.Types {
		if !def.BuiltIn {
			gotNames = append(gotNames, name)
		}
	}
	slices.Sort(wantNames)
	slices.Sort(gotNames)
	if !slices.Equal(wantNames, gotNames) {
		t.Errorf("introspected types %q; want %q", gotNames, wantNames)
	}
	for name, def := range want.Types {
		if def.BuiltIn {
			continue
		}
		got := rebuilt.Types[name]
		if got == nil || got.Kind != def.Kind {
			t.Errorf("type %s (%s): introspected as %v", name, def.Kind, got)
			continue
		}
		if d := describe(def); d != describe(got) {
			t.Errorf("type %s:\n got %s\nwant %s", name, describe(got), d)
		}
	}
	// Descriptions travel too.
	byName := map[string]introspected{}
	for _, ty := range types {
		byName[ty.Name] = ty
	}
	for name, def := range want.Types {
		got, ok := byName[name]
		if def.BuiltIn || !ok {
			continue
		}
		if got.Description == nil || *got.Description != def.Description {
			t.Errorf("type %s description = %v; want %q", name, got.Description, def.Description)
		}
		for _, f := range got.Fields {
			if wf := def.Fields.ForName(f.Name); wf == nil || f.Description == nil || *f.Description != wf.Description {
				t.Errorf("field %s.%s description differs", name, f.Name)
			}
		}
	}
	// The introspection fields themselves are not listed among Query's.
	for _, f := range byName["Query"].Fields {
		if strings.HasPrefix(f.Name, "__") {
			t.Errorf("Query lists %s", f.Name)
		}
	}
	var dirs []struct {
		Name      string
		Locations []string
	}
	remarshal(t, raw["directives"], &dirs)
	if i := slices.IndexFunc(dirs, func(d struct {
		Name      string
		Locations []string
	}) bool {
		return d.Name == "skip"
	}); i < 0 || !slices.Contains(dirs[i].Locations, "FIELD") {
		t.Errorf("directives = %+v; want @skip on FIELD", dirs)
	}
}

// describe renders what a tool sees of a type: its members and their
// types, in order.
func describe(def *ast.Definition) string {
	var parts []string
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		p := f.Name + ":" + f.Type.String()
		if f.DefaultValue != nil {
			p += "=" + f.DefaultValue.String()
		}
		for _, a := range f.Arguments {
			p += " " + a.Name + ":" + a.Type.String()
		}
		parts = append(parts, p)
	}
	for _, v := range def.EnumValues {
		parts = append(parts, v.Name)
	}
	types := slices.Clone(def.Types)
	slices.Sort(types)
	parts = append(parts, types...)
	return def.Name + "{" + strings.Join(parts, ", ") + "}"
}

func TestIntrospectionType(t *testing.T) {
	srv := firstamltest.NewServer(t)
	tok := token(t, srv)
	// __type, the optional introspection fields of graphql-js's options
	// (specifiedByURL, isRepeatable, the schema's description), arguments
	// and __typename on introspection types, and an unknown type.
	status, _, gr := graphql(t, srv, tok, ua, map[string]any{"query": `{
  input: __type(name: "CreateCaseInput") { kind name inputFields { name type { kind ofType { kind name } } } }
  decimal: __type(name: "Decimal") { kind specifiedByURL }
  union: __type(name: "CaseResult") { __typename kind possibleTypes { name } fields { name } }
  enum: __type(name: "RunVerificationChecks") { enumValues { name isDeprecated } }
  nope: __type(name: "Nope") { name }
  __schema { description directives { name isRepeatable args { name defaultValue } } }
}`})
	if status != 200 || len(gr.Errors) != 0 {
		t.Fatalf("got %d %+v", status, gr.Errors)
	}
	var got struct {
		Input struct {
			Kind        string
			InputFields []struct {
				Name string
				Type typeRef
			}
		}
		Decimal struct {
			Kind           string
			SpecifiedByURL *string
		}
		Union struct {
			Typename      string `json:"__typename"`
			Kind          string
			PossibleTypes []struct{ Name string }
			Fields        []any
		}
		Enum struct {
			EnumValues []struct {
				Name         string
				IsDeprecated bool
			}
		}
		Nope   any
		Schema struct {
			Description *string
			Directives  []struct {
				Name string
				Args []struct {
					Name         string
					DefaultValue *string
				}
			}
		} `json:"__schema"`
	}
	remarshal(t, gr.Data, &got)
	i := slices.IndexFunc(got.Input.InputFields, func(f struct {
		Name string
		Type typeRef
	}) bool {
		return f.Name == "runVerificationChecks"
	})
	if got.Input.Kind != "INPUT_OBJECT" || i < 0 || got.Input.InputFields[i].Type.Kind != "NON_NULL" || *got.Input.InputFields[i].Type.OfType.Name != "RunVerificationChecks" {
		t.Errorf("CreateCaseInput = %+v", got.Input)
	}
	if got.Decimal.Kind != "SCALAR" || got.Decimal.SpecifiedByURL != nil {
		t.Errorf("Decimal = %+v", got.Decimal)
	}
	if got.Union.Typename != "__Type" || got.Union.Kind != "UNION" || len(got.Union.PossibleTypes) != 2 || got.Union.Fields != nil {
		t.Errorf("CaseResult = %+v; want a union of two, with null fields", got.Union)
	}
	if len(got.Enum.EnumValues) != 2 || got.Enum.EnumValues[0].Name != "DO_NOT_RUN" || got.Enum.EnumValues[0].IsDeprecated {
		t.Errorf("RunVerificationChecks = %+v", got.Enum)
	}
	if got.Nope != nil {
		t.Errorf("unknown type = %v; want null", got.Nope)
	}
	j := slices.IndexFunc(got.Schema.Directives, func(d struct {
		Name string
		Args []struct {
			Name         string
			DefaultValue *string
		}
	}) bool {
		return d.Name == "deprecated"
	})
	if j < 0 || got.Schema.Directives[j].Args[0].DefaultValue == nil || *got.Schema.Directives[j].Args[0].DefaultValue != `"No longer supported"` {
		t.Errorf("@deprecated = %+v; want reason's default in GraphQL syntax", got.Schema.Directives)
	}
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		t.Fatal(err)
	}
}
