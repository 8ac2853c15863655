package fakeserver

import (
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/complykit/complykit-go/fake"
)

// The sign-in page: what the fakes' authorize endpoints (Stems Accounts',
// CloudCompli's) show the user's browser instead of signing a test user
// in at once, so that a flow can be tested the way a person meets it: a
// form with a username, a password and a consent button.
//
// The authorize endpoint (a GET of the spec) validates its request and
// answers 200 with the page (SignInPage.Begin). The page's form posts to
// SignInURLPath, under the control prefix, which no spec describes: a real
// identity provider posts its login form to pages of its own, which are
// not part of the API either. There a good username and password with
// consent runs Approve (the fake's redirect back to the app with a code),
// Deny answers a refusal, and a wrong password shows the page again with
// an error.

// SignInURLPath is where the sign-in page's form posts.
const SignInURLPath = fake.ControlPrefix + signInPath

const signInPath = "signin"

// Sign-in page element ids and names, for browsers driven by tests
// (BrowseSignIn, chromedp).
const (
	SignInFormID      = "signin"
	SignInUsername    = "username"
	SignInPassword    = "password"
	SignInConsent     = "consent" // the name of both buttons
	SignInAllow       = "allow"   // the value (and id) of the consent button
	SignInDeny        = "deny"    // the value (and id) of the refusal button
	SignInErrorID     = "error"
	signInRequestName = "request"
)

// pendingLifetime is how long a sign-in page stays valid, on the fake's
// clock; maxPending bounds how many can wait at once.
const (
	pendingLifetime = 10 * time.Minute
	maxPending      = 1000
)

// Authorization is an authorize request the fake has validated, waiting
// for the user to sign in on the page.
type Authorization struct {
	// Client is the client id the consent names.
	Client string
	// Scopes are what the consent lists; none for a provider without
	// scopes.
	Scopes []string
	// LoginHint fills the username field (OpenID Connect login_hint).
	LoginHint string
	// Data is the fake's own: where and how to answer.
	Data any
}

// SignInPage serves the fakes' sign-in and consent page. Its zero value is
// not usable: fill Title, Check, Approve and Deny.
type SignInPage struct {
	// Title names the identity provider, e.g. "Stems Accounts".
	Title string
	// Clock dates the pending sign-ins; nil is real time.
	Clock *Clock
	// Check reports whether username and password are a user's.
	Check func(username, password string) bool
	// Approve answers the browser once the user has signed in and
	// consented: the redirect back to the app, with a code.
	Approve func(w http.ResponseWriter, r *http.Request, a *Authorization, username string)
	// Deny answers the browser when the user refused.
	Deny func(w http.ResponseWriter, r *http.Request, a *Authorization)

	mu      sync.Mutex
	pending map[string]*pending
}

type pending struct {
	a       *Authorization
	expires time.Time
}

// Endpoint is the control endpoint the page's form posts to; add it to
// Config.Control.
func (p *SignInPage) Endpoint() ControlEndpoint {
	return ControlEndpoint{Method: http.MethodPost, Path: signInPath, Handle: p.serve}
}

// Begin keeps a until the user answers the page (or for ten minutes on
// the clock) and returns the page to show.
func (p *SignInPage) Begin(a *Authorization) string {
	id := rand.Text()
	now := p.Clock.Now()
	p.mu.Lock()
	if p.pending == nil {
		p.pending = map[string]*pending{}
	}
	if len(p.pending) >= maxPending {
		for k, v := range p.pending {
			if !now.Before(v.expires) {
				delete(p.pending, k)
			}
		}
		for k := range p.pending {
			if len(p.pending) < maxPending {
				break
			}
			delete(p.pending, k)
		}
	}
	p.pending[id] = &pending{a: a, expires: now.Add(pendingLifetime)}
	p.mu.Unlock()
	return p.render(id, a, a.LoginHint, "")
}

// take returns the pending sign-in id names, removing it if remove.
func (p *SignInPage) take(id string, remove bool) *Authorization {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.pending[id]
	if !ok {
		return nil
	}
	if !p.Clock.Now().Before(e.expires) {
		delete(p.pending, id)
		return nil
	}
	if remove {
		delete(p.pending, id)
	}
	return e.a
}

func (p *SignInPage) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	id := r.PostForm.Get(signInRequestName)
	switch r.PostForm.Get(SignInConsent) {
	case SignInDeny:
		a := p.take(id, true)
		if a == nil {
			p.expired(w)
			return
		}
		p.Deny(w, r, a)
		return
	case SignInAllow:
	default:
		p.errorPage(w, http.StatusBadRequest, "The sign-in form was sent without its consent button.")
		return
	}
	a := p.take(id, false)
	if a == nil {
		p.expired(w)
		return
	}
	username, password := r.PostForm.Get(SignInUsername), r.PostForm.Get(SignInPassword)
	if username == "" || password == "" || !p.Check(username, password) {
		page := p.render(id, a, username, "Wrong username or password.")
		writeHTML(w, http.StatusOK, page)
		return
	}
	if p.take(id, true) == nil { // answered twice at once: the first wins
		p.expired(w)
		return
	}
	p.Approve(w, r, a, username)
}

func (p *SignInPage) expired(w http.ResponseWriter) {
	p.errorPage(w, http.StatusBadRequest, "This sign-in has expired or was already used. Start again from the application.")
}

func (p *SignInPage) errorPage(w http.ResponseWriter, status int, msg string) {
	writeHTML(w, status, page(p.Title, `<h1>`+html.EscapeString(p.Title)+`</h1><p id="`+SignInErrorID+`" role="alert">`+html.EscapeString(msg)+`</p>`))
}

// render is the sign-in form for pending request id.
func (p *SignInPage) render(id string, a *Authorization, username, errMsg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<h1>Sign in to %s</h1>`, html.EscapeString(p.Title))
	b.WriteString(`<p class="note">A complykit fake: a test double, not the real service.</p>`)
	if errMsg != "" {
		fmt.Fprintf(&b, `<p id="%s" role="alert">%s</p>`, SignInErrorID, html.EscapeString(errMsg))
	}
	fmt.Fprintf(&b, `<form id="%s" method="post" action="%s">`, SignInFormID, SignInURLPath)
	fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, signInRequestName, html.EscapeString(id))
	fmt.Fprintf(&b, `<label for="%[1]s">Username</label><input id="%[1]s" name="%[1]s" type="text" autocomplete="username" value="%[2]s" required>`,
		SignInUsername, html.EscapeString(username))
	fmt.Fprintf(&b, `<label for="%[1]s">Password</label><input id="%[1]s" name="%[1]s" type="password" autocomplete="current-password" required>`,
		SignInPassword)
	fmt.Fprintf(&b, `<p>The application <b>%s</b> asks to act for you`, html.EscapeString(a.Client))
	if len(a.Scopes) > 0 {
		b.WriteString(` with: <span id="scopes">` + html.EscapeString(strings.Join(a.Scopes, " ")) + `</span>`)
	}
	b.WriteString(`.</p>`)
	fmt.Fprintf(&b, `<button id="%[2]s" type="submit" name="%[1]s" value="%[2]s">Sign in and allow</button> `, SignInConsent, SignInAllow)
	fmt.Fprintf(&b, `<button id="%[2]s" type="submit" name="%[1]s" value="%[2]s" formnovalidate>Deny</button>`, SignInConsent, SignInDeny)
	b.WriteString(`</form>`)
	return page("Sign in to "+p.Title, b.String())
}

func page(title, body string) string {
	return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>` + html.EscapeString(title) +
		`</title><meta name="viewport" content="width=device-width"><style>body{font-family:sans-serif;max-width:28em;margin:3em auto}` +
		`label,input{display:block;margin:.3em 0}input{width:100%}#error{color:#b00}.note{color:#666}</style></head><body>` +
		body + `</body></html>`
}

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
