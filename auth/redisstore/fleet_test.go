package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/redisstore"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	testClientID     = "fleet-client"
	testClientSecret = "fleet-client-secret-7e3b"
	testUser         = "ops@example.com"
	testPassword     = "fleet-password-51ac"

	// tokenLife is short so that a test sees several lifetimes. With the
	// Cache's defaults a token is renewed after RefreshAfter (0.75) of its
	// life, 2.25 s, and the expiry margin is capped at a tenth of it.
	tokenLife    = 3
	renewalEvery = 2250 * time.Millisecond
	fleetSize    = 8
	fleetRun     = 7500 * time.Millisecond // three and a bit renewals
)

// tokenServer is an OAuth token endpoint on loopback that issues short
// numbered tokens for the client credentials, password and refresh_token
// grants, rotates refresh tokens like Stems Accounts, and counts every
// request and every reuse of a refresh token.
type tokenServer struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	times    []time.Time // arrival of each token request
	grants   map[string]int
	valid    map[string]bool      // refresh tokens issued
	used     map[string]bool      // refresh tokens spent
	access   map[string]time.Time // access token -> expiry
	reuses   int                  // a spent refresh token presented again
	unknowns int                  // a refresh token never issued
}

func newTokenServer(t testing.TB) *tokenServer {
	ts := &tokenServer{t: t, grants: map[string]int{}, valid: map[string]bool{}, used: map[string]bool{}, access: map[string]time.Time{}}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) URL() string { return ts.srv.URL + "/token" }

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.URL.Path != "/token" {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.times = append(ts.times, time.Now())
	grant := f.Get("grant_type")
	ts.grants[grant]++
	if f.Get("client_id") != testClientID || f.Get("client_secret") != testClientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	offline := false
	switch grant {
	case "client_credentials":
	case "password":
		if f.Get("username") != testUser || f.Get("password") != testPassword {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		offline = strings.Contains(f.Get("scope"), "offline_access")
	case "refresh_token":
		rt := f.Get("refresh_token")
		switch {
		case ts.used[rt]:
			ts.reuses++
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "refresh token already used"})
			return
		case !ts.valid[rt]:
			ts.unknowns++
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		ts.used[rt] = true
		offline = true
	default:
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	n := strconv.Itoa(len(ts.times))
	body := map[string]any{
		"access_token": "acc-" + n,
		"token_type":   "Bearer",
		"expires_in":   tokenLife,
		"id_token":     "id-" + n,
		"scope":        f.Get("scope"),
	}
	if offline {
		body["refresh_token"] = "rt-" + n
		ts.valid["rt-"+n] = true
	}
	ts.access["acc-"+n] = time.Now().Add(tokenLife * time.Second)
	writeJSON(w, 200, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (ts *tokenServer) requests() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.times)
}

// validAccess reports whether tok was issued here and has not expired.
func (ts *tokenServer) validAccess(tok string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	exp, ok := ts.access[tok]
	return ok && time.Now().Before(exp)
}

// checkOneFetchPerRenewal asserts that no token request duplicated
// another: a cache asks for a new token only once the current one has used
// RefreshAfter of its life (2.25 s after it was issued, on any clock of
// this machine), so two requests less than a second apart mean two
// processes fetched the same renewal. A slow machine only widens the gaps.
func (ts *tokenServer) checkOneFetchPerRenewal(t *testing.T, end time.Time) {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for i := 1; i < len(ts.times); i++ {
		if gap := ts.times[i].Sub(ts.times[i-1]); gap < time.Second {
			t.Errorf("token requests %d and %d came %v apart: two processes fetched the same token", i, i+1, gap)
		}
	}
	if len(ts.times) == 0 {
		t.Fatal("no token request at all")
	}
	// The same, as a count: one request per renewal over the run, plus the
	// first, plus one renewal that may have been in flight at the end.
	renewals := int(end.Sub(ts.times[0]) / renewalEvery)
	if max := renewals + 2; len(ts.times) > max {
		t.Errorf("%d token requests in %d renewal periods; want at most %d (a fleet of %d without a shared store would make about %d)",
			len(ts.times), renewals, max, fleetSize, fleetSize*(renewals+1))
	}
}

func ccFlow(t testing.TB, tokenURL string) *auth.ClientCredentialsFlow {
	t.Helper()
	flow, err := auth.ClientCredentials(&clientcredentials.Config{
		ClientID: testClientID, ClientSecret: testClientSecret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams,
	}, auth.FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flow
}

func passwordFlow(t testing.TB, tokenURL string) *auth.PasswordFlow {
	t.Helper()
	flow, err := auth.Password(&oauth2.Config{
		ClientID: testClientID, ClientSecret: testClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "offline_access"},
	}, testUser, testPassword, auth.FlowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flow
}

// The child side: a test binary re-executed with these variables set is one
// process of the fleet.
const (
	envChild    = "COMPLYKIT_REDISSTORE_CHILD" // "client_credentials" or "password"
	envRedis    = "COMPLYKIT_REDISSTORE_ADDR"
	envTokenURL = "COMPLYKIT_REDISSTORE_TOKEN_URL"
	envKey      = "COMPLYKIT_REDISSTORE_KEY" // hex; a test key
	envStart    = "COMPLYKIT_REDISSTORE_START"
	envEnd      = "COMPLYKIT_REDISSTORE_END"
	resultMark  = "CHILD-RESULT "
)

type childResult struct {
	Tokens  []string `json:"tokens"` // distinct access tokens, in the order seen
	Calls   int      `json:"calls"`
	Errors  []string `json:"errors"`
	Fetches int64    `json:"fetches"` // tokens this process's cache fetched itself
}

// TestChildProcess is one process of a fleet started by TestFleet*; run on
// its own it skips.
func TestChildProcess(t *testing.T) {
	grant := os.Getenv(envChild)
	if grant == "" {
		t.Skip("helper process for the fleet tests")
	}
	key, _ := hex.DecodeString(os.Getenv(envKey))
	start, _ := strconv.ParseInt(os.Getenv(envStart), 10, 64)
	end, _ := strconv.ParseInt(os.Getenv(envEnd), 10, 64)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(envRedis)})
	defer rdb.Close()
	// A generous Timeout: these tests are about the protocol on a loaded
	// machine, and a Redis call timing out is the outage path, tested on
	// its own.
	store, err := redisstore.New(rdb, redisstore.Options{EncryptionKey: key, Timeout: 5 * time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	var src oauth2.TokenSource = ccFlow(t, os.Getenv(envTokenURL))
	if grant == "password" {
		src = passwordFlow(t, os.Getenv(envTokenURL))
	}
	cache, err := auth.NewCache(src, auth.CacheOptions{Store: store, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}

	time.Sleep(time.Until(time.UnixMilli(start)))
	var res childResult
	for time.Now().Before(time.UnixMilli(end)) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		tok, err := cache.TokenContext(ctx)
		cancel()
		res.Calls++
		switch {
		case err != nil:
			if len(res.Errors) < 10 {
				res.Errors = append(res.Errors, err.Error())
			}
		case len(res.Tokens) == 0 || res.Tokens[len(res.Tokens)-1] != tok.AccessToken:
			res.Tokens = append(res.Tokens, tok.AccessToken)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.Fetches = cache.Fetches()
	b, _ := json.Marshal(res)
	fmt.Println(resultMark + string(b))
}

// runFleet runs fleetSize child processes against one Redis and one token
// server and returns what each saw.
func runFleet(t *testing.T, grant string, r *redisServer, ts *tokenServer) (results []childResult, end time.Time) {
	t.Helper()
	start := time.Now().Add(2 * time.Second) // time for every child to start
	end = start.Add(fleetRun)
	env := append(os.Environ(),
		envChild+"="+grant,
		envRedis+"="+r.Addr(),
		envTokenURL+"="+ts.URL(),
		envKey+"="+hex.EncodeToString(testKey(1)),
		envStart+"="+strconv.FormatInt(start.UnixMilli(), 10),
		envEnd+"="+strconv.FormatInt(end.UnixMilli(), 10),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type child struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	children := make([]*child, fleetSize)
	for i := range children {
		c := &child{cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1", "-test.timeout=2m")}
		c.cmd.Env = env
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	for i, c := range children {
		err := c.cmd.Wait()
		if s := strings.TrimSpace(c.stderr.String()); s != "" {
			t.Logf("child %d stderr:\n%s", i, s)
		}
		if err != nil {
			t.Errorf("child %d: %v\n%s", i, err, c.stdout.String())
			continue
		}
		var res childResult
		found := false
		sc := bufio.NewScanner(&c.stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), resultMark); ok {
				found = json.Unmarshal([]byte(line), &res) == nil
			}
		}
		if !found {
			t.Errorf("child %d printed no result:\n%s", i, c.stdout.String())
			continue
		}
		results = append(results, res)
	}
	if len(results) != fleetSize {
		t.FailNow()
	}
	return results, end
}

// checkFleet asserts what every fleet test wants: no caller saw an error,
// every process saw tokens in issue order and more than one of them, and
// every token request came from one cache's fetch.
func checkFleet(t *testing.T, results []childResult, ts *tokenServer) {
	t.Helper()
	var fetches int64
	seen := 0
	for i, res := range results {
		if len(res.Errors) > 0 {
			t.Errorf("child %d: %d errors, e.g. %v", i, len(res.Errors), res.Errors)
		}
		last := 0
		for _, tok := range res.Tokens {
			n, err := strconv.Atoi(strings.TrimPrefix(tok, "acc-"))
			if err != nil || n <= last {
				t.Errorf("child %d saw tokens %v; want acc-N in increasing order", i, res.Tokens)
				break
			}
			last = n
		}
		if len(res.Tokens) < 2 {
			t.Errorf("child %d saw tokens %v; want several lifetimes", i, res.Tokens)
		}
		fetches += res.Fetches
		seen += len(res.Tokens)
	}
	requests := ts.requests()
	if fetches != int64(requests) {
		t.Errorf("the caches fetched %d tokens; the server saw %d requests", fetches, requests)
	}
	t.Logf("%d processes, %d token requests, %d tokens in use across the fleet (%.1f processes per token)",
		len(results), requests, seen, float64(seen)/float64(requests))
}

func TestFleetFetchesOneTokenPerLifetime(t *testing.T) {
	r := startRedis(t)
	ts := newTokenServer(t)
	results, end := runFleet(t, "client_credentials", r, ts)
	checkFleet(t, results, ts)
	ts.checkOneFetchPerRenewal(t, end)
	if got := ts.grants["client_credentials"]; got < 2 {
		t.Errorf("%d client_credentials grants; want one per renewal, at least 2", got)
	}
}

func TestFleetSharesARotatingRefreshToken(t *testing.T) {
	r := startRedis(t)
	ts := newTokenServer(t)
	results, end := runFleet(t, "password", r, ts)
	checkFleet(t, results, ts)
	ts.checkOneFetchPerRenewal(t, end)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	// PasswordFlow signs in again on invalid_grant, which would hide a
	// reuse from the callers: the server's counts are what tell.
	if ts.reuses != 0 || ts.unknowns != 0 {
		t.Errorf("the server saw %d reused and %d unknown refresh tokens; want none", ts.reuses, ts.unknowns)
	}
	if got := ts.grants["password"]; got != 1 {
		t.Errorf("%d password grants; want 1 (the first sign-in, then refreshes only)", got)
	}
	if got := ts.grants["refresh_token"]; got < 2 {
		t.Errorf("%d refresh_token grants; want several refresh cycles", got)
	}
	// And in Redis the token is only ever encrypted.
	keys, _ := r.client(t).Keys(context.Background(), "complykit:token:*").Result()
	for _, k := range keys {
		v, _ := r.client(t).Get(context.Background(), k).Result()
		if strings.Contains(v, "rt-") || strings.Contains(v, "acc-") {
			t.Errorf("Redis value under %s holds a token in clear", k)
		}
	}
}
