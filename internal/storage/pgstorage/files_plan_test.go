package pgstorage

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// TestFolderQueriesWalkTheFilesIndexes: a file by URL, what a folder
// holds (a delete's or move's subtree) and a folder's children are index
// scans of "IX_Files_Url" and "IX_Files_DirUrl", not scans of every file
// of the database. Sequential and bitmap scans are disabled, so the
// planner's choice on a small table shows what it can do.
func TestFolderQueriesWalkTheFilesIndexes(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := New(ctx, pool, Options{}); err != nil {
		t.Fatal(err)
	}
	site, list, url := storage.NewGUID(), storage.NewGUID(), "/sites/p/Shared Documents/a"
	for _, c := range []struct {
		name, sql, index string
		args             []any
	}{
		{"a file by URL", `SELECT ` + fileCols + fileFrom + ` WHERE f."SiteId" = $1 AND ` + urlIs("$2") + ` AND f."ListId" = $3`,
			"IX_Files_Url", []any{site, url, list}},
		{"a subtree", `SELECT f."ItemId" FROM "Files" f WHERE f."ListId" = $1 AND f."SiteId" = $2 AND ` + subtree("$3"),
			"IX_Files_Url", []any{list, site, url}},
		{"a folder's children", `SELECT f."Id" FROM "Files" f WHERE f."ListId" = $1 AND lower(f."DirUrl") COLLATE "C" = lower($2)
			AND f."IsFolder" = $3 ORDER BY lower(f."Name") COLLATE "C", f."Name" COLLATE "C"`, "IX_Files_DirUrl", []any{list, url, false}},
	} {
		plan := explain(t, pool, c.sql, c.args...)
		if !strings.Contains(plan, c.index) || strings.Contains(plan, "Seq Scan on \"Files\"") {
			t.Errorf("%s does not use %s:\n%s", c.name, c.index, plan)
		}
	}
}

func explain(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
