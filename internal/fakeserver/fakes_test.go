package fakeserver_test

// Each fake's one-call client options, its sample ids and its own
// control endpoints, observed from the provider's real client.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/complykit/complykit-go/auth"
	"github.com/complykit/complykit-go/cloudcompliapi"
	"github.com/complykit/complykit-go/cloudcompliapi/cloudcomplitest"
	"github.com/complykit/complykit-go/fake"
	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
	"github.com/complykit/complykit-go/option"
	"github.com/complykit/complykit-go/stemsapi"
	"github.com/complykit/complykit-go/stemsapi/stemstest"
	"github.com/complykit/complykit-go/stennapi"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// post sends a control request to a fake's control URL and decodes the
// answer; it fails the test unless the status is want.
func post(t *testing.T, controlURL, path, body string, want int) map[string]any {
	t.Helper()
	method := http.MethodPost
	if body == "" {
		method = http.MethodGet
	}
	req, _ := http.NewRequest(method, controlURL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s (%v); want %d", method, path, resp.StatusCode, raw, err, want)
	}
	return out
}

// onlyTheFake checks that a client's first call sent its token request
// and its API request to the fake.
func onlyTheFake(t *testing.T, tokenRequests, apiRequests int) {
	t.Helper()
	if tokenRequests != 1 || apiRequests != 1 {
		t.Fatalf("the fake saw %d token and %d API requests; want 1 of each", tokenRequests, apiRequests)
	}
}

func byKind(samples []fake.Sample, kind string) []fake.Sample {
	var out []fake.Sample
	for _, s := range samples {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

func TestStemsOneCallOptionsSamplesAndRefreshTokens(t *testing.T) {
	ctx := context.Background()
	srv := stemstest.NewServer(t)
	c, err := stemsapi.NewClient(srv.URL, srv.Credentials(), srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListHazards(ctx); err != nil {
		t.Fatal(err)
	}
	onlyTheFake(t, srv.TokenRequests(), srv.APIRequests())
	if got := srv.Requests()[1].Header.Get("X-Company-Context"); got != stemstest.DefaultCompany {
		t.Errorf("X-Company-Context = %q; want ClientOptions' %q", got, stemstest.DefaultCompany)
	}
	other, err := stemsapi.NewClient(srv.URL, srv.Credentials(), srv.ClientOptions(stemsapi.WithCompany(stemstest.OtherCompany))...)
	if err != nil || other.Company() != stemstest.OtherCompany {
		t.Fatalf("a later WithCompany: %v, %v; want it to win", other, err)
	}
	flow, err := stemsapi.NewAuthCodeFlow(srv.ClientID, srv.ClientSecret, "https://app.example/callback", srv.AuthCodeFlowOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := flow.AuthCodeURL("st"); !strings.HasPrefix(u, srv.AuthorizeURL()+"?") {
		t.Errorf("AuthCodeURL = %s; want the fake's authorize endpoint", u)
	}

	// Every sample is served: hazards in their company, approvals by id,
	// events' forms; the foreign company is refused.
	samples := srv.Samples()
	if len(byKind(samples, "company")) != 3 || len(byKind(samples, "hazard")) == 0 || len(byKind(samples, "event")) == 0 {
		t.Fatalf("Samples() = %+v", samples)
	}
	for _, s := range samples {
		company := strings.TrimPrefix(s.Parent, "company ")
		var err error
		switch s.Kind {
		case "company":
			_, err = c.ListHazards(ctx, stemsapi.Company(s.ID))
			if s.ID == stemstest.ForeignCompany {
				var e *stemsapi.Error
				if !errors.As(err, &e) || e.StatusCode != http.StatusForbidden {
					t.Errorf("company %s: %v; want 403", s.ID, err)
				}
				err = nil
			}
		case "hazard":
			if company == stemstest.ForeignCompany {
				continue
			}
			var hs []stemsapi.Hazard
			hs, err = c.ListHazards(ctx, stemsapi.Company(company))
			if err == nil && !strings.Contains(fmt.Sprint(hs), s.Name) {
				err = fmt.Errorf("not among %v", hs)
			}
		case "hazard approval":
			_, err = c.GetHazardApprovalData(ctx, s.ID, stemsapi.Company(company))
		case "event":
			_, err = c.ListEventForms(ctx, s.ID, stemsapi.Company(company))
		default:
			t.Errorf("unexpected sample kind %q", s.Kind)
		}
		if err != nil {
			t.Errorf("sample %+v: %v", s, err)
		}
	}

	// A reused refresh token shows in the control API's count; revoking
	// refresh tokens over HTTP makes the next refresh fail without
	// counting as a reuse.
	form := func(v url.Values) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	creds := url.Values{"client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	first := form(with("grant_type", "password", "username", stemstest.DefaultUsername, "password", stemstest.DefaultPassword, "scope", "openid offline_access"))
	rt, _ := first["refresh_token"].(string)
	second := form(with("grant_type", "refresh_token", "refresh_token", rt))
	if second["refresh_token"] == nil {
		t.Fatalf("refresh: %v", second)
	}
	if reused := form(with("grant_type", "refresh_token", "refresh_token", rt)); reused["error"] != "invalid_grant" {
		t.Fatalf("reuse: %v; want invalid_grant", reused)
	}
	if out := post(t, srv.ControlURL(), "tokens", "", 200); out["reused_refresh_tokens"] != float64(1) || srv.ReusedRefreshTokens() != 1 {
		t.Fatalf("GET tokens = %v; want one reused refresh token", out)
	}
	// Live: the client's (its scopes include offline_access) and second's.
	if out := post(t, srv.ControlURL(), "tokens/revoke", `{"refresh": true}`, 200); out["revoked"] != float64(2) {
		t.Fatalf("revoke refresh tokens = %v; want the two live refresh tokens", out)
	}
	if revoked := form(with("grant_type", "refresh_token", "refresh_token", second["refresh_token"].(string))); revoked["error"] != "invalid_grant" {
		t.Fatalf("refresh after revocation: %v; want invalid_grant", revoked)
	}
	if out := post(t, srv.ControlURL(), "tokens", "", 200); out["reused_refresh_tokens"] != float64(1) {
		t.Fatalf("GET tokens = %v; a revoked refresh token is not a reuse", out)
	}
}

func TestStennOneCallOptionsAndSamples(t *testing.T) {
	srv := stenntest.NewServer(t)
	c, err := stennapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	companies, err := c.ListCompanies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	onlyTheFake(t, srv.TokenRequests(), srv.APIRequests())
	served := map[string]string{}
	for _, co := range companies {
		served[co.Id] = "company"
		for _, ct := range co.Contacts.Data {
			served[ct.Id] = "contact company " + co.Id
		}
	}
	samples := srv.Samples()
	if len(samples) != len(served) {
		t.Errorf("%d samples for %d served records: %+v", len(samples), len(served), samples)
	}
	for _, s := range samples {
		if got := strings.TrimSpace(s.Kind + " " + s.Parent); served[s.ID] != got {
			t.Errorf("sample %+v: served as %q", s, served[s.ID])
		}
	}
}

func TestCloudCompliCredentialsSamplesAndUITokens(t *testing.T) {
	ctx := context.Background()
	srv := cloudcomplitest.NewServer(t)
	c, err := cloudcompliapi.NewClient(srv.URL, srv.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx); err != nil {
		t.Fatal(err)
	}
	onlyTheFake(t, srv.TokenRequests(), srv.APIRequests())

	for _, s := range srv.Samples() {
		var err error
		switch s.Kind {
		case "user": // the user the authorize endpoint signs in
			var u cloudcompliapi.User
			if u, err = signedInUser(t, srv); err == nil && u["id"] != s.ID {
				err = fmt.Errorf("GetUser = %v", u)
			}
		case "company":
			var co cloudcompliapi.Company
			if co, err = c.GetCompany(ctx); err == nil && co["id"] != s.ID {
				err = fmt.Errorf("GetCompany = %v", co)
			}
		case "project":
			var ps []cloudcompliapi.Project
			ps, err = c.ListProjects(ctx)
			found := false
			for _, p := range ps {
				found = found || p.Id == s.ID && "classification "+p.ClassificationId == s.Parent
			}
			if err == nil && !found {
				err = fmt.Errorf("not among %+v", ps)
			}
		case "classification":
			_, err = c.GetClassification(ctx, s.ID)
		case "form":
			_, err = c.GetForm(ctx, s.ID)
		default:
			t.Errorf("unexpected sample kind %q", s.Kind)
		}
		if err != nil {
			t.Errorf("sample %+v: %v", s, err)
		}
	}

	// A token generated over HTTP works like one from the web UI, and
	// revoking it, or all tokens, refuses it.
	gen := post(t, srv.ControlURL(), "tokens/generate", "{}", 200)
	tok, _ := gen["access_token"].(string)
	ui, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ui.GetUser(ctx); err != nil {
		t.Fatalf("generated token: %v", err)
	}
	post(t, srv.ControlURL(), "tokens/revoke", `{"token": "`+tok+`"}`, 200)
	var e *cloudcompliapi.Error
	if _, err := ui.GetUser(ctx); !errors.As(err, &e) || e.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked generated token: %v; want 401", err)
	}
	static, _ := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.StaticToken{Token: srv.StaticToken})
	if _, err := static.GetUser(ctx); err != nil {
		t.Fatalf("UI token: %v", err)
	}
	// Live: the client's token, the signed-in user's and the UI token (the
	// generated one is revoked already).
	if out := post(t, srv.ControlURL(), "tokens/revoke", `{"access": true}`, 200); out["revoked"] != float64(3) {
		t.Fatalf("revoke all = %v; want three live tokens revoked", out)
	}
	if _, err := static.GetUser(ctx); !errors.As(err, &e) || e.StatusCode != http.StatusUnauthorized {
		t.Fatalf("UI token after Revoke All Tokens: %v; want 401", err)
	}
	if _, err := c.GetUser(ctx); err != nil {
		t.Fatalf("client credentials after Revoke All Tokens: %v; want a new token", err)
	}

	// Stored entries, photos included, over HTTP.
	entry, err := c.SubmitFormEntry(ctx, cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, cloudcompliapi.FormEntryData{"notes": "silt fence down"})
	if err != nil {
		t.Fatal(err)
	}
	img := []byte("\x89PNG fake image")
	if _, err := c.AttachPhoto(ctx, cloudcomplitest.SampleProjectID, cloudcomplitest.SampleFormName, entry.Id, cloudcompliapi.PhotoAttachment{Image: img, MIMEType: "image/png"}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Entries []struct {
			ID        string         `json:"id"`
			ProjectID string         `json:"project_id"`
			Fields    map[string]any `json:"fields"`
			Photos    []struct {
				MIMEType string `json:"mime_type"`
				Data     string `json:"data"`
			} `json:"photos"`
		} `json:"entries"`
	}
	b, _ := json.Marshal(post(t, srv.ControlURL(), "entries", "", 200))
	json.Unmarshal(b, &got)
	if len(got.Entries) != 1 || got.Entries[0].ID != entry.Id || got.Entries[0].Fields["notes"] != "silt fence down" ||
		len(got.Entries[0].Photos) != 1 || got.Entries[0].Photos[0].Data != base64.StdEncoding.EncodeToString(img) {
		t.Fatalf("GET entries = %s; want the entry with its photo", b)
	}
}

// signedInUser runs the authorization code grant against the fake and
// returns the user the token acts for.
func signedInUser(t *testing.T, srv *cloudcomplitest.Server) (cloudcompliapi.User, error) {
	t.Helper()
	app := srv.AuthCodeApp("https://app.example/callback")
	flow, err := cloudcompliapi.NewAuthCodeFlow(srv.URL, app)
	if err != nil {
		return nil, err
	}
	authURL, verifier := flow.AuthCodeURL("st")
	callback, err := srv.SignIn(context.Background(), authURL)
	if err != nil {
		return nil, err
	}
	code, err := cloudcompliapi.ParseCallback(callback.URL, "st")
	if err != nil {
		return nil, err
	}
	tok, err := flow.Exchange(context.Background(), code, verifier)
	if err != nil {
		return nil, err
	}
	c, err := cloudcompliapi.NewClient(srv.URL, cloudcompliapi.UserToken{App: app, Token: tok})
	if err != nil {
		return nil, err
	}
	return c.GetUser(context.Background())
}

func TestFirstAMLOneCallOptionsSamplesAndValidationErrors(t *testing.T) {
	ctx := context.Background()
	srv := firstamltest.NewServer(t)
	c, err := firstamlapi.NewClient(srv.ClientID, srv.ClientSecret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onlyTheFake(t, srv.TokenRequests(), srv.APIRequests())

	orgs := map[string]string{}
	offices := map[string]string{}
	for _, o := range me.AccessibleOrganizations {
		orgs[o.OrganizationId] = o.Name
		for _, off := range o.Offices {
			offices[off.Key] = "organization " + o.OrganizationId
		}
	}
	for _, s := range srv.Samples() {
		switch s.Kind {
		case "organization":
			if name, ok := orgs[s.ID]; !ok || name != s.Name {
				t.Errorf("sample %+v: me lists %v", s, orgs)
			}
		case "office":
			if offices[s.ID] != s.Parent {
				t.Errorf("sample %+v: me lists %v", s, offices)
			}
		case "case":
			res, err := c.CaseDetails(ctx, s.ID)
			if ci, ok := res.(*firstamlapi.CaseDetailsResultCaseInformation); err != nil || !ok || ci.CaseId != s.ID {
				t.Errorf("sample %+v: CaseDetails = %#v, %v", s, res, err)
			}
		default:
			t.Errorf("unexpected sample kind %q", s.Kind)
		}
	}
	if len(byKind(srv.Samples(), "case")) == 0 {
		t.Fatal("no sample case")
	}

	post(t, srv.ControlURL(), "validation-errors", `{"errors": [{"message": "Duplicate reference.", "field_path": "reference"}]}`, 200)
	in := firstamlapi.CreateLiteCaseInput{
		OrganizationId: firstamltest.SampleOrganizationID,
		OfficeId:       firstamlapi.Ptr(firstamltest.SampleOfficeKey),
		Individual: firstamlapi.LiteCaseIndividualInput{
			PreferredName: firstamlapi.NameInput{FirstName: "Ana", LastName: "Silva"},
			EmailAddress:  firstamlapi.Ptr("ana@example.com"),
		},
	}
	res, err := c.CreateLiteCase(ctx, in)
	ve, ok := res.(*firstamlapi.CreateCaseResultValidationErrors)
	if err != nil || !ok || len(ve.Errors) != 1 || ve.Errors[0].Message != "Duplicate reference." || len(ve.Errors[0].FieldPath) != 1 || ve.Errors[0].FieldPath[0] != "reference" {
		t.Fatalf("CreateLiteCase = %#v, %v; want the scripted validation error", res, err)
	}
	if res, err := c.CreateLiteCase(ctx, in); err != nil {
		t.Fatal(err)
	} else if _, ok := res.(*firstamlapi.CreateCaseResultCaseInformation); !ok {
		t.Fatalf("second CreateLiteCase = %#v; the script was for one", res)
	}
	for _, bad := range []string{`{}`, `{"times": 0, "errors": [{"message": "x"}]}`, `{"errors": [{"field_path": "x"}]}`, `{"errors": [{"message": "x", "path": "y"}]}`} {
		out := post(t, srv.ControlURL(), "validation-errors", bad, 400)
		if out["error"] != "invalid_request" || !strings.HasPrefix(out["message"].(string), "firstamltest: control: ") {
			t.Errorf("validation-errors %s: %v", bad, out)
		}
	}
}

// The control API is mounted on every fake with the same shared
// endpoints, beside each fake's own.
func TestEveryFakeServesTheControlAPI(t *testing.T) {
	stems := stemstest.NewServer(t)
	stenn := stenntest.NewServer(t)
	cc := cloudcomplitest.NewServer(t)
	faml := firstamltest.NewServer(t)
	for _, f := range []struct {
		name, controlURL string
		samples          []fake.Sample
		own              []string
		requests         func() []fake.Request
	}{
		{"stemstest", stems.ControlURL(), stems.Samples(), nil, stems.Requests},
		{"stenntest", stenn.ControlURL(), stenn.Samples(), nil, stenn.Requests},
		{"cloudcomplitest", cc.ControlURL(), cc.Samples(), []string{"POST /__complykit/tokens/generate", "GET /__complykit/entries"}, cc.Requests},
		{"firstamltest", faml.ControlURL(), faml.Samples(), []string{"POST /__complykit/validation-errors"}, faml.Requests},
	} {
		out := post(t, f.controlURL, "", "", 200)
		if out["fake"] != f.name || out["client_id"] == nil || out["token_url"] == nil {
			t.Errorf("%s: index = %v", f.name, out)
		}
		eps := fmt.Sprint(out["endpoints"])
		for _, want := range append([]string{"POST /__complykit/faults", "GET /__complykit/requests", "POST /__complykit/tokens/revoke"}, f.own...) {
			m := strings.SplitN(want, " ", 2)
			if !strings.Contains(eps, "map[method:"+m[0]+" path:"+m[1]+"]") {
				t.Errorf("%s: endpoints %s lack %s", f.name, eps, want)
			}
		}
		if samples, _ := out["samples"].([]any); len(samples) != len(f.samples) || len(samples) == 0 {
			t.Errorf("%s: index samples %v; want %d", f.name, samples, len(f.samples))
		}
		post(t, f.controlURL, "faults", `{"kind": "status", "status": 503}`, 200)
		if len(f.requests()) != 0 {
			t.Errorf("%s: control requests were logged: %+v", f.name, f.requests())
		}
	}
	// And the fault scripted over HTTP hits each provider's own client.
	ctx := context.Background()
	noRetry := option.WithRetryPolicy(retryOnce)
	sc, _ := stemsapi.NewClient(stems.URL, stems.Credentials(), stems.ClientOptions(noRetry)...)
	_, err1 := sc.ListHazards(ctx)
	tc, _ := stennapi.NewClient(stenn.ClientID, stenn.ClientSecret, stenn.ClientOptions(noRetry)...)
	_, err2 := tc.ListCompanies(ctx)
	ccc, _ := cloudcompliapi.NewClient(cc.URL, cc.Credentials(), noRetry)
	_, err3 := ccc.GetUser(ctx)
	fc, _ := firstamlapi.NewClient(faml.ClientID, faml.ClientSecret, faml.ClientOptions(noRetry)...)
	_, err4 := fc.Me(ctx)
	for i, err := range []error{err1, err2, err3, err4} {
		if err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("client %d: %v; want the scripted 503", i, err)
		}
	}
}

var retryOnce = auth.RetryPolicy{MaxAttempts: 1}
