package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

// serverBinary is the cesivi-server under test: $CESIVI_BIN/cesivi-server
// when make built it, else a fresh build of this package.
func serverBinary(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("CESIVI_BIN"); dir != "" {
		if p := filepath.Join(dir, "cesivi-server"); fileExists(p) {
			return p
		}
	}
	out := filepath.Join(t.TempDir(), "cesivi-server")
	if b, err := exec.Command("go", "build", "-o", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestStartupGatesExitAtOnceWithOneLine(t *testing.T) {
	const secret = "hunter2-Secret"
	bin := serverBinary(t)
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"FileSystem keys in cluster mode",
			[]string{"Cesivi__Cluster__Mode=Cluster", "Cesivi__DataProtection__Provider=FileSystem"},
			"Cesivi:DataProtection:Provider"},
		{"a key ring that does not match the storage",
			[]string{"Cesivi__DataProtection__Provider=PostgreSql"},
			"Cesivi:Storage:Provider is InMemory"},
		{"a malformed Redis connection string",
			[]string{"Cesivi__DistributedState__Provider=Redis", "Cesivi__DistributedState__ConnectionString=h:6379,password=" + secret + ",syncTimeout=later"},
			"syncTimeout"},
		{"a malformed PostgreSQL connection string",
			[]string{"Cesivi__Storage__Provider=PostgreSQL", "Cesivi__Storage__ConnectionString=Host=h;Password=" + secret + ";Port=five"},
			"Port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Dir = t.TempDir()
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "Cesivi__Server__Address=127.0.0.1:0"}, c.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			if err == nil {
				t.Fatal("exit status 0, want non-zero")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v; a gate must fail at once", d)
			}
			out := stdout.String() + stderr.String()
			if lines := strings.Count(strings.TrimRight(out, "\n"), "\n") + 1; lines != 1 {
				t.Errorf("output has %d lines, want one:\n%s", lines, out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("output %q does not name %q", out, c.want)
			}
			if strings.Contains(out, secret) || strings.Contains(out, "hunter2") {
				t.Errorf("output shows the password: %q", out)
			}
		})
	}
}

// freeAddr is a loopback address on a port testenv.FreePort hands out:
// never the same twice in this process, as a port closed a moment ago
// could be.
func freeAddr(t *testing.T) string {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func TestServeHealthcheckAndSIGTERM(t *testing.T) {
	bin := serverBinary(t)
	addr := freeAddr(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "Cesivi__Server__Address=" + addr,
		"Cesivi__DataProtection__KeysPath=" + t.TempDir()}

	healthcheck := func() (int, string) {
		cmd := exec.Command(bin, "healthcheck")
		cmd.Env = env
		cmd.Dir = t.TempDir()
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, _ := healthcheck(); code == 0 {
		t.Fatal("healthcheck exited 0 with no server running")
	}

	var logs bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Env, srv.Dir, srv.Stderr = env, t.TempDir(), &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill() })

	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out := healthcheck()
		if code == 0 {
			if !strings.Contains(out, `"status":"Healthy"`) {
				t.Errorf("healthcheck output %q", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never became healthy: %s\n%s", out, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit within 10 s of SIGTERM")
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no shutdown log line:\n%s", logs.String())
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "frobnicate") {
		t.Fatalf("code %d stderr %q", code, errb.String())
	}
}

// The container health check asks liveness, so a dependency outage (which
// fails /health and /health/ready on every server at once) does not make
// the orchestrator restart the whole farm.
func TestHealthcheckAsksLivenessByDefault(t *testing.T) {
	var asked []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		if r.URL.Path != "/health/live" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"status":"Healthy"}`)
	}))
	defer ts.Close()
	t.Setenv("Cesivi__Server__Address", strings.TrimPrefix(ts.URL, "http://"))
	var out, errb bytes.Buffer
	if code := healthcheck(nil, &out, &errb); code != 0 {
		t.Fatalf("healthcheck = %d with /health/live answering 200 (asked %v): %s", code, asked, errb.String())
	}
	if len(asked) != 1 || asked[0] != "/health/live" {
		t.Errorf("healthcheck asked %v, want [/health/live]", asked)
	}
	if got, _ := localHealthURL("0.0.0.0:5000"); got != "http://127.0.0.1:5000/health/live" {
		t.Errorf("localHealthURL(0.0.0.0:5000) = %q", got)
	}
}
