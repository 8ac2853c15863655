package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// --trace prints where a call's time went: the command's span, the wait
// for the token with the fetch it waited on (and the fetch's own request),
// each attempt with its status, the retry with its reason. --trace=json
// prints every span as JSON. Neither prints a secret or a token.
func TestTraceShowsWhereTheTimeWent(t *testing.T) {
	srv := stenntest.NewServer(t)
	env := stennEnv(srv, map[string]string{
		"COMPLYKIT_STENN_NO_CACHE": "1",
	})
	srv.Script(stenntest.TokenCalls, 1, stenntest.Slow(200*time.Millisecond))
	srv.Script(stenntest.APICalls, 1, stenntest.TooManyRequests("0"))
	r := cli(t, t.TempDir(), env, "call", "stenn", "list-companies", "--trace")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^trace:$`),
		regexp.MustCompile(`(?m)^  complykit call stenn list-companies  \+0µs  [0-9.]+ms$`),
		regexp.MustCompile(`(?m)^      · retry at \+[0-9.]+ms  retry.reason=429 retry.delay=0$`),
		regexp.MustCompile(`(?m)^    complykit token wait  \+\S+  (2\d\d|[3-9]\d\d|\d{4,})\.\dms  token.flow=client_credentials$`),
		regexp.MustCompile(`(?m)^      linked: complykit token fetch  .* token.outcome=success token.background=false$`),
		regexp.MustCompile(`(?m)^        POST  .*url.full=` + regexp.QuoteMeta(srv.URL) + `/auth/v1/token http.response.status_code=200$`),
		regexp.MustCompile(`(?m)^    GET  .*http.response.status_code=429  error: 429$`),
		regexp.MustCompile(`(?m)^    GET  .*http.response.status_code=200 http.request.resend_count=1$`),
	} {
		if !want.MatchString(r.stderr) {
			t.Errorf("--trace output lacks %s:\n%s", want, r.stderr)
		}
	}
	tok := lastAccessToken(t, srv)
	for _, secret := range []string{srv.ClientSecret, tok} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("--trace printed a secret or token")
		}
	}

	r = cli(t, t.TempDir(), env, "call", "stenn", "list-companies", "--trace=json")
	if r.code != 0 {
		t.Fatalf("--trace=json: exit %d: %s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stderr))
	var names []string
	for dec.More() {
		var span struct{ Name string }
		if err := dec.Decode(&span); err != nil {
			t.Fatalf("--trace=json is not a stream of JSON spans: %v\n%s", err, r.stderr)
		}
		names = append(names, span.Name)
	}
	if strings.Join(names, ",") != "POST,complykit token fetch,complykit token wait,GET,complykit call stenn list-companies" {
		t.Errorf("--trace=json spans: %v", names)
	}
	if r := cli(t, t.TempDir(), env, "call", "stenn", "list-companies", "--trace=xml"); r.code != exitUsage {
		t.Errorf("--trace=xml: exit %d; want a usage error", r.code)
	}
}

// lastAccessToken is the access token the fake saw last.
func lastAccessToken(t *testing.T, srv *stenntest.Server) string {
	t.Helper()
	for i := len(srv.Requests()) - 1; i >= 0; i-- {
		r := srv.Requests()[i]
		if !r.Token {
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				return tok
			}
		}
	}
	t.Fatal("no API request with a token")
	return ""
}
