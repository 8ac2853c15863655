package complykit_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goBlock is one ```go block of the README, and the line it starts on.
type goBlock struct {
	line int
	code string
}

func readmeGoBlocks(t *testing.T) []goBlock {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []goBlock
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		var code []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			code = append(code, lines[i])
		}
		out = append(out, goBlock{line: start, code: strings.Join(code, "\n") + "\n"})
	}
	return out
}

var importBlock = regexp.MustCompile(`(?s)^\s*import \((.*?)\)\n`)

// Every Go snippet of the README compiles as printed: a block that starts
// with a package clause is a file of its own; any other is the body of a
// function returning error, after its own import block, so it must define
// every name it uses and use every name it defines. The snippets are
// built with go vet in a module of their own that requires this one, so a
// renamed option, a changed signature or an unused variable fails here.
func TestREADMESnippetsCompile(t *testing.T) {
	gobin := goTool(t)
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeGoBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d Go blocks in README.md; the parser is broken", len(blocks))
	}
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	// The snippets' module requires exactly what this one does, and this
	// one itself from the working tree.
	reqs := regexp.MustCompile(`(?s)require \(.*?\)\n`).FindAll(gomod, -1)
	mod := "module example.com/readme\n\ngo 1.25.0\n\nrequire github.com/complykit/complykit-go v0.0.0\n\n"
	for _, r := range reqs {
		mod += string(r) + "\n"
	}
	mod += "replace github.com/complykit/complykit-go => " + root + "\n"
	write("go.mod", mod)
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sum))
	where := map[string]int{}
	for i, b := range blocks {
		pkg := fmt.Sprintf("snippet%02d", i+1)
		where[pkg] = b.line
		if m := regexp.MustCompile(`(?m)^package (\w+)`).FindStringSubmatch(b.code); m != nil && strings.HasPrefix(strings.TrimSpace(b.code), "package ") {
			name := "snippet.go"
			if strings.HasSuffix(m[1], "_test") {
				name = "snippet_test.go"
			}
			write(filepath.Join(pkg, name), b.code)
			continue
		}
		imports, body := "", b.code
		if m := importBlock.FindStringSubmatch(b.code); m != nil {
			imports = "import (" + m[1] + ")\n"
			body = b.code[len(m[0]):]
		}
		write(filepath.Join(pkg, "snippet.go"), "package "+pkg+"\n\n"+imports+"\nfunc snippet() error {\n"+body+"\treturn nil\n}\n")
	}
	cmd := exec.Command(gobin, "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := string(out)
		for pkg, line := range where {
			msg = strings.ReplaceAll(msg, pkg+"/", fmt.Sprintf("README.md block at line %d: ", line))
		}
		t.Fatalf("README snippets do not compile:\n%s", msg)
	}
}
