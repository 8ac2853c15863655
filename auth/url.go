package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
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
