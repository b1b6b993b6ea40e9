package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

// A farm server started while Redis is down (an orchestrator starting
// everything at once, Redis restarting) listens anyway: /health/live
// answers 200, so its liveness probe does not kill it in a loop, and
// /health/ready 503 until Redis is back, then 200 without a restart.
func TestServeListensWhileRedisIsDown(t *testing.T) {
	bin := serverBinary(t)
	addr := freeAddr(t)
	redisAddr := freeAddr(t) // nothing listens there yet
	_, redisPort, _ := net.SplitHostPort(redisAddr)
	env := []string{"PATH=" + os.Getenv("PATH"),
		"Cesivi__Server__Address=" + addr,
		"Cesivi__Farm__Enabled=true",
		"Cesivi__Farm__ServerId=redis-down",
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString=" + redisAddr + ",abortConnect=false,connectTimeout=500,syncTimeout=500",
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString=" + testenv.Postgres(t),
		"Cesivi__DataProtection__Provider=PostgreSql",
		"Cesivi__DataProtection__MasterKey=" + testMasterKey,
		"CESIVI_SECRETS_DIR=" + t.TempDir(),
	}
	logs := &testenv.LogBuffer{}
	srv := exec.Command(bin, "serve")
	srv.Env, srv.Dir, srv.Stderr = env, t.TempDir(), logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill(); <-exited })

	client := &http.Client{Timeout: 2 * time.Second}
	status := func(path string) int {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(what string, bound time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(bound)
		for !ok() {
			select {
			case err := <-exited:
				t.Fatalf("the server exited (%v) waiting for %s:\n%s", err, what, logs.String())
			default:
			}
			if time.Now().After(deadline) {
				// Where it is stuck: Go prints every goroutine on SIGQUIT.
				_ = srv.Process.Signal(syscall.SIGQUIT)
				<-exited
				exited <- nil
				t.Fatalf("%s: not within %s\n%s", what, bound, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Generous bounds: a bound, not a timing claim.
	waitFor("/health/live answers 200 with Redis down", 60*time.Second, func() bool { return status("/health/live") == 200 })
	if got := status("/health/ready"); got != http.StatusServiceUnavailable {
		t.Errorf("/health/ready answers %d with Redis down, want 503", got)
	}

	port, _ := strconv.Atoi(redisPort)
	testenv.RedisPrivate(t, testenv.RedisOptions{Port: port})
	waitFor("/health/ready answers 200 once Redis is up", 60*time.Second, func() bool { return status("/health/ready") == 200 })
}
