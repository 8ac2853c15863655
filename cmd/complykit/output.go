package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// writeResult prints a call's JSON result: indented JSON (the default, for
// scripts), or with --output text, tables for lists and "key: value" lines
// for objects. A result that is not JSON is printed as it came.
func writeResult(w io.Writer, data []byte, format string) error {
	v, err := decodeOrdered(data)
	if err != nil {
		_, err := w.Write(append(bytes.TrimRight(data, "\n"), '\n'))
		return err
	}
	if format == "text" {
		var b bytes.Buffer
		writeText(&b, v, "")
		_, err := w.Write(b.Bytes())
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// object is a JSON object that remembers the order of its keys, so that
// tables show columns in the API's order.
type object struct {
	keys []string
	vals map[string]any
}

// decodeOrdered decodes JSON into nil, bool, json.Number, string, []any
// and *object.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = v
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ']'
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// writeText renders v for a person: a list of objects as a table, an
// object as "key: value" lines (nested values indented under their key),
// a list of scalars as one line.
func writeText(b *bytes.Buffer, v any, indent string) {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			b.WriteString(indent + "(none)\n")
			return
		}
		// A list result is a table (nested values as clipped JSON); a
		// list inside an object is one too if its rows are flat, and
		// otherwise one block per item, so that nothing is clipped.
		if isTable(x) && (indent == "" || flatRows(x)) {
			writeTable(b, x, indent)
			return
		}
		if allScalars(x) {
			b.WriteString(indent + scalarList(x) + "\n")
			return
		}
		for i, e := range x {
			if i > 0 {
				b.WriteString("\n")
			}
			writeText(b, e, indent)
		}
	case *object:
		if len(x.keys) == 0 {
			b.WriteString(indent + "(empty)\n")
			return
		}
		if list := listWrapper(x); list != "" && indent == "" && len(x.keys) > 1 {
			// {"object": "list", "data": [...], "has_more": false}: the
			// other fields, then the list as the table it is.
			rest := &object{vals: x.vals}
			for _, k := range x.keys {
				if k != list {
					rest.keys = append(rest.keys, k)
				}
			}
			writeText(b, rest, indent)
			writeText(b, x.vals[list], indent)
			return
		}
		tw := tabwriter.NewWriter(b, 0, 0, 1, ' ', 0)
		for _, k := range x.keys {
			val := x.vals[k]
			if nested(val) {
				tw.Flush()
				b.WriteString(indent + cellText(k) + ":\n")
				writeText(b, val, indent+"  ")
				continue
			}
			fmt.Fprintf(tw, "%s%s:\t%s\n", indent, cellText(k), cell(val))
		}
		tw.Flush()
	default:
		b.WriteString(indent + cell(v) + "\n")
	}
}

// listWrapper returns the key of o's one list of objects if every other
// value of o is a scalar, or "".
func listWrapper(o *object) string {
	list := ""
	for _, k := range o.keys {
		switch v := o.vals[k].(type) {
		case []any:
			if list != "" || len(v) == 0 || !isTable(v) {
				return ""
			}
			list = k
		case *object:
			return ""
		}
	}
	return list
}

// nested reports whether v gets lines of its own under its key.
func nested(v any) bool {
	switch x := v.(type) {
	case *object:
		return len(x.keys) > 0
	case []any:
		return len(x) > 0 && !allScalars(x)
	}
	return false
}

func isTable(list []any) bool {
	for _, e := range list {
		if _, ok := e.(*object); !ok {
			return false
		}
	}
	return true
}

// flatRows reports whether no object of list holds a nested value.
func flatRows(list []any) bool {
	for _, e := range list {
		for _, v := range e.(*object).vals {
			switch v.(type) {
			case *object, []any:
				return false
			}
		}
	}
	return true
}

func allScalars(list []any) bool {
	for _, e := range list {
		switch e.(type) {
		case *object, []any:
			return false
		}
	}
	return true
}

func scalarList(list []any) string {
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = cell(e)
	}
	return strings.Join(parts, ", ")
}

// writeTable writes a list of objects as a table whose columns are their
// keys, in the order they first appear.
func writeTable(b *bytes.Buffer, rows []any, indent string) {
	// Columns of scalars first, then those holding nested values, each in
	// the order the keys first appear.
	var cols, nestedCols []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, k := range r.(*object).keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	isNested := map[string]bool{}
	for _, r := range rows {
		for k, v := range r.(*object).vals {
			switch x := v.(type) {
			case *object:
				isNested[k] = true
			case []any:
				isNested[k] = isNested[k] || !allScalars(x)
			}
		}
	}
	scalarCols := cols[:0:0]
	for _, c := range cols {
		if isNested[c] {
			nestedCols = append(nestedCols, c)
		} else {
			scalarCols = append(scalarCols, c)
		}
	}
	cols = append(scalarCols, nestedCols...)
	var tb bytes.Buffer
	tw := tabwriter.NewWriter(&tb, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		tw.Write([]byte(indent + strings.Join(cells, "\t") + "\n"))
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = cellText(c)
	}
	line(header)
	for _, r := range rows {
		o := r.(*object)
		cells := make([]string, len(cols))
		for i, c := range cols {
			if v, ok := o.vals[c]; ok {
				cells[i] = clip(cell(v))
			}
		}
		line(cells)
	}
	tw.Flush()
	for _, l := range strings.SplitAfter(tb.String(), "\n") {
		if l != "" {
			b.WriteString(strings.TrimRight(l, " \n") + "\n")
		}
	}
}

// maxCell bounds a table cell, and a nested value shown as compact JSON.
const maxCell = 48

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return cellText(x)
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		if len(x) == 0 {
			return "(none)"
		}
		if allScalars(x) {
			return scalarList(x)
		}
	}
	return clip(cellText(compact(v)))
}

// compact renders a nested value as one-line JSON.
func compact(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case *object:
			b.WriteByte('{')
			for i, k := range x.keys {
				if i > 0 {
					b.WriteByte(',')
				}
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteByte(':')
				walk(x.vals[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteByte(',')
				}
				walk(e)
			}
			b.WriteByte(']')
		default:
			vb, _ := json.Marshal(x)
			b.Write(vb)
		}
	}
	walk(v)
	return b.String()
}

// cellText makes a string safe for one cell of a terminal table: control
// characters (newlines, tabs, escape sequences an API could send) become
// spaces.
func cellText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxCell {
		return s
	}
	r := []rune(s)
	return string(r[:maxCell-1]) + "…"
}
