package pgstorage_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// TestALargeListRecyclesAndRestoresInBatches: a list of more items than
// one statement moves (CESIVI_BIN_ITEMS of them, 12,000 by default) goes
// to the bin and back whole, under the default statement timeout, with
// the items its restore brings back counted.
func TestALargeListRecyclesAndRestoresInBatches(t *testing.T) {
	t.Parallel()
	n := 12000
	if v, err := strconv.Atoi(os.Getenv("CESIVI_BIN_ITEMS")); err == nil && v > 0 {
		n = v
	}
	pool := newPool(t, testenv.Postgres(t))
	s := newStore(t, pool, pgstorage.Options{})
	site, l := site(t, s)
	ctx := t.Context()
	// The items go in by SQL: through Items().Create they would take a
	// round trip each.
	if _, err := pool.Exec(ctx, `WITH c AS (UPDATE "Lists" SET "NextItemId" = $2, "ItemCount" = $2 WHERE "Id" = $1)
		INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
		SELECT $1, g, gen_random_uuid(), 1, now(), now(), 1, 1, jsonb_build_object('Title', 'item ' || g)
		FROM generate_series(1, $2::bigint) g`, l.ID, n); err != nil {
		t.Fatal(err)
	}
	var bin *storage.RecycleBinItem
	start := time.Now()
	if err := s.Update(ctx, func(tx storage.Tx) (err error) {
		bin, err = tx.RecycleBin().RecycleList(ctx, site.RootWebID, l.ID, 1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	recycled := time.Since(start)
	var live int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM "ListItems" WHERE "ListId" = $1`, l.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d items left in the live table, %v", live, err)
	}
	start = time.Now()
	if err := s.Update(ctx, func(tx storage.Tx) error { return tx.RecycleBin().Restore(ctx, site.ID, bin.ID) }); err != nil {
		t.Fatal(err)
	}
	restored := time.Since(start)
	t.Logf("%d items: recycled in %v, restored in %v", n, recycled, restored)
	if err := s.View(ctx, func(tx storage.Tx) error {
		got, err := tx.Lists().Get(ctx, site.RootWebID, l.ID)
		if err != nil {
			return err
		}
		if got.ItemCount != int64(n) {
			t.Errorf("ItemCount %d, want %d", got.ItemCount, n)
		}
		it, err := tx.Items().Get(ctx, l.ID, int64(n))
		if err == nil && it.Values["Title"].Str != "item "+strconv.Itoa(n) {
			t.Errorf("the last item %+v", it)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM "RecycleBinRows"`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d rows left in the bin, %v", left, err)
	}
}
