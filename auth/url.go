package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrInsecureURL is returned (wrapped) when a token or API URL does not use
// https. Plain http is accepted only for loopback hosts (127.0.0.0/8, ::1,
// localhost), which is where fakes and tests live.
var ErrInsecureURL = errors.New("URL must use https (plain http only for loopback hosts)")

// CheckURL parses raw and checks that credentials may be sent to it: an
// absolute https URL, or http on a loopback host. The error names the
// scheme and host only, never the query, which may hold a secret.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("auth: invalid URL: %w", redactURLError(err))
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("auth: invalid URL %q: want an absolute http(s) URL", u.Scheme+"://"+u.Host+u.Path)
	}
	if u.User != nil {
		return nil, fmt.Errorf("auth: invalid URL %s://%s: credentials in the URL are not allowed", u.Scheme, u.Hostname())
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("auth: %s://%s: %w", u.Scheme, u.Host, ErrInsecureURL)
	}
	return u, nil
}

// ErrInvalidRedirectURL is wrapped by every error of CheckRedirectURL.
var ErrInvalidRedirectURL = errors.New("invalid redirect URL")

// CheckRedirectURL parses raw and checks that it may be an OAuth redirect
// URI, where the authorization server sends the user's browser back with a
// code:
//
//   - https, with a host, or http only on a loopback host (127.0.0.1 and the
//     rest of 127.0.0.0/8, [::1], localhost), as RFC 8252 section 7.3 allows
//     for native apps; any port;
//   - no other scheme: javascript:, data:, file:, ftp:, ws: and private-use
//     schemes (com.example.app:/cb) are refused;
//   - no userinfo (user:pass@), no fragment, not even an empty one (RFC 6749
//     section 3.1.2);
//   - no spaces, control characters, backslashes or non-ASCII characters
//     (they must be percent-encoded), no percent-encoding in the host, and a
//     host of letters, digits, '-', '_' and '.' or a bracketed IP address;
//     a port of at most 65535.
//
// The error wraps ErrInvalidRedirectURL and names the problem.
func CheckRedirectURL(raw string) (*url.URL, error) {
	bad := func(problem string) (*url.URL, error) {
		return nil, fmt.Errorf("auth: redirect URL: %w: %s", ErrInvalidRedirectURL, problem)
	}
	if raw == "" {
		return bad("empty")
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == ' ':
			return bad("contains a space (percent-encode it)")
		case c < 0x20 || c == 0x7f:
			return bad("contains a control character")
		case c >= 0x80:
			return bad("contains a non-ASCII character (percent-encode it, or use the punycode host name)")
		case c == '\\':
			return bad("contains a backslash (browsers read it as '/', so the URL would not mean what it says)")
		case c == '#':
			return bad("has a fragment (RFC 6749 section 3.1.2 forbids one)")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("does not parse: " + redactURLError(err).Error())
	}
	switch {
	case u.Scheme == "":
		return bad("is not absolute: want https://host/path, or http://127.0.0.1:port/path for a native app")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad(fmt.Sprintf("scheme %q is not allowed: want https, or http on a loopback host", u.Scheme))
	case u.Opaque != "":
		return bad("has no host: want " + u.Scheme + "://host/path")
	case u.User != nil:
		return bad("has userinfo (user@ or user:password@); credentials do not belong in a redirect URL")
	}
	host := u.Hostname()
	if host == "" {
		return bad("has no host")
	}
	if strings.Contains(u.Host, "%") {
		return bad("has a percent-encoded host or an IPv6 zone")
	}
	if strings.HasPrefix(u.Host, "[") {
		if net.ParseIP(host) == nil {
			return bad("has an invalid IP address in brackets")
		}
	} else if !validHostName(host) {
		return bad(fmt.Sprintf("host %q is not a valid host name", host))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n > 65535 {
			return bad(fmt.Sprintf("port %q is not a valid port", p))
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("has an empty port")
	}
	if u.Scheme == "http" && !IsLoopback(host) {
		return bad(fmt.Sprintf("http://%s is not a loopback host: use https (plain http only for 127.0.0.1, [::1] or localhost, RFC 8252)", host))
	}
	return u, nil
}

// validHostName reports whether h is made of labels of letters, digits,
// '-' and '_', separated by dots (one trailing dot allowed).
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// redactURLError drops the URL from a *url.Error-like parse error, since a
// malformed URL may still carry a secret in its query.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// IsLoopback reports whether host (without port) is localhost or a loopback
// IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// origin is a URL's scheme, host and port: where credentials may go.
type origin struct {
	scheme string
	host   string // lower-case host with an explicit port
}

func originOf(u *url.URL) origin {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return origin{scheme: scheme, host: net.JoinHostPort(host, port)}
}

// matches reports whether u has this origin. The common case (the same
// scheme and host spelling as configured) costs no allocation.
func (o origin) matches(u *url.URL, fastHost string) bool {
	if u.Scheme == o.scheme && u.Host == fastHost {
		return true
	}
	return originOf(u) == o
}

func (o origin) String() string { return o.scheme + "://" + o.host }
