package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// MaxTokenResponseBytes caps every body read from a token endpoint (CVE-2025-22868
// was unbounded memory use on a malformed token; a token response is a few KiB).
const MaxTokenResponseBytes = 1 << 20

// ParseTokenResponse reads a token endpoint's response (and closes its body)
// the way every flow in this package does, for providers whose token request
// auth cannot build itself (First AML's JSON body, from its generated client):
//
//   - the body is capped at MaxTokenResponseBytes;
//   - expires_in may be a number or a numeric string; Expiry is set from it;
//   - a missing token_type means Bearer, and any type other than Bearer is refused;
//   - id_token, scope and any other field stay reachable through Token.Extra;
//   - a non-2xx status, an OAuth error body, a non-JSON body (an HTML error page)
//     or a body without access_token gives a *TokenError, with the response's
//     Retry-After in its RetryAfter.
//
// grant names the grant_type for the error message; secrets are removed from
// any text the server sent back, in every form (see Redactor). Prefer
// ParseTokenResponseWith and the client's Redactor, which also knows the
// tokens issued so far; this is ParseTokenResponseWith with a Redactor of
// secrets alone.
func ParseTokenResponse(resp *http.Response, grant string, secrets ...string) (*oauth2.Token, error) {
	return ParseTokenResponseWith(resp, grant, ParseOptions{Redactor: NewRedactor(secrets...)})
}

// ParseOptions configure ParseTokenResponseWith. The zero value is ready to
// use.
type ParseOptions struct {
	// Redactor removes the client's secrets from every text copied from the
	// response into an error. The access, refresh and ID tokens of the
	// response are registered with it before any error text is built, so a
	// server that echoes them (in expires_in, say) does not leak them.
	// Optional; default: a Redactor that knows only those tokens.
	Redactor *Redactor
	// Now is the clock that dates the token's Expiry. Optional.
	Now func() time.Time
}

// ParseTokenResponseWith is ParseTokenResponse with the client's Redactor
// and clock.
func ParseTokenResponseWith(resp *http.Response, grant string, opts ParseOptions) (*oauth2.Token, error) {
	red := opts.Redactor
	if red == nil {
		red = NewRedactor()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return parseTokenResponse(resp, grant, red, now())
}

func parseTokenResponse(resp *http.Response, grant string, red *Redactor, now time.Time) (*oauth2.Token, error) {
	defer resp.Body.Close()
	te := &TokenError{Grant: grant, StatusCode: resp.StatusCode, red: red}
	if d, ok := RetryAfter(resp.Header, now); ok {
		te.RetryAfter = d
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxTokenResponseBytes+1))
	if err != nil {
		te.setHeaders(resp.Header)
		te.Reason = "reading the response failed"
		te.Err = red.Error(err)
		return nil, te
	}
	if len(body) > MaxTokenResponseBytes {
		te.setHeaders(resp.Header)
		te.Reason = "response body exceeds 1 MiB"
		return nil, te
	}
	fields, perr := decodeTokenBody(resp.Header.Get("Content-Type"), body)
	// The response's own tokens are secrets even when it is refused: a
	// server may echo them anywhere, expires_in and headers included.
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if v, ok := fields[k].(string); ok {
			red.AddShortLived(v)
		}
	}
	te.setHeaders(resp.Header)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if perr != nil {
		if ok {
			te.Reason = perr.Error()
		} else {
			te.Reason = "error response is " + perr.Error()[len("response is "):]
		}
		te.Reason = red.Field(te.Reason)
		return nil, te
	}
	te.Code = red.Field(str(fields["error"]))
	te.Description = red.Field(str(fields["error_description"]))
	te.Message = red.Field(str(fields["message"]))
	if !ok || te.Code != "" {
		if te.Code == "" && te.Description == "" && te.Message == "" {
			te.Reason = "error response without an OAuth error field"
		}
		return nil, te
	}

	access, isString := fields["access_token"].(string)
	if !isString || access == "" {
		te.Reason = "response has no access_token"
		return nil, te
	}
	tokenType, _ := fields["token_type"].(string)
	switch {
	case tokenType == "" || strings.EqualFold(tokenType, "bearer"):
		tokenType = "Bearer"
	default:
		te.Reason = fmt.Sprintf("unsupported token_type %q (only Bearer is supported)", red.FieldN(tokenType, 32))
		return nil, te
	}
	expiresIn, err := parseExpiresIn(fields["expires_in"], red)
	if err != nil {
		te.Reason = red.Field(err.Error())
		return nil, te
	}
	refresh, _ := fields["refresh_token"].(string)
	tok := &oauth2.Token{
		AccessToken:  access,
		TokenType:    tokenType,
		RefreshToken: refresh,
		ExpiresIn:    expiresIn,
	}
	if expiresIn > 0 {
		tok.Expiry = now.Add(time.Duration(expiresIn) * time.Second)
	}
	return tok.WithExtra(fields), nil
}

// setHeaders copies the response headers a TokenError names, redacted and
// bounded: a server may echo a request into any of them.
func (e *TokenError) setHeaders(h http.Header) {
	e.ContentType = e.red.FieldN(h.Get("Content-Type"), 128)
	e.RequestID = e.red.FieldN(RequestID(h), 128)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// decodeTokenBody decodes a JSON object, or a form-encoded body when the
// server says so (some older OAuth servers still answer that way).
func decodeTokenBody(contentType string, body []byte) (map[string]any, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("response is not valid form data")
		}
		m := make(map[string]any, len(vals))
		for k := range vals {
			m[k] = vals.Get(k)
		}
		return m, nil
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("response is empty")
	}
	if trimmed[0] != '{' {
		if mediaType == "" {
			mediaType = "no content type"
		}
		return nil, fmt.Errorf("response is not JSON (%s)", mediaType)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New("response is not valid JSON (truncated or malformed)")
	}
	if dec.More() {
		return nil, errors.New("response is not valid JSON (trailing data)")
	}
	return m, nil
}

// maxExpiresIn bounds expires_in to ten years, so a hostile or broken
// server cannot overflow time arithmetic.
const maxExpiresIn = 10 * 365 * 24 * 3600

func parseExpiresIn(v any, red *Redactor) (int64, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
	default:
		return 0, fmt.Errorf("expires_in is not a number (%T)", v)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != f { // NaN
			// Redact before the cut: a secret echoed here must not leave
			// its first characters.
			return 0, fmt.Errorf("expires_in %q is not a number", red.FieldN(s, 32))
		}
		if f > maxExpiresIn {
			f = maxExpiresIn
		}
		n = int64(f)
	}
	if n < 0 {
		return 0, fmt.Errorf("expires_in %d is negative", n)
	}
	if n > maxExpiresIn {
		n = maxExpiresIn
	}
	return n, nil
}

// RequestID returns the request id a provider put in h, under any of the
// usual header names, or "".
func RequestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-Requestid", "Cf-Ray"}

// IDToken returns the OpenID Connect id_token that came with tok (Stems
// sends one on every refresh), or "".
func IDToken(tok *oauth2.Token) string {
	if tok == nil {
		return ""
	}
	s, _ := tok.Extra("id_token").(string)
	return s
}

// GrantedScope returns the scope the server says it granted, or "".
func GrantedScope(tok *oauth2.Token) string {
	if tok == nil {
		return ""
	}
	s, _ := tok.Extra("scope").(string)
	return s
}

// Key derives a store key from what identifies a token: the token URL, the
// client id, the subject (a username, or "" for client credentials) and the
// scopes (order does not matter). It is a hash, so no secret and no user
// name is ever stored in the clear as a key.
func Key(tokenURL, clientID, subject string, scopes []string) string {
	s := append([]string(nil), scopes...)
	sort.Strings(s)
	h := sha256.New()
	for _, part := range []string{tokenURL, clientID, subject, strings.Join(s, " ")} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// storedToken is how stores persist a token: oauth2.Token's JSON form drops
// the extras, and id_token and scope must survive a restart.
type storedToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ExpiresIn    int64     `json:"expires_in,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Scope        string    `json:"scope,omitempty"`
}

// MarshalToken encodes tok for a Store, keeping its refresh token, expiry,
// lifetime, id_token and scope. The result holds secrets: store it only
// where a token may live (a 0600 file, an encrypted Redis value).
func MarshalToken(tok *oauth2.Token) ([]byte, error) {
	if tok == nil {
		return nil, errors.New("auth: marshal: nil token")
	}
	return json.Marshal(storedToken{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
		ExpiresIn:    tok.ExpiresIn,
		IDToken:      IDToken(tok),
		Scope:        GrantedScope(tok),
	})
}

// UnmarshalToken decodes what MarshalToken wrote.
func UnmarshalToken(data []byte) (*oauth2.Token, error) {
	var st storedToken
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, errors.New("auth: stored token is not valid JSON")
	}
	if st.AccessToken == "" && st.RefreshToken == "" {
		return nil, errors.New("auth: stored token is empty")
	}
	tok := &oauth2.Token{
		AccessToken:  st.AccessToken,
		TokenType:    st.TokenType,
		RefreshToken: st.RefreshToken,
		Expiry:       st.Expiry,
		ExpiresIn:    st.ExpiresIn,
	}
	extra := map[string]any{}
	if st.IDToken != "" {
		extra["id_token"] = st.IDToken
	}
	if st.Scope != "" {
		extra["scope"] = st.Scope
	}
	return tok.WithExtra(extra), nil
}
