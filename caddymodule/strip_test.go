package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/cesivi/cesivi/internal/testenv"
)

func TestStripIdentityHeadersRemovesEveryIdentityHeader(t *testing.T) {
	h := http.Header{}
	for _, name := range []string{
		"X-Cesivi-Assertion", "X-Cesivi-User", "X-Cesivi-Anything",
		"X-Forwarded-User", "X-Forwarded-Email", "X-Auth-Request-User", "Remote-User", "X-Remote-User",
		"X-Custom-Identity", "Accept", "X-Forwarded-For", "Cookie",
	} {
		h.Set(name, "spoofed")
	}
	stripIdentityHeaders(h, []string{"X-Custom-Identity"})
	for name := range h {
		switch name {
		case "Accept", "X-Forwarded-For", "Cookie":
		default:
			t.Errorf("%s survived", name)
		}
	}
	if len(h) != 3 {
		t.Errorf("non-identity headers were removed too: %v", h)
	}
}

func TestCaddyfileOptions(t *testing.T) {
	cases := []struct {
		name    string
		input   string
		want    []string
		wantErr bool
	}{
		{"no arguments strip the built-in set", "cesivi_strip_identity", nil, false},
		{"arguments add headers", "cesivi_strip_identity X-A X-B", []string{"X-A", "X-B"}, false},
		{"a block adds headers", "cesivi_strip_identity {\n header X-A\n header X-B X-C\n}", []string{"X-A", "X-B", "X-C"}, false},
		{"an unknown subdirective is an error", "cesivi_strip_identity {\n colour blue\n}", nil, true},
		{"header without a name is an error", "cesivi_strip_identity {\n header\n}", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s StripIdentity
			err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if !c.wantErr && fmt.Sprint(s.Headers) != fmt.Sprint(c.want) {
				t.Errorf("Headers = %v, want %v", s.Headers, c.want)
			}
		})
	}
}

func TestValidateRefusesImpossibleHeaderNames(t *testing.T) {
	s := StripIdentity{Headers: []string{"X-Ok", "Not A Header:"}}
	if err := s.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err == nil {
		t.Fatal("Validate accepted a header name with spaces and a colon")
	}
}

// TestEdgeNeverForwardsClientIdentityHeaders runs a real Caddy with the
// directive in front of reverse_proxy and checks what the upstream sees.
func TestEdgeNeverForwardsClientIdentityHeaders(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	defer upstream.Close()

	port := freePort(t)
	caddyfileText := fmt.Sprintf(`{
	admin off
	storage file_system %s
	persist_config off
}
http://127.0.0.1:%d {
	cesivi_strip_identity X-Tenant-User
	reverse_proxy %s
}`, t.TempDir(), port, upstream.Listener.Addr())
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfileText), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })

	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	req.Header.Set("X-Cesivi-Assertion", "forged")
	req.Header.Set("x-cesivi-user", "admin") // lower case on the wire
	req.Header.Set("X-Forwarded-User", "admin")
	req.Header.Set("X-Tenant-User", "admin")
	req.Header.Set("X-Request-Purpose", "kept")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var seen http.Header
	if err := json.Unmarshal(body, &seen); err != nil {
		t.Fatalf("upstream answer %d %q: %v", resp.StatusCode, body, err)
	}
	for _, name := range []string{"X-Cesivi-Assertion", "X-Cesivi-User", "X-Forwarded-User", "X-Tenant-User"} {
		if v, ok := seen[name]; ok {
			t.Errorf("upstream received %s: %v", name, v)
		}
	}
	if seen.Get("X-Request-Purpose") != "kept" {
		t.Errorf("an unrelated header was lost: %v", seen)
	}
}

// freePort is testenv.FreePort: a port the kernel just handed out and
// closed is readily handed out again, so two ports picked one after the
// other by listening on :0 may be the same (an edge's site and metrics
// blocks then collide: "ambiguous site definition"). testenv never hands
// out one port twice in a process.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}
