package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/keyring"
)

func TestVerifierPublicPaths(t *testing.T) {
	v := &Verifier{Public: []string{"/", "/health", "/health/", "/metrics"}}
	for path, public := range map[string]bool{
		"/": true, "/health": true, "/health/ready": true, "/metrics": true,
		"/api/session/get": false, "/healthz": false, "/metrics/x": false, "/x/health/": false,
	} {
		if got := v.isPublic(path); got != public {
			t.Errorf("isPublic(%q) = %v, want %v", path, got, public)
		}
	}
}

func TestVerifierPassesTheIdentityAndCountsRefusals(t *testing.T) {
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	var refused []string
	var seen *User
	h := (&Verifier{Ring: ring, Required: true, Public: []string{"/health"}, Refused: func(r string) { refused = append(refused, r) }}).
		Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = FromContext(r.Context()) }))
	tok, _ := ring.MintAssertion(keyring.Assertion{Subject: "u", Name: "N", Groups: []string{"g"}, SessionID: "s", Audience: DefaultAudience, Request: "GET /x"})
	other, _ := ring.MintAssertion(keyring.Assertion{Subject: "u", Audience: "elsewhere", Request: "GET /x"})

	var body string
	doMethod := func(method, path, token string) int {
		seen = nil
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set(AssertionHeader, token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body = rec.Body.String()
		return rec.Code
	}
	do := func(path, token string) int { return doMethod(http.MethodGet, path, token) }
	if code := do("/x", tok); code != 200 || seen == nil || seen.Subject != "u" || seen.SessionID != "s" || !seen.Authenticated() || seen.Groups[0] != "g" {
		t.Fatalf("valid assertion: %d %+v", code, seen)
	}
	if code := do("/health", ""); code != 200 || seen != nil {
		t.Fatalf("public path without assertion: %d %+v", code, seen)
	}
	for _, c := range []struct{ path, token string }{{"/x", ""}, {"/x", other}, {"/health", "junk"}} {
		if code := do(c.path, c.token); code != 401 {
			t.Errorf("%s with %q: %d, want 401", c.path, c.token, code)
		}
	}
	// Bound to its request: the assertion for GET /x opens neither
	// DELETE /x nor GET /b, nor /x with another query.
	for _, c := range []struct{ method, path string }{{http.MethodDelete, "/x"}, {http.MethodGet, "/b"}, {http.MethodGet, "/x?admin=1"}} {
		if code := doMethod(c.method, c.path, tok); code != 401 || seen != nil {
			t.Errorf("the assertion for GET /x on %s %s: %d", c.method, c.path, code)
		}
	}
	// A revoked key: the key ring's own reason name, and a message for
	// people rather than the key ring's error text.
	cur, _ := ring.Current()
	if err := ring.Revoke(context.Background(), cur.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if code := do("/x", tok); code != 401 || !strings.Contains(body, "the key that signed it has been revoked") || strings.Contains(body, "keyring:") {
		t.Errorf("revoked key: %d %s", code, body)
	}
	// One vocabulary: the key ring's metric labels and the verifier's are
	// the same names.
	if strings.Join(refused, ",") != "missing,wrong_audience,bad_version,wrong_request,wrong_request,wrong_request,revoked_key" {
		t.Errorf("refusal reasons %v", refused)
	}
	if (*User)(nil).Authenticated() || (&User{SessionID: "s"}).Authenticated() {
		t.Error("a nil or anonymous user counts as authenticated")
	}
}
