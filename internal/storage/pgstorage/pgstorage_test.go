package pgstorage_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/storage/storagetest"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newStore(t *testing.T, pool *pgxpool.Pool, opts pgstorage.Options) *pgstorage.Store {
	t.Helper()
	s, err := pgstorage.New(t.Context(), pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestPostgreSQLPassesTheSuite(t *testing.T) {
	storagetest.Exercise(t, func(t *testing.T) storage.Store {
		return newStore(t, newPool(t, testenv.Postgres(t)), pgstorage.Options{})
	})
}

// farm is n stores on n pools over one database, as n servers are.
func farm(t *testing.T, n int) []storage.Store {
	url := testenv.Postgres(t)
	stores := make([]storage.Store, n)
	for i := range stores {
		stores[i] = newStore(t, newPool(t, url), pgstorage.Options{})
	}
	return stores
}

// site creates a site with a list through s.
func site(t *testing.T, s storage.Store) (*storage.Site, *storage.List) {
	t.Helper()
	var site *storage.Site
	var l *storage.List
	if err := s.Update(t.Context(), func(tx storage.Tx) (err error) {
		if site, err = tx.Sites().Create(t.Context(), storage.SiteInput{URL: "/", Title: "Root"}); err != nil {
			return err
		}
		l, err = tx.Lists().Create(t.Context(), site.RootWebID, storage.ListInput{Title: "Tasks"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return site, l
}

func TestAnItemWrittenThroughOneServerIsReadThroughAnotherAtOnce(t *testing.T) {
	t.Parallel()
	stores := farm(t, 2)
	_, l := site(t, stores[0])
	ctx := t.Context()
	for i := range 20 {
		var it *storage.Item
		if err := stores[i%2].Update(ctx, func(tx storage.Tx) (err error) {
			it, err = tx.Items().Create(ctx, l.ID, storage.ItemInput{Values: map[string]odata.Value{"Title": odata.String("x")}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := stores[1-i%2].View(ctx, func(tx storage.Tx) error {
			got, err := tx.Items().Get(ctx, l.ID, it.ID)
			if err == nil && got.GUID != it.GUID {
				t.Errorf("read %s, wrote %s", got.GUID, it.GUID)
			}
			return err
		}); err != nil {
			t.Fatalf("item %d through the other server: %v", it.ID, err)
		}
	}
}

// Each server keeps the fields Locate decoded; a field changed through
// another server is in the next Locate at once, whichever server
// changed it, and a list deleted and made again under its title gives
// the new list's fields.
func TestAFieldChangedThroughOneServerIsLocatedThroughAnotherAtOnce(t *testing.T) {
	t.Parallel()
	stores := farm(t, 2)
	_, l := site(t, stores[0])
	ctx := t.Context()
	located := func(s storage.Store) (string, []string) {
		var id string
		var names []string
		if err := s.View(ctx, func(tx storage.Tx) error {
			loc, err := tx.Webs().Locate(ctx, "/", storage.ListRef{Title: "Tasks"}, storage.Prefetch{})
			if err != nil || loc.List == nil {
				return fmt.Errorf("locate: %+v %v", loc, err)
			}
			id = loc.List.ID
			for _, f := range loc.Fields {
				if !f.System {
					names = append(names, f.Title)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return id, names
	}
	update := func(s storage.Store, fn func(tx storage.Tx) error) {
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		located(stores[0]) // cached on both
		located(stores[1])
		title := fmt.Sprint("Field ", i)
		update(stores[i%2], func(tx storage.Tx) error {
			_, err := tx.Fields().Create(ctx, l.ID, storage.FieldInput{Title: title, Type: storage.TypeText})
			return err
		})
		for _, s := range stores {
			if _, names := located(s); !slices.Contains(names, title) {
				t.Fatalf("after adding %q: %v", title, names)
			}
		}
	}
	update(stores[0], func(tx storage.Tx) error {
		if err := tx.Lists().Delete(ctx, l.WebID, l.ID); err != nil {
			return err
		}
		_, err := tx.Lists().Create(ctx, l.WebID, storage.ListInput{Title: "Tasks"})
		return err
	})
	if id, names := located(stores[1]); id == l.ID || len(names) != 0 {
		t.Fatalf("the list made again: %s %v", id, names)
	}
}

func TestThreeServersWithEightWritersEachGetGapFreeIds(t *testing.T) {
	t.Parallel()
	stores := farm(t, 3)
	_, l := site(t, stores[0])
	storagetest.InsertConcurrently(t, stores, l.ID, 8, 25)
}

func TestTwoServersEnsuringOneUserCreateOne(t *testing.T) {
	t.Parallel()
	stores := farm(t, 2)
	s, _ := site(t, stores[0])
	storagetest.EnsureConcurrently(t, stores, s.ID, 6)
}

func TestThreeServersStartingOnAnEmptyDatabaseMigrateOnce(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	errs := make(chan error, 3)
	for range 3 {
		p := newPool(t, url)
		go func() { errs <- pgstorage.Migrate(t.Context(), p) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Each embedded migration is recorded once, whoever applied it.
	files, _ := fs.Glob(os.DirFS("migrations"), "*.up.sql")
	var n, distinct int
	if err := newPool(t, url).QueryRow(t.Context(), `SELECT count(*), count(DISTINCT "Version") FROM "SchemaMigrations" WHERE "Component" = 'storage'`).Scan(&n, &distinct); err != nil || n != len(files) || distinct != n {
		t.Fatalf("%d migrations recorded (%d distinct) for %d files, %v", n, distinct, len(files), err)
	}
}

func TestTheSeedsIndexesExistAndAnIndexedFieldGetsOne(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	s := newStore(t, pool, pgstorage.Options{})
	_, l := site(t, s)
	ctx := t.Context()
	var f *storage.Field
	if err := s.Update(ctx, func(tx storage.Tx) (err error) {
		f, err = tx.Fields().Create(ctx, l.ID, storage.FieldInput{Title: "Code", Type: storage.TypeText, Indexed: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	indexes := func() map[string]bool {
		rows, err := pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			m[n] = true
		}
		return m
	}
	have := indexes()
	for _, want := range []string{"IX_ListItems_ListId", "IX_ListItems_Created", "IX_Files_Url", "IX_Users_LoginName"} {
		if !have[want] {
			t.Errorf("no index %s", want)
		}
	}
	if n := countPrefix(have, "IX_ListItems_F_"); n != 1 {
		t.Fatalf("%d field indexes after creating an indexed field", n)
	}
	// The query a filter on the field makes can use the index.
	var plan string
	if err := pool.QueryRow(ctx, `EXPLAIN SELECT 1 FROM "ListItems" WHERE "ListId" = $1 AND (lower(("Data"->>'Code')) COLLATE "C") = 'x'`, l.ID).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Fields().Update(ctx, l.ID, f.ID, storage.FieldUpdate{Indexed: ptr(false)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := countPrefix(indexes(), "IX_ListItems_F_"); n != 0 {
		t.Fatalf("%d field indexes after unindexing", n)
	}
}

func TestAQueryPastTheStatementTimeoutIsThrottled(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	// The site is made without the bound: its creation is many
	// statements, which a loaded machine may not run in 50 ms each.
	_, l := site(t, newStore(t, pool, pgstorage.Options{}))
	s := newStore(t, pool, pgstorage.Options{StatementTimeout: 50 * time.Millisecond})
	ctx := t.Context()
	// A list big enough that an unindexed filter with a slow predicate
	// cannot finish in 50 ms: many rows, each with a long text.
	if _, err := pool.Exec(ctx, `UPDATE "Lists" SET "NextItemId" = 200000, "ItemCount" = 200000 WHERE "Id" = $1;`, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
		SELECT $1, g, gen_random_uuid(), 1, now(), now(), 1, 1, jsonb_build_object('Title', repeat(md5(g::text), 20)) FROM generate_series(1, 200000) g`, l.ID); err != nil {
		t.Fatal(err)
	}
	f, _ := odata.ParseFilter("substringof('zzzz',Title)")
	err := s.View(ctx, func(tx storage.Tx) error {
		_, err := tx.Items().Query(ctx, l.ID, storage.ItemQuery{Filter: f})
		return err
	})
	if !errorsIs(err, storage.ErrThrottled) {
		t.Fatalf("got %v, want ErrThrottled", err)
	}
}

func TestAClosedPoolIsUnavailable(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	s := newStore(t, pool, pgstorage.Options{})
	pool.Close()
	if err := s.Ping(t.Context()); !errorsIs(err, storage.ErrUnavailable) {
		t.Errorf("Ping: %v", err)
	}
	if err := s.View(t.Context(), func(storage.Tx) error { return nil }); !errorsIs(err, storage.ErrUnavailable) {
		t.Errorf("View: %v", err)
	}
}
