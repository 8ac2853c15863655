package firstamltest

import (
	"bytes"
	"context"
	"net/http"
	"slices"

	"github.com/complykit/complykit-go/gen/firstaml"
	"github.com/complykit/complykit-go/internal/fakeserver"
)

// DownloadDocument serves a document file's contentsUrl: the file, or a
// 302 to its RedirectURL (storage on another host, where First AML's
// documents page says the Authorization header must not follow). The
// contract already requires the bearer token (401 without a valid one);
// the read-only scope is needed too (403).
func (a *api) DownloadDocument(ctx context.Context, req firstaml.DownloadDocumentRequestObject) (firstaml.DownloadDocumentResponseObject, error) {
	if msg := checkUserAgent(req.Params.UserAgent); msg != "" {
		return firstaml.DownloadDocument400JSONResponse(documentError(msg, "BAD_REQUEST")), nil
	}
	var grant fakeserver.Grant
	if r, ok := ctx.Value(requestKey{}).(*http.Request); ok {
		if tok, ok := fakeserver.BearerToken(r); ok {
			grant, _ = a.s.Issuer.Authenticate(tok)
		}
	}
	if !slices.Contains(grant.Scopes, scopeReadOnly) {
		return firstaml.DownloadDocument403JSONResponse(documentError(
			"You are not authorized to perform this operation: the "+scopeReadOnly+" scope is required.", "FORBIDDEN")), nil
	}
	f, ok := a.s.file(req.DocumentId)
	if !ok {
		return firstaml.DownloadDocument404JSONResponse(documentError("The document does not exist or is not accessible to this API client.", "NOT_FOUND")), nil
	}
	if f.RedirectURL != "" {
		return firstaml.DownloadDocument302Response{Headers: firstaml.DownloadDocument302ResponseHeaders{Location: f.RedirectURL}}, nil
	}
	return firstaml.DownloadDocument200ApplicationoctetStreamResponse{Body: bytes.NewReader(f.Contents), ContentLength: int64(len(f.Contents))}, nil
}

func documentError(msg, code string) firstaml.GraphQLResponse {
	return firstaml.GraphQLResponse{Errors: []firstaml.GraphQLError{gqlError(msg, code)}}
}

// file finds a document file of a case the client can access.
func (s *Server) file(documentID string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cases {
		if s.org(c.OrganizationID) == nil {
			continue
		}
		docs := append([]Document(nil), c.Documents...)
		for _, ind := range c.Individuals {
			docs = append(docs, ind.Documents...)
		}
		for _, ent := range c.Entities {
			docs = append(docs, ent.Documents...)
		}
		for _, d := range docs {
			for _, f := range d.Files {
				if f.DocumentID == documentID {
					f.Contents = append([]byte(nil), f.Contents...)
					return f, true
				}
			}
		}
	}
	return File{}, false
}
