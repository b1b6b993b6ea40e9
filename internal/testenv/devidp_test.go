package testenv_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDevIDPCommand builds cmd/devidp, runs it as the farm launcher would,
// reads its ready line, checks discovery and stops it with SIGTERM.
func TestDevIDPCommand(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build cmd/devidp: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "devidp")
	if out, err := exec.Command(goBin, "build", "-o", bin, "./cmd/devidp").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-redirect-uris", "http://127.0.0.1:8443/oauth2/callback", "-post-logout-uris", "http://127.0.0.1:8443/")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill() // by PID; a no-op once it has exited
	})

	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no ready line: %v", err)
	}
	var ready struct {
		Issuer       string `json:"issuer"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Username     string `json:"username"`
		Password     string `json:"password"`
	}
	if err := json.Unmarshal(line, &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if ready.Issuer == "" || ready.ClientID != "web" || ready.ClientSecret == "" || ready.Username != "alice" || ready.Password == "" {
		t.Fatalf("ready line %s", line)
	}
	resp, err := http.Get(ready.Issuer + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: HTTP %d", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("devidp exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("devidp did not stop on SIGTERM")
	}
}
