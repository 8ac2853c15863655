package stemstest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// SignIn does with authURL (from an authorization code flow's AuthCodeURL
// or NewAuthCodeURL) what the user's browser does against this fake: it
// follows the authorize request, lets the fake sign its user in, and
// returns the request that your redirect URI then receives, ready for
// auth.AuthCodeFlow.ReadCallback or your callback handler's ServeHTTP:
//
//   - with response_mode=form_post (stemsapi's default), a POST of the
//     code and state as a form;
//   - with response_mode=query, a GET with them in the query;
//   - without a response mode, a GET of the redirect URI without its
//     fragment, which is what a server sees of a fragment-encoded answer:
//     no code at all.
//
// The request is not sent anywhere. SignIn fails if the fake refuses the
// authorize request (an error page).
func (s *Server) SignIn(ctx context.Context, authURL string) (*http.Request, error) {
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("stemstest: sign in: %w", err)
	}
	resp, err := browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stemstest: sign in: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("stemstest: sign in: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusFound:
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return nil, fmt.Errorf("stemstest: sign in: bad Location: %w", err)
		}
		loc.Fragment, loc.RawFragment = "", "" // a browser never sends it
		return http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	case resp.StatusCode == http.StatusOK && formAction.Match(body):
		action := html.UnescapeString(string(formAction.FindSubmatch(body)[1]))
		form := url.Values{}
		for _, m := range formInput.FindAllSubmatch(body, -1) {
			form.Add(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
		}
		post, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, fmt.Errorf("stemstest: sign in: %w", err)
		}
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return post, nil
	}
	return nil, errors.New("stemstest: sign in: the fake did not send the browser back (status " + resp.Status + "): " + strings.Join(strings.Fields(string(body)), " "))
}

// The fake's own form_post page (formPost): its action and hidden inputs.
var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)
