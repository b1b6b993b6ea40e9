package pgstorage_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

func tableExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, `"`+name+`"`).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestApplyMigrationsReportsWhatItAppliedThenNothing(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	r, err := pgstorage.ApplyMigrations(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	// Versions may have gaps (helpers number theirs ahead of a merge):
	// every embedded file is applied, whatever its number.
	files, _ := fs.Glob(os.DirFS("migrations"), "*.up.sql")
	if r.Latest < 1 || r.Version != r.Latest || len(r.Applied) != len(files) || r.Applied[0] != 1 {
		t.Fatalf("first run on an empty database: %+v", r)
	}
	r, err = pgstorage.ApplyMigrations(t.Context(), pool)
	if err != nil || len(r.Applied) != 0 || r.Version != r.Latest {
		t.Fatalf("second run: %+v, %v; want nothing applied", r, err)
	}
}

func TestASchemaNewerThanTheBinaryStopsNewWithAClearMessage(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	r, err := pgstorage.ApplyMigrations(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	future := r.Latest + 1
	if _, err := pool.Exec(t.Context(), `INSERT INTO "SchemaMigrations" ("Component", "Version", "Name") VALUES ('storage', $1, 'from_the_future')`, future); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []pgstorage.MigrateMode{pgstorage.MigrateInNew, pgstorage.MigrateInNewOrFirstUse} {
		_, err := pgstorage.New(t.Context(), pool, pgstorage.Options{Migrate: mode})
		if !errorsIs(err, pgstorage.ErrSchemaNewer) || !strings.Contains(err.Error(), fmt.Sprintf("version %d", future)) {
			t.Fatalf("mode %d: New gave %v; want ErrSchemaNewer naming version %d", mode, err, future)
		}
	}
	// Deferred, the store refuses every use with the same reason.
	s := newStore(t, pool, pgstorage.Options{Migrate: pgstorage.MigrateOnFirstUse})
	err = s.View(t.Context(), func(storage.Tx) error { return nil })
	if !errorsIs(err, storage.ErrUnavailable) || !errorsIs(err, pgstorage.ErrSchemaNewer) {
		t.Fatalf("View: %v; want ErrUnavailable wrapping ErrSchemaNewer", err)
	}
	if err := s.Ping(t.Context()); !errorsIs(err, pgstorage.ErrSchemaNewer) {
		t.Fatalf("Ping: %v; want ErrSchemaNewer", err)
	}
}

func TestAFailingMigrationIsNotMistakenForAnOutage(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	// A table in the way makes the first migration fail with an SQL error.
	if _, err := pool.Exec(t.Context(), `CREATE TABLE "Sites" ("Unrelated" int)`); err != nil {
		t.Fatal(err)
	}
	_, err := pgstorage.New(t.Context(), pool, pgstorage.Options{Migrate: pgstorage.MigrateInNewOrFirstUse})
	if err == nil || errorsIs(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "001_content") {
		t.Fatalf("New gave %v; want the migration's own error, naming it", err)
	}
}

func TestWithMigrateOnFirstUseNewTouchesNothingAndTheFirstUseMigrates(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	s := newStore(t, pool, pgstorage.Options{Migrate: pgstorage.MigrateOnFirstUse})
	if tableExists(t, pool, "SchemaMigrations") {
		t.Fatal("New migrated")
	}
	site(t, s) // an Update: migrates, then writes
	if !tableExists(t, pool, "ListItems") {
		t.Fatal("no schema after the first use")
	}
}

// unreachablePool is a pool on a loopback port nothing listens on.
func unreachablePool(t *testing.T) (*pgxpool.Pool, int) {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return newPool(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/cesivi?sslmode=disable&connect_timeout=2", port)), port
}

func TestWithADatabaseDownNewDefersOrFailsAsAsked(t *testing.T) {
	t.Parallel()
	pool, _ := unreachablePool(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := pgstorage.New(ctx, pool, pgstorage.Options{}); !errorsIs(err, storage.ErrUnavailable) {
		t.Fatalf("MigrateInNew: %v, want ErrUnavailable", err)
	}
	s := newStore(t, pool, pgstorage.Options{Migrate: pgstorage.MigrateInNewOrFirstUse})
	start := time.Now()
	if err := s.View(ctx, func(storage.Tx) error { return nil }); !errorsIs(err, storage.ErrUnavailable) {
		t.Fatalf("View: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("View took %v with the database refusing connections", d)
	}
}
