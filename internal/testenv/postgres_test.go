package testenv_test

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/testenv"
)

func pgConnect(t *testing.T, rawURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestPostgresStartStop(t *testing.T) {
	ctx := t.Context()
	start := time.Now()
	p, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("postgres initdb+start: %d ms (pid %d, port %d)", time.Since(start).Milliseconds(), p.PID, p.Port)
	t.Cleanup(func() { p.Stop() })
	if p.Port == 5432 {
		t.Fatal("a test server took the machine's PostgreSQL port 5432")
	}

	conn, err := pgx.Connect(ctx, p.URL())
	if err != nil {
		t.Fatal(err)
	}
	var db, fsync string
	if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('fsync')").Scan(&db, &fsync); err != nil {
		t.Fatal(err)
	}
	if db != "cesivi" || fsync != "off" {
		t.Errorf("database %q, fsync %q; want cesivi, off", db, fsync)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE items (id int PRIMARY KEY, name text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO items VALUES (1, 'first'), (2, 'second')"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM items WHERE id = $1", 2).Scan(&name); err != nil || name != "second" {
		t.Fatalf("SELECT name = %q, %v; want second", name, err)
	}
	// An open session must not hold up the fast shutdown.
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	assertGone(t, p.PID)
	assertNoDir(t, p.Dir)
}

func TestPostgresCreateDatabaseIsolation(t *testing.T) {
	ctx := t.Context()
	p := testenv.PostgresPrivate(t)
	urlA, err := p.CreateDatabase(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	urlB, err := p.CreateDatabase(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgConnect(t, urlA).Exec(ctx, "CREATE TABLE only_in_alpha (x int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pgConnect(t, urlB).Exec(ctx, "SELECT * FROM only_in_alpha"); err == nil {
		t.Fatal("a table of database alpha is visible in database beta")
	}
	if _, err := p.CreateDatabase(ctx, "alpha"); err == nil {
		t.Fatal("creating database alpha twice succeeded")
	}
	if err := p.DropDatabase(ctx, "alpha"); err != nil {
		t.Fatalf("drop with an open connection: %v", err)
	}
}

func TestPostgresSharedGivesEachCallANewDatabase(t *testing.T) {
	ctx := t.Context()
	var first string
	t.Run("first", func(t *testing.T) {
		first = testenv.Postgres(t)
		if _, err := pgConnect(t, first).Exec(ctx, "CREATE TABLE mine (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	second := testenv.Postgres(t)
	if second == first {
		t.Fatalf("two calls got the same database %s", first)
	}
	if _, err := pgConnect(t, second).Exec(ctx, "SELECT * FROM mine"); err == nil {
		t.Fatal("a table of one test's database is visible in another's")
	}
	// The first database was dropped at the end of its test.
	u, _ := url.Parse(first)
	name := u.Path[1:]
	u.Path = "/postgres"
	var exists bool
	if err := pgConnect(t, u.String()).QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s outlived its test", name)
	}
}

func TestPostgresDurable(t *testing.T) {
	ctx := t.Context()
	start := time.Now()
	p, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("postgres initdb+start, durable: %d ms", time.Since(start).Milliseconds())
	t.Cleanup(func() { p.Stop() })
	var fsync, fpw string
	if err := pgConnect(t, p.URL()).QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('full_page_writes')").Scan(&fsync, &fpw); err != nil {
		t.Fatal(err)
	}
	if fsync != "on" || fpw != "on" {
		t.Fatalf("durable server has fsync=%s full_page_writes=%s", fsync, fpw)
	}
}

func TestPostgresListensOnlyOnLoopback(t *testing.T) {
	p := testenv.PostgresPrivate(t)
	var addrs string
	if err := pgConnect(t, p.URL()).QueryRow(t.Context(), "SELECT current_setting('listen_addresses')").Scan(&addrs); err != nil {
		t.Fatal(err)
	}
	if addrs != "127.0.0.1" {
		t.Fatalf("listen_addresses = %q", addrs)
	}
}

func TestPostgresReusesClusterInDir(t *testing.T) {
	ctx := t.Context()
	// Not t.TempDir: its parent is private to root, and the server may run
	// as the postgres user.
	dir, err := os.MkdirTemp("", "testenv-pg-reuse-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	p, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgConnect(t, p.URL()).Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, p.PID)
	if _, err := os.Stat(p.DataDir); err != nil {
		t.Fatalf("Stop removed a caller's directory: %v", err)
	}

	start := time.Now()
	p, err = testenv.StartPostgres(ctx, testenv.PostgresOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("postgres start of an existing cluster: %d ms", time.Since(start).Milliseconds())
	t.Cleanup(func() { p.Stop() })
	var x int
	if err := pgConnect(t, p.URL()).QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after restart SELECT x = %d, %v; want 42", x, err)
	}
}
