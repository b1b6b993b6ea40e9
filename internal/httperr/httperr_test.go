package httperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWriteSendsTheSharedShape(t *testing.T) {
	rec := httptest.NewRecorder()
	e := &Error{Status: http.StatusUnauthorized, Code: "LoginRequired", Message: `sign in "first" <now>`, LoginURL: "/oauth2/login?rd=%2Fa%26b"}
	Write(rec, e)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "Retry-After": "",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var got struct {
		Error map[string]string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	want := map[string]string{"code": "LoginRequired", "message": e.Message, "loginUrl": e.LoginURL}
	if fmt.Sprint(got.Error) != fmt.Sprint(want) {
		t.Fatalf("body %v, want %v", got.Error, want)
	}
}

func TestWriteOmitsLoginURLAndRoundsRetryAfterUp(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, Unavailable("SessionStoreUnavailable", "retry", 1500*time.Millisecond, errors.New("dial tcp 10.0.0.1:6379: refused")))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d Retry-After %q, want 503 and 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	if strings.Contains(rec.Body.String(), "loginUrl") || strings.Contains(rec.Body.String(), "10.0.0.1") {
		t.Fatalf("body %s: no loginUrl and never the cause", rec.Body)
	}
}

func TestWriteOAuthUsesTheSpecificationsShape(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteOAuth(rec, http.StatusBadRequest, "invalid_request", "the logout token is not signed by the provider", 0)
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 400 {
		t.Fatalf("%d %s (%v)", rec.Code, rec.Body, err)
	}
	if got["error"] != "invalid_request" || got["error_description"] != "the logout token is not signed by the provider" || len(got) != 2 {
		t.Fatalf("body %v", got)
	}
}

func TestErrorWrapsItsCause(t *testing.T) {
	cause := errors.New("boom")
	err := fmt.Errorf("load: %w", Unavailable("X", "m", time.Second, cause))
	if !errors.Is(err, cause) {
		t.Fatal("errors.Is does not see the cause")
	}
	e, ok := As(err)
	if !ok || e.Code != "X" {
		t.Fatalf("As = %v, %v", e, ok)
	}
	if _, ok := As(cause); ok {
		t.Fatal("As found a refusal in a plain error")
	}
}
