package cloudcomplitest

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/complykit/complykit-go/gen/cloudcompli"
	"github.com/complykit/complykit-go/internal/fakeserver"
)

// api implements the generated strict server.
type api struct{ s *Server }

var _ cloudcompli.StrictServerInterface = (*api)(nil)

func (a *api) RequestToken(_ context.Context, req cloudcompli.RequestTokenRequestObject) (cloudcompli.RequestTokenResponseObject, error) {
	b := req.Body
	if b == nil {
		return cloudcompli.RequestToken400JSONResponse{BadRequestJSONResponse: cloudcompli.BadRequestJSONResponse(oauthError("invalid_request", "missing form body"))}, nil
	}
	if b.ClientId != a.s.ClientID || b.ClientSecret != a.s.ClientSecret {
		return cloudcompli.RequestToken401JSONResponse{UnauthorizedJSONResponse: cloudcompli.UnauthorizedJSONResponse{
			Body: oauthError("invalid_client", "Client authentication failed"),
		}}, nil
	}
	badRequest := func(code, msg string) (cloudcompli.RequestTokenResponseObject, error) {
		return cloudcompli.RequestToken400JSONResponse{BadRequestJSONResponse: cloudcompli.BadRequestJSONResponse(oauthError(code, msg))}, nil
	}
	var issued fakeserver.Issued
	switch b.GrantType {
	case cloudcompli.TokenRequestGrantTypeClientCredentials:
		issued = a.s.Issuer.Issue(fakeserver.Grant{ClientID: b.ClientId}, false, false)
	case cloudcompli.TokenRequestGrantTypeAuthorizationCode:
		if b.Code == nil || *b.Code == "" || b.RedirectUri == nil || *b.RedirectUri == "" {
			return badRequest("invalid_request", "code and redirect_uri are required for grant_type=authorization_code")
		}
		// response_type=code is in the seed's exchange and not in the
		// vendor's PHP client's: both forms are accepted (the contract
		// refuses any other value). A code issued with a PKCE challenge
		// needs its verifier.
		verifier := ""
		if b.CodeVerifier != nil {
			verifier = *b.CodeVerifier
		}
		g, err := a.s.Issuer.Redeem(*b.Code, b.ClientId, *b.RedirectUri, verifier)
		if err != nil {
			return badRequest("invalid_grant", "the authorization code is invalid, expired, already used, or was issued for another client or redirect_uri")
		}
		issued = a.s.Issuer.Issue(g, false, false)
	default:
		return badRequest("unsupported_grant_type", "unsupported grant_type")
	}
	return cloudcompli.RequestToken200JSONResponse{
		AccessToken: issued.AccessToken,
		TokenType:   "Bearer",
		ExpiresIn:   int32(issued.ExpiresIn),
	}, nil
}

func (a *api) Authorize(_ context.Context, req cloudcompli.AuthorizeRequestObject) (cloudcompli.AuthorizeResponseObject, error) {
	p := req.Params
	bad := func(code, msg string) (cloudcompli.AuthorizeResponseObject, error) {
		// RFC 6749 section 4.1.2.1: an unknown client or a bad redirect_uri
		// is shown to the user, never redirected.
		return cloudcompli.Authorize400JSONResponse{BadRequestJSONResponse: cloudcompli.BadRequestJSONResponse(oauthError(code, msg))}, nil
	}
	// Both observed forms: the seed's, with client_secret on the URL, and
	// the vendor's PHP client's, without it. A secret that is sent must be
	// right.
	if p.ClientId != a.s.ClientID || (p.ClientSecret != nil && *p.ClientSecret != a.s.ClientSecret) {
		return bad("invalid_client", "unknown client_id or wrong client_secret")
	}
	challenge, method := "", ""
	if p.CodeChallenge != nil {
		challenge = *p.CodeChallenge
		method = "plain" // RFC 7636 section 4.3
		if p.CodeChallengeMethod != nil {
			method = string(*p.CodeChallengeMethod)
		}
	}
	u, err := url.Parse(p.RedirectUri)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		return bad("invalid_request", "redirect_uri must be an absolute URI without a fragment")
	}
	// The sign-in and consent page; approve and deny answer it.
	pa := &pendingAuth{client: p.ClientId, redirectURI: p.RedirectUri, redirect: u, challenge: challenge, method: method}
	if p.State != nil {
		pa.state = *p.State
	}
	page := a.s.signIn.Begin(&fakeserver.Authorization{Client: p.ClientId, Data: pa})
	return cloudcompli.Authorize200TexthtmlResponse{Body: strings.NewReader(page), ContentLength: int64(len(page))}, nil
}

// pendingAuth is an authorize request waiting on the sign-in page.
type pendingAuth struct {
	client            string
	redirectURI       string // as sent, which the exchange must repeat
	redirect          *url.URL
	state             string
	challenge, method string
}

// back sends the browser back to the app with params in the query.
func (pa *pendingAuth) back(w http.ResponseWriter, params url.Values) {
	q := pa.redirect.Query()
	for k, v := range params {
		q[k] = v
	}
	if pa.state != "" {
		q.Set("state", pa.state)
	}
	u := *pa.redirect
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// approve answers the sign-in page once the user has signed in and
// consented: a single-use code for the request.
func (s *Server) approve(w http.ResponseWriter, _ *http.Request, a *fakeserver.Authorization, _ string) {
	pa := a.Data.(*pendingAuth)
	userID, _ := s.data.User["id"].(string)
	code := s.Issuer.NewCode(fakeserver.Grant{ClientID: pa.client, Subject: userID}, pa.redirectURI, pa.challenge, pa.method)
	pa.back(w, url.Values{"code": {code}})
}

// deny answers the sign-in page's refusal: access_denied (RFC 6749
// section 4.1.2.1).
func (s *Server) deny(w http.ResponseWriter, _ *http.Request, a *fakeserver.Authorization) {
	a.Data.(*pendingAuth).back(w, url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"}})
}

func (a *api) GetUser(ctx context.Context, _ cloudcompli.GetUserRequestObject) (cloudcompli.GetUserResponseObject, error) {
	g := grantFrom(ctx)
	if g.Subject != "" {
		return cloudcompli.GetUser200JSONResponse(a.s.data.User), nil
	}
	// A client-level token (client credentials or the web UI) acts for the
	// API client, not a user (inferred).
	return cloudcompli.GetUser200JSONResponse{"id": g.ClientID, "type": "api_client", "name": "API client " + g.ClientID}, nil
}

func (a *api) GetCompany(context.Context, cloudcompli.GetCompanyRequestObject) (cloudcompli.GetCompanyResponseObject, error) {
	return cloudcompli.GetCompany200JSONResponse(a.s.data.Company), nil
}

func (a *api) ListProjects(context.Context, cloudcompli.ListProjectsRequestObject) (cloudcompli.ListProjectsResponseObject, error) {
	return cloudcompli.ListProjects200JSONResponse(append([]cloudcompli.Project{}, a.s.data.Projects...)), nil
}

func notFound(msg string) cloudcompli.NotFoundJSONResponse {
	return cloudcompli.NotFoundJSONResponse(oauthError("not_found", msg))
}

func (a *api) GetClassification(_ context.Context, req cloudcompli.GetClassificationRequestObject) (cloudcompli.GetClassificationResponseObject, error) {
	c, ok := a.s.data.Classifications[req.ClassificationId]
	if !ok {
		return cloudcompli.GetClassification404JSONResponse{NotFoundJSONResponse: notFound("no classification " + req.ClassificationId)}, nil
	}
	if c.Forms == nil {
		c.Forms = []cloudcompli.FormSummary{}
	}
	return cloudcompli.GetClassification200JSONResponse(c), nil
}

func (a *api) GetForm(_ context.Context, req cloudcompli.GetFormRequestObject) (cloudcompli.GetFormResponseObject, error) {
	f, ok := a.s.data.Forms[req.FormName]
	if !ok {
		return cloudcompli.GetForm404JSONResponse{NotFoundJSONResponse: notFound("no form " + req.FormName)}, nil
	}
	return cloudcompli.GetForm200JSONResponse(f), nil
}

// projectForm checks that the project exists and that its classification
// lists the form; it returns a 404 message otherwise.
func (s *Server) projectForm(projectID, formName string) string {
	i := slices.IndexFunc(s.data.Projects, func(p cloudcompli.Project) bool { return p.Id == projectID })
	if i < 0 {
		return "no project " + projectID
	}
	c := s.data.Classifications[s.data.Projects[i].ClassificationId]
	if !slices.ContainsFunc(c.Forms, func(f cloudcompli.FormSummary) bool { return f.Name == formName }) {
		return fmt.Sprintf("project %s has no form %s", projectID, formName)
	}
	return ""
}

func (a *api) GetPrepopulateData(_ context.Context, req cloudcompli.GetPrepopulateDataRequestObject) (cloudcompli.GetPrepopulateDataResponseObject, error) {
	if msg := a.s.projectForm(req.ProjectId, req.FormName); msg != "" {
		return cloudcompli.GetPrepopulateData404JSONResponse{NotFoundJSONResponse: notFound(msg)}, nil
	}
	d := a.s.data.Prepopulate[FormKey{ProjectID: req.ProjectId, FormName: req.FormName}]
	if d == nil {
		d = cloudcompli.PrepopulateData{}
	}
	return cloudcompli.GetPrepopulateData200JSONResponse(d), nil
}

func (a *api) SubmitFormEntry(_ context.Context, req cloudcompli.SubmitFormEntryRequestObject) (cloudcompli.SubmitFormEntryResponseObject, error) {
	if msg := a.s.projectForm(req.ProjectId, req.FormName); msg != "" {
		return cloudcompli.SubmitFormEntry404JSONResponse{NotFoundJSONResponse: notFound(msg)}, nil
	}
	if req.Body == nil {
		return cloudcompli.SubmitFormEntry400JSONResponse{BadRequestJSONResponse: cloudcompli.BadRequestJSONResponse(oauthError("invalid_request", "missing JSON body"))}, nil
	}
	s := a.s
	s.mu.Lock()
	e := &Entry{
		// A MongoDB-style 24-hex id, deterministic so that examples can
		// print it.
		ID:        fmt.Sprintf("64b7f0c2a1e4d3%010x", len(s.entries)+1),
		ProjectID: req.ProjectId,
		FormName:  req.FormName,
		Fields:    maps.Clone(map[string]any(*req.Body)),
	}
	s.entries = append(s.entries, e)
	s.entryIDs[e.ID] = e
	s.mu.Unlock()
	return cloudcompli.SubmitFormEntry200JSONResponse{Id: e.ID, AdditionalProperties: map[string]any{
		"project_id": e.ProjectID,
		"form_name":  e.FormName,
		"created_at": s.clock.Now().UTC().Format(time.RFC3339),
	}}, nil
}

func (a *api) AttachPhoto(_ context.Context, req cloudcompli.AttachPhotoRequestObject) (cloudcompli.AttachPhotoResponseObject, error) {
	s := a.s
	s.mu.Lock()
	e := s.entryIDs[req.EntryId]
	s.mu.Unlock()
	if e == nil || e.ProjectID != req.ProjectId || e.FormName != req.FormName {
		return cloudcompli.AttachPhoto404JSONResponse{NotFoundJSONResponse: notFound(fmt.Sprintf("no entry %s of form %s in project %s", req.EntryId, req.FormName, req.ProjectId))}, nil
	}
	bad := func(msg string) (cloudcompli.AttachPhotoResponseObject, error) {
		return cloudcompli.AttachPhoto400JSONResponse{BadRequestJSONResponse: cloudcompli.BadRequestJSONResponse(oauthError("invalid_request", msg))}, nil
	}
	if req.Body == nil {
		return bad("missing JSON body")
	}
	b := req.Body
	data, mt, err := decodeDataURI(b.Photo)
	if err != nil {
		return bad("photo: " + err.Error())
	}
	declared, _, err := mime.ParseMediaType(b.MimeType)
	if err != nil || !strings.HasPrefix(declared, "image/") {
		return bad("mime_type must be an image media type")
	}
	if declared != mt {
		return bad(fmt.Sprintf("mime_type %s does not match the data URI's %s", declared, mt))
	}
	p := EntryPhoto{MIMEType: declared, Data: data}
	if b.Description != nil {
		p.Description = *b.Description
	}
	s.mu.Lock()
	e.Photos = append(e.Photos, p)
	s.mu.Unlock()
	extra := map[string]any{"entry_id": e.ID, "mime_type": p.MIMEType}
	if p.Description != "" {
		extra["description"] = p.Description
	}
	return cloudcompli.AttachPhoto200JSONResponse{Data: data, AdditionalProperties: extra}, nil
}

// decodeDataURI decodes "data:<media type>;base64,<data>", the only form
// the contract allows.
func decodeDataURI(uri string) ([]byte, string, error) {
	rest, ok := strings.CutPrefix(uri, "data:")
	if !ok {
		return nil, "", fmt.Errorf("not a data URI")
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, "", fmt.Errorf("data URI without a comma")
	}
	mt, ok := strings.CutSuffix(meta, ";base64")
	if !ok {
		return nil, "", fmt.Errorf("data URI is not base64")
	}
	mt = strings.ToLower(mt)
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, "", fmt.Errorf("data URI is not valid base64")
	}
	if len(data) == 0 {
		return nil, "", fmt.Errorf("empty image")
	}
	return data, mt, nil
}
