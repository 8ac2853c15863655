package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"golang.org/x/oauth2"
)

// jsEscapeAll escapes every character as \uXXXX, as an ASCII-only JSON
// encoder does with a strict setting (surrogate pairs above the BMP).
func jsEscapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0xffff {
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			continue
		}
		fmt.Fprintf(&b, `\u%04X`, r)
	}
	return b.String()
}

func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02x", s[i])
	}
	return b.String()
}

func jsonNoQuotes(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// Every form a secret takes on the wire and in text is removed.
func TestRedactorRemovesEveryForm(t *testing.T) {
	secrets := []string{symClientSecret, symPassword, symAccess, "pässwörd-ünïcode-🔑-x"}
	for _, secret := range secrets {
		q := url.QueryEscape(secret)
		forms := map[string]string{
			"raw":                         secret,
			"form-encoded (+)":            q,
			"URL-encoded (%20)":           strings.ReplaceAll(q, "+", "%20"),
			"lower-case hex":              strings.ToLower(q[:0]) + lowerHex(q),
			"path-escaped":                url.PathEscape(secret),
			"every byte percent-encoded":  percentAll(secret),
			"form-encoded twice":          url.QueryEscape(q),
			"JSON (HTML-escaped)":         jsonNoQuotes(secret),
			`JSON with \/`:                strings.ReplaceAll(jsonNoQuotes(secret), "/", `\/`),
			"JSON, every char \\u":        jsEscapeAll(secret),
			"Go-quoted":                   strconv.Quote(secret),
			"HTML-escaped":                html.EscapeString(secret),
			"HTML numeric entities":       htmlNumeric(secret),
			"base64 std":                  base64.StdEncoding.EncodeToString([]byte(secret)),
			"base64 url raw":              base64.RawURLEncoding.EncodeToString([]byte(secret)),
			"base64 after 1 byte":         base64.StdEncoding.EncodeToString([]byte("x" + secret + "y")),
			"base64 after 2 bytes":        base64.URLEncoding.EncodeToString([]byte("xy" + secret)),
			"JSON of the form encoding":   jsonNoQuotes("client_secret=" + q + "&x=1"),
			"half form, half JSON":        q[:len(q)/2] + jsonNoQuotes(secret[len(urlUnescape(q[:len(q)/2])):]),
			"its first 12 bytes, at end":  secret[:12],
			"its first 12 bytes, then …":  secret[:12] + "…",
			"form-encoded start, cut off": q[:len(q)*2/3],
		}
		for name, form := range forms {
			r := auth.NewRedactor(secret)
			text := "before " + form + " after"
			got := r.Redact(text)
			if f := authtest.Find(got, authtest.Forms(secret)); f != "" || !strings.Contains(got, "[redacted]") {
				t.Errorf("%q as %s: Redact(%q) = %q", secret, name, text, got)
			}
			if !strings.HasPrefix(got, "before ") {
				t.Errorf("%q as %s: Redact changed the text before it: %q", secret, name, got)
			}
		}
	}
}

func lowerHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteString("%" + strings.ToLower(s[i+1:i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func htmlNumeric(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i%2 == 0 {
			fmt.Fprintf(&b, "&#%d;", r)
		} else {
			fmt.Fprintf(&b, "&#x%X;", r)
		}
	}
	return b.String()
}

func urlUnescape(s string) string {
	for len(s) > 0 {
		if u, err := url.QueryUnescape(s); err == nil {
			return u
		}
		s = s[:len(s)-1] // a cut escape
	}
	return ""
}

func TestRedactorBasicAndKeys(t *testing.T) {
	r := auth.NewRedactor()
	r.AddBasic("client id/1", symClientSecret)
	for _, form := range authtest.BasicForms("client id/1", symClientSecret) {
		if got := r.Redact("Authorization: Basic " + form); strings.Contains(got, form) || strings.Contains(got, form[:12]) {
			t.Errorf("Basic form %q survived: %q", form, got)
		}
	}
	key := []byte("0123456789abcdef0123456789ABCDEF")
	r.AddKey(key)
	for _, form := range append(authtest.Base64Forms(string(key)), fmt.Sprintf("%x", key), fmt.Sprintf("%X", key)) {
		if got := r.Redact("k=" + form); strings.Contains(got, form) {
			t.Errorf("key form %q survived: %q", form, got)
		}
	}
}

// The start of a secret is removed wherever it appears: the price is that
// text sharing 8 bytes with a secret's start is removed too.
func TestRedactorRemovesPartialSecretsAnywhere(t *testing.T) {
	r := auth.NewRedactor(symRefresh)
	for _, s := range []string{symRefresh[:8], symRefresh[:20] + `"}`, url.QueryEscape(symRefresh)[:14] + " and more"} {
		if got := r.Redact("echo: " + s); strings.Contains(got, symRefresh[:8]) || strings.Contains(got, url.QueryEscape(symRefresh[:8])) {
			t.Errorf("Redact(%q) = %q; want the partial secret removed", s, got)
		}
	}
	if got := r.Redact("echo: " + symRefresh[:7]); got != "echo: "+symRefresh[:7] {
		t.Errorf("7 bytes of a secret's start were removed: %q", got)
	}
}

func TestRedactorLeavesOrdinaryTextAlone(t *testing.T) {
	r := auth.NewRedactor("short", "abc", "", "token", symClientSecret)
	for _, s := range []string{
		"invalid_grant: the refresh token is short and abc",
		"s3cr3t", // shorter than the 8-byte prefix that counts
		"Key+With=Sym&bols is the end of it, not its start",
		"%zz %2 \\u12 &#; &amp broken escapes \\",
		"",
	} {
		if got := r.Redact(s); got != s {
			t.Errorf("Redact(%q) = %q; want it unchanged", s, got)
		}
	}
	if n := r.Len(); n != 1 {
		t.Errorf("Len = %d; want 1 (values under %d bytes are ignored)", n, auth.MinSecretLen)
	}
	var nilR *auth.Redactor
	if got := nilR.Redact(symClientSecret); got != symClientSecret {
		t.Errorf("nil Redactor changed the text: %q", got)
	}
	if got := nilR.Field("a\nb"); got != "a b" {
		t.Errorf("nil Redactor's Field = %q; want it sanitized", got)
	}
}

// Field redacts before it cuts: a token that straddles the cut leaves
// nothing of itself.
func TestFieldRedactsBeforeTruncating(t *testing.T) {
	r := auth.NewRedactor(symAccess)
	for cut := auth.MaxFieldLen - len(symAccess) + 1; cut < auth.MaxFieldLen; cut++ {
		text := strings.Repeat("x", cut) + symAccess + " trailing text"
		got := r.Field(text)
		if len(got) > auth.MaxFieldLen+3 {
			t.Fatalf("Field is %d bytes; want at most %d", len(got), auth.MaxFieldLen+3)
		}
		if f := authtest.Find(got, authtest.Forms(symAccess)); f != "" {
			t.Fatalf("token at %d straddling the cut left %q: ...%s", cut, f, got[len(got)-40:])
		}
	}
	got := auth.NewRedactor().Field("line1\r\nINFO forged\x1b[31m\u202eevil\u2028" + string([]byte{0xff}) + strings.Repeat("é", 400))
	if strings.ContainsAny(got, "\r\n\x1b\u202e\u2028") || !utf8.ValidString(got) || !strings.HasSuffix(got, "é...") {
		t.Errorf("Field = %q; want control characters as spaces, valid UTF-8, cut at a character", got)
	}
	if got := r.FieldN("abcdefghij", 4); got != "abcd..." {
		t.Errorf("FieldN = %q", got)
	}
}

var errSentinel = errors.New("sentinel")

type causeError struct{ Code int }

func (e *causeError) Error() string { return "cause " + strconv.Itoa(e.Code) }

func TestRedactorError(t *testing.T) {
	r := auth.NewRedactor(symClientSecret)
	if r.Error(nil) != nil {
		t.Fatal("Error(nil) != nil")
	}
	clean := fmt.Errorf("no secret: %w", errSentinel)
	if r.Error(clean) != clean {
		t.Error("an error without a secret was replaced")
	}
	cause := &causeError{Code: 7}
	leaky := fmt.Errorf("dial https://x.test/?s=%s: %w", url.QueryEscape(symClientSecret), errors.Join(cause, fs.ErrNotExist))
	got := r.Error(leaky)
	authtest.CheckValue(t, got, authtest.Forms(symClientSecret))
	var ce *causeError
	if !errors.Is(got, fs.ErrNotExist) || !errors.As(got, &ce) || ce.Code != 7 {
		t.Errorf("redacted error %v lost its causes", got)
	}
	for e := got; e != nil; e = errors.Unwrap(e) {
		authtest.CheckText(t, "a cause", e.Error(), authtest.Forms(symClientSecret))
	}
	te := &auth.TokenError{Grant: "password", Description: "echo " + symClientSecret, Err: errors.New("x " + symClientSecret)}
	rte, ok := r.Error(te).(*auth.TokenError)
	if !ok {
		t.Fatalf("Error(*TokenError) = %T; want a *TokenError", r.Error(te))
	}
	if strings.Contains(rte.Description, symClientSecret) || strings.Contains(rte.Err.Error(), symClientSecret) || te.Description != "echo "+symClientSecret {
		t.Errorf("TokenError copy %+v; want its fields redacted and the original untouched", rte)
	}
}

func TestRedactorHeader(t *testing.T) {
	r := auth.NewRedactor(symAccess)
	h := http.Header{
		"Authorization": {"Bearer " + symAccess},
		"Cookie":        {"session=abc"},
		"X-Request-Id":  {"req " + url.QueryEscape(symAccess)},
		"Content-Type":  {"application/json"},
	}
	got := r.Header(h)
	if got.Get("Authorization") != "Bearer [redacted]" || got.Get("Cookie") != "[redacted]" || got.Get("Content-Type") != "application/json" {
		t.Errorf("Header = %v", got)
	}
	if strings.Contains(got.Get("X-Request-Id"), "access-token") {
		t.Errorf("X-Request-Id kept the token: %q", got.Get("X-Request-Id"))
	}
	if h.Get("Authorization") != "Bearer "+symAccess {
		t.Error("Header changed its argument")
	}
	if r.Header(nil) != nil {
		t.Error("Header(nil) != nil")
	}
}

func TestRedactorShortLivedAreBounded(t *testing.T) {
	r := auth.NewRedactor(symClientSecret)
	r.AddToken(&oauth2.Token{AccessToken: "first-token-0000"})
	for i := 0; i < 200; i++ {
		r.AddShortLived(fmt.Sprintf("token-number-%04d", i))
		if i%10 == 0 {
			r.AddShortLived("first-token-0000") // in use: kept fresh
		}
	}
	if n := r.Len(); n > 60 {
		t.Errorf("Len = %d after 200 tokens; want it bounded", n)
	}
	for _, s := range []string{symClientSecret, "first-token-0000", "token-number-0199"} {
		if got := r.Redact(s); got != "[redacted]" {
			t.Errorf("Redact(%q) = %q; want it redacted", s, got)
		}
	}
	if got := r.Redact("token-number-0000"); got == "[redacted]" {
		t.Error("the oldest short-lived value is still kept")
	}
	// A short-lived value added again as long-lived is kept for good.
	r.AddShortLived("promoted-value-1")
	r.Add("promoted-value-1")
	for i := 0; i < 100; i++ {
		r.AddShortLived(fmt.Sprintf("later-number-%04d", i))
	}
	if got := r.Redact("promoted-value-1"); got != "[redacted]" {
		t.Errorf("a value added with Add was forgotten: %q", got)
	}
}

func TestRedactorInclude(t *testing.T) {
	a, b := auth.NewRedactor("alpha-secret-1"), auth.NewRedactor("bravo-secret-2")
	a.Include(b)
	b.Include(a) // a cycle: refused
	a.Include(a)
	b.Add("charlie-secret-3")
	if got := a.Redact("alpha-secret-1 bravo-secret-2 charlie-secret-3"); got != "[redacted] [redacted] [redacted]" {
		t.Errorf("a.Redact = %q", got)
	}
	if got := b.Redact("alpha-secret-1"); got != "alpha-secret-1" {
		t.Errorf("b.Redact = %q; b must not include a", got)
	}
}

func TestRedactorIsSafeForConcurrentUse(t *testing.T) {
	r := auth.NewRedactor(symClientSecret)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				r.AddShortLived(fmt.Sprintf("concurrent-%d-%d", i, j))
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if got := r.Redact("x " + symClientSecret); got != "x [redacted]" {
					t.Errorf("Redact = %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzRedact: whatever the text, Redact never panics, keeps text without a
// secret as it is, and removes a secret placed in it raw or form-encoded.
func FuzzRedact(f *testing.F) {
	f.Add("before ", symClientSecret, " after")
	f.Add(`\u00`, `%2`, `&#x`)
	f.Add("%25%25%25%25", "%%%%%%%%", "\\\\\\\\")
	f.Add(`\ud83d\ude00`, "🔑🔑🔑🔑", "&#128273;")
	f.Fuzz(func(t *testing.T, prefix, secret, suffix string) {
		r := auth.NewRedactor(secret)
		if len(secret) < auth.MinSecretLen {
			if got := r.Redact(prefix + secret + suffix); got != prefix+secret+suffix {
				t.Fatalf("a secret shorter than MinSecretLen changed the text: %q", got)
			}
			return
		}
		for _, text := range []string{prefix + secret + suffix, prefix + url.QueryEscape(secret) + suffix} {
			if got := r.Redact(text); strings.Contains(got, secret) {
				t.Fatalf("Redact(%q) = %q still holds the secret", text, got)
			}
		}
		if got := r.Field(prefix + secret + suffix); !utf8.ValidString(got) || len(got) > auth.MaxFieldLen+3 {
			t.Fatalf("Field = %q: want valid UTF-8 of at most %d bytes", got, auth.MaxFieldLen+3)
		}
	})
}
