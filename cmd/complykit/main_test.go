package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// The tests run the built binary, as a user would.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(browserHelperEnv) != "" {
		// This test binary is the --browser command of a login test.
		os.Exit(browserHelper())
	}
	// In-process commands never touch the keychain of the machine
	// running the tests; the keychain tests install go-keyring's mock.
	keyring.MockInitWithError(errors.New("no OS keychain in the tests"))
	dir, err := os.MkdirTemp("", "complykit-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "complykit")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the CLI: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the binary with a clean environment plus env, and a private
// cache directory.
func cli(t *testing.T, cacheDir string, env map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv(cacheDir)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// fakeProc is `complykit fake <provider>` running in a subprocess.
type fakeProc struct {
	cmd  *exec.Cmd
	info map[string]string
	// stdout is the banner, every line; stderr the lines it writes there
	// (warnings, --verbose).
	stdout []string
	stderr chan string
}

func startFake(t *testing.T, provider string) *fakeProc {
	t.Helper()
	return startFakeWith(t, provider, nil, "--addr", "127.0.0.1:0")
}

// startFakeWith starts `complykit fake <provider> args...` with env added
// to a clean environment and waits for its banner.
func startFakeWith(t *testing.T, provider string, env map[string]string, args ...string) *fakeProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"fake", provider}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fakeProc{cmd: cmd, info: map[string]string{}, stderr: make(chan string, 1000)}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case f.stderr <- sc.Text():
			default: // nobody reads them: drop
			}
		}
	}()
	sc := bufio.NewScanner(stdout)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	inSamples := false // the samples table's lines are no key: value
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("fake %s exited early; saw %v", provider, f.stdout)
			}
			f.stdout = append(f.stdout, line)
			if strings.HasSuffix(line, ": ready, serving until interrupted") {
				// The banner is over.
				go func() {
					for range lines {
					}
				}()
				return f
			}
			if k, v, found := strings.Cut(strings.TrimSpace(line), ":"); found && strings.HasPrefix(line, "  ") && !inSamples {
				f.info[k] = strings.TrimSpace(v)
			}
			if strings.HasPrefix(line, "  samples") {
				inSamples = true
			}
		case <-deadline:
			t.Fatalf("fake %s did not print its banner; saw %v", provider, f.stdout)
		}
	}
}

// stderrLine waits for a line of the fake's stderr that contains want.
func (f *fakeProc) stderrLine(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line := <-f.stderr:
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("the fake wrote no line with %q to stderr", want)
		}
	}
}

func assertNoSecrets(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
			t.Errorf("output carries the secret %q:\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
}

func TestDemo(t *testing.T) {
	r := cli(t, t.TempDir(), nil, "demo")
	if r.code != 0 {
		t.Fatalf("demo exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, ", 0 failed") || strings.Contains(r.stdout, "FAIL") {
		t.Errorf("demo transcript:\n%s", r.stdout)
	}
	for _, want := range []string{"Stems", "Stenn", "CloudCompli", "First AML", "refresh ahead", "refresh-token rotation",
		"401 recovered", "429 retried", "validation error", "webhook verified"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
}

func TestUsageAndHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage:"},
		{[]string{"help"}, 0, "COMPLYKIT_<PROVIDER>_<FLAG>"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"token"}, 2, "missing provider"},
		{[]string{"token", "nope"}, 2, `unknown provider "nope"`},
		{[]string{"token", "stenn", "--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{[]string{"token", "stenn"}, 2, "missing --client-id and --client-secret"},
		{[]string{"token", "stenn", "--help"}, 0, "COMPLYKIT_STENN_CLIENT_SECRET"},
		{[]string{"token", "stenn", "--client-id", "a", "--client-secret", "b", "--output", "xml"}, 2, "--output must be json or text"},
		{[]string{"token", "stenn", "--client-id", "a", "--client-secret", "b", "--base-url", "http://api.example.com"}, 2, "https"},
		{[]string{"token", "stems", "--client-id", "a", "--client-secret", "b", "--username", "u", "--password", "p"}, 2, "--base-url is required"},
		{[]string{"fake", "stenn", "--addr", "127.0.0.1:http"}, 2, `"http" is not a port number`},
	} {
		r := cli(t, t.TempDir(), nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("complykit %v: exit %d, output %q; want exit %d mentioning %q", tc.args, r.code, r.stdout+r.stderr, tc.code, tc.want)
		}
		if r.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 && !strings.Contains(r.stderr, "Usage") {
			t.Errorf("complykit %v: error is not one line: %q", tc.args, r.stderr)
		}
	}
}

func TestStennThroughStandaloneFake(t *testing.T) {
	f := startFake(t, "stenn")
	cache := t.TempDir()
	env := map[string]string{
		"COMPLYKIT_STENN_CLIENT_ID":     f.info["client id"],
		"COMPLYKIT_STENN_CLIENT_SECRET": f.info["client secret"],
		"COMPLYKIT_STENN_BASE_URL":      f.info["base URL"],
	}
	secret := f.info["client secret"]

	r := cli(t, cache, env, "token", "stenn")
	if r.code != 0 {
		t.Fatalf("token: exit %d: %s", r.code, r.stderr)
	}
	var tok map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil {
		t.Fatalf("token output %q: %v", r.stdout, err)
	}
	for k := range tok {
		if k != "access_token" && k != "token_type" && k != "expiry" && k != "scope" {
			t.Errorf("token output has %q", k)
		}
	}
	if tok["access_token"] == "" || tok["token_type"] != "Bearer" {
		t.Errorf("token = %v", tok)
	}
	if _, err := time.Parse(time.RFC3339, tok["expiry"]); err != nil {
		t.Errorf("expiry %q is not RFC 3339", tok["expiry"])
	}
	assertNoSecrets(t, r, secret)

	// The token is cached between runs (0600, keyed without secrets) ...
	again := cli(t, cache, env, "token", "stenn")
	if !strings.Contains(again.stdout, tok["access_token"]) {
		t.Errorf("second run fetched a new token; want the cached one")
	}
	files, _ := filepath.Glob(filepath.Join(cache, "cache", "complykit", "tokens", "*"))
	if len(files) != 1 {
		t.Fatalf("cache files = %v", files)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 || strings.Contains(files[0], secret) || strings.Contains(files[0], f.info["client id"]) {
		t.Errorf("cache file %s mode %v", files[0], fi.Mode().Perm())
	}
	// ... unless --no-cache.
	fresh := cli(t, cache, env, "token", "stenn", "--no-cache")
	if fresh.code != 0 || strings.Contains(fresh.stdout, tok["access_token"]) {
		t.Errorf("--no-cache reused the cached token: %s", fresh.stdout)
	}

	text := cli(t, cache, env, "token", "stenn", "--output", "text")
	if text.code != 0 || !strings.Contains(text.stdout, "access_token: ") || !strings.Contains(text.stdout, "token_type: Bearer") {
		t.Errorf("--output text: %q", text.stdout)
	}

	call := cli(t, cache, env, "call", "stenn", "list-companies")
	if call.code != 0 {
		t.Fatalf("call: exit %d: %s", call.code, call.stderr)
	}
	var list struct {
		Data []struct{ Name string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(call.stdout), &list); err != nil || len(list.Data) != 2 {
		t.Errorf("call output %q: %v", call.stdout, err)
	}

	// Exit codes and one-line errors without secrets.
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"unknown operation", nil, []string{"call", "stenn", "create-invoice"}, 2},
		{"unknown param", nil, []string{"call", "stenn", "list-companies", "--param", "page=2"}, 2},
		{"refused credentials", map[string]string{"COMPLYKIT_STENN_CLIENT_SECRET": "wrong-secret-123"}, []string{"token", "stenn", "--no-cache"}, 3},
		{"network", map[string]string{"COMPLYKIT_STENN_BASE_URL": "http://127.0.0.1:1"}, []string{"token", "stenn", "--no-cache", "--timeout", "2s"}, 5},
	} {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range tc.env {
			e[k] = v
		}
		r := cli(t, t.TempDir(), e, tc.args...)
		if r.code != tc.code {
			t.Errorf("%s: exit %d; want %d (%s)", tc.name, r.code, tc.code, r.stderr)
		}
		if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); !strings.HasPrefix(lines[0], "complykit: ") {
			t.Errorf("%s: stderr %q", tc.name, r.stderr)
		}
		assertNoSecrets(t, r, secret, "wrong-secret-123")
	}

	// A flag on the command line wins over the environment.
	r = cli(t, t.TempDir(), env, "token", "stenn", "--client-secret", "flag-secret-456", "--no-cache")
	if r.code != 3 {
		t.Errorf("flag over env: exit %d; want 3 (the flag's wrong secret was used)", r.code)
	}
	assertNoSecrets(t, r, "flag-secret-456")
}

func TestStemsThroughStandaloneFake(t *testing.T) {
	f := startFake(t, "stems")
	env := map[string]string{
		"COMPLYKIT_STEMS_CLIENT_ID":     f.info["client id"],
		"COMPLYKIT_STEMS_CLIENT_SECRET": f.info["client secret"],
		"COMPLYKIT_STEMS_BASE_URL":      f.info["base URL"],
		"COMPLYKIT_STEMS_TOKEN_URL":     f.info["token URL"],
		"COMPLYKIT_STEMS_USERNAME":      f.info["username"],
		"COMPLYKIT_STEMS_PASSWORD":      f.info["password"],
		"COMPLYKIT_STEMS_COMPANY":       f.info["company"],
	}
	secrets := []string{f.info["client secret"], f.info["password"]}
	r := cli(t, t.TempDir(), env, "token", "stems", "--no-cache")
	if r.code != 0 {
		t.Fatalf("token: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "refresh") {
		t.Errorf("token output mentions a refresh token: %s", r.stdout)
	}
	assertNoSecrets(t, r, secrets...)
	var tok struct{ Scope string }
	json.Unmarshal([]byte(r.stdout), &tok)

	r = cli(t, t.TempDir(), env, "call", "stems", "list-hazards", "--no-cache")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "[") {
		t.Errorf("call list-hazards: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, t.TempDir(), env, "call", "stems", "list-event-forms", "--no-cache")
	if r.code != 2 || !strings.Contains(r.stderr, "--param id=") {
		t.Errorf("missing path param: exit %d: %s", r.code, r.stderr)
	}
	r = cli(t, t.TempDir(), env, "call", "stems", "list-hazards", "--no-cache", "--company", "999")
	if r.code != 4 {
		t.Errorf("foreign company (403, authorization): exit %d; want 4: %s", r.code, r.stderr)
	}
	r = cli(t, t.TempDir(), env, "call", "stems", "get-hazard-approval-data", "--param", "idd=1", "--no-cache")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown parameter "idd" (parameters: id)`) {
		t.Errorf("unknown parameter name: exit %d: %s", r.code, r.stderr)
	}
	r = cli(t, t.TempDir(), env, "call", "stems", "get-hazard-approval-data", "--param", "id=does-not-exist", "--no-cache")
	if r.code != 4 {
		t.Errorf("unknown hazard: exit %d; want 4 (the API answered an error): %s", r.code, r.stderr)
	}
	assertNoSecrets(t, r, secrets...)
}

func TestCloudCompliThroughStandaloneFake(t *testing.T) {
	f := startFake(t, "cloudcompli")
	env := map[string]string{
		"COMPLYKIT_CLOUDCOMPLI_INSTANCE":      f.info["instance"],
		"COMPLYKIT_CLOUDCOMPLI_CLIENT_ID":     f.info["client id"],
		"COMPLYKIT_CLOUDCOMPLI_CLIENT_SECRET": f.info["client secret"],
	}
	r := cli(t, t.TempDir(), env, "call", "cloudcompli", "list-projects", "--no-cache")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "[") {
		t.Fatalf("list-projects: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	assertNoSecrets(t, r, f.info["client secret"])
	// The UI token instead of client credentials.
	r = cli(t, t.TempDir(), map[string]string{"COMPLYKIT_CLOUDCOMPLI_INSTANCE": f.info["instance"], "COMPLYKIT_CLOUDCOMPLI_ACCESS_TOKEN": f.info["ui token"]},
		"call", "cloudcompli", "get-user")
	if r.code != 0 {
		t.Errorf("get-user with the UI token: exit %d: %s", r.code, r.stderr)
	}
	r = cli(t, t.TempDir(), map[string]string{"COMPLYKIT_CLOUDCOMPLI_INSTANCE": f.info["instance"], "COMPLYKIT_CLOUDCOMPLI_ACCESS_TOKEN": "revoked-or-wrong-token"},
		"call", "cloudcompli", "get-user")
	if r.code != 3 {
		t.Errorf("wrong UI token: exit %d; want 3: %s", r.code, r.stderr)
	}
	assertNoSecrets(t, r, "revoked-or-wrong-token")
	r = cli(t, t.TempDir(), nil, "token", "cloudcompli", "--client-id", "a", "--client-secret", "b")
	if r.code != 2 || !strings.Contains(r.stderr, "--instance is required") {
		t.Errorf("no instance: exit %d: %s", r.code, r.stderr)
	}
	body := filepath.Join(t.TempDir(), "entry.json")
	os.WriteFile(body, []byte(`{"inspector":"Ivy"}`), 0o600)
	r = cli(t, t.TempDir(), env, "call", "cloudcompli", "submit-form-entry", "--no-cache",
		"--param", "project_id=64b7f0c2a1e4d3001f000101", "--param", "form_name=construction-inspection", "--body", body)
	if r.code != 0 || !strings.Contains(r.stdout, `"_id"`) {
		t.Errorf("submit-form-entry: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestFirstAMLThroughStandaloneFake(t *testing.T) {
	f := startFake(t, "firstaml")
	env := map[string]string{
		"COMPLYKIT_FIRSTAML_BASE_URL":      f.info["graphql URL"],
		"COMPLYKIT_FIRSTAML_TOKEN_URL":     f.info["token URL"],
		"COMPLYKIT_FIRSTAML_CLIENT_ID":     f.info["client id"],
		"COMPLYKIT_FIRSTAML_CLIENT_SECRET": f.info["client secret"],
	}
	r := cli(t, t.TempDir(), env, "call", "firstaml", "me", "--no-cache")
	if r.code != 0 || !strings.Contains(r.stdout, "accessibleOrganizations") {
		t.Fatalf("me: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, t.TempDir(), env, "call", "firstaml", "case-details", "--param", "caseId="+f.info["case"], "--no-cache")
	if r.code != 0 || !strings.Contains(r.stdout, f.info["case"]) {
		t.Errorf("case-details: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	query := filepath.Join(t.TempDir(), "q.json")
	os.WriteFile(query, []byte(`{"query":"{ me { notAField } }"}`), 0o600)
	r = cli(t, t.TempDir(), env, "call", "firstaml", "graphql", "--body", query, "--no-cache")
	if r.code != 4 || !strings.Contains(r.stderr, "notAField") {
		t.Errorf("invalid query: exit %d; want 4 naming the field: %s", r.code, r.stderr)
	}
	r = cli(t, t.TempDir(), map[string]string{"COMPLYKIT_FIRSTAML_BASE_URL": f.info["graphql URL"]}, "token", "firstaml", "--client-id", "a", "--client-secret", "b")
	if r.code != 2 || !strings.Contains(r.stderr, "both --base-url and --token-url") {
		t.Errorf("half a production config: exit %d: %s", r.code, r.stderr)
	}
	assertNoSecrets(t, r, f.info["client secret"])
}

func TestFakeAddr(t *testing.T) {
	for _, tc := range []struct{ addr, port, want, err string }{
		{"127.0.0.1", "", "127.0.0.1:0", ""},
		{"127.0.0.1", "8089", "127.0.0.1:8089", ""},
		{"127.0.0.1:9000", "8089", "127.0.0.1:9000", ""}, // --addr's port wins
		{"0.0.0.0", "8080", "0.0.0.0:8080", ""},
		{"::1", "", "[::1]:0", ""},
		{"[::1]", "7", "[::1]:7", ""},
		{":8080", "", ":8080", ""},
		{"localhost", "", "localhost:0", ""},
		{"127.0.0.1", "http", "", `PORT="http": not a port number`},
		{"127.0.0.1", "70000", "", `PORT="70000"`},
		{"127.0.0.1:x", "", "", `"x" is not a port number`},
		{"", "", "", "want host or host:port"},
		{"a b", "", "", "want host or host:port"},
	} {
		got, err := fakeAddr(tc.addr, tc.port)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || exitCode(err) != exitUsage {
				t.Errorf("fakeAddr(%q, PORT=%q) = %q, %v; want a usage error with %q", tc.addr, tc.port, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("fakeAddr(%q, PORT=%q) = %q, %v; want %q", tc.addr, tc.port, got, err, tc.want)
		}
	}
}

// The standalone fake's flags: PORT, any interface with a warning,
// --verbose, and a banner with the control URL and the sample ids.
func TestFakeFlagsAndBanner(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	f := startFakeWith(t, "stenn", map[string]string{"PORT": port}, "--verbose")
	if want := "http://127.0.0.1:" + port; f.info["base URL"] != want || f.info["control URL"] != want+"/__complykit/" {
		t.Errorf("with PORT=%s: base URL %q, control URL %q; want %s and its control API", port, f.info["base URL"], f.info["control URL"], want)
	}
	banner := strings.Join(f.stdout, "\n")
	for _, want := range []string{"samples (kind, id, name):", "company  company_ZYfeeV3qxdmYoG  Acme Supplies Ltd", "contact  contact_Buyer1"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	// --verbose: each request on stderr, control requests marked, with
	// the contract violation of a refused request.
	resp, err := http.Post(f.info["control URL"]+"faults", "application/json", strings.NewReader(`{"kind": "status", "status": 503}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if line := f.stderrLine(t, "/__complykit/faults"); line != "complykit fake stenn: POST /__complykit/faults (control) -> 200" {
		t.Errorf("verbose control line = %q", line)
	}
	for _, want := range []string{"GET /v1/companies -> 503", "GET /v1/companies -> 401: missing bearer token"} {
		resp, err := http.Get(f.info["base URL"] + "/v1/companies")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if line := f.stderrLine(t, "/v1/companies"); line != "complykit fake stenn: "+want {
			t.Errorf("verbose line = %q; want %q", line, "complykit fake stenn: "+want)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.info["token URL"], strings.NewReader("grant_type=password"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if line := f.stderrLine(t, "/auth/v1/token"); !strings.Contains(line, "POST /auth/v1/token -> 400: stenntest: request violates stenn.yaml") {
		t.Errorf("verbose line for a request that breaks the contract = %q; want the violation", line)
	}

	// Any interface, with a warning that says the control API is open.
	all := startFakeWith(t, "stenn", nil, "--addr", "0.0.0.0:0")
	if line := all.stderrLine(t, "warning"); !strings.Contains(line, "not loopback") || !strings.Contains(line, "control API (/__complykit/) has no authentication") {
		t.Errorf("warning = %q", line)
	}
	if !strings.HasPrefix(all.info["base URL"], "http://127.0.0.1:") {
		t.Errorf("on every interface, base URL = %q; want the loopback one, which a client here can reach", all.info["base URL"])
	}
	resp, err = http.Get(all.info["control URL"])
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("control API on 0.0.0.0: %v %v", resp, err)
	}
	resp.Body.Close()
	// Loopback: no warning.
	for _, line := range drain(f.stderr) {
		if strings.Contains(line, "warning") {
			t.Errorf("a loopback fake warned: %q", line)
		}
	}
}

// drain returns the lines waiting in ch.
func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case l := <-ch:
			out = append(out, l)
		default:
			return out
		}
	}
}
