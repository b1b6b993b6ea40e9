package edgehealth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheckAgainstARealListener(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/health/live", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"Healthy"}`)) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/health/live", http.StatusFound) })
	mux.HandleFunc("/stuck", func(w http.ResponseWriter, r *http.Request) {
		select { // answers only once the test is over
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	ctx := context.Background()

	body, err := Check(ctx, srv.URL+"/health/live", time.Minute)
	if err != nil || string(body) != `{"status":"Healthy"}` {
		t.Fatalf("200: %q %v", body, err)
	}
	for path, want := range map[string]string{"/down": "answered 503", "/moved": "answered 302", "/missing": "answered 404"} {
		if _, err := Check(ctx, srv.URL+path, time.Minute); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	// A server that does not answer in time fails the check when the
	// timeout passes, not later.
	start := time.Now()
	_, err = Check(ctx, srv.URL+"/stuck", 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("the timeout did not bound the check: %s", d)
	}
	// Nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Check(ctx, "http://"+addr+"/health/live", time.Minute); err == nil {
		t.Fatal("a closed port answered healthy")
	}
}

func TestDefaultURL(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := DefaultURL(getenv); got != "http://127.0.0.1:8080/health/live" {
		t.Errorf("default: %s", got)
	}
	env["CESIVI_HTTP_PORT"] = "9080"
	if got := DefaultURL(getenv); got != "http://127.0.0.1:9080/health/live" {
		t.Errorf("CESIVI_HTTP_PORT=9080: %s", got)
	}
}
