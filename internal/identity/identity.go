// Package identity carries who a request is for from the edge to the app
// servers: the edge mints a short-lived assertion with the farm's key ring
// and sends it in AssertionHeader; every app server verifies it with the
// same ring and nothing else (no call back to the edge, no shared session
// lookup). The assertion also proves that a request came through an edge:
// an app server refuses requests without one except on its public paths.
package identity

import (
	"context"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/httperr"
	"github.com/cesivi/cesivi/keyring"
)

// AssertionHeader carries the assertion. It is in the X-Cesivi- namespace
// the edge strips from every incoming request, so a client cannot send one.
const AssertionHeader = "X-Cesivi-Assertion"

// DefaultAudience is the audience edges mint for and servers require.
const DefaultAudience = "cesivi-server"

// User is the verified identity of a request. An anonymous session has a
// SessionID and no Subject; a request without any session has neither.
type User struct {
	Subject   string
	Name      string
	Email     string
	Groups    []string
	SessionID string
}

// Authenticated reports whether a signed-in user made the request.
func (u *User) Authenticated() bool { return u != nil && u.Subject != "" }

type ctxKey struct{}

// FromContext returns the request's verified identity, or nil when the
// request carried no assertion (only possible on public paths, or with
// RequireAssertion off).
func FromContext(ctx context.Context) *User {
	u, _ := ctx.Value(ctxKey{}).(*User)
	return u
}

// NewContext returns ctx carrying u.
func NewContext(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// Verifier is the app server's middleware.
type Verifier struct {
	Ring     *keyring.Ring
	Audience string // default DefaultAudience
	// Required refuses requests without an assertion (401) outside
	// Public. Off only for single-node development without an edge.
	Required bool
	// Public lists paths served without an assertion: exact paths, or
	// prefixes ending in "/" ("/" alone is the root only). Health probes
	// and metrics come from load balancers and Prometheus, not an edge.
	Public []string
	// Refused, if set, is told the reason of each refusal (metrics, logs).
	Refused func(reason string)
}

// Wrap verifies the assertion of every request before next sees it. An
// invalid assertion is always refused, even on a public path: it means a
// broken edge, a revoked key or an attack, never a normal client.
func (v *Verifier) Wrap(next http.Handler) http.Handler {
	aud := v.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get(AssertionHeader)
		if token == "" {
			if v.Required && !v.isPublic(r.URL.Path) {
				v.refuse(w, "missing", "this server only answers requests that come through a Cesivi edge (no identity assertion)")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		a, err := v.Ring.VerifyAssertion(token, aud, Request(r))
		if err != nil {
			v.refuse(w, keyring.Reason(err), "the identity assertion was refused: "+keyring.Explain(err))
			return
		}
		u := &User{Subject: a.Subject, Name: a.Name, Email: a.Email, Groups: a.Groups, SessionID: a.SessionID}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), u)))
	})
}

// Request names r as assertions bind it: the method, a space and the
// request URI as received ("GET /a?b=1"). The edge mints for the request
// it forwards, which is this one unless a proxy between them rewrote it.
func Request(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" { // a request built in the process, not read off the wire
		uri = r.URL.RequestURI()
	}
	return r.Method + " " + uri
}

func (v *Verifier) isPublic(path string) bool {
	for _, p := range v.Public {
		if path == p || (len(p) > 1 && strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}

func (v *Verifier) refuse(w http.ResponseWriter, reason, message string) {
	if v.Refused != nil {
		v.Refused(reason)
	}
	httperr.Write(w, httperr.New(http.StatusUnauthorized, "InvalidAssertion", message))
}
