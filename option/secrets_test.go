package option_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/auth/authtest"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stennapi"
)

// Secrets with the characters real ones carry (base64's + / =) and those
// that every encoding escapes differently.
const (
	echoClientID = "client-id-1"
	echoSecret   = `s3cr3t/Key+With=Sym&bols<>"\ and spaces`
	echoPassword = `P4ss w0rd+/=&<>"\ x`
	echoAccess   = `at+/=&<>"\ access-token-value-0123456789`
)

// dump is the request as an echoing server gives it back: method, URL with
// query, every header, the body.
func dump(r *http.Request, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Method, r.URL.RequestURI())
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s: %s;", k, strings.Join(r.Header[k], ","))
	}
	b.Write([]byte(" body: "))
	b.Write(body)
	return b.String()
}

// echoServer is a token endpoint and an API that echo what they receive:
// in the error body, in the request id and Content-Type headers and in
// expires_in, per mode.
type echoServer struct {
	*httptest.Server
	mu        sync.Mutex
	tokenMode string // "" issues echoAccess
	apiMode   string
}

func newEchoServer(t *testing.T) *echoServer {
	s := &echoServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := dump(r, body)
		oneLine := strings.NewReplacer("\r", " ", "\n", " ").Replace(d)
		s.mu.Lock()
		tm, am := s.tokenMode, s.apiMode
		s.mu.Unlock()
		js := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		}
		if strings.Contains(r.URL.Path, "token") {
			switch tm {
			case "error body":
				js(400, map[string]string{"error": "invalid_request", "error_description": "could not parse request: " + d, "message": d})
			case "headers":
				w.Header().Set("X-Request-Id", oneLine)
				w.Header().Set("Content-Type", "text/plain; echo="+oneLine)
				w.WriteHeader(401)
				io.WriteString(w, d)
			case "expires_in":
				js(200, map[string]string{"access_token": "tok-abc-123", "token_type": "Bearer", "expires_in": d})
			case "token_type":
				js(200, map[string]string{"access_token": "tok-abc-123", "token_type": d, "expires_in": "60"})
			case "plain 503":
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(503)
				io.WriteString(w, d)
			default:
				js(200, map[string]any{"access_token": echoAccess, "token_type": "Bearer", "expires_in": 3600, "refresh_token": echoAccess + "-refresh"})
			}
			return
		}
		switch am {
		case "error body":
			js(400, map[string]any{"error": d, "message": d, "error_description": d, "exception_key": d,
				"errors": []map[string]any{{"message": d, "path": []string{d}, "extensions": map[string]string{"code": d}}}})
		case "graphql errors in a 200":
			js(200, map[string]any{"data": nil, "errors": []map[string]any{{"message": d, "path": []string{d}, "extensions": map[string]string{"code": d}}}})
		case "headers":
			w.Header().Set("X-Request-Id", oneLine)
			w.Header().Set("Content-Type", "text/html; echo="+oneLine)
			w.WriteHeader(500)
			io.WriteString(w, "<html>"+d+"</html>")
		case "content-type on a 200":
			w.Header().Set("Content-Type", "text/plain; echo="+r.Header.Get("Authorization"))
			io.WriteString(w, d)
		case "www-authenticate":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(oneLine, `"`, `'`)+`"`)
			w.WriteHeader(401)
		default:
			js(200, []any{})
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *echoServer) set(token, api string) {
	s.mu.Lock()
	s.tokenMode, s.apiMode = token, api
	s.mu.Unlock()
}

type echoProvider struct {
	name string
	// call builds a fresh client with logger and makes one typed call.
	call func(base string, logger *slog.Logger) error
}

var echoProviders = []echoProvider{
	{"stemsapi", func(base string, logger *slog.Logger) error {
		c, err := stemsapi.NewClient(base, stemsapi.Password(echoClientID, echoSecret, "john@example.com", echoPassword),
			stemsapi.WithTokenURL(base+"/auth/connect/token"), stemsapi.WithCompany("234"), option.WithLogger(logger), noRetry)
		if err != nil {
			return err
		}
		_, err = c.ListHazards(context.Background())
		return err
	}},
	{"stennapi", func(base string, logger *slog.Logger) error {
		c, err := stennapi.NewClient(echoClientID, echoSecret, stennapi.WithBaseURL(base), option.WithLogger(logger), noRetry)
		if err != nil {
			return err
		}
		_, err = c.ListCompanies(context.Background())
		return err
	}},
	{"firstamlapi", func(base string, logger *slog.Logger) error {
		c, err := firstamlapi.NewClient(echoClientID, echoSecret, firstamlapi.WithTokenURL(base+"/oauth/token"),
			firstamlapi.WithGraphQLURL(base+"/graphql/"), option.WithLogger(logger), noRetry)
		if err != nil {
			return err
		}
		_, err = c.Me(context.Background())
		return err
	}},
	{"cloudcompliapi", func(base string, logger *slog.Logger) error {
		c, err := cloudcompliapi.NewClient(base, cloudcompliapi.ClientCredentials{ClientID: echoClientID, ClientSecret: echoSecret},
			option.WithLogger(logger), noRetry)
		if err != nil {
			return err
		}
		_, err = c.GetUser(context.Background())
		return err
	}},
}

var noRetry = option.WithRetryPolicy(auth.RetryPolicy{MaxAttempts: 1})

// Every provider, fed a token endpoint and an API that echo the request
// back (in the error body, in headers, in expires_in), gives an error
// that shows no form of any secret: not in Error(), under any fmt verb, in
// json.Marshal, nor in the lines logged through slog's text and JSON
// handlers.
func TestNoSecretSurvivesAnEchoingServer(t *testing.T) {
	forms := authtest.AllForms(echoSecret, echoPassword, echoAccess, echoAccess+"-refresh")
	forms = append(forms, authtest.BasicForms(echoClientID, echoSecret)...)
	srv := newEchoServer(t)
	for _, p := range echoProviders {
		for _, mode := range []struct{ token, api string }{
			{"error body", ""}, {"headers", ""}, {"expires_in", ""}, {"token_type", ""}, {"plain 503", ""},
			{"", "error body"}, {"", "headers"}, {"", "content-type on a 200"}, {"", "www-authenticate"}, {"", "graphql errors in a 200"},
		} {
			if mode.api == "graphql errors in a 200" && p.name != "firstamlapi" {
				continue // a 200 with a JSON object is a success for the REST APIs
			}
			name := fmt.Sprintf("%s/token=%s/api=%s", p.name, mode.token, mode.api)
			srv.set(mode.token, mode.api)
			var text, js bytes.Buffer
			logger := slog.New(tee{
				slog.NewTextHandler(&text, &slog.HandlerOptions{Level: slog.LevelDebug}),
				slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slog.LevelDebug})})
			err := p.call(srv.URL, logger)
			if err == nil {
				t.Errorf("%s: no error", name)
				continue
			}
			authtest.CheckText(t, name+": Error()", err.Error(), forms)
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
				authtest.CheckText(t, name+": "+verb, fmt.Sprintf(verb, err), forms)
			}
			if b, jerr := json.Marshal(err); jerr == nil {
				authtest.CheckText(t, name+": json.Marshal", string(b), forms)
			}
			var et, ej bytes.Buffer
			slog.New(slog.NewTextHandler(&et, nil)).Error("call failed", "err", err)
			slog.New(slog.NewJSONHandler(&ej, nil)).Error("call failed", "err", err)
			authtest.CheckText(t, name+": slog text of the error", et.String(), forms)
			authtest.CheckText(t, name+": slog JSON of the error", ej.String(), forms)
			authtest.CheckText(t, name+": the client's slog text", text.String(), forms)
			authtest.CheckText(t, name+": the client's slog JSON", js.String(), forms)
			if text.Len() == 0 && mode.token != "" {
				t.Errorf("%s: the client logged nothing about a failed token fetch; the log check proves nothing", name)
			}
		}
	}
}

// tee sends every record to both handlers (slog.NewMultiHandler needs Go
// 1.26; the module supports 1.25).
type tee [2]slog.Handler

func (t tee) Enabled(ctx context.Context, l slog.Level) bool { return t[0].Enabled(ctx, l) }
func (t tee) Handle(ctx context.Context, r slog.Record) error {
	t[0].Handle(ctx, r.Clone())
	return t[1].Handle(ctx, r)
}
func (t tee) WithAttrs(a []slog.Attr) slog.Handler { return tee{t[0].WithAttrs(a), t[1].WithAttrs(a)} }
func (t tee) WithGroup(n string) slog.Handler      { return tee{t[0].WithGroup(n), t[1].WithGroup(n)} }
