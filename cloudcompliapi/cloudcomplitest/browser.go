package cloudcomplitest

import (
	"context"
	"net/http"

	"github.com/complykit/complykit-go/internal/fakeserver"
)

// SignIn does with authURL (from cloudcompliapi.NewAuthCodeFlow's
// AuthCodeURL or NewAuthCodeURL) what the user's browser and the user do
// against this fake: it opens the authorize URL, fills the sign-in page
// with the user's username (Username) and DefaultPassword, presses "Sign
// in and allow", and returns the request that your redirect URI then
// receives: a GET with code and state in the query, ready for
// auth.AuthCodeFlow.ReadCallback, cloudcompliapi.ParseCallback(req.URL,
// state) or your callback handler's ServeHTTP. The request is not sent
// anywhere. SignIn fails if the fake refuses the authorize request (a 400:
// an unknown client, a wrong client_secret, a bad redirect_uri).
func (s *Server) SignIn(ctx context.Context, authURL string) (*http.Request, error) {
	return fakeserver.BrowseSignIn(ctx, "cloudcomplitest", authURL, s.Username(), DefaultPassword, true)
}

// Deny is SignIn with the user pressing "Deny" instead: the request your
// redirect URI receives carries error=access_denied.
func (s *Server) Deny(ctx context.Context, authURL string) (*http.Request, error) {
	return fakeserver.BrowseSignIn(ctx, "cloudcomplitest", authURL, "", "", false)
}
