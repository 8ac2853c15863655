package specs_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/specs"
)

const cloudcompliSpec = "cloudcompli.yaml"

// Seed 003 (CloudCompli's help article on API authentication), verbatim.
const (
	// The client-credentials token request body; the seed sends it with
	// Content-Length: 73.
	cloudcompliSeedClientCredentials = `grant_type=client_credentials&client_id=MY_CLIENT&client_secret=MY_SECRET`
	// The authorization-code exchange body, with the vendor's response_type
	// quirk; the seed sends it with Content-Length: 148.
	cloudcompliSeedAuthCodeExchange = `response_type=code&client_id=MY_CLIENT&client_secret=MY_SECRET&redirect_uri=MY_ENDPOINT&grant_type=authorization_code&code=MY_CODE_FROM_REDIRECT_URI`
	// The token response, identical for both grants.
	cloudcompliSeedTokenResponse = `{
"access_token": "SzmD1ujg3pHKfm0PjUWTFbfEQXbGEwYzFeyWafDF",
"token_type": "Bearer",
"expires_in": 31536000
}`
	// The authorize URL a user is redirected to.
	cloudcompliSeedAuthorizeURL = `https://example.compli.cloud/oauth2/authorize?response_type=code&client_id=MY_CLIENT&client_secret=MY_SECRET&redirect_uri=MY_ENDPOINT`
)

// cloudcompliSeedHeaders are the seed's token request headers (Host and
// Content-Length are set by httptest).
var cloudcompliSeedHeaders = map[string]string{
	"Content-Type":  "application/x-www-form-urlencoded",
	"Accept":        "application/json, */*",
	"Cache-Control": "no-cache",
}

// cloudcompliBearer is the header every /api/v2 example sends.
var cloudcompliBearer = map[string]string{
	"Authorization": "Bearer SzmD1ujg3pHKfm0PjUWTFbfEQXbGEwYzFeyWafDF",
	"Content-Type":  "application/json",
}

func TestCloudCompliSpecLoads(t *testing.T) {
	doc, err := specs.Load(cloudcompliSpec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			}
			got = append(got, op.OperationID)
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: summary and description are required", where)
			}
			src, _ := op.Extensions["x-source"].(string)
			if !slices.Contains([]string{"seed", "docs", "code", "inferred"}, src) {
				t.Errorf("%s: x-source = %q; want seed, docs, code or inferred", where, src)
			}
			if ref, _ := op.Extensions["x-source-ref"].(string); ref == "" {
				t.Errorf("%s: no x-source-ref", where)
			}
		}
	}
	slices.Sort(got)
	want := []string{"attachPhoto", "authorize", "getClassification", "getCompany", "getForm",
		"getPrepopulateData", "getUser", "listProjects", "requestToken", "submitFormEntry"}
	if !slices.Equal(got, want) {
		t.Errorf("operationIds = %q; want %q", got, want)
	}
	if decisions, _ := doc.Info.Extensions["x-decisions"].([]any); len(decisions) == 0 {
		t.Error("info.x-decisions is empty")
	}
	if n := len(doc.Servers); n != 1 {
		t.Fatalf("%d servers; want 1", n)
	}
	srv := doc.Servers[0]
	if srv.URL != "https://{instance}" || srv.Variables["instance"] == nil {
		t.Errorf("server = %q; want https://{instance} with an instance variable", srv.URL)
	}
}

func TestCloudCompliSeedBodiesMatchContentLength(t *testing.T) {
	// The seed's Content-Length headers prove the bodies were copied whole.
	if got := len(cloudcompliSeedClientCredentials); got != 73 {
		t.Errorf("client credentials body is %d bytes; seed says 73", got)
	}
	if got := len(cloudcompliSeedAuthCodeExchange); got != 148 {
		t.Errorf("authorization code body is %d bytes; seed says 148", got)
	}
}

func TestCloudCompliToken(t *testing.T) {
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	valid := []example{
		{
			name: "seed client credentials", method: "POST", target: "/oauth2/token",
			header: cloudcompliSeedHeaders, body: cloudcompliSeedClientCredentials,
			status: 200, respBody: cloudcompliSeedTokenResponse,
		},
		{
			name: "seed authorization code with response_type quirk", method: "POST", target: "/oauth2/token",
			header: cloudcompliSeedHeaders, body: cloudcompliSeedAuthCodeExchange,
			status: 200, respBody: cloudcompliSeedTokenResponse,
		},
		{
			name: "authorization code without the quirk", method: "POST", target: "/oauth2/token",
			header: formCT, body: "grant_type=authorization_code&client_id=c&client_secret=s&code=x&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
		},
		{
			name: "400 RFC 6749 error", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 400, respBody: `{"error":"invalid_grant","error_description":"The authorization code has expired."}`,
		},
		{
			name: "401 invalid_client", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 401, respBody: `{"error":"invalid_client"}`,
		},
		{
			name: "429 with Retry-After", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 429, respHeader: map[string]string{"Retry-After": "3"}, respBody: `{"error":"too_many_requests"}`,
		},
		{
			name: "503", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 503, respBody: `{"error":"temporarily_unavailable"}`,
		},
	}
	for _, e := range valid {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t, cloudcompliSpec); err != nil {
				t.Errorf("got %v; want valid", err)
			}
		})
	}

	invalid := []example{
		{
			name: "unknown grant_type", method: "POST", target: "/oauth2/token",
			header: formCT, body: "grant_type=password&client_id=MY_CLIENT&client_secret=MY_SECRET",
		},
		{
			name: "missing client_secret", method: "POST", target: "/oauth2/token",
			header: formCT, body: "grant_type=client_credentials&client_id=MY_CLIENT",
		},
		{
			name: "JSON body", method: "POST", target: "/oauth2/token",
			header: map[string]string{"Content-Type": "application/json"},
			body:   `{"grant_type":"client_credentials","client_id":"MY_CLIENT","client_secret":"MY_SECRET"}`,
		},
		{
			name: "response without access_token", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 200, respBody: `{"token_type":"Bearer","expires_in":31536000}`,
		},
		{
			name: "expires_in as a string", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 200, respBody: `{"access_token":"a","token_type":"Bearer","expires_in":"31536000"}`,
		},
		{
			name: "error body without error", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 400, respBody: `{"message":"bad"}`,
		},
		{
			name: "429 without Retry-After", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 429, respBody: `{"error":"too_many_requests"}`,
		},
		{
			name: "undeclared status", method: "POST", target: "/oauth2/token",
			header: formCT, body: cloudcompliSeedClientCredentials,
			status: 418, respBody: `{"error":"teapot"}`,
		},
	}
	for _, e := range invalid {
		t.Run(e.name, func(t *testing.T) {
			err := e.check(t, cloudcompliSpec)
			if err == nil {
				t.Fatal("got valid; want a contract violation")
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestCloudCompliAuthorize(t *testing.T) {
	u, err := url.Parse(cloudcompliSeedAuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	seedTarget := u.RequestURI()
	valid := []example{
		{
			name: "seed URL, 302 with code", method: "GET", target: seedTarget,
			status: 302, respHeader: map[string]string{"Location": "MY_ENDPOINT?code=MY_CODE_FROM_REDIRECT_URI"},
		},
		{
			name: "with state (inferred)", method: "GET", target: seedTarget + "&state=xyz",
			status: 302, respHeader: map[string]string{"Location": "https://app.example/cb?code=abc&state=xyz"},
		},
		{
			name: "login page", method: "GET", target: seedTarget,
			status: 200, respHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"}, respBody: "<html></html>",
		},
	}
	for _, e := range valid {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t, cloudcompliSpec); err != nil {
				t.Errorf("got %v; want valid", err)
			}
		})
	}
	// The vendor's own PHP client sends no client_secret on the authorize
	// URL, and PKCE parameters are allowed: both are valid too.
	for _, e := range []example{
		{name: "without client_secret (the PHP client's form)", method: "GET",
			target: "/oauth2/authorize?response_type=code&client_id=MY_CLIENT&redirect_uri=MY_ENDPOINT&state=s"},
		{name: "with PKCE", method: "GET",
			target: "/oauth2/authorize?response_type=code&client_id=MY_CLIENT&redirect_uri=MY_ENDPOINT&code_challenge=abc&code_challenge_method=S256"},
	} {
		if err := e.check(t, cloudcompliSpec); err != nil {
			t.Errorf("%s: got %v; want valid", e.name, err)
		}
	}
	invalid := []example{
		{name: "without client_id", method: "GET",
			target: "/oauth2/authorize?response_type=code&client_secret=MY_SECRET&redirect_uri=MY_ENDPOINT"},
		{name: "PKCE method md5", method: "GET",
			target: "/oauth2/authorize?response_type=code&client_id=MY_CLIENT&redirect_uri=MY_ENDPOINT&code_challenge=abc&code_challenge_method=md5"},
		{name: "response_type=token", method: "GET",
			target: "/oauth2/authorize?response_type=token&client_id=MY_CLIENT&client_secret=MY_SECRET&redirect_uri=MY_ENDPOINT"},
		{name: "302 without Location", method: "GET", target: seedTarget, status: 302},
	}
	for _, e := range invalid {
		t.Run(e.name, func(t *testing.T) {
			err := e.check(t, cloudcompliSpec)
			if err == nil {
				t.Fatal("got valid; want a contract violation")
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestCloudCompliResources(t *testing.T) {
	// The calls of the vendor's PHP sample (example/basic.php), in order.
	const photo = `data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAIAAAACACAYAAADDPmHLAAASOklEQVR4Xu1de5gkVXU/p3qmd4wOKypqfO8GRNgH2/fWzDCuwJoVAxggCETDI4LGICpfNBE+iQ804hcxia8kJCaKSqKJ2RhcFIiJhNWwTHa6TjXsugbJPgIxblDAndkVZqen6+Q7bC3uzk53nVtd3V07U/f7+q8+595zz/3VqVv3PC5C0Q7RwOjo6LP27du3GhGHmPllALDF87zq7t27x7Zt27ZvvqkL59uE2pmPMeYyRPwkADxzjn7uZ+bLwzD8j3bGyBtvAYB4Ray1XwaAixIWKAKAq4joxrwtZFp5CgAAQPzkf0GpxH2e59lqtbpVSZ9rsgUPAHnnT09Pb29i9pst3jgRjeR6ZZXCLXgAGGPORsRblfp6iqxUKj1nfHz8UVe+vNEveABYa/8AAD7gujCe551erVa/7cqXN/oFDwBjzM2IeKnrwiDiW4IguMmVL2/0BQCMuRoRP+66MMw8Oh8+CRc8AHzfX8PMdzkCoAEARxHR4458uSNf8AA49thjFy1evPheAHiFw+p8hYgudqDPLemCB4CsjDHmZES8GwBKipXaVS6Xl4+NjT2moM09SQGAn58Evh0APgEAi1qs2i4A+HUiErDMi1YA4KBlHBoaWhZFkezsh2etrrzzv1oul6+aL0/+gfkVAJjjOR4eHn42M1eY+SVRFH0fETfPhw3fXCarAMC8MOTpJ1EAIL3u5gVnAYB5sYzpJ1EAIL3u5gVnrgFgrTUA8JKDNY2IL2fmo/OofUT8KTM/MEu2h4gozKO8IlPeAfBFAHhTXpWnlOtLRHSZkrbrZAUAOq/yAgBpdWytLSxAWuUp+QoLoFRUG2SFBUirvMICpNWcnq+wAHpdpaUsLEBazRUWIK3m9HyFBdDrKi1lYQHSaq6wAGk1p+fLuwW4EADsrOm8HgCOU0zxPgB4QkGnIXkaAJykIPwvAPinWXREROsUvD0hyTUA5tKItfbrAHCuQlsnENH9CrpEEmutxAv+ZyIhwHoi+jUFXW5ICgAolqIAgEJJ3SIpLEC2mi4sgEKfhQVQKKlbJIUFyFbThQVQ6LOwAAoldYuksADZarqwAAp9FhZAoaRukRQWIFtNLzgLMDo6+rSZmZnlzDwZBIGc3Enhp5atsABJGuri/2ktgDHmDYj4fgA44aAk0L0AMBZF0btqtdr3m02jAEAXFzhpKFcALFu27BkDAwN/BQC/0aLvKUT8/SAIpEbgYa0AQNKqdPF/VwAYYz6PiG9WiiiZv4c5bgoAKLXXDTIXAADALwHANx3keqSvr2/5pk2bHj6YpwCAgwY7TeoCAGb+S0Q8zVGma4noYwUAHLXWLXItAKIoWuZ5ntT1HXSRjZm/FobhBQUAXLTWRVotADzPOzOKojtSiLaTiJYWAEihuW6waAEAACcDgHNlb2auhmF4SIWQYg/QjZVVjuEAAPnevw0ADnmaFcP8BRFJvaCnWgEAhda6ReIIgN8DgN9ykQ0RLwiC4GsFAFy01kVaRwA8AgDfA4DnKUW8jYh+dTZtYQGU2usGmQsAJCjUWvs6AJBA0r4E+X4U3wPwfwUAurGSKcdwBYAMY4yxiPg3sR9grpHXlUqlK5uVfy8sQMrF6gRbGgCIHGvWrBmYnJy8QC6DinMNJgAgYObvhGH4b61kLQDQiZVM2WdaAKQc7km2AgDtaC9j3gIA2Sp0wQWEpFFfYQHSaK1DPMaY9Yh4jqL7rqeGMfOtYRhq0tYU4neH5IiyACtWrDi6XC7vBIDFCvV0HQAAMDE9Pb1ky5YtP1XIlwuSIwoA1trPAcBblJrrBQBEtM8TkdPpo3I+HSE7YgBgjHkHIv6ZUgs/m56efnFWT2Jsef4HAJ6uGZ+Z3xmG4Z9raHtNc0QAIL7X518Vp3kH9PkxIro2S+Vaa/8QAN6r7HMGEU8PgmCDkr5nZLkHwKpVq15WKpWqAPAcpZYmyuXy0qwvdohvGN2h3H+IqI80Go2he++997+VcveELNcAsNbKZu/fAWCFg3auIyK5DDLzZq39IAB82KHjLQBwChHJqWMuW24BEN/m9c9yiuuguYcHBgaO27hx4x4HHjXp6tWrB6empiSZROtdlL43TExMnLFt27Z96oG6SJhXAKC19u/lgiYHXdTj61y/48DjTDo0NHRaFEWyH+l3YP4HInojALADT1dIcwkAa+2nAOB3XDSAiG8LguCzLjxpaX3fv0Iijh35P01E73Lk6Th57gBgrX0PAPyR48xvJKJ3OPK0RW6tlc+8Q0LHFB1eTUR/rKDrGkmuAGCtvQgA/tbxHoO7BgcHX7thw4aZrmltv3u5b8+ePf8CAK92GFdeAZcQ0VcceDpKmhsAVCqVtZ7n3Q4AZYcZ7yiVSsPNAjkc+klFKtfLNRqNccfA0+kois6q1Wp3pho0Y6ZcAGBoaGhVFEWyeTvKYX5ydevqrGoBOox7CGnsKdwIAM9y6GPS87zTqtWq3Fnc09ZzAFQqlZd6njcGAL/ooIknoihaW6vVhK/nrVKpjHqeJ0+0VBTVtl1RFI3WarUHtQydoOspAGITKk/P8Q6TayDi64MguNWBp+Okvu+fw8xSJlZzAfUBeX5QKpVW9+oVJkL0DABSqaNer9/JzKMuq8PMV4RhKPn+uWvGmN9GRKdPUUQc6+/vXzs2NpZVXWMnvfQEABdeeGFpx44dknzhFDyBiB8OguBDTjPsMrHv+x9i5usch12/dOnS89etWyeXVHe19QQAxhhJ277CcaafI6K3OvL0hNxa+9euGUnM/NkwDN/WbYG7DgBr7QcAwMlZg4jfWLJkyXm9eELSLIhYuJ07d97CzGc78n+QiD7iyNMWeVcBYIy5GBHloMelSYbv2iPt+nZr7S8AgHwZSJayujHzJWEYflnN0CZh1wBgjDkZESVAYpGDzC13yZVK5RhElDIweW2LEVE2rIdcf5sg7D5mXhOGoXNqexoldAUAQ0NDL46iSII6XNyouxqNxiubBVTIUezk5OQ9caZPmrnnmedhz/OGqtWqhKF1tHUcACtXrnx6f3+/fOtrrlw5MNnJKIpOrdVqcu3LnC1FcEZHFdmBzu+r1+urN2/e/LMO9P1Ul50GgPj15XDE5RqVaWY+s1W+XpzsKSYyKeO3k7rrRt9fJyK5I6ljcQQdBYBjIKUolBHxoiAIJBhkziZJnnv27JHr2KUCyEJomQe4Hqy0jgHA9/1LmflmxxV6DxH9SSseY8wnEPHdin7rALCVmbcj4onxcbOn4MsdCSL+ZhAEkt6eeesIAGLnyF2OO/7EhIo4PFxSuVvJ/T1EvGr37t1jB8fhScnYRYsWnY6InwGAF2Wuyc52uC+Kold3wvmVOQDiJApxc6o/fRDxu8z8GiKSp3bOFgdkSpTtS5uQyHvyhqmpqeu2bt063ayfONJYQs4u6+yaZd77Q9PT06uySnY5IF3mADDG/CMinu8wfVVQhzHmTxHxnS36dQoL833/DmY+w0HOnpPOVcSyXaEyBUCKYEn53BOfeNNS7TLB+BBJPiWbvcO31+v1k1w+mUZGRl40MzMjBaQ0iabt6jkz/qyDXzMDwNDQ0LL4sEcbFCF+/bODIGhZzdNaK+HXsutf3kyL8ZfD37lqOaXnznWYrOmfiA+JtmbRcSYAiD/NJDZOncHDzO8Ow1DexS2b7/vvY+brWxGVSqWl4+Pjkjbu1Ky1rwWAbzkx5YN4y+Dg4PCGDRum2hUnEwC4hkgj4heCIEis4b9q1arjSqXSZgAYaDHRx4jo2WkUEW9YH+1lYEwauWMepz1PU+vZhgBPslpr5ZTvFod+5BJmX+Pds9bKp2RSatj9RJT2UMiz1sq1MdrXlsM0u0J6HhFJDcTUrS0LsHLlyuf29/fLgmojYsXTNRyGoTzVLZsx5nJEvCmJDgAkiuYoDaBm91WpVE70PC+Td6lCzk6QPFav10/YvHnzj9N23hYArLU3AsCV2sG1hRNGRkaOmpmZkSTM52r69jxvdbVavUdDezCNMeYyeR0p+aTsy3eltiAiEiLWoig6hpmt53l+FEXDPfJMHlbcWjmfJ8lSAyCOh5eDGa1DZj0RqZxCxpgbEPEa7UQQ8VNBEGiOhw/p0hhzOyKeqRhH7hF6OxFJ7eGmzff9cyW0y9HtrRi+JYlkRK1Imx+RGgAO1bpE+h+Wy+WTNEUbhoeHlzQaDXmtuASORIh4ahAEclagakpfxaNy+NTKOTV7sDjUXSyjS2azSuZmRO1UJ0sFgDhFWlv+pBFF0S/XajUxn4nNWitP2yFXtiQy7SfYHh8q/SSJ3lorUUQSoHJ0C9p9cfHoVHsEx4JWSSIn/u953ppqteqcGp8GAOj7/jgz+4lS7Sf4CBFJZY3EZow5RfwCiYTNCX7MzFeGYSgxCHM1iU+QPcvHFQWf3ktEN6SVJd7HyCtS7RNJO5bwIWIQBIHcdOIUO+AMgDiDVxu0+ODExMTxyuoYsjjyVNp2FBHzfouZBUgklsHzvBNlswYAvwIAI0n9S7LGkiVLTmk3CjlOeJViEs56TpKxyf8Xu2YeOwkWl235QQuP3CFyuRzRWmvfBABfTDnxrNlOJqJNWXQaR0Sdl0Vfij5cHrgnu3MCgMO3ufQ9TkQSEp1okuK4wQcA4AWKSXaaZGpwcHAwq3oD1trfBYCWQS5ZToiZ3xyGofbT1hkA2s8mmZNUx7pbMzlrrdztk5fKGZti4GpET6Sx1r4qrnSWSJsFATPfEYbhWdq+1BYgrpMn16kkFkdy8VvH3j5x5LxQK3SH6TI5Yz8gY5wgMumYNdzOFOvlcvn5mk9up1eAtVbq30rOW1KTaJwTiWh7EqH87/ha0XTZFg0zXxOGoWuNopZjWmt/5Fj/oK05AMBbiUjqKic2tQXQbmYk9SsIgksTR95PIDt/+c5O68xRDuNEdjMRyYY0k2atlQqniWcTmQz2805uicPJE7t1AYA4cBL9/cx8ThiG30gcWVyC+49O2/JmacZxpNlKRE2DTxz7Egt3BiKmucLWdaiD6bcQ0UpNB1oAyJMqblNJeGzVpiYmJp6p/O4XANzjWiBCM6k2aRr1en2xS3hZq/F6lMH0OBE9Q/MFpgJApVJ5ged5/6tQrNo3n8Gpn0KcdCSIeG5WJWiMMRsR8ZXpJEnPFUXRC2u1muw9WjYVAKy1YvoTffgAUCMikzSo/G+t/SYAyKWOeWwP9fX1rdi0aZPs3lO3FEGyqceag3ElEclRdCYAENMvBZiTMmueiE1P1GrUkZGR583MzOxyPYhKmkyW/zPzTWEYam8nOWzo2KspD42Y4m430f+gJkhGZQHiJ3YbACTm4pdKpePHx8flVK9pM8ZcEt/k2W3FOI3HzOe3cCw17UuCZPfu3Sv+iFOdBsyOeDsRHavpzgUAslvXFHVK/AY1xtyMiNpPRc08OkUjx9ifKZfL12qreFlrxdn0JcfSd1nLrw6+cQGA1K55v0LSXX19fa9o9f601or5f76ir7yQPOB53uWtws7i0HipDnZ1F0/9munneiKSWkyJTQ0AY8wbELFp2vaskSTRUyp6HeYIMsasRMSmhR8SJe4tgRyFi4tZfjVmPkb2s4gosRGyUXapc9yxmTDzG8Mw/KpmADUAhoeHX95oNMQVrGriD5C05tkbkZTl4FVjFkT7NaDZhx3QlRoAwuD7/reZea2DoiVV+31BEMjJ4JPWwForJdZPd+ijIHXQACLeGQTBa7QsTgCII4HFfLuauvuYWS5YuAsR5RKoI+n9r9VlHujEEXeSS4SwEwBkhsaY6+WpbmO28o2adJ7QRvcLl5WZPxqGoWaj/pSSnAEgRZ6np6clrXrpwlV1Lme+o1wuL9d+rqbaAxxg8n3/LGa+LZdqWKBCIeLrgiCQG1ecmrMFOAgE1zCzXKdamHMnlWdOLEkx1wZBIKHuzi01AOKvAvHnS+3fXpx3O092HjLsRcRLgiBYn3ZubQEg3hTKwY7c3tGseFNa2Qq+1hp4MA6+0Xhpm/bUNgCk5zhNXEKR1dGoxeq2pYHb6/X65e2khbe1CWwmelwfUD4R8+rnb0vrOWC+LYqij2ZZLzATCzBbMb7vV8RxxMziPXS5RCkHOs6dCFJMS97x1wdBUMtauo4A4ICQcXFHuRRKkiPkJ67SpLjCrOd4pPX3OABIWpok1dw9MDAw1qnb0EUxHQXAbM1LEggiVpj5VYi4mpmlZKt41OS30L4kJMhWwsV/gog/ZGaJHbybmSWsrmnF1KzR/P/XyiHq6D1jdwAAAABJRU5ErkJggg==`
	bearer := cloudcompliBearer
	valid := []example{
		{
			name: "GET user (open object)", method: "GET", target: "/api/v2/user", header: bearer,
			status: 200, respBody: `{"name":"Jo","email":"jo@example.com"}`,
		},
		{
			name: "GET company (open object)", method: "GET", target: "/api/v2/company", header: bearer,
			status: 200, respBody: `{"name":"Example Co"}`,
		},
		{
			name: "GET projects (bare array)", method: "GET", target: "/api/v2/projects", header: bearer,
			status: 200, respBody: `[{"id":"563ba09dfd27820b5bd28e58","classification_id":"563ba1f1fd27820b5bd28e5a","name":"Site A"}]`,
		},
		{
			name: "GET classification", method: "GET", target: "/api/v2/classifications/563ba1f1fd27820b5bd28e5a", header: bearer,
			status: 200, respBody: `{"forms":[{"name":"inspection","title":"Inspection"}],"name":"Construction"}`,
		},
		{
			name: "GET form", method: "GET", target: "/api/v2/forms/inspection", header: bearer,
			status: 200, respBody: `{"fields":[{"name":"test_field","type":"text"}]}`,
		},
		{
			name: "GET prepopulate-data", method: "GET", target: "/api/v2/projects/p1/forms/inspection/prepopulate-data", header: bearer,
			status: 200, respBody: `{"test_field":"prefilled"}`,
		},
		{
			name: "POST form entry (sample body)", method: "POST", target: "/api/v2/projects/p1/forms/inspection", header: bearer,
			body:   `{"test_field":"aaa"}`,
			status: 200, respBody: `{"_id":"563ba09dfd27820b5bd28e59","test_field":"aaa"}`,
		},
		{
			name: "POST photo (sample body)", method: "POST", target: "/api/v2/projects/p1/forms/inspection/photo/563ba09dfd27820b5bd28e59", header: bearer,
			body:   `{"photo":"` + photo + `","mime_type":"image/png","description":"Some description"}`,
			status: 200, respBody: `{"data":"` + strings.TrimPrefix(photo, "data:image/png;base64,") + `"}`,
		},
		{
			name: "401 with WWW-Authenticate", method: "GET", target: "/api/v2/user", header: bearer,
			status:     401,
			respHeader: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`},
			respBody:   `{"error":"invalid_token","error_description":"The access token has expired."}`,
		},
		{
			name: "404", method: "GET", target: "/api/v2/forms/nope", header: bearer,
			status: 404, respBody: `{"error":"not_found"}`,
		},
		{
			name: "429", method: "GET", target: "/api/v2/projects", header: bearer,
			status: 429, respHeader: map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, respBody: `{"error":"too_many_requests"}`,
		},
		{
			name: "500", method: "POST", target: "/api/v2/projects/p1/forms/inspection", header: bearer,
			body: `{}`, status: 500, respBody: `{"error":"server_error"}`,
		},
	}
	for _, e := range valid {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t, cloudcompliSpec); err != nil {
				t.Errorf("got %v; want valid", err)
			}
		})
	}
	invalid := []example{
		{
			name: "project without classification_id", method: "GET", target: "/api/v2/projects", header: bearer,
			status: 200, respBody: `[{"id":"p1"}]`,
		},
		{
			name: "projects wrapped in an object", method: "GET", target: "/api/v2/projects", header: bearer,
			status: 200, respBody: `{"data":[{"id":"p1","classification_id":"c1"}]}`,
		},
		{
			name: "classification form without name", method: "GET", target: "/api/v2/classifications/c1", header: bearer,
			status: 200, respBody: `{"forms":[{"title":"x"}]}`,
		},
		{
			name: "form entry response without _id", method: "POST", target: "/api/v2/projects/p1/forms/inspection", header: bearer,
			body: `{"test_field":"aaa"}`, status: 200, respBody: `{"id":"x"}`,
		},
		{
			name: "form entry as an array", method: "POST", target: "/api/v2/projects/p1/forms/inspection", header: bearer,
			body: `[{"test_field":"aaa"}]`,
		},
		{
			name: "photo that is not a data URI", method: "POST", target: "/api/v2/projects/p1/forms/f/photo/e1", header: bearer,
			body: `{"photo":"iVBORw0KGgo=","mime_type":"image/png"}`,
		},
		{
			name: "photo without mime_type", method: "POST", target: "/api/v2/projects/p1/forms/f/photo/e1", header: bearer,
			body: `{"photo":"data:image/png;base64,iVBORw0KGgo="}`,
		},
		{
			name: "photo response data not base64", method: "POST", target: "/api/v2/projects/p1/forms/f/photo/e1", header: bearer,
			body:   `{"photo":"data:image/png;base64,iVBORw0KGgo=","mime_type":"image/png"}`,
			status: 200, respBody: `{"data":"not base64!"}`,
		},
		{
			name: "unknown resource", method: "GET", target: "/api/v2/inspections", header: bearer,
		},
	}
	for _, e := range invalid {
		t.Run(e.name, func(t *testing.T) {
			err := e.check(t, cloudcompliSpec)
			if err == nil {
				t.Fatal("got valid; want a contract violation")
			}
			t.Logf("rejected: %v", err)
		})
	}
}

// TestCloudCompliGeneratedClient checks that the requests the generated
// client builds satisfy the spec they were generated from, including the
// vendor quirks the SDK must reproduce.
func TestCloudCompliGeneratedClient(t *testing.T) {
	const server = "https://example.compli.cloud"
	code, redirect := "MY_CODE_FROM_REDIRECT_URI", "MY_ENDPOINT"
	rt := cloudcompli.TokenRequestResponseTypeCode
	var reqs []*http.Request
	add := func(r *http.Request, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	add(cloudcompli.NewRequestTokenRequestWithFormdataBody(server, cloudcompli.TokenRequest{
		GrantType: cloudcompli.TokenRequestGrantTypeClientCredentials, ClientId: "MY_CLIENT", ClientSecret: "MY_SECRET",
	}))
	add(cloudcompli.NewRequestTokenRequestWithFormdataBody(server, cloudcompli.TokenRequest{
		GrantType: cloudcompli.TokenRequestGrantTypeAuthorizationCode, ClientId: "MY_CLIENT", ClientSecret: "MY_SECRET",
		Code: &code, RedirectUri: &redirect, ResponseType: &rt,
	}))
	secret := "MY_SECRET"
	add(cloudcompli.NewAuthorizeRequest(server, &cloudcompli.AuthorizeParams{
		ResponseType: cloudcompli.AuthorizeParamsResponseTypeCode, ClientId: "MY_CLIENT", ClientSecret: &secret, RedirectUri: redirect,
	}))
	add(cloudcompli.NewGetUserRequest(server))
	add(cloudcompli.NewGetCompanyRequest(server))
	add(cloudcompli.NewListProjectsRequest(server))
	add(cloudcompli.NewGetClassificationRequest(server, "c1"))
	add(cloudcompli.NewGetFormRequest(server, "inspection"))
	add(cloudcompli.NewGetPrepopulateDataRequest(server, "p1", "inspection"))
	add(cloudcompli.NewSubmitFormEntryRequest(server, "p1", "inspection", cloudcompli.FormEntryData{"test_field": "aaa"}))
	desc := "Some description"
	add(cloudcompli.NewAttachPhotoRequest(server, "p1", "inspection", "e1", cloudcompli.PhotoUpload{
		Photo: "data:image/png;base64,iVBORw0KGgo=", MimeType: "image/png", Description: &desc,
	}))

	v := validator(t, cloudcompliSpec)
	for _, r := range reqs {
		if _, err := v.ValidateRequest(context.Background(), r, r.URL.Path); err != nil {
			t.Errorf("%s %s: %v", r.Method, r.URL, err)
		}
	}
	// The authorization-code exchange carries the seed's fields (form order
	// aside).
	body, err := io.ReadAll(reqs[1].Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := url.ParseQuery(string(body))
	want, _ := url.ParseQuery(cloudcompliSeedAuthCodeExchange)
	if got.Encode() != want.Encode() {
		t.Errorf("authorization code body = %q; want the seed's %q", got.Encode(), want.Encode())
	}
}

// TestCloudCompliStrictServer runs the generated strict server and client
// against each other: the form body is bound on the server side, and the
// 429 Retry-After header is parsed on the client side.
func TestCloudCompliStrictServer(t *testing.T) {
	impl := &cloudcompliTokenServer{}
	h := cloudcompli.HandlerFromMux(cloudcompli.NewStrictHandler(impl, nil), http.NewServeMux())
	v := validator(t, cloudcompliSpec)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, err := v.ValidateRequest(r.Context(), r, r.URL.Path)
		if err != nil {
			t.Errorf("request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := x.ValidateResponse(r.Context(), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("response: %v", err)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()

	c, err := cloudcompli.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := c.RequestTokenWithFormdataBodyWithResponse(ctx, cloudcompli.TokenRequest{
		GrantType: cloudcompli.TokenRequestGrantTypeClientCredentials, ClientId: "MY_CLIENT", ClientSecret: "MY_SECRET",
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil || resp.JSON200.AccessToken != "SzmD1ujg3pHKfm0PjUWTFbfEQXbGEwYzFeyWafDF" || resp.JSON200.ExpiresIn != 31536000 {
		t.Fatalf("token response = %d %s; want the seed's token", resp.StatusCode(), resp.Body)
	}
	if got := impl.last; got.ClientId != "MY_CLIENT" || got.ClientSecret != "MY_SECRET" || got.GrantType != cloudcompli.TokenRequestGrantTypeClientCredentials {
		t.Errorf("server bound %+v; want the client's fields", got)
	}

	resp, err = c.RequestTokenWithFormdataBodyWithResponse(ctx, cloudcompli.TokenRequest{
		GrantType: cloudcompli.TokenRequestGrantTypeClientCredentials, ClientId: "limited", ClientSecret: "MY_SECRET",
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 429 || resp.JSON429 == nil || resp.Headers429 == nil || resp.Headers429.RetryAfter != "7" {
		t.Errorf("got %d %+v; want 429 with Retry-After 7", resp.StatusCode(), resp.Headers429)
	}
}

type cloudcompliTokenServer struct {
	cloudcompli.StrictServerInterface // unimplemented operations panic
	last                              cloudcompli.TokenRequest
}

func (s *cloudcompliTokenServer) RequestToken(_ context.Context, req cloudcompli.RequestTokenRequestObject) (cloudcompli.RequestTokenResponseObject, error) {
	s.last = *req.Body
	if req.Body.ClientId == "limited" {
		return cloudcompli.RequestToken429JSONResponse{TooManyRequestsJSONResponse: cloudcompli.TooManyRequestsJSONResponse{
			Body:    cloudcompli.OAuthError{Error: "too_many_requests"},
			Headers: cloudcompli.TooManyRequestsResponseHeaders{RetryAfter: "7"},
		}}, nil
	}
	var tok cloudcompli.TokenResponse
	if err := json.Unmarshal([]byte(cloudcompliSeedTokenResponse), &tok); err != nil {
		return nil, err
	}
	return cloudcompli.RequestToken200JSONResponse(tok), nil
}
