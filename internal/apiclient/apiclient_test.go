package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func response(status int, contentType, body string) *http.Response {
	req, _ := http.NewRequest(http.MethodGet, "https://api.example/x", nil)
	req.Header.Set("Authorization", "Bearer echoed-access-token")
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1, Request: req}
}

func TestDecodeJSON(t *testing.T) {
	var out struct{ A int }
	if err := DecodeJSON(response(200, "application/json; charset=utf-8", `{"A":1}`), 0, &out); err != nil || out.A != 1 {
		t.Fatalf("got %v, %+v", err, out)
	}
	if err := DecodeJSON(response(200, "application/graphql-response+json", `{"A":2}`), 0, &out); err != nil || out.A != 2 {
		t.Fatalf("+json: got %v", err)
	}
	for _, tc := range []struct {
		ct, body, want string
		max            int64
	}{
		{"text/html", "<html></html>", `Content-Type "text/html"`, 0},
		{"application/json", `{"A":`, "truncated or malformed", 0},
		{"application/json", `{"A":"x"}`, `field "A" is string, want int`, 0},
		{"application/json", `{"A":1}` + strings.Repeat(" ", 100), "exceeds the 50-byte limit", 50},
	} {
		err := DecodeJSON(response(200, tc.ct, tc.body), tc.max, &out)
		var be *BodyError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %.20q: err = %v; want a BodyError mentioning %q", tc.ct, tc.body, err, tc.want)
		}
	}
}

func TestRedactBearer(t *testing.T) {
	resp := response(401, "application/json", "")
	msg, other := "token echoed-access-token is expired", "nothing here"
	RedactBearer(resp, &msg, &other, nil)
	if msg != "token [redacted] is expired" || other != "nothing here" {
		t.Errorf("got %q, %q", msg, other)
	}
	RedactBearer(nil, &msg) // no response: nothing to do, no panic
}

func TestUserAgent(t *testing.T) {
	if ua := UserAgent(" acme/1.2 "); !strings.HasPrefix(ua, "acme/1.2 complykit-go/") {
		t.Errorf("UserAgent = %q", ua)
	}
	if ua := UserAgent(""); !strings.HasPrefix(ua, "complykit-go/") {
		t.Errorf("UserAgent = %q", ua)
	}
}

type ctxKey struct{}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// Prebuilt sends what the builder built, a fresh copy per call, with the
// client's editors before the call's, and nothing once an editor fails.
func TestPrebuilt(t *testing.T) {
	builds := 0
	build := func(server string) (*http.Request, error) {
		builds++
		return http.NewRequest(http.MethodGet, server+"v1/things", nil)
	}
	var sent []*http.Request
	doer := doerFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r)
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	type editor = func(context.Context, *http.Request) error
	order := ""
	base := []editor{func(_ context.Context, r *http.Request) error {
		order += "base "
		r.Header.Set("X-Base", "1")
		return nil
	}}
	send, err := Prebuilt("https://api.example/root", build, doer, base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "call")
	for i := 0; i < 2; i++ {
		if _, err := send(ctx, func(_ context.Context, r *http.Request) error {
			order += "call "
			r.Header.Add("X-Call", "x") // must not accumulate across calls
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if builds != 1 || len(sent) != 2 || sent[0] == sent[1] {
		t.Fatalf("builds %d, sent %d; want the builder once and a fresh request per call", builds, len(sent))
	}
	for _, r := range sent {
		if r.URL.String() != "https://api.example/root/v1/things" || r.Context() != ctx || len(r.Header["X-Call"]) != 1 || r.Header.Get("X-Base") != "1" {
			t.Errorf("sent %s %v with context %v", r.URL, r.Header, r.Context())
		}
	}
	if order != "base call base call " {
		t.Errorf("editors ran as %q; want the client's before the call's", order)
	}
	boom := errors.New("boom")
	if _, err := send(ctx, func(context.Context, *http.Request) error { return boom }); !errors.Is(err, boom) || len(sent) != 2 {
		t.Errorf("a failing editor: err %v, %d sent; want boom and nothing sent", err, len(sent))
	}
	withBody := func(server string) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, server, strings.NewReader("{}"))
	}
	if _, err := Prebuilt[editor]("https://api.example", withBody, doer, nil); err == nil {
		t.Error("Prebuilt accepted an operation with a body")
	}
}

type item struct {
	N int    `json:"n"`
	S string `json:"s"`
}

func listResponse(body string, contentLength int64) *http.Response {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: contentLength}
}

// DecodeList reads short lists whole and long or unsized ones element by
// element, and both ways agree on every shape, error and limit.
func TestDecodeList(t *testing.T) {
	small := func(body []byte) ([]item, error) {
		var w struct {
			Data []item `json:"data"`
		}
		if b := strings.TrimSpace(string(body)); strings.HasPrefix(b, "[") {
			var out []item
			return out, json.Unmarshal(body, &out)
		}
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, err
		}
		if w.Data == nil {
			return nil, &BodyError{Reason: `response has no "data" list`}
		}
		return w.Data, nil
	}
	elem := func(dec *json.Decoder, out *item) error { return dec.Decode(out) }
	long := `[` + strings.Repeat(`{"n":1,"s":"`+strings.Repeat("x", 100)+`"},`, 1000) + `{"n":2}]`
	for _, tc := range []struct {
		name, body string
		n          int
		max        int64
		want       string // error, or "" for success
	}{
		{"bare array", `[{"n":1},{"n":2}]`, 2, 0, ""},
		{"wrapper, data last", `{"object":"list","extra":{"a":[1,{"b":2}]},"data":[{"n":1}]}`, 1, 0, ""},
		{"wrapper, data first", `{"data":[{"n":1},{"n":2},{"n":3}],"object":"list"}`, 3, 0, ""},
		{"empty", `[]`, 0, 0, ""},
		{"long", long, 1001, 0, ""},
		{"wrong element type", `[{"n":"one"}]`, 0, 0, `field "n" is string, want int`},
		{"truncated", `[{"n":1},{"n":`, 0, 0, "truncated or malformed"},
		{"data after the list", `[{"n":1}] [2]`, 0, 0, "JSON"},
		{"not a list", `"list"`, 0, 0, "not"},
		{"no data member", `{"object":"list"}`, 0, 0, "data"},
		{"data null", `{"object":"list","data":null}`, 0, 0, "data"},
		{"over the limit", long, 0, 4096, "exceeds the 4096-byte limit"},
	} {
		for _, mode := range []string{"sized", "unsized"} {
			cl := int64(len(tc.body))
			if mode == "unsized" {
				cl = -1 // chunked: always streamed
			}
			got, err := DecodeList(listResponse(tc.body, cl), tc.max, "data", small, func() func(*json.Decoder, *item) error { return elem })
			switch {
			case tc.want == "" && (err != nil || len(got) != tc.n):
				t.Errorf("%s/%s: %d items, %v; want %d", tc.name, mode, len(got), err, tc.n)
			case tc.want != "":
				var be *BodyError
				if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.want) || got != nil {
					t.Errorf("%s/%s: %d items, err %v; want a BodyError mentioning %q and nothing decoded", tc.name, mode, len(got), err, tc.want)
				}
			}
		}
	}
}

// A long body of known size is read into one buffer of its size, never
// one that grew to twice the body.
func TestDecodeJSONSizesTheBufferOnce(t *testing.T) {
	body := `{"s":"` + strings.Repeat("x", 3<<20) + `"}`
	var out item
	var ms1, ms2 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	if err := DecodeJSON(listResponse(body, int64(len(body))), 0, &out); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms2)
	if len(out.S) != 3<<20 {
		t.Fatal("not decoded")
	}
	// The body (3 MiB), the decoded string (3 MiB), and small change.
	if got, limit := ms2.TotalAlloc-ms1.TotalAlloc, uint64(2*len(body)+(256<<10)); got > limit {
		t.Errorf("decoding a %d-byte body allocated %d bytes; want at most %d (body + value)", len(body), got, limit)
	}
}
