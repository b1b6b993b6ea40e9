package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// sessionsEnv writes a configuration pointing at a private Redis database
// and returns its directory and a provider over the same store.
func sessionsEnv(t *testing.T) (string, *state.Provider) {
	addr, db := testenv.RedisDB(t)
	cs := fmt.Sprintf("%s,defaultDatabase=%d", addr, db)
	dir := t.TempDir()
	conf := fmt.Sprintf(`{"Cesivi":{"DistributedState":{"Provider":"Redis","ConnectionString":%q,"KeyPrefix":"cli:"}}}`, cs)
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := redisstate.Open(context.Background(), cs, "cli:", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return dir, p
}

func runSessions(t *testing.T, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := sessionsCmd(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSessionsListAndRevokeWorkOnTheSharedStore(t *testing.T) {
	dir, p := sessionsEnv(t)
	ctx := context.Background()
	var ids []string
	for _, u := range []string{"alice", "alice", "bob"} {
		s := &state.Session{UserID: u, SID: "sid-" + u, Tokens: []byte("secret-token")}
		if err := p.Sessions.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}

	code, out, errs := runSessions(t, "list", "--user", "alice", "--config-dir", dir)
	if code != 0 {
		t.Fatalf("list: exit %d, %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "SESSION") || !strings.Contains(out, ids[0]) ||
		!strings.Contains(out, ids[1]) || strings.Contains(out, ids[2]) || lines[3] != "2 session(s)" {
		t.Fatalf("list output:\n%s", out)
	}
	if strings.Contains(out, "secret-token") {
		t.Fatal("list printed tokens")
	}

	if code, out, errs := runSessions(t, "revoke", "--session", ids[2], "--config-dir", dir); code != 0 || !strings.Contains(out, ids[2]) {
		t.Fatalf("revoke --session: exit %d, %s %s", code, out, errs)
	}
	if _, err := p.Sessions.Load(ctx, ids[2]); err == nil {
		t.Fatal("revoked session still loads")
	}
	// The same id again, or a mistyped one: said, exit 1.
	if code, _, errs := runSessions(t, "revoke", "--session", ids[2], "--config-dir", dir); code != 1 || !strings.Contains(errs, "no session "+ids[2]) {
		t.Fatalf("revoke of an ended session: exit %d, %s", code, errs)
	}
	if code, out, errs := runSessions(t, "revoke", "--user", "alice", "--config-dir", dir); code != 0 || !strings.Contains(out, "revoked 2 session(s)") {
		t.Fatalf("revoke --user: exit %d, %s %s", code, out, errs)
	}
	if code, out, _ := runSessions(t, "list", "--user", "alice", "--config-dir", dir); code != 0 || !strings.Contains(out, "0 session(s)") {
		t.Fatalf("list after revoke: %s", out)
	}
}

func TestSessionsRefusesBadUsage(t *testing.T) {
	dir, _ := sessionsEnv(t)
	memDir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no action", nil, 2, "usage"},
		{"an unknown action", []string{"purge"}, 2, "usage"},
		{"list without a user", []string{"list", "--config-dir", dir}, 2, "--user is required"},
		{"revoke with both selectors", []string{"revoke", "--user", "a", "--session", "b", "--config-dir", dir}, 2, "exactly one"},
		{"revoke with neither", []string{"revoke", "--config-dir", dir}, 2, "exactly one"},
		{"the InMemory provider", []string{"list", "--user", "a", "--config-dir", memDir}, 1, "needs Redis"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runSessions(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, c.code, c.want)
			}
		})
	}
}
