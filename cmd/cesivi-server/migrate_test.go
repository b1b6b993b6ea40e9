package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/testenv"
)

func runMigrate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"migrate"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// npgsqlFor is the Npgsql form of a testenv database URL.
func npgsqlFor(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("Host=%s;Port=%s;Database=%s;Username=%s;Password=hunter2-Secret;SSL Mode=Disable;Timeout=2",
		u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), u.User.Username())
}

func relationExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestMigrateAppliesTheSchemaOnceAndThenSaysItIsCurrent(t *testing.T) {
	u := testenv.Postgres(t)
	keyringEnv(t, map[string]string{
		"Cesivi__Storage__Provider":         "PostgreSQL",
		"Cesivi__Storage__ConnectionString": npgsqlFor(t, u),
		"Cesivi__DataProtection__Provider":  "PostgreSql",
	})
	code, out, errs := runMigrate(t)
	applied := regexp.MustCompile(`storage schema: applied versions? 1(, \d+)*; now at version (\d+)`).FindStringSubmatch(out)
	if code != 0 || applied == nil || !strings.Contains(out, "key ring schema: current") {
		t.Fatalf("first run: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	latest := applied[2]
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, rel := range []string{`"ListItems"`, `"IX_ListItems_ListId"`, `"SchemaMigrations"`, "cesivi_keyring_keys"} {
		if !relationExists(t, conn, rel) {
			t.Errorf("no %s after migrate", rel)
		}
	}
	code, out, errs = runMigrate(t)
	if code != 0 || !strings.Contains(out, "already at version "+latest+" (current)") {
		t.Fatalf("second run: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}

	// A database a newer cesivi-server migrated: refused, saying so.
	if _, err := conn.Exec(t.Context(), `INSERT INTO "SchemaMigrations" ("Component", "Version", "Name") VALUES ('storage', 9999, 'from_the_future')`); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runMigrate(t)
	if code != 1 || !strings.Contains(errs, "version 9999") || !strings.Contains(errs, "newer") {
		t.Fatalf("on a newer schema: exit %d, stderr %q", code, errs)
	}
}

func TestMigrateWithTheDatabaseDownFailsAtOnceAndSaysWhatToCheck(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	keyringEnv(t, map[string]string{
		"Cesivi__Storage__Provider":         "PostgreSQL",
		"Cesivi__Storage__ConnectionString": fmt.Sprintf("Host=127.0.0.1;Port=%d;Database=d;Username=u;Password=hunter2-Secret;Timeout=2", port),
		"Cesivi__DataProtection__Provider":  "FileSystem",
	})
	start := time.Now()
	code, out, errs := runMigrate(t)
	if code != 1 || !strings.Contains(errs, "does not answer") || !strings.Contains(errs, "Cesivi:Storage:ConnectionString") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if strings.Contains(out+errs, "hunter2") {
		t.Fatalf("the output shows the password: %s", errs)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestMigrateOnInMemoryStorageHasNothingToDo(t *testing.T) {
	keyringEnv(t, map[string]string{"Cesivi__DataProtection__KeysPath": t.TempDir()})
	code, out, errs := runMigrate(t)
	if code != 0 || !strings.Contains(out, "InMemory") || !strings.Contains(out, "nothing to migrate") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if code, _, errs := runMigrate(t, "now"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Fatalf("with an argument: exit %d, %s", code, errs)
	}
}
