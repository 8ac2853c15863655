package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
)

// The login tests run `complykit login` as a subprocess whose --browser
// command is this test binary: started with browserHelperEnv set, it
// forwards the URL it is given to the test that started the login (a
// POST to browserHelperEnv's address) and exits, as a browser launcher
// does. The test then plays the browser: the fakes' SignIn here, headless
// Chromium in browser_test.go.
const browserHelperEnv = "COMPLYKIT_TEST_BROWSER_FORWARD"

func browserHelper() int {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "browser helper: no URL")
		return 2
	}
	resp, err := http.Post(os.Getenv(browserHelperEnv), "text/plain", strings.NewReader(os.Args[len(os.Args)-1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser helper:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// cleanEnv is the environment of the CLI in the tests: PATH, and home,
// cache and config directories of the test's own. Tokens go to files
// (COMPLYKIT_TOKEN_STORE=file), never to the keychain of the machine
// running the tests.
func cleanEnv(home string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), tokenStoreEnv + "=file"}
}

// browserForward is where the helper sends the URLs it is asked to open.
type browserForward struct {
	addr string
	urls chan string
}

func newBrowserForward(t *testing.T) *browserForward {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &browserForward{addr: "http://" + l.Addr().String() + "/open", urls: make(chan string, 4)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.urls <- string(b)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}

// command is the --browser command that forwards to f.
func (f *browserForward) command() string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%q", exe)
}

// next waits for the URL the login opens.
func (f *browserForward) next(t *testing.T) string {
	t.Helper()
	select {
	case u := <-f.urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the login opened no browser")
		return ""
	}
}

// loginProc is `complykit login` running.
type loginProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

// startLogin starts `complykit login args...` with home's directories and
// the browser command that forwards to f.
func startLogin(t *testing.T, home string, f *browserForward, env map[string]string, args ...string) *loginProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"login"}, args...)...)
	cmd.Env = append(cleanEnv(home), browserHelperEnv+"="+f.addr, "COMPLYKIT_STEMS_BROWSER="+f.command(), "COMPLYKIT_CLOUDCOMPLI_BROWSER="+f.command())
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &loginProc{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the login to end and returns its result.
func (p *loginProc) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("login did not end; stderr:\n%s", p.stderr.String())
	}
	return result{p.code, p.stdout.String(), p.stderr.String()}
}

// deliver sends the callback request (from a fake's SignIn) to the
// login's loopback redirect, as the browser would, and returns the page.
func deliver(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func stemsLoginArgs(srv *stemstest.Server, extra ...string) []string {
	return append([]string{"stems", "--client-id", srv.ClientID, "--auth-url", srv.AuthorizeURL(), "--token-url", srv.TokenURL()}, extra...)
}

// Stems: login with a confidential client in both response modes; token
// and call act as the user and refresh; logout forgets.
func TestLoginStems(t *testing.T) {
	for _, mode := range []string{"form_post", "query"} {
		t.Run(mode, func(t *testing.T) {
			srv := stemstest.NewServer(t, stemstest.WithUser("ann@example.com", "ann-pw", stemstest.DefaultCompany), stemstest.WithAuthorizeUser("ann@example.com"))
			home := t.TempDir()
			f := newBrowserForward(t)
			env := map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": srv.ClientSecret}
			p := startLogin(t, home, f, env, stemsLoginArgs(srv, "--response-mode", mode)...)
			authURL := f.next(t)
			u, _ := url.Parse(authURL)
			q := u.Query()
			if !strings.HasPrefix(authURL, srv.AuthorizeURL()+"?") || q.Get("response_mode") != mode || q.Get("code_challenge_method") != "S256" ||
				q.Get("state") == "" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") || !strings.HasSuffix(q.Get("redirect_uri"), "/callback") {
				t.Fatalf("the browser was opened on %s", authURL)
			}
			callback, err := srv.SignIn(t.Context(), authURL)
			if err != nil {
				t.Fatal(err)
			}
			wantMethod := map[string]string{"form_post": "POST", "query": "GET"}[mode]
			if callback.Method != wantMethod {
				t.Errorf("callback %s; want %s", callback.Method, wantMethod)
			}
			status, page := deliver(t, callback)
			if status != 200 || !strings.Contains(page, "Signed in to Stems Comply One as ann@example.com") || !strings.Contains(page, "close this window") {
				t.Errorf("the browser got %d %s", status, page)
			}
			r := p.wait(t)
			if r.code != 0 || !strings.Contains(r.stdout, "Signed in to Stems Comply One as ann@example.com.") ||
				!strings.Contains(r.stdout, "Tokens kept in "+filepath.Join(home, "cache", "complykit", "tokens")+" (files only you can read, mode 0600; COMPLYKIT_TOKEN_STORE=file)") {
				t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			assertNoSecrets(t, r, srv.ClientSecret)
			if got := srv.Requests(); got[len(got)-1].Path != "/auth/connect/token" || !strings.Contains(string(got[len(got)-1].Body), "grant_type=authorization_code") ||
				!strings.Contains(string(got[len(got)-1].Body), "code_verifier=") {
				t.Errorf("the last request was %s %s %s; want the code exchange with the PKCE verifier", got[len(got)-1].Method, got[len(got)-1].Path, got[len(got)-1].Body)
			}
			tokFile := filepath.Join(home, "cache", "complykit", "tokens", "login-stems.token.json")
			if fi, err := os.Stat(tokFile); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("token file: %v %v; want mode 0600", fi, err)
			}

			// call and token act as ann, without a password.
			callArgs := []string{"call", "stems", "list-hazards", "--base-url", srv.URL, "--company", stemstest.DefaultCompany}
			before := srv.TokenRequests()
			r = cli(t, home, env, callArgs...)
			if r.code != 0 || !strings.Contains(r.stdout, "Wet floor in the loading bay") {
				t.Fatalf("call as the signed-in user: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			if n := srv.TokenRequests() - before; n != 0 {
				t.Errorf("%d token requests; want the login's token used as it is", n)
			}
			last := srv.Requests()[len(srv.Requests())-1]
			if tok := strings.TrimPrefix(last.Header.Get("Authorization"), "Bearer "); !ownedBy(srv, tok, "ann@example.com") {
				t.Errorf("list-hazards went with a token of someone else")
			}
			// Half an hour on (on the fake's clock, so the CLI learns it
			// from the 401): the token is refreshed, and the rotated
			// refresh token is kept for the next run, which refreshes
			// with it.
			for i := 0; i < 2; i++ {
				srv.Clock().Advance(31 * time.Minute)
				r = cli(t, home, env, callArgs...)
				if r.code != 0 {
					t.Fatalf("call after expiry %d: exit %d: %s", i+1, r.code, r.stderr)
				}
			}
			r = cli(t, home, env, "token", "stems", "--base-url", srv.URL)
			if r.code != 0 || !strings.Contains(r.stdout, `"access_token"`) || !ownedBy(srv, tokenOf(t, r.stdout), "ann@example.com") {
				t.Fatalf("token: exit %d: %s%s; want ann's current token", r.code, r.stdout, r.stderr)
			}
			if n := srv.ReusedRefreshTokens(); n != 0 {
				t.Errorf("%d spent refresh tokens sent again; want the rotated one kept between runs", n)
			}
			grants := 0
			for _, req := range srv.Requests() {
				if strings.Contains(string(req.Body), "grant_type=refresh_token") {
					grants++
				}
				if strings.Contains(string(req.Body), "grant_type=password") {
					t.Error("a password grant was sent")
				}
			}
			if grants != 2 {
				t.Errorf("%d refresh grants; want 2", grants)
			}

			// Without the client secret the tokens cannot be renewed.
			r = cli(t, home, nil, callArgs...)
			if r.code != 2 || !strings.Contains(r.stderr, "confidential client: give its --client-secret") {
				t.Errorf("without the secret: exit %d: %s", r.code, r.stderr)
			}
			// Another client is not the signed-in one.
			r = cli(t, home, env, append(callArgs, "--client-id", "another")...)
			if r.code != 2 || !strings.Contains(r.stderr, "signed in as ann@example.com with client "+srv.ClientID) {
				t.Errorf("another --client-id: exit %d: %s", r.code, r.stderr)
			}

			// logout forgets the user and removes the tokens.
			r = cli(t, home, nil, "logout", "stems")
			if r.code != 0 || !strings.Contains(r.stdout, "Signed out of Stems Comply One (ann@example.com); removed the tokens from") {
				t.Errorf("logout: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			if _, err := os.Stat(tokFile); !os.IsNotExist(err) {
				t.Errorf("after logout the token file is still there: %v", err)
			}
			r = cli(t, home, env, append(callArgs, "--client-id", srv.ClientID)...)
			if r.code != 2 || !strings.Contains(r.stderr, "--username and --password are required") || !strings.Contains(r.stderr, "complykit login stems") {
				t.Errorf("call after logout: exit %d: %s", r.code, r.stderr)
			}
			r = cli(t, home, nil, "logout", "stems")
			if r.code != 0 || !strings.Contains(r.stdout, "Not signed in to Stems Comply One") {
				t.Errorf("second logout: exit %d: %s", r.code, r.stdout)
			}
		})
	}
}

// tokenOf reads the access token of `complykit token`'s output.
func tokenOf(t *testing.T, stdout string) string {
	t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("token output %q: %v", stdout, err)
	}
	return out.AccessToken
}

// ownedBy reports whether the fake issued tok to username.
func ownedBy(srv *stemstest.Server, tok, username string) bool {
	g, err := srv.Issuer.Authenticate(tok)
	return err == nil && g.Subject == username
}

// The loopback redirect answers only the login's own callback: another
// path, another state and a refusal are told apart; the user's refusal
// ends the login with exit 3.
func TestLoginRefusals(t *testing.T) {
	srv := stemstest.NewServer(t)
	home := t.TempDir()
	f := newBrowserForward(t)
	p := startLogin(t, home, f, map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": srv.ClientSecret}, stemsLoginArgs(srv, "--response-mode", "query")...)
	authURL := f.next(t)
	u, _ := url.Parse(authURL)
	redirect := u.Query().Get("redirect_uri")
	base := strings.TrimSuffix(redirect, "/callback")

	for _, tc := range []struct {
		method, url string
		status      int
	}{
		{"GET", base + "/", 404},
		{"GET", base + "/favicon.ico", 404},
		{"PUT", redirect, 405},
		{"GET", redirect + "?code=forged&state=not-the-one", 400},
		{"GET", redirect, 400},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, nil)
		if status, page := deliver(t, req); status != tc.status {
			t.Errorf("%s %s: %d %s; want %d", tc.method, tc.url, status, page, tc.status)
		}
	}
	// A rebinding page reaching the port under another name.
	req, _ := http.NewRequest("GET", redirect+"?code=x&state="+u.Query().Get("state"), nil)
	req.Host = "evil.example"
	if status, _ := deliver(t, req); status != 400 {
		t.Errorf("another Host: %d; want 400", status)
	}
	// The forged callback did not end the login: the user's Deny does.
	callback, err := srv.Deny(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	status, page := deliver(t, callback)
	if status != 403 || !strings.Contains(page, "access_denied") {
		t.Errorf("deny: %d %s", status, page)
	}
	r := p.wait(t)
	if r.code != 3 || !strings.Contains(r.stderr, "access_denied") || !strings.Contains(r.stderr, "ignored a request") {
		t.Errorf("denied login: exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("a refused login printed %q", r.stdout)
	}
	if _, err := readLoginIn(home, "stems"); err == nil {
		t.Error("a refused login left a sign-in record")
	}
}

// readLoginIn reads the login record of provider under home.
func readLoginIn(home, provider string) (*loginRecord, error) {
	b, err := os.ReadFile(filepath.Join(home, "config", "complykit", "login-"+provider+".json"))
	if err != nil {
		return nil, err
	}
	var rec loginRecord
	return &rec, json.Unmarshal(b, &rec)
}

// No browser: the URL is printed, and the login times out when nobody
// signs in; a --browser command that fails prints the URL too.
func TestLoginWithoutBrowser(t *testing.T) {
	srv := stemstest.NewServer(t)
	home := t.TempDir()
	args := stemsLoginArgs(srv, "--timeout", "2s", "--browser", "no-such-browser-command")
	r := cli(t, home, map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": srv.ClientSecret}, append([]string{"login"}, args...)...)
	if r.code != 5 || !strings.Contains(r.stderr, "could not start the browser command no-such-browser-command") ||
		!strings.Contains(r.stderr, "open this URL in your browser to sign in:\n  "+srv.AuthorizeURL()+"?") ||
		!strings.Contains(r.stderr, "no sign-in within 2s") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	r = cli(t, home, map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": srv.ClientSecret}, append([]string{"login"}, stemsLoginArgs(srv, "--timeout", "2s", "--browser", "false")...)...)
	if r.code != 5 || !strings.Contains(r.stderr, "the browser command false failed (exit status 1)") || !strings.Contains(r.stderr, srv.AuthorizeURL()+"?") {
		t.Errorf("--browser false: exit %d\n%s", r.code, r.stderr)
	}
	// Usage errors.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "stems"}, "missing --client-id"},
		{[]string{"login", "stems", "--client-id", "c", "--response-mode", "fragment"}, "--response-mode must be form_post or query"},
		{[]string{"login", "stems", "--client-id", "c", "--port", "70000"}, "--port 70000: not a port number"},
		{[]string{"login", "cloudcompli", "--client-id", "c", "--client-secret", "s"}, "--instance is required"},
		{[]string{"login", "stenn"}, `unknown provider "stenn"`},
		{[]string{"logout", "firstaml"}, `unknown provider "firstaml"`},
	} {
		if r := cli(t, home, nil, tc.args...); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %s; want a usage error with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// A fixed --port is the one in the redirect URI.
func TestLoginFixedPort(t *testing.T) {
	srv := stemstest.NewServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	f := newBrowserForward(t)
	p := startLogin(t, t.TempDir(), f, map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": srv.ClientSecret}, stemsLoginArgs(srv, "--port", port)...)
	u, _ := url.Parse(f.next(t))
	if got := u.Query().Get("redirect_uri"); got != "http://127.0.0.1:"+port+"/callback" {
		t.Errorf("redirect_uri = %s; want port %s", got, port)
	}
	callback, err := srv.SignIn(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, callback)
	if r := p.wait(t); r.code != 0 {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// CloudCompli: login in both observed forms; call acts as the user, with
// the instance of the sign-in; logout returns to client credentials.
func TestLoginCloudCompli(t *testing.T) {
	for _, quirks := range []bool{false, true} {
		t.Run(fmt.Sprintf("documented-quirks=%v", quirks), func(t *testing.T) {
			srv := cloudcomplitest.NewServer(t)
			home := t.TempDir()
			f := newBrowserForward(t)
			env := map[string]string{"COMPLYKIT_CLOUDCOMPLI_CLIENT_ID": srv.ClientID, "COMPLYKIT_CLOUDCOMPLI_CLIENT_SECRET": srv.ClientSecret}
			args := []string{"cloudcompli", "--instance", srv.URL}
			if quirks {
				args = append(args, "--documented-quirks")
			}
			p := startLogin(t, home, f, env, args...)
			authURL := f.next(t)
			if got := strings.Contains(authURL, "client_secret="); got != quirks {
				t.Errorf("client_secret on the authorize URL: %v; want %v", got, quirks)
			}
			callback, err := srv.SignIn(t.Context(), authURL)
			if err != nil {
				t.Fatal(err)
			}
			status, page := deliver(t, callback)
			if status != 200 || !strings.Contains(page, "as ivy.inspector@example.com") {
				t.Errorf("browser got %d %s", status, page)
			}
			r := p.wait(t)
			if r.code != 0 || !strings.Contains(r.stdout, "Signed in to CloudCompli as ivy.inspector@example.com.") {
				t.Fatalf("login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			assertNoSecrets(t, r, srv.ClientSecret)
			// No --instance: the sign-in's; the user endpoint answers
			// for the user, not the API client.
			r = cli(t, home, env, "call", "cloudcompli", "get-user")
			if r.code != 0 || !strings.Contains(r.stdout, `"email": "ivy.inspector@example.com"`) {
				t.Fatalf("get-user as the signed-in user: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "api_client") {
				t.Errorf("get-user answered for the API client: %s", r.stdout)
			}
			if n := srv.TokenRequests(); n != 1 {
				t.Errorf("%d token requests; want the exchange only", n)
			}
			// Another instance: the sign-in does not apply there.
			other := cloudcomplitest.NewServer(t)
			r = cli(t, home, env, "call", "cloudcompli", "get-user", "--instance", other.URL)
			if r.code != 0 || !strings.Contains(r.stdout, "api_client") {
				t.Errorf("another instance: exit %d: %s%s; want client credentials", r.code, r.stdout, r.stderr)
			}
			r = cli(t, home, nil, "logout", "cloudcompli")
			if r.code != 0 || !strings.Contains(r.stdout, "Signed out of CloudCompli (ivy.inspector@example.com)") {
				t.Errorf("logout: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			r = cli(t, home, env, "call", "cloudcompli", "get-user", "--instance", srv.URL)
			if r.code != 0 || !strings.Contains(r.stdout, "api_client") {
				t.Errorf("after logout: exit %d: %s%s; want client credentials", r.code, r.stdout, r.stderr)
			}
		})
	}
}
