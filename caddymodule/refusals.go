package caddymodule

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/cesivi/cesivi/internal/httperr"
	"github.com/cesivi/cesivi/internal/oidclogin"
)

// The edge's refusals, in the farm's one error vocabulary (httperr). Each
// message is written here, where the refusal is decided, for the person
// or the script that reads it; causes go to the log only.

// errBadPath: "/health/../admin" would match an anonymous prefix at the
// edge and be resolved to /admin by an upstream that normalises paths.
var errBadPath = httperr.New(http.StatusBadRequest, "BadPath", "the path contains . or .. segments")

var errInvalidToken = httperr.New(http.StatusUnauthorized, "InvalidToken",
	"the bearer token is not valid (expired, revoked, or not issued for this site)")

// storeUnavailable: the session store did not answer. The session may well
// be valid, so the cookie is kept and the client asked to come back.
func storeUnavailable(cause error) *httperr.Error {
	return httperr.Unavailable("SessionStoreUnavailable",
		"sessions are temporarily unavailable; retry in a moment (you are still signed in)", time.Second, cause)
}

// tooManySessions: a client (or every client together) created anonymous
// sessions faster than the edge allows.
func tooManySessions(wait time.Duration) *httperr.Error {
	return &httperr.Error{Status: http.StatusTooManyRequests, Code: "TooManySessions",
		Message: "too many sessions created from your address; wait a moment", RetryAfter: max(wait, time.Second)}
}

// tooManyTokens: a client presented more new bearer tokens than its
// budget of checks at the provider.
func tooManyTokens(wait time.Duration) *httperr.Error {
	return &httperr.Error{Status: http.StatusTooManyRequests, Code: "TooManyTokenChecks",
		Message: "too many new bearer tokens from your address; wait a moment", RetryAfter: max(wait, time.Second)}
}

// providerUnavailable: the identity provider could not tell whether a
// bearer token is valid.
func providerUnavailable(cause error) *httperr.Error {
	return httperr.Unavailable("IdentityProviderUnavailable",
		"the identity provider cannot validate the bearer token right now; retry in a moment", 5*time.Second, cause)
}

// loginRequired names where a client starts the sign-in that would let it
// back to requestURI.
func loginRequired(requestURI string, signInConfigured bool) *httperr.Error {
	msg := "sign in first"
	if !signInConfigured {
		msg = "this path needs a signed-in user, and sign-in is not configured on this edge"
	}
	e := httperr.New(http.StatusUnauthorized, "LoginRequired", msg)
	e.LoginURL = LoginPath + "?rd=" + url.QueryEscape(requestURI)
	return e
}

// signInMessages are what a person is told about a failed sign-in, by the
// flow's sentinel; the wrapped details (addresses, provider answers) go to
// the log.
var signInMessages = []struct {
	err     error
	message string
}{
	{oidclogin.ErrStateUnknown, "the sign-in link has expired or was already used; start again"},
	{oidclogin.ErrBindingMismatch, "the sign-in was started in another browser or its cookie is missing; start again in this browser"},
	{oidclogin.ErrProvider, "the identity provider refused the sign-in"},
	{oidclogin.ErrBadCallback, "the sign-in callback is incomplete (no authorization code); start again"},
	{oidclogin.ErrExchange, "the sign-in could not be completed with the identity provider; start again"},
	{oidclogin.ErrIDToken, "the identity provider's answer could not be verified; start again"},
	{oidclogin.ErrBadReturnTo, "the page to return to after sign-in is not a path on this site"},
}

// signInMessage is the message for a sign-in the flow refused.
func signInMessage(err error) string {
	for _, m := range signInMessages {
		if errors.Is(err, m.err) {
			return m.message
		}
	}
	return "the sign-in could not be completed; start again"
}
