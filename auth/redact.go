package auth

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// MinSecretLen is the length, in bytes, of the shortest secret a Redactor
// removes. Shorter values are ignored: redacting them would garble ordinary
// words ("true", "code", "auth") in every message, and a secret that short is
// guessable anyway.
const MinSecretLen = 6

// minPrefixLen is the length, in decoded bytes, from which the start of a
// secret is removed even when the rest of it is missing: what a server that
// echoes part of a request, or a cut, leaves behind.
const minPrefixLen = 8

// MaxFieldLen bounds each text field that Field copies from a response into
// an error: an error message must stay readable and bounded.
const MaxFieldLen = 512

// maxShortLived is how many short-lived values (tokens, codes) a Redactor
// keeps; older ones are forgotten, so that a long-running client's Redactor
// does not grow without bound. The Cache registers its current token again
// on every fetch and load, so the tokens in use are always among them.
const maxShortLived = 48

// redactedText replaces every secret.
const redactedText = "[redacted]"

// Redactor knows the secrets of one client and removes them from any text:
// error messages, fields copied from responses, headers, log lines. Create
// one per client with NewRedactor, hand it to the flow (FlowOptions.Redactor)
// and the cache (CacheOptions.Redactor), and pass every text that came back
// from a server through it before it goes into an error or a log line. The
// flows register the secrets they hold (client secret, password, the HTTP
// Basic pair, codes and PKCE verifiers) and the Cache registers every token
// it obtains or loads from a Store.
//
// A secret is removed in every form it takes on the wire and in text: raw;
// URL- and form-encoded (%20 or + for a space, upper- or lower-case hex, even
// encoded twice); JSON-, Go- and JavaScript-escaped (\u003c, \/, \", \\ ...);
// HTML-escaped (&amp;, &#43; ...); base64 (standard and URL alphabets, with
// or without padding, at any alignment), including the HTTP Basic form
// base64(id:secret) (AddBasic). Any mix of these encodings within one
// occurrence is recognised too. The first 8 or more bytes of a secret are
// removed wherever they appear even when the rest is missing, so a secret
// that a server echoed only in part, or that straddles a cut, leaves
// nothing usable; Field redacts before it truncates for the same reason.
//
// Secrets shorter than MinSecretLen bytes are ignored. Long-lived secrets
// (Add, AddBasic, AddKey) are kept for the Redactor's life; short-lived ones
// (AddToken, AddShortLived) are bounded: the newest 48 are kept.
//
// A Redactor is safe for concurrent use; Redact takes no lock. The nil
// *Redactor removes nothing, but its Field still sanitizes and bounds text.
// It never prints a secret itself: %v, JSON and slog show only how many it
// knows.
type Redactor struct {
	mu         sync.Mutex
	long       []secretEntry // Add, AddBasic, AddKey: kept for good
	short      []secretEntry // AddShortLived, AddToken: newest last, bounded
	includes   []*Redactor
	patterns   atomic.Pointer[patternSet]
	secretSeen map[string]bool // values in long or short
}

type secretEntry struct {
	value string   // what was registered ("" for a literal form)
	forms []string // the patterns it contributes
}

// NewRedactor returns a Redactor that knows secrets (each one long-lived, as
// with Add).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers long-lived secrets: a client secret, a password, a static
// token. Values shorter than MinSecretLen are ignored.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range secrets {
		if len(s) < MinSecretLen {
			continue
		}
		if r.secretSeen[s] {
			// Known: if only as short-lived, keep it for good now.
			for i, e := range r.short {
				if e.value == s {
					r.short = append(r.short[:i:i], r.short[i+1:]...)
					r.long = append(r.long, e)
					break
				}
			}
			continue
		}
		r.markLocked(s)
		r.long = append(r.long, secretEntry{value: s, forms: formsOf(s)})
		changed = true
	}
	if changed {
		r.rebuildLocked()
	}
}

// AddBasic registers a client id and secret as HTTP Basic authentication
// sends them: base64 of "id:secret", both raw and form-encoded first as RFC
// 6749 section 2.3.1 wants, in both base64 alphabets, with and without
// padding. The secret itself is registered as with Add; the id is not.
func (r *Redactor) AddBasic(clientID, secret string) {
	if r == nil || len(secret) < MinSecretLen {
		return
	}
	r.Add(secret)
	var forms []string
	for _, pair := range []string{clientID + ":" + secret, url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)} {
		forms = append(forms, base64Forms(pair)...)
	}
	r.addLiteral(forms)
}

// AddKey registers a binary key (an encryption key) in the forms keys are
// written down in: hex (either case) and base64 (either alphabet, padded or
// not), and raw.
func (r *Redactor) AddKey(key []byte) {
	if r == nil || len(key) == 0 {
		return
	}
	r.Add(string(key))
	forms := []string{hex.EncodeToString(key), strings.ToUpper(hex.EncodeToString(key))}
	forms = append(forms, base64Forms(string(key))...)
	r.addLiteral(forms)
}

func (r *Redactor) addLiteral(forms []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var keep []string
	for _, f := range forms {
		if len(f) >= MinSecretLen && !r.secretSeen["\x00"+f] {
			r.markLocked("\x00" + f)
			keep = append(keep, f)
		}
	}
	if len(keep) > 0 {
		r.long = append(r.long, secretEntry{forms: keep})
		r.rebuildLocked()
	}
}

// AddShortLived registers values that stop mattering soon: an access,
// refresh or ID token, an authorization code, a PKCE verifier. The Redactor
// keeps the newest 48 of them.
func (r *Redactor) AddShortLived(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		if len(v) < MinSecretLen {
			continue
		}
		if r.secretSeen[v] {
			// Already known: move a short-lived one to the newest end.
			for i, e := range r.short {
				if e.value == v {
					r.short = append(append(r.short[:i:i], r.short[i+1:]...), e)
					break
				}
			}
			continue
		}
		r.markLocked(v)
		r.short = append(r.short, secretEntry{value: v, forms: formsOf(v)})
		for len(r.short) > maxShortLived {
			delete(r.secretSeen, r.short[0].value)
			r.short = r.short[1:]
		}
		changed = true
	}
	if changed {
		r.rebuildLocked()
	}
}

// AddToken registers tok's access, refresh and ID tokens as short-lived
// values. The Cache calls it for every token it obtains or loads.
func (r *Redactor) AddToken(tok *oauth2.Token) {
	if r == nil || tok == nil {
		return
	}
	r.AddShortLived(tok.AccessToken, tok.RefreshToken, IDToken(tok))
}

// Include makes r also remove every secret other knows, now and later: for
// a Cache whose Redactor differs from its source's. Including r itself, or a
// Redactor that already includes r, does nothing.
func (r *Redactor) Include(other *Redactor) {
	if r == nil || other == nil || other == r || other.reaches(r, 0) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, inc := range r.includes {
		if inc == other {
			return
		}
	}
	r.includes = append(r.includes, other)
	r.rebuildLocked()
}

func (r *Redactor) reaches(target *Redactor, depth int) bool {
	if r == target {
		return true
	}
	if depth > 8 {
		return true // treat a deep chain as a cycle: refuse it
	}
	ps := r.patterns.Load()
	if ps == nil {
		return false
	}
	for _, inc := range ps.includes {
		if inc.reaches(target, depth+1) {
			return true
		}
	}
	return false
}

func (r *Redactor) markLocked(v string) {
	if r.secretSeen == nil {
		r.secretSeen = map[string]bool{}
	}
	r.secretSeen[v] = true
}

// Len reports how many secrets r knows (a Basic pair or a key counts once
// per form group), not counting included Redactors.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.long) + len(r.short)
}

// Redact returns s without any secret r knows, each occurrence replaced with
// "[redacted]". It does not sanitize or truncate: see Field.
func (r *Redactor) Redact(s string) string { return r.redact(s, 0) }

func (r *Redactor) redact(s string, depth int) string {
	if r == nil || s == "" {
		return s
	}
	ps := r.patterns.Load()
	if ps == nil {
		return s
	}
	s = ps.apply(s)
	if depth < 8 {
		for _, inc := range ps.includes {
			s = inc.redact(s, depth+1)
		}
	}
	return s
}

// Field prepares a text field copied from a response (an error description,
// a message, a request id, a Content-Type) for an error: it redacts every
// secret first, then turns control characters (and the Unicode bidirectional
// controls and line separators) into spaces and invalid UTF-8 into U+FFFD,
// then cuts it to MaxFieldLen bytes, at a character boundary, marking the cut
// with "...". Redacting before the cut means a secret that straddles it
// cannot leave its first characters behind.
func (r *Redactor) Field(s string) string { return r.FieldN(s, MaxFieldLen) }

// FieldN is Field with a bound of n bytes (n <= 0: no bound).
func (r *Redactor) FieldN(s string, n int) string {
	s = sanitize(r.Redact(s))
	if n > 0 && len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// sanitize turns characters that could forge or hide text in a terminal or
// a log line into spaces, and invalid UTF-8 into U+FFFD.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(c rune) rune {
		switch {
		case c < 0x20, c >= 0x7f && c < 0xa0:
			return ' '
		case c == 0x200e, c == 0x200f, c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069, c == 0x2028, c == 0x2029:
			return ' '
		}
		return c
	}, s)
}

// Error returns err with every secret removed from its message, or err
// itself when its message holds none (so errors.Is and errors.As behave as
// before). A *TokenError stays a *TokenError: a redacted copy. Any other
// error whose message held a secret becomes an error with the redacted
// message that unwraps to its redacted causes (a cause whose message holds no
// secret is the original value, so errors.As still finds it) and for which
// errors.Is still matches everything the original matched.
func (r *Redactor) Error(err error) error {
	out, _ := r.redactError(err)
	return out
}

// redactError is Error, and reports whether anything changed.
func (r *Redactor) redactError(err error) (error, bool) {
	if err == nil || r == nil {
		return err, false
	}
	switch e := err.(type) {
	case *TokenError:
		return r.tokenError(e)
	case *BackoffError:
		inner, changed := r.redactError(e.Err)
		if !changed {
			return e, false
		}
		cp := *e
		cp.Err = inner
		return &cp, true
	}
	msg := err.Error()
	red := r.Redact(msg)
	if red == msg {
		return err, false
	}
	if _, ok := err.(interface{ Unwrap() []error }); ok {
		return &redactedJoinError{redactedError{msg: red, err: err, r: r}}, true
	}
	return &redactedError{msg: red, err: err, r: r}, true
}

func (r *Redactor) tokenError(e *TokenError) (*TokenError, bool) {
	cp := *e
	changed := false
	for _, f := range []*string{&cp.Grant, &cp.Code, &cp.Description, &cp.Message, &cp.ContentType, &cp.Reason, &cp.RequestID} {
		if red := r.Redact(*f); red != *f {
			*f, changed = red, true
		}
	}
	if inner, ch := r.redactError(e.Err); ch {
		cp.Err, changed = inner, true
	}
	switch {
	case e.red == r:
	case e.red == nil:
		cp.red, changed = r, true
	default:
		// Keep both: the copy's message is redacted with either's secrets.
		both := &Redactor{}
		both.Include(r)
		both.Include(e.red)
		cp.red, changed = both, true
	}
	if !changed {
		return e, false
	}
	return &cp, true
}

// redactedError is an error whose message held a secret.
type redactedError struct {
	msg string
	err error
	r   *Redactor
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap returns the cause, itself redacted.
func (e *redactedError) Unwrap() error { return e.r.Error(errors.Unwrap(e.err)) }

// Is matches whatever the original error matched; it reveals nothing.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// Format prints the redacted message for every verb.
func (e *redactedError) Format(f fmt.State, verb rune) { FormatText(f, verb, e.msg) }

// MarshalJSON encodes the redacted message.
func (e *redactedError) MarshalJSON() ([]byte, error) { return marshalErrorJSON(e.msg, nil) }

// LogValue is the redacted message.
func (e *redactedError) LogValue() slog.Value { return slog.StringValue(e.msg) }

// redactedJoinError is a redactedError of an error with several causes.
type redactedJoinError struct{ redactedError }

func (e *redactedJoinError) Unwrap() []error {
	causes := e.err.(interface{ Unwrap() []error }).Unwrap()
	out := make([]error, 0, len(causes))
	for _, c := range causes {
		out = append(out, e.r.Error(c))
	}
	return out
}

// sensitiveHeaders carry credentials as a whole: Header replaces their
// values instead of searching them.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true,
}

// Header returns a copy of h that is safe to copy into an error or a log
// line: the values of Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, X-Api-Key, Api-Key and X-Auth-Token are replaced with
// "[redacted]" (an Authorization scheme such as "Bearer" is kept), and every
// other value is redacted. It does not truncate: pass the values you copy
// through Field. A nil h gives nil.
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		cp := make([]string, len(vs))
		for i, v := range vs {
			switch {
			case sensitiveHeaders[http.CanonicalHeaderKey(k)]:
				if scheme, _, ok := strings.Cut(v, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
					cp[i] = scheme + " " + redactedText
				} else {
					cp[i] = redactedText
				}
			default:
				cp[i] = r.Redact(v)
			}
		}
		out[k] = cp
	}
	return out
}

func (r *Redactor) rebuildLocked() {
	var forms []string
	for _, e := range r.long {
		forms = append(forms, e.forms...)
	}
	for _, e := range r.short {
		forms = append(forms, e.forms...)
	}
	r.patterns.Store(newPatternSet(forms, append([]*Redactor(nil), r.includes...)))
}

// formsOf lists the patterns that stand for secret s. Per-character
// encodings (URL, JSON, HTML escapes) are recognised while matching, so
// only encodings that are not per character need a pattern of their own:
// base64, and the URL-encoded form (so that an encoding of it, e.g. %252F,
// is found too).
func formsOf(s string) []string {
	forms := []string{s}
	if q := url.QueryEscape(s); q != s {
		forms = append(forms, q)
		forms = append(forms, base64Cores(q)...)
	}
	forms = append(forms, base64Forms(s)...)
	forms = append(forms, base64Cores(s)...)
	return forms
}

// base64Forms are s encoded whole in both alphabets, padded and not.
func base64Forms(s string) []string {
	return []string{
		base64.StdEncoding.EncodeToString([]byte(s)),
		base64.RawStdEncoding.EncodeToString([]byte(s)),
		base64.URLEncoding.EncodeToString([]byte(s)),
		base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

// base64Cores are the characters of a base64 encoding that depend on s alone
// wherever s starts in the encoded data: for each of the three alignments,
// the characters not shared with the bytes before or after it.
func base64Cores(s string) []string {
	var cores []string
	for k := 0; k < 3; k++ {
		data := append(make([]byte, k), s...)
		enc := base64.RawStdEncoding.EncodeToString(data)
		from := (8*k + 5) / 6
		to := 8 * len(data) / 6
		if to-from < MinSecretLen {
			continue
		}
		core := enc[from:to]
		cores = append(cores, core)
		if u := strings.NewReplacer("+", "-", "/", "_").Replace(core); u != core {
			cores = append(cores, u)
		}
	}
	return cores
}

// patternSet is an immutable snapshot of a Redactor's patterns.
type patternSet struct {
	patterns []string
	byFirst  [256][]int32
	includes []*Redactor
}

func newPatternSet(forms []string, includes []*Redactor) *patternSet {
	ps := &patternSet{includes: includes}
	seen := map[string]bool{}
	for _, f := range forms {
		if len(f) < MinSecretLen || seen[f] {
			continue
		}
		seen[f] = true
		ps.byFirst[f[0]] = append(ps.byFirst[f[0]], int32(len(ps.patterns)))
		ps.patterns = append(ps.patterns, f)
	}
	return ps
}

func (ps *patternSet) apply(s string) string {
	if len(ps.patterns) == 0 {
		return s
	}
	var b strings.Builder
	copied := 0
	for i := 0; i < len(s); {
		end := ps.longestAt(s, i)
		if end <= i {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[copied:i])
		b.WriteString(redactedText)
		i, copied = end, end
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// longestAt returns the end of the longest secret (or secret prefix of at
// least minPrefixLen bytes) that starts at s[i], or -1.
func (ps *patternSet) longestAt(s string, i int) int {
	best := -1
	try := func(first byte) {
		for _, idx := range ps.byFirst[first] {
			p := ps.patterns[idx]
			budget := 8*len(p) + 64
			end, got := matchAt(s, i, p, 0, &budget)
			if (got == len(p) || got >= minPrefixLen) && end > best {
				best = end
			}
		}
	}
	try(s[i])
	if _, b, l, ok := escapeAt(s, i); ok && l > 0 && b[0] != s[i] {
		try(b[0])
	}
	return best
}

// matchAt matches p[j:] against s[i:], decoding escapes in s as it goes,
// and returns where in s the longest match ends and how much of p it
// covers. Where both the raw byte and an escape fit, both are tried, within
// budget steps.
func matchAt(s string, i int, p string, j int, budget *int) (end, got int) {
	end, got = i, j
	for j < len(p) && i < len(s) {
		*budget--
		if *budget < 0 {
			return end, got
		}
		n, b, l, ok := escapeAt(s, i)
		escFits := ok && l <= len(p)-j && string(b[:l]) == p[j:j+l]
		rawFits := s[i] == p[j]
		switch {
		case escFits && rawFits:
			e1, g1 := matchAt(s, i+n, p, j+l, budget)
			if g1 == len(p) {
				return e1, g1
			}
			e2, g2 := matchAt(s, i+1, p, j+1, budget)
			if g2 > g1 {
				return e2, g2
			}
			return e1, g1
		case escFits:
			i, j = i+n, j+l
		case rawFits:
			i, j = i+1, j+1
		default:
			return end, got
		}
		end, got = i, j
	}
	return end, got
}

// escapeAt decodes the escape that starts at s[i], if any: URL (%HH, + for
// a space), JSON, Go and JavaScript (\uHHHH with surrogate pairs, \UHHHHHHHH,
// \xHH, \/ \" \\ \' \n \r \t \b \f) and HTML (&amp; &lt; &gt; &quot; &apos;
// &#N; &#xH;). It returns the bytes consumed and the decoded bytes.
func escapeAt(s string, i int) (n int, out [4]byte, l int, ok bool) {
	switch s[i] {
	case '%':
		if i+2 < len(s) {
			if v, ok := unhex(s[i+1 : i+3]); ok {
				out[0] = byte(v)
				return 3, out, 1, true
			}
		}
	case '+':
		out[0] = ' '
		return 1, out, 1, true
	case '\\':
		if i+1 >= len(s) {
			return 0, out, 0, false
		}
		switch c := s[i+1]; c {
		case '/', '"', '\\', '\'':
			out[0] = c
			return 2, out, 1, true
		case 'n':
			out[0] = '\n'
			return 2, out, 1, true
		case 'r':
			out[0] = '\r'
			return 2, out, 1, true
		case 't':
			out[0] = '\t'
			return 2, out, 1, true
		case 'b':
			out[0] = '\b'
			return 2, out, 1, true
		case 'f':
			out[0] = '\f'
			return 2, out, 1, true
		case 'x':
			if i+3 < len(s) {
				if v, ok := unhex(s[i+2 : i+4]); ok {
					out[0] = byte(v)
					return 4, out, 1, true
				}
			}
		case 'u':
			if i+5 < len(s) {
				if v, ok := unhex(s[i+2 : i+6]); ok {
					n = 6
					if v >= 0xd800 && v < 0xdc00 && i+11 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
						if lo, ok := unhex(s[i+8 : i+12]); ok && lo >= 0xdc00 && lo < 0xe000 {
							v = 0x10000 + (v-0xd800)<<10 + (lo - 0xdc00)
							n = 12
						}
					}
					l = utf8.EncodeRune(out[:], rune(v))
					return n, out, l, true
				}
			}
		case 'U':
			if i+9 < len(s) {
				if v, ok := unhex(s[i+2 : i+10]); ok && v <= utf8.MaxRune {
					l = utf8.EncodeRune(out[:], rune(v))
					return 10, out, l, true
				}
			}
		}
	case '&':
		rest := s[i+1:]
		for _, e := range htmlEntities {
			if strings.HasPrefix(rest, e.name) {
				out[0] = e.b
				return 1 + len(e.name), out, 1, true
			}
		}
		if strings.HasPrefix(rest, "#") {
			semi := strings.IndexByte(rest, ';')
			if semi < 2 || semi > 9 {
				return 0, out, 0, false
			}
			num := rest[1:semi]
			var v uint32
			var good bool
			if num[0] == 'x' || num[0] == 'X' {
				v, good = unhex(num[1:])
			} else {
				v, good = undec(num)
			}
			if good && v <= utf8.MaxRune {
				l = utf8.EncodeRune(out[:], rune(v))
				return 2 + semi, out, l, true
			}
		}
	}
	return 0, out, 0, false
}

var htmlEntities = []struct {
	name string
	b    byte
}{{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}}

func unhex(s string) (uint32, bool) {
	if s == "" || len(s) > 8 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

func undec(s string) (uint32, bool) {
	if s == "" || len(s) > 7 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + uint32(s[i]-'0')
	}
	return v, true
}

func (r *Redactor) safe() Safe {
	return Safe{Type: "auth.Redactor", Fields: []SafeField{Public("Secrets", r.Len())}}
}

// String tells how many secrets r knows, never one of them.
func (r *Redactor) String() string { return r.safe().String() }

// Format prints String under every verb.
func (r *Redactor) Format(f fmt.State, verb rune) { r.safe().Format(f, verb) }

// MarshalJSON encodes how many secrets r knows.
func (r *Redactor) MarshalJSON() ([]byte, error) { return r.safe().MarshalJSON() }

// LogValue logs how many secrets r knows.
func (r *Redactor) LogValue() slog.Value { return r.safe().LogValue() }
