package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteResult(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"list of objects: a table, columns in the API's order, scalars first",
			`[{"name":"Ivy","id":"1","tags":["a","b"],"meta":{"k":1}},{"id":"22","name":"Bo","extra":null}]`,
			"name  id  tags  extra  meta\n" +
				"Ivy   1   a, b         {\"k\":1}\n" +
				"Bo    22        -\n"},
		{"object: key: value lines, nested values indented",
			`{"caseId":"100","urls":{"view":"https://x/1"},"scopes":["read-only","case-management"],"notes":null}`,
			"caseId: 100\n" +
				"urls:\n" +
				"  view: https://x/1\n" +
				"scopes: read-only, case-management\n" +
				"notes:  -\n"},
		{"a list wrapper: its other fields, then the table",
			`{"object":"list","data":[{"id":"c1","name":"Acme"}],"has_more":false}`,
			"object:   list\n" +
				"has_more: false\n" +
				"id  name\n" +
				"c1  Acme\n"},
		{"a nested list of flat objects is a table under its key",
			`{"offices":[{"key":"k1","name":"Sydney"},{"key":"k2","name":"Auckland"}]}`,
			"offices:\n" +
				"  key  name\n" +
				"  k1   Sydney\n" +
				"  k2   Auckland\n"},
		{"a nested list of deep objects is one block per item",
			`{"individuals":[{"id":"i1","name":{"first":"Jo"}},{"id":"i2","name":null}]}`,
			"individuals:\n" +
				"  id: i1\n" +
				"  name:\n" +
				"    first: Jo\n" +
				"\n" +
				"  id:   i2\n" +
				"  name: -\n"},
		{"empty list", `[]`, "(none)\n"},
		{"control characters cannot reach the terminal",
			`[{"name":"evil\u001b[31m\nname","n":1.50}]`,
			"name            n\n" +
				"evil [31m name  1.50\n"},
		{"long cells are clipped in tables",
			`[{"v":"` + strings.Repeat("x", 60) + `"}]`,
			"v\n" + strings.Repeat("x", maxCell-1) + "…\n"},
	} {
		var b bytes.Buffer
		if err := writeResult(&b, []byte(tc.in), "text"); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if b.String() != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.name, b.String(), tc.want)
		}
	}

	// JSON output keeps the API's key order, indented; a body that is not
	// JSON is printed as it came.
	var b bytes.Buffer
	writeResult(&b, []byte(`{"b":1,"a":[true]}`), "json")
	if want := "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}\n"; b.String() != want {
		t.Errorf("json: %q; want %q", b.String(), want)
	}
	b.Reset()
	writeResult(&b, []byte("not json"), "text")
	if b.String() != "not json\n" {
		t.Errorf("not JSON: %q", b.String())
	}
}
