package firstamlapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/internal/apiclient"
	"github.com/complykit/complykit-go/option"
)

// WithDocumentOrigin lets DownloadDocument send the bearer token to one
// more origin, e.g. "https://api.firstaml.com" if First AML's contentsUrl
// or pdfUrl values point there (the docs' PdfUpdated example does) rather
// than at the GraphQL endpoint's host. Optional and repeatable; by default
// only the GraphQL endpoint's origin receives the token, and
// DownloadDocument refuses a contentsUrl elsewhere. u is an origin only:
// https (or http on a loopback host), no path, query or credentials.
func WithDocumentOrigin(u string) option.Option {
	return apiclient.For("WithDocumentOrigin", func(c *config) error {
		parsed, err := auth.CheckURL(u)
		if err != nil {
			return err
		}
		if (parsed.Path != "" && parsed.Path != "/") || parsed.RawQuery != "" || parsed.Fragment != "" {
			return errors.New("want an origin (scheme://host[:port]) without a path or query")
		}
		c.documentOrigins = append(c.documentOrigins, originOf(parsed))
		return nil
	})
}

// originOf is u's scheme, lower-case host and explicit port, e.g.
// "https://api.firstaml.com:443": where credentials may go. It never
// includes the path or query, so it may appear in errors.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// DownloadDocument downloads the file at contentsURL (a DocumentFile's
// ContentsUrl from CaseDocuments, or a PdfUpdated event's PdfURL) and
// streams it to w as it arrives: nothing is buffered beyond io.Copy's
// buffer, and there is no size cap: only ctx bounds the download. It
// returns the number of bytes written.
//
// The request carries the bearer token, as First AML requires. First AML
// may answer with a redirect to storage on another host: the redirect is
// followed without the Authorization header (the client's Doer strips
// credentials on every hop that leaves the GraphQL endpoint's origin).
//
// contentsURL must be on the GraphQL endpoint's origin (or one given with
// WithDocumentOrigin): any other is refused before anything is sent,
// rather than sent with the token to a host the client does not trust, or
// without it to a First AML host that would refuse it. The error names the
// URL's origin, never its path or query, which may carry a signature.
//
// A failure is an *Error: a non-200 answer with its status, or the
// transport's error, with the bytes written before it so far in n. A
// failed download is retried, like a query, only while nothing has been
// written to w.
func (c *Client) DownloadDocument(ctx context.Context, contentsURL string, w io.Writer, opts ...option.CallOption) (_ int64, err error) {
	const op = "DownloadDocument"
	if w == nil {
		return 0, &Error{Op: op, Err: errors.New("nil writer")}
	}
	u, err := url.Parse(contentsURL)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return 0, &Error{Op: op, Reason: "contentsUrl is not an absolute http(s) URL"}
	}
	doer := c.documentDoer(u)
	if doer == nil {
		return 0, &Error{Op: op, Reason: fmt.Sprintf(
			"contentsUrl is on %s, not on the API's origin %s: refusing to send the bearer token there (WithDocumentOrigin allows another origin)",
			originOf(u), c.graphqlOrigin)}
	}
	call, err := apiclient.ApplyCall("firstamlapi", nil, opts)
	if err != nil {
		return 0, &Error{Op: op, Err: err}
	}
	ctx, span := apiclient.StartCall(ctx, c.tel, op, &call)
	var resp *http.Response
	defer func() { apiclient.EndCall(span, &call, resp, err, c.red) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, &Error{Op: op, Err: errors.New("cannot build the request")}
	}
	req.Header["User-Agent"] = c.userAgent
	req.Header.Set("Accept", "*/*")
	for _, edit := range call.Editors {
		if err := edit(ctx, req); err != nil {
			return 0, &Error{Op: op, Err: err}
		}
	}
	resp, err = doer.Do(req)
	if err != nil {
		return 0, &Error{Op: op, Err: c.red.Error(withoutQuery(err))}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, newError(op, resp, c.red)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, &Error{Op: op, StatusCode: resp.StatusCode, RequestID: c.red.Field(auth.RequestID(resp.Header)),
			Reason: fmt.Sprintf("download interrupted after %d bytes", n), Err: err}
	}
	return n, nil
}

// documentDoer returns the Doer that may send the token to u's origin, or
// nil if none may.
func (c *Client) documentDoer(u *url.URL) *auth.Doer {
	o := originOf(u)
	if o == c.graphqlOrigin {
		return c.doer
	}
	return c.documentDoers[o]
}

// withoutQuery drops the query of the URL in a *url.Error: a storage URL
// First AML redirects to may carry a pre-signed signature, which must not
// reach an error message or a log. errors.Is and errors.As still see the
// cause.
func withoutQuery(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if u, perr := url.Parse(ue.URL); perr == nil && (u.RawQuery != "" || u.User != nil) {
		u.RawQuery, u.User = "", nil
		return &url.Error{Op: ue.Op, URL: u.String() + "?[redacted]", Err: ue.Err}
	}
	return err
}
