package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/internal/version"
	"github.com/complykit/complykit-go/specs"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

func TestVersion(t *testing.T) {
	// The test binary is a local build: the module version is "(devel)".
	r := cli(t, t.TempDir(), nil, "--version")
	if want := "complykit version " + version.Number + " (devel)\n"; r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101120000-abcdef123456"}}, true, "0.0.0-20260101120000-abcdef123456"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, version.Number + " (devel)"},
		{nil, false, version.Number + " (devel)"},
	} {
		if got := cliVersion(tc.bi, tc.ok); got != tc.want {
			t.Errorf("cliVersion(%+v) = %q; want %q", tc.bi, got, tc.want)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	marks := map[string]string{
		"bash":       "__start_complykit",
		"zsh":        "#compdef complykit",
		"fish":       "complete -c complykit",
		"powershell": "Register-ArgumentCompleter",
	}
	for shell, mark := range marks {
		r := cli(t, t.TempDir(), nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, mark) || r.stderr != "" {
			t.Errorf("completion %s: exit %d, %d bytes without %q; stderr %q", shell, r.code, len(r.stdout), mark, r.stderr)
		}
	}
	r := cli(t, t.TempDir(), nil, "completion", "tcsh")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown shell "tcsh"`) {
		t.Errorf("completion tcsh: exit %d; want 2: %s", r.code, r.stderr)
	}

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(t.TempDir(), "complykit.bash")
	os.WriteFile(script, []byte(cli(t, t.TempDir(), nil, "completion", "bash").stdout), 0o600)
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	// The script, sourced into bash, completes what the tree holds: the
	// script runs `complykit __complete ...`, so the binary is on PATH.
	// Without the bash-completion package, _get_comp_words_by_ref (which
	// the script calls) is given the meaning it has for words without
	// "=" or ":".
	complete := func(line string) []string {
		t.Helper()
		cmd := exec.Command(bash, "-c", `declare -F _get_comp_words_by_ref >/dev/null || _get_comp_words_by_ref() {
  cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}
read -r -a COMP_WORDS <<< "$COMP_LINE"; [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); __start_complykit; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, line)
		cmd.Env = []string{"PATH=" + filepath.Dir(binary) + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		// stdout only: outside a real completion, compopt complains on stderr.
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("completing %q: %v\n%s", line, err, out)
		}
		words := strings.Fields(string(out))
		sort.Strings(words)
		return words
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"complykit to", []string{"token"}},
		{"complykit call ", []string{"cloudcompli", "firstaml", "stems", "stenn"}},
		{"complykit call stems list-", []string{"list-event-forms", "list-hazard-approval-data", "list-hazards"}},
		{"complykit call firstaml create-", []string{"create-case", "create-case-for-entities", "create-case-for-individuals", "create-lite-case", "create-webhook-subscription"}},
		{"complykit call stenn list-companies --output ", []string{"json", "text"}},
		{"complykit call stems get-hazard-approval-data --param ", []string{"id="}},
	} {
		if got := complete(tc.line); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("completing %q = %q; want %q", tc.line, got, tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	help := cli(t, t.TempDir(), nil, "help", "call")
	if help.code != 0 || help.stderr != "" {
		t.Fatalf("help call: exit %d, stderr %q", help.code, help.stderr)
	}
	for _, want := range []string{"Usage:\n  complykit call <provider> <operation> [flags]", "stems ", "stenn ", "cloudcompli ", "firstaml ", "--param name=value"} {
		if !strings.Contains(help.stdout, want) {
			t.Errorf("help call lacks %q:\n%s", want, help.stdout)
		}
	}
	if strings.Contains(help.stdout, "\n  complykit call [command]\n") {
		t.Errorf("help call shows a second usage line:\n%s", help.stdout)
	}
	if op := cli(t, t.TempDir(), nil, "help", "call", "stems", "list-hazards"); !strings.Contains(op.stdout, "Flags of complykit call stems:\n      --base-url") {
		t.Errorf("help call stems list-hazards does not show the provider's flags as such:\n%s", op.stdout)
	}
	if flag := cli(t, t.TempDir(), nil, "call", "--help"); flag.stdout != help.stdout {
		t.Errorf("call --help differs from help call:\n%s", flag.stdout)
	}
	root := cli(t, t.TempDir(), nil, "--help")
	for _, want := range []string{"demo", "token", "call", "fake", "completion", "Exit codes:\n  0  success\n  1  internal error"} {
		if root.code != 0 || !strings.Contains(root.stdout, want) {
			t.Errorf("--help lacks %q:\n%s", want, root.stdout)
		}
	}
	// GNU flags only: nothing offers a single-dash long flag.
	r := cli(t, t.TempDir(), nil, "token", "stems", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--base-url") || regexp.MustCompile(`(^|\s)-[a-z]{2,}`).MatchString(r.stdout) {
		t.Errorf("token stems --help:\n%s", r.stdout)
	}
	for _, p := range []struct {
		name        string
		has, hasNot []string
	}{
		{"stems", []string{"--base-url", "--token-url", "--scope", "--username", "--password", "--company"}, []string{"--sandbox", "--instance"}},
		{"stenn", []string{"--base-url", "--token-url", "--sandbox"}, []string{"--scope", "--instance"}},
		{"cloudcompli", []string{"--instance", "--access-token"}, []string{"--base-url", "--token-url", "--scope"}},
		{"firstaml", []string{"--base-url", "--token-url"}, []string{"--scope", "--sandbox"}},
	} {
		r := cli(t, t.TempDir(), nil, "token", p.name, "--help")
		for _, f := range p.has {
			if !strings.Contains(r.stdout, f+" ") {
				t.Errorf("token %s --help lacks %s", p.name, f)
			}
		}
		for _, f := range p.hasNot {
			if strings.Contains(r.stdout, f+" ") {
				t.Errorf("token %s --help offers %s", p.name, f)
			}
		}
	}
}

// specOperations lists the operations `call` should offer, read from the
// specs independently of the CLI's own code.
func specOperations(t *testing.T, provider string) []string {
	t.Helper()
	var names []string
	if provider == "firstaml" {
		src, err := specs.FS.ReadFile("firstaml-operations.graphql")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^(?:query|mutation)\s+(\w+)`).FindAllStringSubmatch(string(src), -1) {
			names = append(names, kebab(m[1]))
		}
		return append(names, "graphql")
	}
	doc, err := specs.Load(provider + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Security == nil || len(*op.Security) > 0 {
				names = append(names, kebab(op.OperationID))
			}
		}
	}
	return names
}

func TestCallHelpNeedsNoCredentials(t *testing.T) {
	for _, provider := range []string{"stems", "stenn", "cloudcompli", "firstaml"} {
		r := cli(t, t.TempDir(), nil, "call", provider, "--help")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("call %s --help: exit %d, stderr %q", provider, r.code, r.stderr)
		}
		ops := specOperations(t, provider)
		if len(ops) == 0 {
			t.Fatalf("%s: no operations in the spec", provider)
		}
		for _, op := range ops {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(op) + ` +\S`).MatchString(r.stdout) {
				t.Errorf("call %s --help does not list %s with its summary:\n%s", provider, op, r.stdout)
			}
			h := cli(t, t.TempDir(), nil, "call", provider, op, "--help")
			if h.code != 0 || !strings.Contains(h.stdout, "Parameters:") || !strings.Contains(h.stdout, "Body") {
				t.Errorf("call %s %s --help: exit %d:\n%s%s", provider, op, h.code, h.stdout, h.stderr)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"call", "stems", "--help"}, []string{"list-hazards", "get-hazard-approval-data", "list-event-forms"}},
		{[]string{"call", "stems", "get-hazard-approval-data", "--help"}, []string{"Request: GET /hazards/{id}/approvalData", "--param id=STRING", "path, required", "X-Company-Context header  from --company"}},
		{[]string{"call", "stems", "create-hazard-for-approval", "--help"}, []string{"Body (--body FILE or -, JSON, required): HazardApproval", "reportedDate", "Result (200): HazardApproval"}},
		{[]string{"call", "cloudcompli", "submit-form-entry", "--help"}, []string{"--param project_id=STRING", "--param form_name=STRING", "Body (--body FILE or -, JSON, required)"}},
		{[]string{"call", "firstaml", "case-details", "--help"}, []string{"query CaseDetails", "--param caseId=STRING", "String!, required", "Result: caseDetails: CaseDetailsResult (CaseInformation or ValidationErrors)"}},
		{[]string{"call", "firstaml", "create-lite-case", "--help"}, []string{"mutation CreateLiteCase", "never retried", "$input, a CreateLiteCaseInput!", "organizationId", "individual ", "  preferredName", "    firstName", "initialState     InitialCaseState (SUBMIT_TO_FIRST_AML, DRAFT)"}},
	} {
		r := cli(t, t.TempDir(), nil, tc.args...)
		for _, want := range tc.want {
			if r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Errorf("complykit %v lacks %q (exit %d):\n%s", tc.args, want, r.code, r.stdout)
			}
		}
	}
}

func TestTypoSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tokn"}, `unknown command "tokn" for "complykit"; did you mean token?`},
		{[]string{"call", "stemss"}, `unknown provider "stemss" for "complykit call"; did you mean stems?`},
		{[]string{"call", "stems", "list-hazard"}, `unknown operation "list-hazard" for "complykit call stems"; did you mean list-hazard-approval-data or list-hazards?`},
		{[]string{"call", "firstaml", "create-lite-cas"}, `did you mean create-lite-case?`},
		{[]string{"token", "stenn", "--bse-url", "x"}, `unknown flag: --bse-url; did you mean --base-url?`},
		{[]string{"token", "stenn", "-base-url", "x"}, `long flags take two dashes: --base-url`},
		{[]string{"token", "cloudcompli", "--base-url", "x"}, `cloudcompli does not take --base-url: the API root lives under --instance`},
		{[]string{"token", "stenn", "--scope", "x"}, `stenn does not take --scope: the client credentials grant takes no scopes`},
		{[]string{"call", "firstaml", "me", "--scope", "x"}, `firstaml does not take --scope`},
		{[]string{"call"}, `missing provider (one of stems, stenn, cloudcompli, firstaml)`},
		{[]string{"call", "stenn"}, `missing operation (one of list-companies)`},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"call", "stems", "list-hazards", "--param", "page=2"}, `list-hazards takes no parameters`},
		{[]string{"call", "stenn", "list-companies", "--body", "x.json"}, `list-companies takes no body`},
		{[]string{"call", "firstaml", "me", "--param", "x=1"}, `me takes no parameters`},
	} {
		r := cli(t, t.TempDir(), nil, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || !strings.Contains(lines[0], tc.want) || len(lines) != 2 || !strings.HasPrefix(lines[1], "run \"complykit ") {
			t.Errorf("complykit %v: exit %d, stderr %q; want exit 2, one line with %q and the help pointer", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestEnvFallback(t *testing.T) {
	srv := stenntest.NewServer(t)
	env := stennEnv(srv, map[string]string{
		"COMPLYKIT_STENN_OUTPUT":   "text",
		"COMPLYKIT_STENN_NO_CACHE": "true",
		// --param and --body have none: one operation's would apply to all.
		"COMPLYKIT_STENN_PARAM": "page=2",
		"COMPLYKIT_STENN_BODY":  "/nonexistent",
	})
	r := cli(t, t.TempDir(), env, "call", "stenn", "list-companies")
	if r.code != 0 || !strings.Contains(r.stdout, "Acme Supplies Ltd") || strings.HasPrefix(r.stdout, "{") {
		t.Fatalf("env fallback (text output, no param): exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d; want 1", n)
	}
	// --no-cache came from the environment: nothing was written.
	cache := t.TempDir()
	cli(t, cache, env, "token", "stenn")
	if files, _ := filepath.Glob(filepath.Join(cache, "cache", "complykit", "tokens", "*")); len(files) != 0 {
		t.Errorf("COMPLYKIT_STENN_NO_CACHE=true, but the cache holds %v", files)
	}
	// A flag wins over its variable.
	r = cli(t, t.TempDir(), env, "call", "stenn", "list-companies", "--output", "json")
	if !json.Valid([]byte(r.stdout)) {
		t.Errorf("--output json over COMPLYKIT_STENN_OUTPUT=text: %q", r.stdout)
	}
	// A bad value is a usage error that does not repeat the value (it may
	// be a secret).
	env["COMPLYKIT_STENN_TIMEOUT"] = "secret-looking-value"
	r = cli(t, t.TempDir(), env, "token", "stenn")
	if r.code != 2 || !strings.Contains(r.stderr, "environment variable COMPLYKIT_STENN_TIMEOUT: not a valid --timeout") {
		t.Errorf("bad COMPLYKIT_STENN_TIMEOUT: exit %d: %s", r.code, r.stderr)
	}
	assertNoSecrets(t, r, "secret-looking-value", srv.ClientSecret)
	// Repeatable flags take a list; fake's --addr falls back too.
	r = cli(t, t.TempDir(), map[string]string{"COMPLYKIT_STENN_ADDR": "not an address"}, "fake", "stenn")
	if r.code != 2 || !strings.Contains(r.stderr, `--addr "not an address": want host or host:port`) {
		t.Errorf("COMPLYKIT_STENN_ADDR=not an address: exit %d: %s", r.code, r.stderr)
	}
}

func TestFirstAMLValidationErrorsExitNonZero(t *testing.T) {
	srv := firstamltest.NewServer(t)
	env := map[string]string{
		"COMPLYKIT_FIRSTAML_BASE_URL":      srv.GraphQLURL(),
		"COMPLYKIT_FIRSTAML_TOKEN_URL":     srv.TokenURL(),
		"COMPLYKIT_FIRSTAML_CLIENT_ID":     srv.ClientID,
		"COMPLYKIT_FIRSTAML_CLIENT_SECRET": srv.ClientSecret,
		"COMPLYKIT_FIRSTAML_NO_CACHE":      "1",
	}
	body := filepath.Join(t.TempDir(), "case.json")
	// The sample organization has offices, so officeId is required, and a
	// case contact needs an email address or a phone number.
	os.WriteFile(body, []byte(`{"organizationId":"`+firstamltest.SampleOrganizationID+`","individual":{"preferredName":{"firstName":"Jo","lastName":"Smith"}}}`), 0o600)
	r := cli(t, t.TempDir(), env, "call", "firstaml", "create-lite-case", "--body", body)
	if r.code != 4 {
		t.Errorf("ValidationErrors: exit %d; want 4: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "complykit: firstaml create-lite-case: 2 validation errors: officeId: ") ||
		!strings.Contains(r.stderr, "individual.emailAddress: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q: want one line with both errors", r.stderr)
	}
	var res struct {
		Typename string `json:"__typename"`
		Errors   []struct{ FieldPath []string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Typename != "ValidationErrors" || len(res.Errors) != 2 {
		t.Errorf("stdout %q: want the ValidationErrors result (%v)", r.stdout, err)
	}
	// An unknown case is a ValidationErrors answer too.
	r = cli(t, t.TempDir(), env, "call", "firstaml", "case-details", "--param", "caseId=424242")
	if r.code != 4 || !strings.Contains(r.stderr, "1 validation error: caseId: ") {
		t.Errorf("unknown case: exit %d: %s", r.code, r.stderr)
	}
	// A created case exits 0.
	os.WriteFile(body, []byte(`{"organizationId":"5f0c2a1b3e444f6a8c9d0e1f2a3b4c5d","individual":{"preferredName":{"firstName":"Jo","lastName":"Smith"},"emailAddress":"jo@example.com"}}`), 0o600)
	r = cli(t, t.TempDir(), env, "call", "firstaml", "create-lite-case", "--body", body)
	if r.code != 0 || !strings.Contains(r.stdout, `"__typename": "CaseInformation"`) {
		t.Errorf("valid case: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	// Variables are checked against the schema before anything is sent.
	before := srv.APIRequests()
	os.WriteFile(body, []byte(`{"organizationId":"x"}`), 0o600)
	r = cli(t, t.TempDir(), env, "call", "firstaml", "create-lite-case", "--body", body)
	if r.code != 2 || !strings.Contains(r.stderr, "individual") || srv.APIRequests() != before {
		t.Errorf("input without individual: exit %d, %d requests sent: %s", r.code, srv.APIRequests()-before, r.stderr)
	}
}

func TestOutputText(t *testing.T) {
	srv := stenntest.NewServer(t)
	env := stennEnv(srv)
	r := cli(t, t.TempDir(), env, "call", "stenn", "list-companies", "--no-cache", "-o", "text")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	// object: list, then the table: a header and one row per company.
	if len(lines) != 4 || lines[0] != "object: list" {
		t.Fatalf("text output:\n%s", r.stdout)
	}
	header := lines[1]
	for _, col := range []string{"id", "name", "created", "address"} {
		if !regexp.MustCompile(`(^|  )` + col + `( |$)`).MatchString(header) {
			t.Errorf("header %q lacks column %q", header, col)
		}
	}
	nameCol := strings.Index(header, "name ")
	for i, company := range []string{"Acme Supplies Ltd", "Globex Trading Inc"} {
		if got := strings.Index(lines[2+i], company); got != nameCol {
			t.Errorf("row %d: %q at column %d; want %d (aligned under name)\n%s", i, company, got, nameCol, r.stdout)
		}
	}
	if r.stdout == cli(t, t.TempDir(), env, "call", "stenn", "list-companies", "--no-cache").stdout {
		t.Error("text and json output are the same")
	}
}

// stennEnv is the environment that points the CLI's stenn commands at
// srv with its credentials, plus extra.
func stennEnv(srv *stenntest.Server, extra ...map[string]string) map[string]string {
	env := map[string]string{
		"COMPLYKIT_STENN_CLIENT_ID":     srv.ClientID,
		"COMPLYKIT_STENN_CLIENT_SECRET": srv.ClientSecret,
		"COMPLYKIT_STENN_BASE_URL":      srv.URL,
	}
	for _, m := range extra {
		maps.Copy(env, m)
	}
	return env
}
