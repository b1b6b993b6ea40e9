package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/testenv"
)

// hardenedClient signs in to r as user (empty: the default user, with
// the requirepass password) over TLS with the client certificate.
func hardenedClient(t *testing.T, r *testenv.RedisServer, user, password string) *redis.Client {
	t.Helper()
	cfg, err := r.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr, Username: user, Password: password, TLSConfig: cfg, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRedisHardenedIsTheSeedsSecuritySection: a password, FLUSHDB,
// FLUSHALL, CONFIG and SHUTDOWN renamed away, TLS only with client
// certificates, and an ACL user without the dangerous commands; Stop and
// Restart work without SHUTDOWN, and the append-only file survives.
func TestRedisHardenedIsTheSeedsSecuritySection(t *testing.T) {
	ctx := t.Context()
	r := testenv.RedisHardened(t, testenv.RedisOptions{AppendOnly: true})
	if r.TLS == nil || len(r.Users) != 1 || r.Password == "" {
		t.Fatalf("server %+v: want TLS files, one ACL user and a password", r)
	}
	u := r.Users[0]
	app := hardenedClient(t, r, u.Name, u.Password)
	if err := app.Set(ctx, "k", "kept", 0).Err(); err != nil {
		t.Fatalf("SET as %s: %v", u.Name, err)
	}
	if err := app.Info(ctx, "memory").Err(); err != nil {
		t.Fatalf("INFO as %s: %v", u.Name, err)
	}
	conf, err := os.ReadFile(filepath.Join(r.Dir, "redis.conf"))
	if err != nil || !strings.Contains(string(conf), "\nport 0\n") {
		t.Errorf("redis.conf has no plain port 0 (%v):\n%s", err, conf)
	}
	if err := app.Keys(ctx, "*").Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("KEYS as %s = %v; want NOPERM (a dangerous command)", u.Name, err)
	}

	op := hardenedClient(t, r, "", r.Password)
	for _, cmd := range testenv.SeedDisabledCommands {
		args := []any{cmd}
		if cmd == "CONFIG" {
			args = append(args, "GET", "maxmemory-policy")
		}
		if err := op.Do(ctx, args...).Err(); err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%s as the operator = %v; want an unknown command", cmd, err)
		}
	}
	if err := hardenedClient(t, r, "", "").Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING without a password = %v; want NOAUTH", err)
	}
	if err := hardenedClient(t, r, u.Name, "wrong").Ping(ctx).Err(); err == nil {
		t.Error("PING with a wrong password succeeded")
	}
	plain := redis.NewClient(&redis.Options{Addr: r.Addr, Username: u.Name, Password: u.Password, MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Error("PING in plain text succeeded")
	}

	// The seed's runbook, as the operator.
	bin, err := testenv.FindBinary("redis-cli")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, bin, append(r.CLIArgs(), "GET", "k")...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "kept" {
		t.Errorf("redis-cli GET k = %q, %v", out, err)
	}

	oldPID := r.PID
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, oldPID)
	if got, err := hardenedClient(t, r, u.Name, u.Password).Get(ctx, "k").Result(); err != nil || got != "kept" {
		t.Fatalf("after Restart GET k = %q, %v", got, err)
	}
	pid, dir := r.PID, r.Dir
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, pid)
	assertNoDir(t, dir)
}

// A TLS server started with RedisOptions.TLS restarts on its TLS port.
func TestRedisTLSRestart(t *testing.T) {
	ctx := context.Background()
	r := testenv.RedisTLS(t)
	addr := r.Addr
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Addr != addr {
		t.Fatalf("Restart moved the server from %s to %s", addr, r.Addr)
	}
	if err := hardenedClient(t, r, "", "").Ping(ctx).Err(); err != nil {
		t.Fatalf("PING over TLS after Restart: %v", err)
	}
}
