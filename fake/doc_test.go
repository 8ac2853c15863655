package fake_test

// Everything a test calls on the fakes must show in go doc with its
// signature and a sentence: the methods of each fake's Server, the fault
// helpers, the constructors, and the shared types of this package.

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakes are the four fake packages, relative to this one, with the
// methods each one's Server must declare beyond the shared ones.
var fakes = []struct {
	dir     string
	methods []string
}{
	{"../stemsapi/stemstest", []string{"ClientOptions", "Credentials", "AuthCodeFlowOptions", "AuthorizeURL",
		"RevokeAccessTokens", "RevokeRefreshTokens", "ReusedRefreshTokens", "Hazards", "Events"}},
	{"../stennapi/stenntest", []string{"ClientOptions", "RevokeAccessTokens"}},
	{"../cloudcompliapi/cloudcomplitest", []string{"Credentials", "AuthCodeApp", "AuthorizeURL", "GenerateToken",
		"RevokeAllTokens", "Entries", "User"}},
	{"../firstamlapi/firstamltest", []string{"ClientOptions", "GraphQLURL", "RevokeAccessTokens", "ScriptValidationErrors",
		"Cases", "Case"}},
}

// shared are the methods every fake's Server declares, the same in all
// four, so a test of two providers calls them alike.
var shared = []string{"Close", "Script", "ClearScript", "Requests", "RequestsSince", "ResetRequests",
	"TokenRequests", "APIRequests", "ControlURL", "TokenURL", "Clock", "Samples", "RevokeToken"}

// helpers are the package-level functions every fake declares.
var helpers = []string{"TooManyRequests", "Status", "Malformed", "HTML", "Slow", "Reset", "NewClock", "NewServer", "Start"}

// load parses the non-test files of the package in dir as go doc does.
func load(t *testing.T, dir string) (*doc.Package, *token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("%s: no Go files", dir)
	}
	p, err := doc.NewFromFiles(fset, files, "example.com/"+filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	return p, fset, files
}

// sentence reports what is wrong with the doc comment of name, or "".
func sentence(name, text string) string {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "has no doc comment"
	case !strings.HasPrefix(text, name+" ") && !strings.HasPrefix(text, "A "+name+" ") && !strings.HasPrefix(text, "An "+name+" "):
		return "has a doc comment that does not begin with its name: " + firstLine(text)
	case !strings.Contains(text, "."):
		return "has a doc comment that is not a sentence: " + firstLine(text)
	}
	return ""
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// funcs returns every package-level function of p by name, those go/doc
// files under a type (constructors: TooManyRequests under Fault) too.
func funcs(p *doc.Package) map[string]*doc.Func {
	out := map[string]*doc.Func{}
	for _, f := range p.Funcs {
		out[f.Name] = f
	}
	for _, typ := range p.Types {
		for _, f := range typ.Funcs {
			out[f.Name] = f
		}
	}
	return out
}

func typeOf(p *doc.Package, name string) *doc.Type {
	for _, typ := range p.Types {
		if typ.Name == name {
			return typ
		}
	}
	return nil
}

func TestEveryFakeDocumentsWhatATestCalls(t *testing.T) {
	for _, f := range fakes {
		t.Run(filepath.Base(f.dir), func(t *testing.T) {
			p, _, _ := load(t, f.dir)
			fns := funcs(p)
			for _, name := range helpers {
				fn, ok := fns[name]
				if !ok {
					t.Errorf("%s is not a function (a var has no signature in go doc)", name)
					continue
				}
				if msg := sentence(name, fn.Doc); msg != "" {
					t.Errorf("func %s %s", name, msg)
				}
			}
			server := typeOf(p, "Server")
			if server == nil {
				t.Fatal("no type Server")
			}
			methods := map[string]*doc.Func{}
			for _, m := range server.Methods {
				// A method promoted from an embedded type of another
				// package has no declaration here: go doc cannot show it.
				if m.Level != 0 {
					t.Errorf("Server.%s is promoted from %s, so go doc does not show it", m.Name, m.Orig)
				}
				methods[m.Name] = m
			}
			for _, name := range append(append([]string{}, shared...), f.methods...) {
				m, ok := methods[name]
				if !ok {
					t.Errorf("Server has no method %s of its own", name)
					continue
				}
				if msg := sentence(name, m.Doc); msg != "" {
					t.Errorf("Server.%s %s", name, msg)
				}
			}
			// Everything else exported, too: no undocumented corner.
			for name, fn := range fns {
				if msg := sentence(name, fn.Doc); msg != "" && ast.IsExported(name) {
					t.Errorf("func %s %s", name, msg)
				}
			}
			for _, m := range server.Methods {
				if msg := sentence(m.Name, m.Doc); msg != "" {
					t.Errorf("Server.%s %s", m.Name, msg)
				}
			}
			for _, name := range []string{"Server", "Option", "Fault", "Request", "Target", "Clock"} {
				typ := typeOf(p, name)
				if typ == nil {
					t.Errorf("no type %s", name)
					continue
				}
				if strings.TrimSpace(typ.Doc) == "" {
					t.Errorf("type %s has no doc comment", name)
				}
			}
			checkFields(t, server, "URL", "ClientID")
		})
	}
}

// checkFields checks that the named exported fields of typ exist and that
// every exported field has a comment.
func checkFields(t *testing.T, typ *doc.Type, must ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, spec := range typ.Decl.Specs {
		st, ok := spec.(*ast.TypeSpec).Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, field := range st.Fields.List {
			for _, n := range field.Names {
				if !n.IsExported() {
					continue
				}
				seen[n.Name] = true
				if field.Doc == nil && field.Comment == nil {
					t.Errorf("field %s.%s has no comment", typ.Name, n.Name)
				}
			}
		}
	}
	for _, name := range must {
		if !seen[name] {
			t.Errorf("%s has no field %s", typ.Name, name)
		}
	}
}

func TestPackageFakeDocumentsEverything(t *testing.T) {
	p, _, _ := load(t, ".")
	for name, fn := range funcs(p) {
		if msg := sentence(name, fn.Doc); msg != "" {
			t.Errorf("func %s %s", name, msg)
		}
	}
	for _, typ := range p.Types {
		if msg := sentence(typ.Name, typ.Doc); msg != "" {
			t.Errorf("type %s %s", typ.Name, msg)
		}
		for _, m := range typ.Methods {
			if msg := sentence(m.Name, m.Doc); msg != "" {
				t.Errorf("%s.%s %s", typ.Name, m.Name, msg)
			}
		}
		checkFields(t, typ)
	}
	for _, name := range []string{"Fault", "Request", "Target", "Clock", "Sample"} {
		if typeOf(p, name) == nil {
			t.Errorf("no type %s", name)
		}
	}
}

// The literal check: go doc itself prints a signature and a sentence for
// what the README's testing section calls.
func TestGoDocPrintsSignaturesAndSentences(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	for _, f := range fakes {
		for _, sym := range []string{"Server.Script", "Server.Requests", "Server.TokenRequests", "Server.APIRequests",
			"Server.ClearScript", "Server.Close", "Server.RequestsSince", "TooManyRequests", "Status", "Reset"} {
			out, err := exec.Command(gobin, "doc", f.dir, sym).CombinedOutput()
			if err != nil {
				t.Errorf("go doc %s %s: %v\n%s", f.dir, sym, err, out)
				continue
			}
			name := sym[strings.LastIndex(sym, ".")+1:]
			var sig, sent bool
			for _, line := range strings.Split(string(out), "\n") {
				sig = sig || strings.HasPrefix(line, "func ") && strings.Contains(line, name+"(")
				sent = sent || strings.HasPrefix(line, "    "+name+" ")
			}
			if !sig || !sent {
				t.Errorf("go doc %s %s lacks a signature or a sentence:\n%s", f.dir, sym, out)
			}
		}
	}
}
