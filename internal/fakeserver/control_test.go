package fakeserver_test

// The control API, driven over HTTP as a test in another language would
// drive it, and observed from real requests: the Stenn client's, and raw
// ones where the client would hide what the fake sent.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/internal/fakeserver"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/specs"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// control sends a control request and decodes its JSON answer.
func control(t *testing.T, srv *stenntest.Server, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	// What curl -d sends: the control API must not care.
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type = %q; want application/json (body %s)", method, path, ct, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, raw)
	}
	return resp.StatusCode, out, resp.Header
}

// mustControl is control for a request that must succeed.
func mustControl(t *testing.T, srv *stenntest.Server, method, path, body string) map[string]any {
	t.Helper()
	status, out, _ := control(t, srv, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s %s: status %d: %v", method, path, body, status, out)
	}
	return out
}

// logOf reads the request log over HTTP.
type logAnswer struct {
	Requests      []fake.Request `json:"requests"`
	NextSince     int            `json:"next_since"`
	TokenRequests int            `json:"token_requests"`
	APIRequests   int            `json:"api_requests"`
}

func logOf(t *testing.T, srv *stenntest.Server, since string) logAnswer {
	t.Helper()
	u := srv.URL + "/__complykit/requests"
	if since != "" {
		u += "?since=" + since
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out logAnswer
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func statuses(reqs []fake.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
	}
	return out
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// client returns a Stenn client of srv that never retries (so each fault
// shows as what it is) unless retry says so.
func client(t *testing.T, srv *stenntest.Server, retry bool) *stennapi.Client {
	t.Helper()
	policy := auth.RetryPolicy{MaxAttempts: 1}
	if retry {
		policy = auth.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	}
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions(option.WithRetryPolicy(policy))...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// raw sends an API request with a valid token, as no SDK would judge the
// answer, and returns the response with its body read.
func raw(t *testing.T, srv *stenntest.Server) (*http.Response, []byte, error) {
	t.Helper()
	tok := srv.Issuer.Issue(fakeserver.Grant{ClientID: srv.ClientID}, false, false).AccessToken
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/companies", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestEveryFaultKindOverHTTP(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, body string
		// check observes the fault from a real client request.
		check func(t *testing.T, srv *stenntest.Server)
	}{
		{"too_many_requests", `{"kind": "too_many_requests", "retry_after": "7"}`, func(t *testing.T, srv *stenntest.Server) {
			_, err := client(t, srv, false).ListCompanies(ctx)
			var e *stennapi.Error
			if !errors.As(err, &e) || e.StatusCode != 429 || e.RetryAfter != 7*time.Second || e.ExceptionKey != "rate_limited" {
				t.Fatalf("err = %v (%#v); want a 429 *stennapi.Error with RetryAfter 7s and Stenn's body", err, e)
			}
		}},
		{"too_many_requests then retried", `{"kind": "too_many_requests", "retry_after": "0", "times": 2}`, func(t *testing.T, srv *stenntest.Server) {
			got, err := client(t, srv, true).ListCompanies(ctx)
			if err != nil || len(got) != len(stenntest.SampleCompanies()) {
				t.Fatalf("ListCompanies = %d companies, %v; want them all after two retries", len(got), err)
			}
			api := apiOnly(srv.Requests())
			if s := statuses(api); !sameInts(s, []int{429, 429, 200}) {
				t.Fatalf("API statuses = %v; want [429 429 200]", s)
			}
		}},
		{"status", `{"kind": "status", "status": 503}`, func(t *testing.T, srv *stenntest.Server) {
			_, err := client(t, srv, false).ListCompanies(ctx)
			var e *stennapi.Error
			if !errors.As(err, &e) || e.StatusCode != 503 || e.ExceptionKey != "server_error" || !strings.Contains(e.Message, "scripted 503") {
				t.Fatalf("err = %v; want a 503 with Stenn's error body", err)
			}
		}},
		{"status with retry_after", `{"kind": "status", "status": 503, "retry_after": "3"}`, func(t *testing.T, srv *stenntest.Server) {
			resp, _, err := raw(t, srv)
			if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "3" {
				t.Fatalf("raw request: %v, %v; want 503 with Retry-After: 3", resp, err)
			}
		}},
		{"html", `{"kind": "html", "status": 502}`, func(t *testing.T, srv *stenntest.Server) {
			resp, body, err := raw(t, srv)
			if err != nil || resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<h1>Bad Gateway</h1>")) {
				t.Fatalf("raw request: %v %q, %v; want a 502 HTML page", resp, body, err)
			}
			srv.Script(stenntest.APICalls, 1, stenntest.HTML(502)) // the same fault from Go, for the client
			_, err = client(t, srv, false).ListCompanies(ctx)
			var e *stennapi.Error
			if !errors.As(err, &e) || e.StatusCode != 502 || e.Reason == "" {
				t.Fatalf("err = %v; want a 502 *stennapi.Error with a Reason", err)
			}
		}},
		{"malformed", `{"kind": "malformed"}`, func(t *testing.T, srv *stenntest.Server) {
			_, err := client(t, srv, false).ListCompanies(ctx)
			var e *stennapi.Error
			if !errors.As(err, &e) || e.StatusCode != 200 || e.Reason == "" {
				t.Fatalf("err = %v; want a *stennapi.Error for a 200 with a body that is not JSON", err)
			}
		}},
		{"slow lets the request through", `{"kind": "slow", "delay": "1ms"}`, func(t *testing.T, srv *stenntest.Server) {
			if _, err := client(t, srv, false).ListCompanies(ctx); err != nil {
				t.Fatalf("ListCompanies: %v; a slow answer is still an answer", err)
			}
		}},
		{"slow past the client's deadline", `{"kind": "slow", "delay": "1h"}`, func(t *testing.T, srv *stenntest.Server) {
			// An hour against 100 ms: the fake cannot answer in time.
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			if _, err := client(t, srv, false).ListCompanies(short); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v; want the deadline", err)
			}
		}},
		{"reset", `{"kind": "reset", "times": 2}`, func(t *testing.T, srv *stenntest.Server) {
			if _, _, err := raw(t, srv); err == nil {
				t.Fatal("raw request succeeded; want the connection cut mid-body")
			}
			if _, err := client(t, srv, false).ListCompanies(ctx); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
				t.Fatalf("ListCompanies: %v; want the body cut short", err)
			}
			if s := statuses(apiOnly(srv.Requests())); !sameInts(s, []int{0, 0}) {
				t.Fatalf("API statuses = %v; want [0 0]: two connections cut before any answer", s)
			}
		}},
		{"custom fields", `{"status": 200, "content_type": "text/plain", "body": "not json"}`, func(t *testing.T, srv *stenntest.Server) {
			resp, body, err := raw(t, srv)
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain" || string(body) != "not json" {
				t.Fatalf("raw request: %v %q, %v; want the scripted answer", resp, body, err)
			}
		}},
		{"stall_body", `{"status": 200, "body": "{\"object\":\"list\",\"data\":[]}", "stall_body": "1h"}`, func(t *testing.T, srv *stenntest.Server) {
			// An hour against 100 ms: the rest of the body cannot come in time.
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, err := client(t, srv, false).ListCompanies(short)
			var e *stennapi.Error
			if !errors.As(err, &e) || e.StatusCode != 200 || !strings.Contains(e.Reason, "deadline exceeded") {
				t.Fatalf("err = %v; want the deadline while the body stalls", err)
			}
		}},
		{"token target", `{"target": "token", "kind": "status", "status": 400}`, func(t *testing.T, srv *stenntest.Server) {
			if _, err := client(t, srv, false).ListCompanies(ctx); err == nil {
				t.Fatal("ListCompanies succeeded; want the token fetch to fail")
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || !reqs[0].Token || reqs[0].Status != 400 {
				t.Fatalf("log = %+v; want one token request answered 400, and no API request", reqs)
			}
			if _, err := client(t, srv, false).ListCompanies(ctx); err != nil {
				t.Fatalf("after the fault: %v", err)
			}
		}},
		{"token target, temporary", `{"target": "token", "kind": "status", "status": 503}`, func(t *testing.T, srv *stenntest.Server) {
			if _, err := client(t, srv, false).ListCompanies(ctx); err != nil {
				t.Fatalf("ListCompanies: %v; want the token fetch to retry a 503", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 3 || !reqs[0].Token || reqs[0].Status != 503 || !reqs[1].Token || reqs[1].Status != 200 || reqs[2].Token {
				t.Fatalf("log = %+v; want token 503, token 200, then the API call", reqs)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stenntest.NewServer(t)
			out := mustControl(t, srv, http.MethodPost, "/__complykit/faults", tc.body)
			if out["pending"] == float64(0) {
				t.Fatalf("POST faults = %v; want the fault pending", out)
			}
			tc.check(t, srv)
		})
	}
}

func apiOnly(reqs []fake.Request) []fake.Request {
	var out []fake.Request
	for _, r := range reqs {
		if !r.Token {
			out = append(out, r)
		}
	}
	return out
}

func TestScriptedFaultsCanBeListedAndCleared(t *testing.T) {
	srv := stenntest.NewServer(t)
	mustControl(t, srv, http.MethodPost, "/__complykit/faults", `{"kind": "status", "status": 503, "times": 2}`)
	mustControl(t, srv, http.MethodPost, "/__complykit/faults", `{"target": "token", "kind": "too_many_requests", "retry_after": "5"}`)
	var pending struct {
		API   []map[string]any `json:"api"`
		Token []map[string]any `json:"token"`
	}
	b, _ := json.Marshal(mustControl(t, srv, http.MethodGet, "/__complykit/faults", ""))
	json.Unmarshal(b, &pending)
	if len(pending.API) != 2 || pending.API[0]["status"] != float64(503) || len(pending.Token) != 1 || pending.Token[0]["retry_after"] != "5" {
		t.Fatalf("GET faults = %s; want two 503s for the API and a 429 for the token endpoint", b)
	}
	if got := srv.Server.Pending(stenntest.APICalls); len(got) != 2 || got[0] != stenntest.Status(503) {
		t.Fatalf("Pending(APICalls) = %+v; want what was scripted over HTTP", got)
	}
	if out := mustControl(t, srv, http.MethodDelete, "/__complykit/faults?target=api", ""); out["cleared"] != float64(2) {
		t.Fatalf("DELETE faults?target=api = %v; want 2 cleared", out)
	}
	if out := mustControl(t, srv, http.MethodDelete, "/__complykit/faults", ""); out["cleared"] != float64(1) {
		t.Fatalf("DELETE faults = %v; want the token fault cleared", out)
	}
	if _, err := client(t, srv, false).ListCompanies(context.Background()); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestRequestLogOverHTTP(t *testing.T) {
	srv := stenntest.NewServer(t)
	c := client(t, srv, false)
	ctx := context.Background()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	all := logOf(t, srv, "")
	if len(all.Requests) != 2 || all.TokenRequests != 1 || all.APIRequests != 1 || all.NextSince != all.Requests[1].Seq {
		t.Fatalf("log = %+v; want a token request and an API request", all)
	}
	tok, api := all.Requests[0], all.Requests[1]
	if !tok.Token || tok.Method != http.MethodPost || tok.Path != "/auth/v1/token" || tok.Status != 200 ||
		!strings.Contains(string(tok.Body), "grant_type=client_credentials") {
		t.Errorf("token entry = %+v", tok)
	}
	if api.Token || api.Path != "/v1/companies" || api.Status != 200 || !strings.HasPrefix(api.Header.Get("Authorization"), "Bearer ") || api.Time.IsZero() {
		t.Errorf("API entry = %+v", api)
	}
	// What Go's Requests holds, the HTTP log holds too.
	goLog := srv.Requests()
	if len(goLog) != 2 || goLog[1].Seq != api.Seq || goLog[1].Path != api.Path || !goLog[1].Time.Equal(api.Time) {
		t.Errorf("Requests() = %+v; want the entries of the HTTP log", goLog)
	}

	// ?since= returns only what came after.
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	newer := logOf(t, srv, itoa(all.NextSince))
	if len(newer.Requests) != 1 || newer.Requests[0].Seq != all.NextSince+1 || newer.Requests[0].Path != "/v1/companies" {
		t.Fatalf("since=%d: %+v; want the one newer request", all.NextSince, newer.Requests)
	}
	if empty := logOf(t, srv, itoa(newer.NextSince)); len(empty.Requests) != 0 || empty.NextSince != newer.NextSince {
		t.Fatalf("since=%d: %+v; want nothing new", newer.NextSince, empty)
	}
	if got := srv.RequestsSince(all.NextSince); len(got) != 1 || got[0].Seq != newer.Requests[0].Seq {
		t.Fatalf("RequestsSince(%d) = %+v", all.NextSince, got)
	}

	// DELETE empties the log and zeroes the counts; seqs go on.
	if out := mustControl(t, srv, http.MethodDelete, "/__complykit/requests", ""); out["cleared"] != float64(3) {
		t.Fatalf("DELETE requests = %v; want 3 cleared", out)
	}
	if after := logOf(t, srv, ""); len(after.Requests) != 0 || after.TokenRequests != 0 || after.APIRequests != 0 || srv.APIRequests() != 0 {
		t.Fatalf("after reset: %+v", after)
	}
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	if after := logOf(t, srv, ""); len(after.Requests) != 1 || after.Requests[0].Seq != newer.NextSince+1 || after.APIRequests != 1 {
		t.Fatalf("after reset and a call: %+v; want one entry numbered on from %d", after, newer.NextSince)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestControlRequestsAreNeitherLoggedNorCounted(t *testing.T) {
	srv := stenntest.NewServer(t)
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/__complykit/", ""},
		{http.MethodGet, "/__complykit", ""},
		{http.MethodPost, "/__complykit/faults", `{"kind": "status", "status": 500}`},
		{http.MethodDelete, "/__complykit/faults", ""},
		{http.MethodGet, "/__complykit/requests", ""},
		{http.MethodGet, "/__complykit/clock", ""},
		{http.MethodGet, "/__complykit/tokens", ""},
		{http.MethodGet, "/__complykit/no-such-endpoint", ""},
		{http.MethodPut, "/__complykit/faults", ""},
	} {
		control(t, srv, c.method, c.path, c.body)
	}
	if n := len(srv.Requests()); n != 0 || srv.APIRequests() != 0 || srv.TokenRequests() != 0 {
		t.Fatalf("log has %d entries, %d API and %d token requests; want none", n, srv.APIRequests(), srv.TokenRequests())
	}
}

func TestClockOverHTTP(t *testing.T) {
	ctx := context.Background()
	t.Run("manual clock", func(t *testing.T) {
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		srv := stenntest.NewServer(t, stenntest.WithClock(stenntest.NewClock(start)))
		out := mustControl(t, srv, http.MethodGet, "/__complykit/clock", "")
		if out["now"] != start.Format(time.RFC3339) || out["manual"] != true {
			t.Fatalf("GET clock = %v; want %v, manual", out, start)
		}
		out = mustControl(t, srv, http.MethodPost, "/__complykit/clock/advance", `{"by": "90m"}`)
		want := start.Add(90 * time.Minute)
		if out["now"] != want.Format(time.RFC3339) || !srv.Clock().Now().Equal(want) {
			t.Fatalf("advance 90m: %v, Clock().Now() = %v; want %v", out, srv.Clock().Now(), want)
		}
	})
	t.Run("default clock expires the client's token", func(t *testing.T) {
		srv := stenntest.NewServer(t)
		if srv.Clock() == nil || srv.Clock().Manual() {
			t.Fatalf("Clock() = %v; want a clock that follows real time", srv.Clock())
		}
		c := client(t, srv, false)
		if _, err := c.ListCompanies(ctx); err != nil {
			t.Fatal(err)
		}
		before := srv.Clock().Now()
		seen := logOf(t, srv, "").NextSince
		mustControl(t, srv, http.MethodPost, "/__complykit/clock/advance", `{"by": "24h1m"}`)
		if ahead := srv.Clock().Now().Sub(before); ahead < 24*time.Hour+time.Minute {
			t.Fatalf("clock moved %v; want at least 24h1m", ahead)
		}
		// The client still holds its 24-hour token; the fake says it expired.
		if _, err := c.ListCompanies(ctx); err != nil {
			t.Fatalf("after expiry: %v; want the 401 replayed with a new token", err)
		}
		got := logOf(t, srv, itoa(seen)).Requests
		if len(got) != 3 || got[0].Status != 401 || !got[1].Token || got[2].Status != 200 {
			t.Fatalf("after advancing: %+v; want 401, a token request, 200", got)
		}
	})
	t.Run("real clock cannot be advanced", func(t *testing.T) {
		srv := stenntest.NewServer(t, stenntest.WithClock(nil))
		status, out, _ := control(t, srv, http.MethodPost, "/__complykit/clock/advance", `{"by": "1m"}`)
		if status != http.StatusConflict || out["error"] != "conflict" {
			t.Fatalf("advance on the real clock: %d %v; want 409 conflict", status, out)
		}
	})
}

func TestRevocationOverHTTP(t *testing.T) {
	ctx := context.Background()
	srv := stenntest.NewServer(t)
	c := client(t, srv, false)
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	tokens := func() map[string]any { return mustControl(t, srv, http.MethodGet, "/__complykit/tokens", "") }
	if out := tokens(); out["issued"] != float64(1) || out["lifetime"] != "24h0m0s" || out["reused_refresh_tokens"] != float64(0) {
		t.Fatalf("GET tokens = %v", out)
	}

	// All access tokens: the next call gets a 401 and fetches a new one.
	if out := mustControl(t, srv, http.MethodPost, "/__complykit/tokens/revoke", `{"access": true}`); out["revoked"] != float64(1) {
		t.Fatalf("revoke all = %v; want 1", out)
	}
	seen := srv.Server.LastSeq()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatalf("after revoking all: %v", err)
	}
	if got := statuses(srv.RequestsSince(seen)); !sameInts(got, []int{401, 200, 200}) {
		t.Fatalf("after revoking all: statuses %v; want 401, the token request, 200", got)
	}
	if out := tokens(); out["issued"] != float64(2) {
		t.Fatalf("GET tokens = %v; want 2 issued", out)
	}

	// One token, the one the client now holds.
	reqs := srv.Requests()
	held := strings.TrimPrefix(reqs[len(reqs)-1].Header.Get("Authorization"), "Bearer ")
	if out := mustControl(t, srv, http.MethodPost, "/__complykit/tokens/revoke", `{"token": "`+held+`"}`); out["revoked"] != float64(1) {
		t.Fatalf("revoke one = %v", out)
	}
	seen = srv.Server.LastSeq()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatalf("after revoking one: %v", err)
	}
	if got := srv.RequestsSince(seen); len(got) != 3 || got[0].Status != 401 || !strings.Contains(got[0].Error, "revoked") {
		t.Fatalf("after revoking one: %+v; want a 401 for the revoked token first", got)
	}

	status, out, _ := control(t, srv, http.MethodPost, "/__complykit/tokens/revoke", `{"token": "stenn-at-never-issued"}`)
	if status != http.StatusNotFound || out["error"] != "not_found" || strings.Contains(out["message"].(string), "never-issued") {
		t.Fatalf("revoke an unknown token: %d %v; want 404 not naming the token", status, out)
	}

	// A shorter lifetime for the tokens issued from now on.
	if out := mustControl(t, srv, http.MethodPost, "/__complykit/tokens/lifetime", `{"lifetime": "5m"}`); out["lifetime"] != "5m0s" {
		t.Fatalf("lifetime = %v", out)
	}
	srv.RevokeAccessTokens()
	if _, err := c.ListCompanies(ctx); err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Token(ctx); err != nil || time.Until(tok.Expiry) > 5*time.Minute {
		t.Fatalf("Token() = %v, %v; want a token of 5 minutes at most", tok, err)
	}
}

func TestControlErrors(t *testing.T) {
	srv := stenntest.NewServer(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, mention      string
	}{
		{http.MethodGet, "/__complykit/nope", "", 404, "not_found", "GET /__complykit/ lists them"},
		{http.MethodPut, "/__complykit/faults", "", 405, "method_not_allowed", "DELETE, GET, POST"},
		{http.MethodPost, "/__complykit/faults", `not json`, 400, "invalid_request", "not what this endpoint takes"},
		{http.MethodPost, "/__complykit/faults", `{"stauts": 429}`, 400, "invalid_request", "stauts"},
		{http.MethodPost, "/__complykit/faults", `{} {}`, 400, "invalid_request", "after its JSON value"},
		{http.MethodPost, "/__complykit/faults", `{"kind": "explode"}`, 400, "invalid_request", "one of status, too_many_requests"},
		{http.MethodPost, "/__complykit/faults", `{"kind": "status"}`, 400, "invalid_request", `needs "status"`},
		{http.MethodPost, "/__complykit/faults", `{"kind": "html"}`, 400, "invalid_request", `needs "status"`},
		{http.MethodPost, "/__complykit/faults", `{"kind": "slow"}`, 400, "invalid_request", `needs "delay"`},
		{http.MethodPost, "/__complykit/faults", `{"kind": "status", "status": 999}`, 400, "invalid_request", "100 to 599"},
		{http.MethodPost, "/__complykit/faults", `{"times": 0}`, 400, "invalid_request", "times must be 1 to 1000"},
		{http.MethodPost, "/__complykit/faults", `{"target": "both"}`, 400, "invalid_request", "unknown target"},
		{http.MethodPost, "/__complykit/faults", `{"retry_after": "soon"}`, 400, "invalid_request", "neither seconds nor an HTTP date"},
		{http.MethodPost, "/__complykit/faults", `{"delay": "-1s"}`, 400, "invalid_request", "negative"},
		{http.MethodPost, "/__complykit/faults", `{"delay": "2 seconds"}`, 400, "invalid_request", "not a duration"},
		{http.MethodPost, "/__complykit/faults", `{"content_type": "text/plain\r\nX: y"}`, 400, "invalid_request", "not a media type"},
		{http.MethodDelete, "/__complykit/faults?target=x", "", 400, "invalid_request", "want api or token"},
		{http.MethodGet, "/__complykit/requests?since=-1", "", 400, "invalid_request", "want a seq"},
		{http.MethodPost, "/__complykit/clock/advance", `{}`, 400, "invalid_request", `"by" is required`},
		{http.MethodPost, "/__complykit/clock/advance", `{"by": "0s"}`, 400, "invalid_request", `"by" is required`},
		{http.MethodPost, "/__complykit/tokens/revoke", `{}`, 400, "invalid_request", "say what to revoke"},
		{http.MethodPost, "/__complykit/tokens/revoke", `{"token": "x", "access": true}`, 400, "invalid_request", "not both"},
		{http.MethodPost, "/__complykit/tokens/lifetime", `{"lifetime": "0s"}`, 400, "invalid_request", "1s or more"},
		{http.MethodPost, "/__complykit/faults", `{"body": "` + strings.Repeat("x", 32<<20) + `"}`, 413, "too_large", "over 32 MiB"},
	} {
		status, out, hdr := control(t, srv, tc.method, tc.path, tc.body)
		msg, _ := out["message"].(string)
		if status != tc.status || out["error"] != tc.code || !strings.HasPrefix(msg, "stenntest: control: ") || !strings.Contains(msg, tc.mention) {
			t.Errorf("%s %s %.60s: %d %v; want %d %s mentioning %q", tc.method, tc.path, tc.body, status, out, tc.status, tc.code, tc.mention)
		}
		if tc.status == 405 && hdr.Get("Allow") != "DELETE, GET, POST" {
			t.Errorf("405 Allow = %q", hdr.Get("Allow"))
		}
	}
	if p := srv.Server.Pending(stenntest.APICalls); len(p) != 0 {
		t.Fatalf("refused control requests queued faults: %+v", p)
	}
}

func TestControlIndex(t *testing.T) {
	srv := stenntest.NewServer(t)
	out := mustControl(t, srv, http.MethodGet, "/__complykit/", "")
	if out["fake"] != "stenntest" || out["url"] != srv.URL || out["token_url"] != srv.TokenURL() ||
		out["client_id"] != srv.ClientID || out["control_url"] != srv.ControlURL() {
		t.Fatalf("index = %v", out)
	}
	eps, _ := out["endpoints"].([]any)
	has := map[string]bool{}
	for _, e := range eps {
		m := e.(map[string]any)
		has[m["method"].(string)+" "+m["path"].(string)] = true
	}
	for _, want := range []string{"POST /__complykit/faults", "GET /__complykit/requests", "POST /__complykit/clock/advance", "POST /__complykit/tokens/revoke"} {
		if !has[want] {
			t.Errorf("index lacks %s: %v", want, eps)
		}
	}
	samples, _ := out["samples"].([]any)
	if len(samples) != len(srv.Samples()) || len(samples) == 0 {
		t.Errorf("index samples = %v; want Samples() = %v", samples, srv.Samples())
	}
}

// The control API's prefix is one no provider's spec can use, so no
// operation is ever shadowed by it.
func TestNoSpecPathUsesTheControlPrefix(t *testing.T) {
	names, err := fs.Glob(specs.FS, "*.yaml")
	if err != nil || len(names) < 4 {
		t.Fatalf("specs: %v %v", names, err)
	}
	for _, name := range names {
		doc, err := specs.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for path := range doc.Paths.Map() {
			if strings.HasPrefix(path, strings.TrimSuffix(fake.ControlPrefix, "/")) {
				t.Errorf("%s: path %s is under the control prefix %s", name, path, fake.ControlPrefix)
			}
		}
	}
}

// Observe sees every request as it is answered: API and token requests
// with their status and any violation, control requests marked as such,
// and nothing once it is stopped.
func TestObserve(t *testing.T) {
	srv := stenntest.NewServer(t)
	type seen struct {
		method, path string
		status       int
		violation    bool
		control      bool
	}
	got := make(chan seen, 16)
	srv.Server.Observe(func(r fake.Request, control bool) {
		got <- seen{r.Method, r.Path, r.Status, strings.Contains(r.Error, "violates"), control}
	})
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	mustControl(t, srv, http.MethodPost, "/__complykit/faults", `{"kind": "too_many_requests", "retry_after": "0"}`)
	if _, err := c.ListCompanies(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/v1/companies?limit=not-a-number")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []seen{
		{"POST", "/__complykit/faults", 200, false, true},
		{"POST", "/auth/v1/token", 200, false, false},
		{"GET", "/v1/companies", 429, false, false},
		{"GET", "/v1/companies", 200, false, false},
	}
	for i, w := range want {
		if g := <-got; g != w {
			t.Errorf("observed #%d = %+v; want %+v", i, g, w)
		}
	}
	if g := <-got; g.status < 400 || g.control {
		t.Errorf("observed a refused request as %+v; want a 4xx", g)
	}
	srv.Server.Observe(nil)
	mustControl(t, srv, http.MethodGet, "/__complykit/", "")
	select {
	case g := <-got:
		t.Errorf("observed %+v after Observe(nil)", g)
	default:
	}
}
