package stemstest

import (
	"context"
	"net/http"
	"net/url"

	"github.com/complykit/complykit-go/internal/fakeserver"
)

// SignIn does with authURL (from an authorization code flow's AuthCodeURL
// or NewAuthCodeURL) what the user's browser and the user do against this
// fake: it opens the authorize URL, fills the sign-in page with the
// user's username and password, presses "Sign in and allow", and returns
// the request that your redirect URI then receives, ready for
// auth.AuthCodeFlow.ReadCallback or your callback handler's ServeHTTP:
//
//   - with response_mode=form_post (stemsapi's default), a POST of the
//     code and state as a form;
//   - with response_mode=query, a GET with them in the query;
//   - without a response mode, a GET of the redirect URI without its
//     fragment, which is what a server sees of a fragment-encoded answer:
//     no code at all.
//
// The user is the one WithAuthorizeUser names (DefaultUsername by
// default), or the known user the authorize URL's login_hint names. The
// request is not sent anywhere. An authorize request the fake refuses by
// redirecting (an unknown scope, say) comes back the same way, with error
// and error_description; SignIn fails if the fake answers with an error
// page (an unknown client, a bad redirect_uri).
func (s *Server) SignIn(ctx context.Context, authURL string) (*http.Request, error) {
	u := s.signInUser(authURL)
	return fakeserver.BrowseSignIn(ctx, "stemstest", authURL, u.username, u.password, true)
}

// Deny is SignIn with the user pressing "Deny" instead: the request your
// redirect URI receives carries error=access_denied, which
// auth.AuthCodeFlow.ReadCallback returns as an *auth.AuthorizationError.
func (s *Server) Deny(ctx context.Context, authURL string) (*http.Request, error) {
	return fakeserver.BrowseSignIn(ctx, "stemstest", authURL, "", "", false)
}

// signInUser is the user SignIn signs in as.
func (s *Server) signInUser(authURL string) user {
	if u, err := url.Parse(authURL); err == nil {
		if hint := u.Query().Get("login_hint"); hint != "" {
			if known, ok := s.user(hint); ok {
				return known
			}
		}
	}
	u, _ := s.user(s.authorizeUser)
	return u
}
