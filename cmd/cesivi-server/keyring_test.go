package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/redisstore"
)

// TestMain (testenv.Main, needed by testenv.Postgres and RedisDB) is in
// sessions_test.go; one per package.

var testMasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// keyringEnv isolates the configuration: an empty configuration directory
// and the given Cesivi__* variables.
func keyringEnv(t *testing.T, env map[string]string) {
	t.Helper()
	t.Setenv("CESIVI_CONFIG_DIR", t.TempDir())
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func runKeyring(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"keyring"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runKeyring(t, args...)
	if code != 0 {
		t.Fatalf("keyring %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
	}
	return out
}

var keyIDRe = regexp.MustCompile(`(?m)^([0-9a-f]{8})\s+(\w+)\s+(\*?)`)

// rows returns id -> state, and the current id, from list's table.
func rows(t *testing.T, out string) (map[string]string, string) {
	t.Helper()
	m := map[string]string{}
	cur := ""
	for _, g := range keyIDRe.FindAllStringSubmatch(out, -1) {
		m[g[1]] = g[2]
		if g[3] == "*" {
			cur = g[1]
		}
	}
	return m, cur
}

// The whole administration cycle against one configured backend.
func exerciseKeyringCLI(t *testing.T) {
	out := mustRun(t, "list")
	if !strings.Contains(out, "no keys") {
		t.Fatalf("list on an empty store: %q", out)
	}
	out = mustRun(t, "rotate")
	if !strings.Contains(out, "created key") || !strings.Contains(out, "ID  ") {
		t.Fatalf("rotate: %q", out)
	}
	m, first := rows(t, mustRun(t, "list"))
	if len(m) != 1 || first == "" || m[first] != "active" {
		t.Fatalf("after rotate: %v current %q", m, first)
	}
	mustRun(t, "rotate")
	m, second := rows(t, mustRun(t, "list"))
	if len(m) != 2 || second == first {
		t.Fatalf("after a second rotate: %v current %q", m, second)
	}
	out = mustRun(t, "revoke", second, "--reason", "laptop stolen")
	m, cur := rows(t, out)
	if m[second] != "revoked" || cur != first || !strings.Contains(out, "laptop stolen") {
		t.Fatalf("after revoke: %v current %q\n%s", m, cur, out)
	}
	if code, _, errs := runKeyring(t, "revoke", "0badf00d"); code != 1 || !strings.Contains(errs, "unknown key") {
		t.Fatalf("revoke of an unknown key: exit %d, %q", code, errs)
	}
	mustRun(t, "revoke", "--before", time.Now().UTC().Format(time.RFC3339Nano), "--reason", "all")
	m, cur = rows(t, mustRun(t, "list"))
	if m[first] != "revoked" || cur != "" {
		t.Fatalf("after revoke --before: %v current %q", m, cur)
	}
}

func TestKeyringCLISharedDirectory(t *testing.T) {
	dir := t.TempDir()
	keyringEnv(t, map[string]string{
		"Cesivi__DataProtection__Provider":  "SharedDirectory",
		"Cesivi__DataProtection__KeysPath":  dir,
		"Cesivi__DataProtection__MasterKey": testMasterKey,
	})
	exerciseKeyringCLI(t)

	// A wrong master key is an error that names the setting, not the key.
	wrong := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32))
	t.Setenv("Cesivi__DataProtection__MasterKey", wrong)
	code, _, errs := runKeyring(t, "list")
	if code != 1 || !strings.Contains(errs, "MasterKey") || strings.Contains(errs, wrong) {
		t.Fatalf("wrong master key: exit %d, %q", code, errs)
	}
	t.Setenv("Cesivi__DataProtection__MasterKey", "not base64!")
	if code, _, errs := runKeyring(t, "list"); code != 1 || strings.Contains(errs, "not base64!") {
		t.Fatalf("unparsable master key: exit %d, %q", code, errs)
	}
}

func TestKeyringCLIUsage(t *testing.T) {
	keyringEnv(t, map[string]string{
		"Cesivi__DataProtection__Provider": "SharedDirectory",
		"Cesivi__DataProtection__KeysPath": t.TempDir(),
	})
	for _, args := range [][]string{{}, {"frobnicate"}, {"revoke"}, {"revoke", "zz"}, {"revoke", "0c0ffee0", "--before", "2026-01-01T00:00:00Z"}, {"revoke", "--before", "yesterday"}, {"revoke", "--before", "2999-01-01T00:00:00Z"}, {"list", "extra"}} {
		if code, _, errs := runKeyring(t, args...); code != 2 || errs == "" {
			t.Errorf("keyring %v: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
	// Without a master key it works and warns.
	code, _, errs := runKeyring(t, "rotate")
	if code != 0 || !strings.Contains(errs, "UNENCRYPTED") {
		t.Fatalf("rotate without a master key: exit %d, %q", code, errs)
	}
}

func TestKeyringCLIPostgres(t *testing.T) {
	keyringEnv(t, map[string]string{
		"Cesivi__Storage__Provider":         "PostgreSQL",
		"Cesivi__Storage__ConnectionString": testenv.Postgres(t),
		"Cesivi__DataProtection__Provider":  "PostgreSql",
		"Cesivi__DataProtection__MasterKey": testMasterKey,
	})
	exerciseKeyringCLI(t)
}

// Redis backend; and the acceptance check: a server's ring (subscribed to
// notices) keeps a cookie valid across `keyring rotate` and refuses it within
// a second of `keyring revoke`.
func TestKeyringCLIRedis(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	keyringEnv(t, map[string]string{
		"Cesivi__DistributedState__Provider":         "Redis",
		"Cesivi__DistributedState__ConnectionString": fmt.Sprintf("%s,defaultDatabase=%d", addr, db),
		"Cesivi__DataProtection__Provider":           "Redis",
		"Cesivi__DataProtection__MasterKey":          testMasterKey,
	})
	exerciseKeyringCLI(t)

	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}, DB: db})
	defer rdb.Close()
	server, err := keyring.New(context.Background(), keyring.Options{
		Store: redisstore.New(rdb, redisstore.Options{}), MasterKey: bytes.Repeat([]byte{7}, 32),
		UnknownKeyRefreshInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	// revoke --before left no usable key: the server created one.
	minted, err := server.Current()
	if err != nil {
		t.Fatal(err)
	}
	cookie, _ := server.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	mustRun(t, "rotate")
	wait(t, func() bool { k, _ := server.Current(); return k.ID != minted.ID })
	if _, err := server.VerifySessionCookie(cookie); err != nil {
		t.Fatalf("cookie after keyring rotate: %v", err)
	}
	mustRun(t, "revoke", minted.ID.String())
	wait(t, func() bool {
		_, err := server.VerifySessionCookie(cookie)
		return errors.Is(err, keyring.ErrRevoked)
	})
}

// The usual farm: keys in PostgreSQL, notices over Redis. A server ring
// refuses a revoked key's cookie within a second of `keyring revoke`.
func TestKeyringCLIPostgresWithRedisNotices(t *testing.T) {
	pgURL := testenv.Postgres(t)
	addr, db := testenv.RedisDB(t)
	keyringEnv(t, map[string]string{
		"Cesivi__Storage__Provider":                  "PostgreSQL",
		"Cesivi__Storage__ConnectionString":          pgURL,
		"Cesivi__DistributedState__Provider":         "Redis",
		"Cesivi__DistributedState__ConnectionString": fmt.Sprintf("%s,defaultDatabase=%d", addr, db),
		"Cesivi__DataProtection__Provider":           "PostgreSql",
		"Cesivi__DataProtection__MasterKey":          testMasterKey,
	})
	settings, err := loadSettings(flag.NewFlagSet("t", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := backends.Open(context.Background(), settings, backends.Options{Role: backends.Server})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	server := b.KeyRing
	first, _ := server.Current()
	cookie, _ := server.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	mustRun(t, "rotate")
	wait(t, func() bool { k, _ := server.Current(); return k.ID != first.ID })
	if _, err := server.VerifySessionCookie(cookie); err != nil {
		t.Fatalf("cookie after keyring rotate: %v", err)
	}
	start := time.Now()
	mustRun(t, "revoke", first.ID.String(), "--reason", "acceptance")
	wait(t, func() bool {
		_, err := server.VerifySessionCookie(cookie)
		return errors.Is(err, keyring.ErrRevoked)
	})
	t.Logf("revoked cookie refused %v after the command started", time.Since(start))
}

func wait(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("not seen within 1 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
