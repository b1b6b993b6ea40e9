// Package pgmigrate applies versioned, embedded SQL migrations to
// PostgreSQL: files named NNN_name.up.sql, applied in version order, each
// recorded in the table "SchemaMigrations" under the component that owns
// it. Every run is one transaction under a transaction-scoped advisory
// lock, so several servers starting at once on an empty database apply
// each migration exactly once, and a failed migration leaves nothing.
//
// Migrations must be transactional: CREATE INDEX CONCURRENTLY and the like
// belong elsewhere.
package pgmigrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// lockKey is the advisory lock every run holds; one key for every
// component keeps the order of DDL across components simple.
const lockKey int64 = 0x6365_7369_7669_6d67 // "cesivimg"

// Migration is one step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Beginner starts transactions (a *pgxpool.Pool, a *pgx.Conn).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

var fileName = regexp.MustCompile(`^(\d{3,})_([a-z0-9_]+)\.up\.sql$`)

// Load reads the migrations in dir of fsys. Other files are ignored; two
// files with one version are an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("pgmigrate: two migrations have version %d", ms[i].Version)
		}
	}
	return ms, nil
}

// Apply brings component up to the last of ms and returns the versions
// it applied (none when another server got there first).
func Apply(ctx context.Context, db Beginner, component string, ms []Migration) (applied []int, err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS "SchemaMigrations" (
		"Component" text NOT NULL,
		"Version" integer NOT NULL,
		"Name" text NOT NULL,
		"Applied" timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY ("Component", "Version"))`); err != nil {
		return nil, err
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max("Version"), 0) FROM "SchemaMigrations" WHERE "Component" = $1`, component).Scan(&current); err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("pgmigrate: %s %03d_%s: %w", component, m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO "SchemaMigrations" ("Component", "Version", "Name") VALUES ($1, $2, $3)`,
			component, m.Version, m.Name); err != nil {
			return nil, err
		}
		applied = append(applied, m.Version)
	}
	return applied, tx.Commit(ctx)
}
