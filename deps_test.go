package complykit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// generators are module paths (or package path prefixes) that only
// `go generate` needs: a program using the SDK must never inherit them.
var generators = []string{
	"github.com/oapi-codegen/oapi-codegen",
	"github.com/Khan/genqlient/generate",
	"github.com/Khan/genqlient/internal",
	"golang.org/x/tools",
}

func goTool(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	return gobin
}

// No library package pulls in the code generators: tools.go pins them at
// the root, which no library package imports.
func TestLibraryPackagesDoNotDependOnTheGenerators(t *testing.T) {
	out, err := exec.Command(goTool(t), "list", "-deps",
		"./stemsapi/...", "./stennapi/...", "./cloudcompliapi/...", "./firstamlapi/...", "./auth/...", "./option/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/complykit/complykit-go" {
			t.Errorf("a library package imports the root package (which pins the generators)")
		}
		for _, g := range generators {
			if strings.HasPrefix(pkg, g) {
				t.Errorf("a library package depends on %s", pkg)
			}
		}
	}
}

// A program that imports one client gets a go.mod without the generators.
// go mod tidy runs offline (-e tolerates what only the dependencies' own
// tests would need), from the module cache the build already filled.
func TestAConsumerOfOneClientDoesNotRequireTheGenerators(t *testing.T) {
	gobin := goTool(t)
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/consumer\n\ngo 1.25.0\n\nrequire github.com/complykit/complykit-go v0.0.0\n\nreplace github.com/complykit/complykit-go => "+root+"\n")
	write("main.go", "package main\n\nimport \"github.com/complykit/complykit-go/stennapi\"\n\nfunc main() { println(stennapi.LiveBaseURL) }\n")
	cmd := exec.Command(gobin, "mod", "tidy", "-e")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "github.com/oapi-codegen/runtime") {
		t.Fatalf("go.mod after tidy lacks the runtime the client needs, so tidy did not run as expected:\n%s", gomod)
	}
	for _, bad := range []string{"github.com/oapi-codegen/oapi-codegen", "github.com/Khan/genqlient", "golang.org/x/tools"} {
		if strings.Contains(string(gomod), bad) {
			t.Errorf("a consumer of stennapi requires %s:\n%s", bad, gomod)
		}
	}
	build := exec.Command(gobin, "build", "./...")
	build.Dir = dir
	build.Env = cmd.Env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the consumer does not build: %v\n%s", err, out)
	}
}
