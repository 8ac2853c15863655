package apiclient

import (
	"context"
	"errors"
	"io"
	"net/http"
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
