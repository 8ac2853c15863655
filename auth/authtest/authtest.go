// Package authtest checks that values and errors never show a secret, in
// any form a secret takes, under any way Go prints or encodes them. It is
// for the tests of auth and of the provider packages:
//
//   - Forms lists the forms of a secret to look for: raw, URL- and
//     form-encoded, JSON-, Go- and HTML-escaped, hex, base64, its first 8
//     bytes;
//   - CheckText fails a test when a text holds one;
//   - CheckValue formats a value under every fmt verb and flag (Verbs),
//     encodes it with encoding/json and logs it with slog's text and JSON
//     handlers, and checks each output, decoding %q and %x output first;
//   - CheckPackage lists a package's exported struct types (go/parser), so
//     that a new one cannot be forgotten, finds those whose fields suggest a
//     secret (SecretFields), requires fmt.Formatter, json.Marshaler and
//     slog.LogValuer of them, and checks a sample of each with CheckValue.
package authtest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// Verbs are the fmt verbs and flags CheckValue formats a value with.
//
// %p is not among them: fmt handles it before any method, and for a struct
// value (not a pointer) prints its fields, a go vet error. Keep the
// secrets of a type with unexported fields behind a pointer, so that even
// that prints only an address.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%+q", "%#q", "%x", "%X", "% x", "%#x", "%d", "%10.200v", "%-20s", "%t", "%e"}

// prefixLen is how much of a secret's start counts as a leak on its own.
const prefixLen = 8

// Forms returns the forms of secret that must never appear in output: raw;
// URL- and form-encoded (+ and %20 for a space, upper- and lower-case hex,
// and encoded twice); JSON-escaped with and without HTML escaping, and with
// \/; Go-quoted; HTML-escaped; hex; base64 in both alphabets, padded and
// not; and its first 8 bytes, raw and URL-encoded.
func Forms(secret string) []string {
	var forms []string
	add := func(f ...string) { forms = append(forms, f...) }
	add(secret)
	q := url.QueryEscape(secret)
	add(q, strings.ReplaceAll(q, "+", "%20"), url.PathEscape(secret), url.QueryEscape(q))
	for _, f := range []string{q, strings.ReplaceAll(q, "+", "%20"), url.PathEscape(secret)} {
		add(lowerHexEscapes(f))
	}
	j, _ := json.Marshal(secret)
	add(string(j[1:len(j)-1]), strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(secret)
	raw := strings.TrimSpace(b.String())
	add(raw[1:len(raw)-1], strconv.Quote(secret)[1:len(strconv.Quote(secret))-1], html.EscapeString(secret))
	add(hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret))))
	add(Base64Forms(secret)...)
	if len(secret) > prefixLen {
		add(secret[:prefixLen], url.QueryEscape(secret[:prefixLen]))
	}
	return dedupe(forms)
}

// Base64Forms are s in base64, both alphabets, padded and not.
func Base64Forms(s string) []string {
	return dedupe([]string{
		base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)),
		base64.URLEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)),
	})
}

// BasicForms are the forms HTTP Basic authentication gives a client id and
// secret: base64 of "id:secret", raw and form-encoded first (RFC 6749
// section 2.3.1).
func BasicForms(clientID, secret string) []string {
	return dedupe(append(Base64Forms(clientID+":"+secret), Base64Forms(url.QueryEscape(clientID)+":"+url.QueryEscape(secret))...))
}

// AllForms is Forms of every secret.
func AllForms(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		if s != "" {
			out = append(out, Forms(s)...)
		}
	}
	return dedupe(out)
}

var pctHex = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerHexEscapes(s string) string {
	return pctHex.ReplaceAllStringFunc(s, strings.ToLower)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Find returns the first of forms that s contains, looking also into the
// text that hex runs, percent-escapes and a quoted string in s decode to;
// "" if none.
func Find(s string, forms []string) string {
	for _, text := range decodings(s) {
		for _, f := range forms {
			if strings.Contains(text, f) {
				return f
			}
		}
	}
	return ""
}

var pctEscape = regexp.MustCompile(`%[0-9a-fA-F]{2}`)

var hexRun = regexp.MustCompile(`(?:[0-9a-fA-F]{2} ?){4,}`)

// decodings are s and what %x and %q output in it decodes to.
func decodings(s string) []string {
	out := []string{s}
	for _, run := range hexRun.FindAllString(s, -1) {
		for _, cand := range []string{strings.ReplaceAll(run, " ", ""), strings.TrimPrefix(run, "0x")} {
			if b, err := hex.DecodeString(cand); err == nil {
				out = append(out, string(b))
			}
		}
	}
	if u, err := strconv.Unquote(s); err == nil {
		out = append(out, u)
	}
	if strings.Contains(s, "%") {
		out = append(out, pctEscape.ReplaceAllStringFunc(s, func(e string) string {
			b, _ := hex.DecodeString(e[1:])
			return string(b)
		}))
	}
	return out
}

// CheckText fails t if s holds any of forms.
func CheckText(t testing.TB, what, s string, forms []string) {
	t.Helper()
	if f := Find(s, forms); f != "" {
		t.Errorf("%s shows a secret (as %q): %s", what, f, s)
	}
}

// CheckValue formats v under every verb in Verbs, encodes it with
// json.Marshal and logs it with slog's text and JSON handlers, and fails t
// if any output holds any of forms.
func CheckValue(t testing.TB, v any, forms []string) {
	t.Helper()
	for _, verb := range Verbs {
		CheckText(t, fmt.Sprintf("%T under %s", v, verb), fmt.Sprintf(verb, v), forms)
	}
	if b, err := json.Marshal(v); err == nil {
		CheckText(t, fmt.Sprintf("json.Marshal(%T)", v), string(b), forms)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("value", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("value", "v", v)
	CheckText(t, fmt.Sprintf("slog text of %T", v), text.String(), forms)
	CheckText(t, fmt.Sprintf("slog JSON of %T", v), js.String(), forms)
}

// secretWords are the words of a field or type name that suggest it holds
// a secret; benignLast are last words that make it a property of one
// instead (TokenURL, TokenType, KeySize, RefreshTokenGrace).
var (
	secretWords = map[string]bool{"secret": true, "secrets": true, "password": true, "passwd": true, "token": true, "tokens": true,
		"key": true, "keys": true, "keyring": true, "credential": true, "credentials": true, "verifier": true, "aead": true,
		"cipher": true, "redactor": true, "bearer": true, "apikey": true}
	benignLast = map[string]bool{"url": true, "uri": true, "type": true, "style": true, "size": true, "id": true, "ttl": true,
		"len": true, "count": true, "interval": true, "grace": true, "prefix": true, "path": true, "name": true, "error": true}
)

// words splits a Go identifier into lower-case words: "refreshTokenURL" is
// refresh, token, url.
func words(name string) []string {
	var out []string
	rs := []rune(name)
	start := 0
	for i := 1; i <= len(rs); i++ {
		if i == len(rs) || rs[i] == '_' ||
			(unicode.IsUpper(rs[i]) && (!unicode.IsUpper(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1])))) {
			if w := strings.Trim(string(rs[start:i]), "_"); w != "" {
				out = append(out, strings.ToLower(w))
			}
			start = i
		}
	}
	return out
}

func suggestsSecret(name string) bool {
	ws := words(name)
	if len(ws) == 0 || benignLast[ws[len(ws)-1]] {
		return false
	}
	for _, w := range ws {
		if secretWords[w] {
			return true
		}
	}
	return false
}

var (
	formatterType = reflect.TypeFor[fmt.Formatter]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	valuerType    = reflect.TypeFor[slog.LogValuer]()
	lockerType    = reflect.TypeFor[sync.Locker]()
)

// Protected reports whether t implements fmt.Formatter, json.Marshaler and
// slog.LogValuer.
func Protected(t reflect.Type) bool {
	return t.Implements(formatterType) && t.Implements(marshalerType) && t.Implements(valuerType)
}

// SecretFields returns the paths (Type.field.field) of the fields of typ,
// at any depth, whose name or type name suggests a secret (Secret,
// Password, Token, Key, Credentials, Verifier, Redactor, ...; but not
// TokenURL, KeySize and the like). It does not descend into interfaces, nor
// into fields whose type is Protected (those print, encode and log safely
// on their own), and skips the paths in allow.
func SecretFields(typ reflect.Type, allow map[string]string) []string {
	var out []string
	onPath := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string, depth int)
	walk = func(t reflect.Type, path string, depth int) {
		if depth > 8 || Protected(t) {
			return
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			walk(t.Elem(), path, depth)
		case reflect.Map:
			walk(t.Key(), path, depth)
			walk(t.Elem(), path, depth)
		case reflect.Struct:
			if onPath[t] {
				return
			}
			onPath[t] = true
			defer delete(onPath, t)
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				p := path + "." + f.Name
				if _, ok := allow[p]; ok {
					continue
				}
				ft := f.Type
				for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array || ft.Kind() == reflect.Map {
					ft = ft.Elem()
				}
				if Protected(f.Type) {
					continue
				}
				if suggestsSecret(f.Name) || (ft.Name() != "" && suggestsSecret(ft.Name())) {
					out = append(out, p)
				}
				walk(f.Type, p, depth+1)
			}
		}
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	walk(typ, typ.Name(), 0)
	return out
}

// holdsLock reports whether a value of t contains a lock, so that copying
// it is a go vet error and its methods may take pointer receivers.
func holdsLock(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	if reflect.PointerTo(t).Implements(lockerType) || t.PkgPath() == "sync/atomic" {
		return true
	}
	for i := 0; i < t.NumField(); i++ {
		if holdsLock(t.Field(i).Type) {
			return true
		}
	}
	return false
}

// ExportedStructs returns the names of the exported struct types declared
// in the Go files of dir, test files excluded.
func ExportedStructs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// Sample is a value of one exported struct type of a package, for
// CheckPackage.
type Sample struct {
	// Value is a pointer to a value of the type, holding Secrets.
	Value any
	// Secrets are the raw secrets Value holds, each looked for in every
	// form (Forms); none for a type that holds no secret.
	Secrets []string
}

// CheckPackage checks every exported struct type of the package in dir
// (its source directory, usually "."):
//
//   - each must have a Sample in samples, so a new type cannot be
//     forgotten;
//   - a type with fields that suggest a secret (SecretFields, less the
//     paths in allow, each with the reason it is not a secret) must
//     implement fmt.Formatter, json.Marshaler and slog.LogValuer, on the
//     value as well as the pointer unless it holds a lock, and its sample
//     must hold secrets;
//   - every sample is checked with CheckValue (pointer and, when the value
//     is protected, value), with the forms of its Secrets.
func CheckPackage(t *testing.T, dir string, samples []Sample, allow map[string]string) {
	t.Helper()
	names, err := ExportedStructs(dir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Sample{}
	for _, s := range samples {
		rt := reflect.TypeOf(s.Value)
		if rt == nil || rt.Kind() != reflect.Pointer || rt.Elem().Kind() != reflect.Struct {
			t.Errorf("sample %T: want a pointer to a struct", s.Value)
			continue
		}
		byName[rt.Elem().Name()] = s
	}
	for _, name := range names {
		s, ok := byName[name]
		if !ok {
			t.Errorf("exported type %s has no sample: add one to this test (with the secrets it holds, if any)", name)
			continue
		}
		delete(byName, name)
		ptr := reflect.TypeOf(s.Value)
		typ := ptr.Elem()
		fields := SecretFields(typ, allow)
		if len(fields) > 0 {
			if !Protected(ptr) {
				t.Errorf("%s holds secrets (%s) but does not implement fmt.Formatter, json.Marshaler and slog.LogValuer", name, strings.Join(fields, ", "))
			}
			if !holdsLock(typ) && !Protected(typ) {
				t.Errorf("%s holds secrets (%s) and no lock: implement the methods on the value, so that a copy is as safe", name, strings.Join(fields, ", "))
			}
			if len(s.Secrets) == 0 {
				t.Errorf("%s holds secrets (%s) but its sample lists none: fill them in", name, strings.Join(fields, ", "))
			}
		}
		if len(s.Secrets) == 0 {
			continue
		}
		forms := AllForms(s.Secrets...)
		CheckValue(t, s.Value, forms)
		if Protected(typ) {
			CheckValue(t, reflect.ValueOf(s.Value).Elem().Interface(), forms)
		}
	}
	for name := range byName {
		t.Errorf("sample of %s: no such exported struct type in %s", name, dir)
	}
}
