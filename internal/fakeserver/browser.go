package fakeserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// BrowseSignIn does with authURL what a user's browser does against a
// fake: it opens the authorize URL, fills the sign-in page with username
// and password, presses the consent button (or, without consent, the
// refusal one), and returns the request the app's redirect URI then
// receives, without sending it:
//
//   - a POST of the form's fields when the fake answers with an
//     auto-submitting form (response_mode=form_post);
//   - otherwise a GET of where the fake redirects, without the URL
//     fragment, which a browser never sends.
//
// An authorize request the fake refuses at once by redirecting (an
// invalid scope) comes back the same way. name prefixes errors ("stemstest").
func BrowseSignIn(ctx context.Context, name, authURL, username, password string, consent bool) (*http.Request, error) {
	fail := func(format string, args ...any) (*http.Request, error) {
		return nil, fmt.Errorf(name+": sign in: "+format, args...)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return fail("%w", err)
	}
	resp, body, err := send(browser, get)
	if err != nil {
		return fail("%w", err)
	}
	if cb, ok, err := redirected(ctx, resp); ok || err != nil {
		return cb, err
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		return fail("the authorize endpoint answered %s: %s", resp.Status, pageText(body))
	}
	form := findForm(doc, SignInFormID)
	if form == nil {
		return fail("the authorize endpoint answered %s without a sign-in form: %s", resp.Status, pageText(body))
	}
	fields := form.fields()
	fields.Set(SignInUsername, username)
	fields.Set(SignInPassword, password)
	fields.Set(SignInConsent, SignInDeny)
	if consent {
		fields.Set(SignInConsent, SignInAllow)
	}
	post, err := form.request(ctx, resp.Request.URL, fields)
	if err != nil {
		return fail("%w", err)
	}
	resp, body, err = send(browser, post)
	if err != nil {
		return fail("%w", err)
	}
	if cb, ok, err := redirected(ctx, resp); ok || err != nil {
		return cb, err
	}
	doc, err = html.Parse(bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		return fail("the sign-in answered %s: %s", resp.Status, pageText(body))
	}
	if findForm(doc, SignInFormID) != nil {
		return fail("the fake refused the sign-in: %s", text(findID(doc, SignInErrorID)))
	}
	// form_post: the page's only form posts the code to the redirect URI.
	back := findForm(doc, "")
	if back == nil {
		return fail("the sign-in answered a page without a form back to the app: %s", pageText(body))
	}
	return back.request(ctx, resp.Request.URL, back.fields())
}

func send(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, body, err
}

// redirected returns the callback request of a redirect, without its
// fragment.
func redirected(ctx context.Context, resp *http.Response) (*http.Request, bool, error) {
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return nil, false, nil
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, true, fmt.Errorf("bad Location: %w", err)
	}
	loc.Fragment, loc.RawFragment = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	return req, true, err
}

type htmlForm struct{ n *html.Node }

// findForm returns the form with id, or with id "" the first form.
func findForm(doc *html.Node, id string) *htmlForm {
	var found *html.Node
	walkHTML(doc, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "form" && (id == "" || attr(n, "id") == id) {
			found = n
			return false
		}
		return true
	})
	if found == nil {
		return nil
	}
	return &htmlForm{found}
}

// fields are the form's inputs as a browser would send them, without
// its buttons.
func (f *htmlForm) fields() url.Values {
	v := url.Values{}
	walkHTML(f.n, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			v.Add(attr(n, "name"), attr(n, "value"))
		}
		return true
	})
	return v
}

func (f *htmlForm) request(ctx context.Context, base *url.URL, fields url.Values) (*http.Request, error) {
	if m := attr(f.n, "method"); !strings.EqualFold(m, http.MethodPost) {
		return nil, fmt.Errorf("the page's form has method %q; want post", m)
	}
	action, err := base.Parse(attr(f.n, "action"))
	if err != nil {
		return nil, fmt.Errorf("the page's form action: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(fields.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

func findID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walkHTML(doc, func(n *html.Node) bool {
		if n.Type == html.ElementNode && attr(n, "id") == id {
			found = n
			return false
		}
		return true
	})
	return found
}

// walkHTML calls f on n and its descendants, depth first, until f
// returns false.
func walkHTML(n *html.Node, f func(*html.Node) bool) bool {
	if !f(n) {
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if !walkHTML(c, f) {
			return false
		}
	}
	return true
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text is the text of n, on one line.
func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	walkHTML(n, func(c *html.Node) bool {
		// The text of style, script and title is no part of what the page says.
		if c.Type == html.TextNode && (c.Parent == nil || (c.Parent.Data != "style" && c.Parent.Data != "script" && c.Parent.Data != "title")) {
			b.WriteString(c.Data + " ")
		}
		return true
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// pageText is what a page says, for an error message: its body's text,
// or its bytes if it is no HTML, cut short.
func pageText(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if doc, err := html.Parse(bytes.NewReader(body)); err == nil {
		if t := text(doc); t != "" {
			s = t
		}
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
