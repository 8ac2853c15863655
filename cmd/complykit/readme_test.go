package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite the README's generated CLI reference from the command tree")

// The README's CLI reference (the flag table and the exit codes) is
// rendered from the command tree; this test fails when they differ.
// Regenerate with: go test ./cmd/complykit -run TestREADMECLIReference -update
const (
	referenceBegin = "<!-- BEGIN cli-reference: generated from the command tree by `go test ./cmd/complykit -run TestREADMECLIReference -update`; do not edit -->\n"
	referenceEnd   = "<!-- END cli-reference -->\n"
)

func TestREADMECLIReference(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin := bytes.Index(readme, []byte(referenceBegin))
	end := bytes.Index(readme, []byte(referenceEnd))
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q ... %q", referenceBegin, referenceEnd)
	}
	root, err := newRootCmd(&app{getenv: func(string) string { return "" }, progress: newProgress(&bytes.Buffer{})})
	if err != nil {
		t.Fatal(err)
	}
	want := cliReference(root)
	got := string(readme[begin+len(referenceBegin) : end])
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, readme[:begin+len(referenceBegin)]...), want...), readme[end:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's CLI reference differs from the command tree; run\n\tgo test ./cmd/complykit -run TestREADMECLIReference -update\nwant:\n%s", want)
}

// flagRow is one row of the table: a flag with one meaning, and where it
// is taken.
type flagRow struct {
	flag     *pflag.Flag
	patterns []string            // command patterns, e.g. "call <provider>"
	provs    map[string][]string // pattern -> the providers it is taken for
}

// cliReference renders the flag table of every command and provider flag,
// then the exit codes.
func cliReference(root *cobra.Command) string {
	var rows []*flagRow
	byKey := map[string]*flagRow{}
	walk(root, func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == cobra.ShellCompRequestCmd {
			return
		}
		pattern, prov := commandPattern(c)
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" || f.Hidden {
				return
			}
			key := strings.Join([]string{f.Name, f.Shorthand, f.Usage, f.DefValue, fmt.Sprint(takesEnv(f))}, "\x00")
			r := byKey[key]
			if r == nil {
				r = &flagRow{flag: f, provs: map[string][]string{}}
				byKey[key] = r
				rows = append(rows, r)
			}
			if _, ok := r.provs[pattern]; !ok {
				r.patterns = append(r.patterns, pattern)
			}
			if prov != "" && !slices.Contains(r.provs[pattern], prov) {
				r.provs[pattern] = append(r.provs[pattern], prov)
			} else if r.provs[pattern] == nil {
				r.provs[pattern] = []string{}
			}
		})
	})

	sort.SliceStable(rows, func(i, j int) bool { return rowOrder(rows[i]) < rowOrder(rows[j]) })
	var b strings.Builder
	b.WriteString("| Flag | Commands | Environment variable | Default | Meaning |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		f := r.flag
		name, usage := pflag.UnquoteUsage(f)
		cell := "`--" + f.Name
		if name != "" {
			cell += " " + name
		}
		cell += "`"
		if f.Shorthand != "" {
			cell += ", `-" + f.Shorthand + "`"
		}
		where, allProvs := commandsCell(r)
		env := ""
		switch {
		case !takesEnv(f):
			env = "none"
		case len(allProvs) == 1:
			env = "`" + envName(allProvs[0], f.Name) + "`"
		case len(allProvs) > 1:
			env = "`" + envName("<provider>", f.Name) + "`"
		}
		def := f.DefValue
		switch def {
		case "", "false", "[]", "0s":
			def = ""
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell, where, env, def, strings.ReplaceAll(usage, "|", `\|`))
	}
	b.WriteString("\nExit codes:\n\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "- `%d` %s\n", e.code, e.meaning)
	}
	return b.String()
}

// commandsCell says where a row's flag is taken: "`token <provider>`,
// `call <provider>`" for every provider, with "(stems, stenn)" for some,
// "`token stems`" for one. It returns the providers too.
func commandsCell(r *flagRow) (string, []string) {
	var provs []string
	same := true
	for _, p := range r.patterns {
		ps := r.provs[p]
		if len(ps) == 0 {
			continue
		}
		if provs == nil {
			provs = ps
		} else if strings.Join(ps, ",") != strings.Join(provs, ",") {
			same = false
		}
	}
	var where []string
	for _, p := range r.patterns {
		ps := r.provs[p]
		switch {
		case len(ps) == 1 || (len(ps) > 0 && !same):
			for _, pr := range ps {
				where = append(where, "`"+strings.Replace(p, "<provider>", pr, 1)+"`")
			}
		default:
			where = append(where, "`"+p+"`")
		}
	}
	cell := strings.Join(where, ", ")
	if same && len(provs) > 1 && len(provs) < len(providers) {
		cell += " (" + strings.Join(provs, ", ") + ")"
	}
	var all []string
	for _, p := range r.patterns {
		for _, pr := range r.provs[p] {
			if !slices.Contains(all, pr) {
				all = append(all, pr)
			}
		}
	}
	return cell, all
}

// rowOrder sorts the table: the commands in the order of the tree, then
// flags every provider (or several) take before each provider's own, in
// the providers' order, then by name.
func rowOrder(r *flagRow) string {
	first := r.patterns[0]
	cmd := 9
	for i, prefix := range []string{"complykit", "token", "call <provider> <operation>", "call", "login", "logout", "fake", "completion"} {
		if strings.HasPrefix(first, prefix) {
			cmd = i
			break
		}
	}
	_, provs := commandsCell(r)
	rank := 0
	if len(provs) == 1 {
		for i, p := range providers {
			if p.name == provs[0] {
				rank = i + 1
			}
		}
	}
	return fmt.Sprintf("%d %d %s", cmd, rank, r.flag.Name)
}

// commandPattern is c's path without "complykit", with the provider and
// the operation as placeholders, and the provider it is for.
func commandPattern(c *cobra.Command) (pattern, prov string) {
	var parts []string
	for x := c; x.HasParent(); x = x.Parent() {
		name := x.Name()
		switch {
		case x.Annotations[operationAnnotation] != "":
			name = "<operation>"
		case x.Annotations[providerAnnotation] != "":
			prov = x.Annotations[providerAnnotation]
			name = "<provider>"
		}
		parts = append([]string{name}, parts...)
	}
	if len(parts) == 0 {
		return "complykit", ""
	}
	return strings.Join(parts, " "), prov
}
