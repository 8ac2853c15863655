package specs_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's endpoint table is documentation users rely on: every
// operation of every spec must have a row naming its operationId and its
// x-source, and no row may name an operation that no longer exists.
func TestREADMEEndpointTable(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // "Provider|operationId" -> row
	rowRE := regexp.MustCompile("^\\| ([^|]+) \\| [^|]+ \\| `([A-Za-z]+)` \\| ([a-z]+) \\|")
	for _, line := range strings.Split(string(data), "\n") {
		if m := rowRE.FindStringSubmatch(line); m != nil {
			rows[m[1]+"|"+m[2]] = m[3]
		}
	}
	want := map[string]string{}
	for provider, file := range map[string]string{"Stems": "stems.yaml", "Stenn": "stenn.yaml", "CloudCompli": "cloudcompli.yaml", "First AML": "firstaml.yaml"} {
		doc := validator(t, file).Doc()
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				src, _ := op.Extensions["x-source"].(string)
				key := provider + "|" + op.OperationID
				want[key] = src
				if got, ok := rows[key]; !ok {
					t.Errorf("README has no row for %s %s %s (%s)", provider, method, path, op.OperationID)
				} else if got != src {
					t.Errorf("README row for %s says source %q; the spec says %q", key, got, src)
				}
			}
		}
	}
	for key := range rows {
		if _, ok := want[key]; !ok && !strings.HasPrefix(key, "First AML|") {
			t.Errorf("README row %s names no operation in the specs", key)
		}
	}
}
