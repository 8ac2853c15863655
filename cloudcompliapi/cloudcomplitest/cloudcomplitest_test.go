package cloudcomplitest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/gen/cloudcompli"
)

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends req without following redirects, as a test of the fake's
// answers wants, and returns the status, headers and body.
func do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func get(t *testing.T, rawURL, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func postForm(t *testing.T, rawURL string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(rawURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestCustomDataAndNoUIToken(t *testing.T) {
	data := cloudcomplitest.SampleData()
	data.Projects = []cloudcompli.Project{{Id: "p1", ClassificationId: "c1"}}
	srv := cloudcomplitest.NewServer(t, cloudcomplitest.WithData(data), cloudcomplitest.WithStaticToken(""),
		cloudcomplitest.WithClient("my-client", "my-secret"))
	data.Projects[0].Id = "changed after start"

	if status, _, _ := get(t, srv.URL+"/api/v2/projects", cloudcomplitest.DefaultStaticToken); status != 401 {
		t.Errorf("default UI token: status %d; want 401 when none is registered", status)
	}
	status, _, body := get(t, srv.URL+"/api/v2/projects", srv.GenerateToken())
	if status != 200 || strings.TrimSpace(body) != `[{"classification_id":"c1","id":"p1"}]` {
		t.Errorf("projects: %d %s; want the custom data as given at start", status, body)
	}
	status, tok := postForm(t, srv.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"my-client"}, "client_secret": {"my-secret"}})
	if status != 200 || tok["expires_in"] != float64(31536000) || tok["token_type"] != "Bearer" {
		t.Errorf("token: %d %v; want a one-year bearer token for the registered client", status, tok)
	}
}

var requestID = regexp.MustCompile(`<input type="hidden" name="request" value="([^"]+)">`)

// submit answers the sign-in page as a person would.
func submit(t *testing.T, srv *cloudcomplitest.Server, page, username, password, button string) (int, http.Header, string) {
	t.Helper()
	m := requestID.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form in %s", page)
	}
	form := url.Values{"request": {m[1]}, "username": {username}, "password": {password}, "consent": {button}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/__complykit/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func TestAuthorizeSignInPage(t *testing.T) {
	clock := cloudcomplitest.NewClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	srv := cloudcomplitest.NewServer(t, cloudcomplitest.WithClock(clock))
	q := url.Values{
		"response_type": {"code"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret},
		"redirect_uri": {"https://app.example/cb?tenant=7"},
	}
	status, h, page := get(t, srv.AuthorizeURL()+"?"+q.Encode(), "")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("Location") != "" {
		t.Fatalf("authorize: %d %q %q; want the sign-in page", status, h.Get("Content-Type"), h.Get("Location"))
	}
	for _, want := range []string{`action="/__complykit/signin"`, `name="username"`, `type="password"`, `value="allow"`, srv.ClientID} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, srv.ClientSecret) {
		t.Error("the sign-in page shows the client secret")
	}
	// A wrong password: the page again, with an error.
	status, h, again := submit(t, srv, page, srv.Username(), "wrong", "allow")
	if status != 200 || h.Get("Location") != "" || !strings.Contains(again, "Wrong username or password") {
		t.Errorf("wrong password: %d %q %s; want the page again with an error", status, h.Get("Location"), again)
	}
	status, h, _ = submit(t, srv, page, srv.Username(), cloudcomplitest.DefaultPassword, "allow")
	loc, err := url.Parse(h.Get("Location"))
	if status != http.StatusFound || err != nil {
		t.Fatalf("sign-in: %d %q", status, h.Get("Location"))
	}
	if loc.Host != "app.example" || loc.Query().Get("tenant") != "7" || loc.Query().Get("code") == "" || loc.Query().Has("state") {
		t.Errorf("Location = %s; want redirect_uri with its query kept, a code and no state", loc)
	}

	// Codes expire after ten minutes on the fake's clock.
	clock.Advance(11 * time.Minute)
	status, body := postForm(t, srv.TokenURL(), url.Values{
		"grant_type": {"authorization_code"}, "response_type": {"code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"https://app.example/cb?tenant=7"}, "client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret},
	})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("expired code: %d %v; want 400 invalid_grant", status, body)
	}
	// So do sign-in pages.
	_, _, page = get(t, srv.AuthorizeURL()+"?"+q.Encode(), "")
	clock.Advance(11 * time.Minute)
	if status, _, body := submit(t, srv, page, srv.Username(), cloudcomplitest.DefaultPassword, "allow"); status != 400 || !strings.Contains(body, "expired") {
		t.Errorf("a sign-in page left open 11 minutes: %d %s; want 400", status, body)
	}

	// Deny: access_denied, with the state.
	q.Set("state", "st")
	_, _, page = get(t, srv.AuthorizeURL()+"?"+q.Encode(), "")
	status, h, _ = submit(t, srv, page, "", "", "deny")
	if loc, _ := url.Parse(h.Get("Location")); status != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st" {
		t.Errorf("deny: %d %s; want error=access_denied and the state", status, loc)
	}

	// Both observed forms of the authorize URL work: with client_secret
	// (the help article's) and without (the vendor's PHP client's); a
	// wrong secret, when sent, is refused.
	q.Set("client_secret", "not-the-secret")
	if status, _, body := get(t, srv.AuthorizeURL()+"?"+q.Encode(), ""); status != 400 || !strings.Contains(body, "client_secret") {
		t.Errorf("wrong client_secret: %d %s; want a 400 naming it", status, body)
	}
	q.Del("client_secret")
	req, err := srv.SignIn(t.Context(), srv.AuthorizeURL()+"?"+q.Encode())
	if err != nil || req.Method != http.MethodGet || req.URL.Query().Get("code") == "" || req.URL.Query().Get("state") != "st" {
		t.Errorf("SignIn without client_secret: %v, %v; want a callback with a code and the state", req, err)
	}
	q.Set("client_id", "nobody")
	if _, err := srv.SignIn(t.Context(), srv.AuthorizeURL()+"?"+q.Encode()); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("SignIn for an unknown client: %v; want an error with the 400", err)
	}
}

func TestEntriesAreCopies(t *testing.T) {
	srv := cloudcomplitest.NewServer(t)
	path := srv.URL + "/api/v2/projects/" + cloudcomplitest.SampleProjectID + "/forms/" + cloudcomplitest.SampleFormName
	req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(`{"notes":"ok"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.StaticToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	got := srv.Entries()
	got[0].Fields["notes"] = "tampered"
	if again := srv.Entries(); again[0].Fields["notes"] != "ok" {
		t.Errorf("stored entry changed through a copy: %v", again[0].Fields)
	}
}

func TestStartStandalone(t *testing.T) {
	srv, err := cloudcomplitest.Start(cloudcomplitest.WithAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if status, _, body := get(t, srv.URL+"/api/v2/company", srv.StaticToken); status != 200 || !strings.Contains(body, "Example Stormwater Co.") {
		t.Errorf("company: %d %s", status, body)
	}
}
