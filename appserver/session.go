package appserver

import (
	"net/http"

	"github.com/cesivi/cesivi/internal/httperr"
	"github.com/cesivi/cesivi/internal/identity"
)

// sessionView is what /api/session/create and /api/session/get answer: the
// session the edge resolved (its id travels in the identity assertion) and
// which server answered, so the seed's check "stop a server, the session
// is still there" can be read from the output.
type sessionView struct {
	SessionID     string   `json:"sessionId"`
	Authenticated bool     `json:"authenticated"`
	UserID        string   `json:"userId,omitempty"`
	Name          string   `json:"name,omitempty"`
	Email         string   `json:"email,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	ServerID      string   `json:"serverId"`
	Created       bool     `json:"created,omitempty"`
}

// serveSessionCreate answers after the edge created a session and set its
// cookie (the edge owns cookies and sessions; the server only reports).
func (s *Server) serveSessionCreate(w http.ResponseWriter, r *http.Request) {
	s.serveSession(w, r, true)
}

func (s *Server) serveSessionGet(w http.ResponseWriter, r *http.Request) {
	s.serveSession(w, r, false)
}

func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, created bool) {
	u := identity.FromContext(r.Context())
	if u == nil || u.SessionID == "" {
		httperr.Write(w, httperr.New(http.StatusUnauthorized, "NoSession",
			"no session: create one with GET /api/session/create through the edge, or sign in"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sessionView{
		SessionID: u.SessionID, Authenticated: u.Authenticated(), UserID: u.Subject, Name: u.Name,
		Email: u.Email, Groups: u.Groups, ServerID: s.settings.Farm.ServerID, Created: created,
	})
}
