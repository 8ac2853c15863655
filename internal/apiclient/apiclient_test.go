package apiclient

import (
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
