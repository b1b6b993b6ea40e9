package appserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/keyring"
)

type sessionAnswer struct {
	Status int
	View   sessionView
	Error  struct{ Code, Message string }
}

func askSession(t *testing.T, srv *Server, path, assertion string) sessionAnswer {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if assertion != "" {
		req.Header.Set(identity.AssertionHeader, assertion)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	ans := sessionAnswer{Status: rec.Code}
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &ans.View); err != nil {
			t.Fatalf("%s: %v: %s", path, err, rec.Body)
		}
	} else {
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: error body is not JSON: %v: %s", path, err, rec.Body)
		}
		ans.Error = body.Error
	}
	return ans
}

// mint signs a as an edge would, for a.Request (default: GET
// /api/session/get, what most tests ask).
func mint(t *testing.T, ring *keyring.Ring, a keyring.Assertion) string {
	t.Helper()
	if a.Audience == "" {
		a.Audience = identity.DefaultAudience
	}
	if a.Request == "" {
		a.Request = "GET /api/session/get"
	}
	tok, err := ring.MintAssertion(a)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSessionEndpointsReportTheAssertedSession(t *testing.T) {
	srv := newServer(t, "Cesivi__Farm__ServerId=server-7")
	tok := mint(t, srv.backends.KeyRing, keyring.Assertion{Subject: "u-alice", Name: "Alice", Email: "a@example.com",
		Groups: []string{"Members"}, SessionID: "s1"})
	got := askSession(t, srv, "/api/session/get", tok)
	want := sessionView{SessionID: "s1", Authenticated: true, UserID: "u-alice", Name: "Alice", Email: "a@example.com",
		Groups: []string{"Members"}, ServerID: "server-7"}
	if got.Status != 200 || got.View.SessionID != want.SessionID || got.View.UserID != want.UserID ||
		got.View.ServerID != want.ServerID || !got.View.Authenticated || got.View.Created || len(got.View.Groups) != 1 {
		t.Fatalf("get = %+v, want %+v", got, want)
	}
	tok = mint(t, srv.backends.KeyRing, keyring.Assertion{Subject: "u-alice", SessionID: "s1", Request: "GET /api/session/create"})
	if got := askSession(t, srv, "/api/session/create", tok); got.Status != 200 || !got.View.Created {
		t.Fatalf("create = %+v", got)
	}
	// An anonymous session (created without signing in) has no user.
	anon := mint(t, srv.backends.KeyRing, keyring.Assertion{SessionID: "s2"})
	if got := askSession(t, srv, "/api/session/get", anon); got.Status != 200 || got.View.Authenticated || got.View.UserID != "" {
		t.Fatalf("anonymous get = %+v", got)
	}
	// An assertion without a session (a request through the edge that had
	// none) is not a session.
	none := mint(t, srv.backends.KeyRing, keyring.Assertion{})
	if got := askSession(t, srv, "/api/session/get", none); got.Status != 401 || got.Error.Code != "NoSession" {
		t.Fatalf("get without session = %+v", got)
	}
}

func TestServerRefusesRequestsWithoutAValidAssertion(t *testing.T) {
	srv := newServer(t)
	ring := srv.backends.KeyRing
	good := mint(t, ring, keyring.Assertion{Subject: "u", SessionID: "s"})
	tampered := []byte(good)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '+' || tampered[len(tampered)/2] == '/' {
		tampered[len(tampered)/2] = 'A'
	}
	cases := []struct {
		name, path, assertion string
		status                int
		code                  string
	}{
		{"missing", "/api/session/get", "", 401, "InvalidAssertion"},
		{"tampered", "/api/session/get", string(tampered), 401, "InvalidAssertion"},
		{"truncated", "/api/session/get", good[:len(good)-4], 401, "InvalidAssertion"},
		{"another audience", "/api/session/get", mint(t, ring, keyring.Assertion{Subject: "u", SessionID: "s", Audience: "other"}), 401, "InvalidAssertion"},
		{"expired", "/api/session/get", mint(t, ring, keyring.Assertion{Subject: "u", SessionID: "s",
			IssuedAt: time.Now().Add(-10 * time.Minute), Expires: time.Now().Add(-5 * time.Minute)}), 401, "InvalidAssertion"},
		{"unknown path without assertion", "/_api/web", "", 401, "InvalidAssertion"},
		// Bound to its request: replayed on another path it opens nothing.
		{"minted for another request", "/api/session/create", good, 401, "InvalidAssertion"},
		{"health needs none", "/health/live", "", 200, ""},
		{"an invalid one is refused even on a public path", "/health/live", string(tampered), 401, "InvalidAssertion"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.assertion != "" {
			req.Header.Set(identity.AssertionHeader, c.assertion)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != c.status || (c.code != "" && !strings.Contains(rec.Body.String(), `"code":"`+c.code+`"`)) {
			t.Errorf("%s: %d %s; want %d %s", c.name, rec.Code, rec.Body, c.status, c.code)
		}
	}
	if got := askSession(t, srv, "/api/session/get", ""); !strings.Contains(got.Error.Message, "edge") {
		t.Errorf("the refusal does not say what is wrong: %q", got.Error.Message)
	}

	// Revoking the key that signed an assertion refuses it at once.
	k, err := ring.Current()
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Revoke(context.Background(), k.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if got := askSession(t, srv, "/api/session/get", good); got.Status != 401 || !strings.Contains(got.Error.Message, "revoked") {
		t.Fatalf("after revocation: %+v", got)
	}
}

func TestDevelopmentServerWithoutAssertionsTreatsRequestsAsAnonymous(t *testing.T) {
	srv := newServer(t, "Cesivi__Server__RequireAssertion=false")
	if got := askSession(t, srv, "/api/session/get", ""); got.Status != 401 || got.Error.Code != "NoSession" {
		t.Fatalf("get = %+v, want 401 NoSession", got)
	}
}
