package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The sign-in tested the way a person meets it: `complykit login` against
// `complykit fake`, in headless Chromium (Debian's chromium package,
// which .ci/run installs), driven with chromedp: the test opens the URL
// the login hands its browser, fills the fake's sign-in page, presses
// the button, and Chromium follows the fake back to the login's loopback
// redirect (the form_post page's script included).
//
// The login's --browser command is this test binary (browserHelper),
// which forwards the URL to the test rather than starting a browser
// itself: the test owns the one Chromium it drives (chromedp starts it,
// talks to it over the DevTools protocol and kills it), and the login
// exercises its real browser hand-off (run a command with the URL) all
// the same. A Chromium the login started would outlive it and could be
// reached only through a debugging port found after the fact.

// requireChromiumEnv makes a missing Chromium fail the browser tests
// instead of skipping them; .ci/run sets it.
const requireChromiumEnv = "COMPLYKIT_REQUIRE_CHROMIUM"

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireChromiumEnv) != "" {
		t.Fatalf("no chromium on PATH, and %s is set: install it (apt-get install chromium)", requireChromiumEnv)
	}
	t.Skipf("no chromium on PATH (set %s=1 to fail instead)", requireChromiumEnv)
	return ""
}

// newChromium starts headless Chromium with a fresh profile, for this
// test only.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// This machine's network is closed: without these Chromium's own
		// connections (updates, sync, QUIC probes) are refused and slow it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	// The first Do starts the browser and binds it to ctx: no timeout
	// there, one on the actions after it.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return tctx
}

// signInWithChromium opens authURL in Chromium, first signs in with a
// wrong password (the page comes back with an error), then with the
// right one, and returns what the login's loopback page says.
func signInWithChromium(t *testing.T, ctx context.Context, authURL, username, password string) (title, message string) {
	t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(css("#username")),
		chromedp.Clear(css("#username")),
		chromedp.SendKeys(css("#username"), username),
		chromedp.SendKeys(css("#password"), "not-the-password"),
		chromedp.Click(css("#allow")),
		chromedp.WaitVisible(css("#error")),
	); err != nil {
		t.Fatalf("wrong password in chromium: %v", err)
	}
	errText, err := chromedp.Run(ctx, chromedp.Text(css("#error")))
	if err != nil || !strings.Contains(errText, "Wrong username or password") {
		t.Errorf("after a wrong password the page says %q (%v)", errText, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css("#allow")),
		// The login's own page, on the loopback redirect.
		chromedp.WaitVisible(css("#title")),
	); err != nil {
		t.Fatalf("sign-in in chromium: %v", err)
	}
	if title, err = chromedp.Run(ctx, chromedp.Text(css("#title"))); err != nil {
		t.Fatal(err)
	}
	if message, err = chromedp.Run(ctx, chromedp.Text(css("#message"))); err != nil {
		t.Fatal(err)
	}
	return title, message
}

// loggedRequest is an entry of a fake's request log, as its control API
// shows it.
type loggedRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body"`
	Status int    `json:"status"`
}

// requestLog reads a standalone fake's request log over its control API.
func requestLog(t *testing.T, controlURL string) []loggedRequest {
	t.Helper()
	resp, err := http.Get(controlURL + "requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Requests []loggedRequest `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Requests
}

func TestBrowserLoginStems(t *testing.T) {
	start := time.Now()
	ctx := newChromium(t)
	f := startFake(t, "stems")
	home := t.TempDir()
	fwd := newBrowserForward(t)
	env := map[string]string{"COMPLYKIT_STEMS_CLIENT_SECRET": f.info["client secret"]}
	p := startLogin(t, home, fwd, env, "stems", "--client-id", f.info["client id"],
		"--auth-url", f.info["authorize URL"], "--token-url", f.info["token URL"])
	title, message := signInWithChromium(t, ctx, fwd.next(t), f.info["username"], f.info["password"])
	if title != "Signed in" || !strings.Contains(message, "as "+f.info["username"]) {
		t.Errorf("the browser ended on %q: %q", title, message)
	}
	r := p.wait(t)
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to Stems Comply One as "+f.info["username"]+".") || !strings.Contains(r.stdout, "Tokens kept in ") {
		t.Fatalf("login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The CLI got tokens, and calls as the user.
	if tok := cli(t, home, env, "token", "stems", "--base-url", f.info["base URL"]); tok.code != 0 || !strings.Contains(tok.stdout, `"access_token": "stems-`) {
		t.Errorf("token: exit %d: %s%s", tok.code, tok.stdout, tok.stderr)
	}
	r = cli(t, home, env, "call", "stems", "list-hazards", "--base-url", f.info["base URL"], "--company", f.info["company"])
	if r.code != 0 || !strings.Contains(r.stdout, "Wet floor in the loading bay") {
		t.Fatalf("call stems list-hazards: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var grants []string
	for _, req := range requestLog(t, f.info["control URL"]) {
		if req.Path == "/auth/connect/token" {
			grants = append(grants, req.Body)
		}
	}
	if len(grants) != 1 || !strings.Contains(grants[0], "grant_type=authorization_code") || !strings.Contains(grants[0], "code_verifier=") {
		t.Errorf("token requests %v; want the code exchange with PKCE, no password grant", grants)
	}
	t.Logf("login in chromium, token and call: %s", time.Since(start).Round(time.Millisecond))
}

func TestBrowserLoginCloudCompli(t *testing.T) {
	start := time.Now()
	ctx := newChromium(t)
	f := startFake(t, "cloudcompli")
	home := t.TempDir()
	fwd := newBrowserForward(t)
	env := map[string]string{"COMPLYKIT_CLOUDCOMPLI_CLIENT_ID": f.info["client id"], "COMPLYKIT_CLOUDCOMPLI_CLIENT_SECRET": f.info["client secret"]}
	p := startLogin(t, home, fwd, env, "cloudcompli", "--instance", f.info["instance"])
	title, message := signInWithChromium(t, ctx, fwd.next(t), f.info["username"], f.info["password"])
	if title != "Signed in" || !strings.Contains(message, "as "+f.info["username"]) {
		t.Errorf("the browser ended on %q: %q", title, message)
	}
	r := p.wait(t)
	if r.code != 0 || !strings.Contains(r.stdout, "Signed in to CloudCompli as "+f.info["username"]+".") {
		t.Fatalf("login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// As the user: get-user answers for them, not for the API client.
	r = cli(t, home, env, "call", "cloudcompli", "get-user")
	if r.code != 0 || !strings.Contains(r.stdout, `"email": "`+f.info["username"]+`"`) {
		t.Fatalf("call cloudcompli get-user: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, home, env, "call", "cloudcompli", "list-projects", "-o", "text")
	if r.code != 0 {
		t.Fatalf("call cloudcompli list-projects: exit %d: %s", r.code, r.stderr)
	}
	for _, req := range requestLog(t, f.info["control URL"]) {
		if req.Path == "/oauth2/token" && !strings.Contains(req.Body, "grant_type=authorization_code") {
			t.Errorf("a token request other than the code exchange: %s", req.Body)
		}
	}
	t.Logf("login in chromium and calls: %s", time.Since(start).Round(time.Millisecond))
}
