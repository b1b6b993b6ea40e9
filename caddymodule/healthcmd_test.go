package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// cesivi-edge health is registered and exits 0 on a 200, 1 otherwise.
func TestTheHealthCommand(t *testing.T) {
	cmd, ok := caddycmd.Commands()["health"]
	if !ok {
		t.Fatal("no health command registered")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health/live" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	run := func(args ...string) error {
		c := &cobra.Command{Use: "health", SilenceUsage: true}
		cmd.CobraFunc(c)
		c.SetArgs(args)
		return c.Execute()
	}
	if err := run("--url", srv.URL+"/health/live", "--timeout", "30s"); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	if err := run("--url", srv.URL+"/health/ready"); err == nil || !strings.Contains(err.Error(), "answered 503") {
		t.Fatalf("503: %v, want unhealthy", err)
	}
	code, err := healthCommand(flagsOf(t, cmd, "--url", srv.URL+"/down"))
	if code != 1 || err == nil {
		t.Fatalf("exit %d %v, want 1", code, err)
	}
}

func flagsOf(t *testing.T, cmd caddycmd.Command, args ...string) caddycmd.Flags {
	t.Helper()
	c := &cobra.Command{Use: "health"}
	cmd.CobraFunc(c)
	if err := c.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return caddycmd.Flags{FlagSet: c.Flags()}
}
