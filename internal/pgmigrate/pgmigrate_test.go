package pgmigrate_test

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/pgmigrate"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var files = fstest.MapFS{
	"m/001_first.up.sql":  {Data: []byte(`CREATE TABLE "A" ("Id" int PRIMARY KEY)`)},
	"m/002_second.up.sql": {Data: []byte(`INSERT INTO "A" VALUES (1)`)},
	"m/notes.txt":         {Data: []byte("ignored")},
}

func pool(t *testing.T, url string) *pgxpool.Pool {
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestThreeServersOnAnEmptyDatabaseApplyEachMigrationOnce(t *testing.T) {
	t.Parallel()
	ms, err := pgmigrate.Load(files, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "first" || ms[1].Version != 2 {
		t.Fatalf("Load: %v %v", ms, err)
	}
	url := testenv.Postgres(t)
	var wg sync.WaitGroup
	total := make(chan int, 3)
	for range 3 {
		p := pool(t, url)
		wg.Go(func() {
			applied, err := pgmigrate.Apply(t.Context(), p, "test", ms)
			if err != nil {
				t.Error(err)
			}
			total <- len(applied)
		})
	}
	wg.Wait()
	close(total)
	n := 0
	for a := range total {
		n += a
	}
	var rows int
	if err := pool(t, url).QueryRow(t.Context(), `SELECT count(*) FROM "A"`).Scan(&rows); err != nil || n != 2 || rows != 1 {
		t.Fatalf("applied %d migrations, %d rows, %v", n, rows, err)
	}
}

func TestAFailedMigrationLeavesNothing(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	p := pool(t, url)
	ms := []pgmigrate.Migration{{Version: 1, Name: "ok", SQL: `CREATE TABLE "B" ("Id" int)`}, {Version: 2, Name: "bad", SQL: `SELEKT`}}
	if _, err := pgmigrate.Apply(t.Context(), p, "test", ms); err == nil {
		t.Fatal("a bad migration was applied")
	}
	var exists bool
	p.QueryRow(t.Context(), `SELECT to_regclass('"B"') IS NOT NULL`).Scan(&exists)
	if exists {
		t.Fatal("the first migration of a failed run stayed")
	}
	if _, err := pgmigrate.Load(fstest.MapFS{"m/001_a.up.sql": {}, "m/0001_b.up.sql": {}}, "m"); err == nil {
		t.Error("two migrations with one version were loaded")
	}
}
