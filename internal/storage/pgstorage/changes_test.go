package pgstorage_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// A database with content from before migration 010 (reverted here on a
// current schema, the only way to hold such data) keeps it valid: its
// lists start their change log at 0, their item ids go on, and they take
// subscriptions.
func TestContentFromBeforeTheChangeLogStaysValid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t, testenv.Postgres(t))
	s := newStore(t, pool, pgstorage.Options{})
	_, l := site(t, s)
	for range 2 {
		if err := s.Update(ctx, func(tx storage.Tx) error {
			_, err := tx.Items().Create(ctx, l.ID, storage.ItemInput{By: 1})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The migrations after 010 are reverted too: the runner applies
	// what comes after the newest one recorded.
	if _, err := pool.Exec(ctx, `DROP TABLE "Changes"; DROP TABLE "Subscriptions";
		ALTER TABLE "Lists" DROP COLUMN "LastChange", DROP COLUMN "ChangesPrunedThrough";
		DROP TRIGGER "TR_Fields_Version" ON "Fields"; DROP FUNCTION "FieldsChanged"();
		ALTER TABLE "Lists" DROP COLUMN "FieldsVersion"; DROP SEQUENCE "FieldsVersions";
		DROP TABLE "Requests";
		DELETE FROM "SchemaMigrations" WHERE "Component" = 'storage' AND "Version" >= 10`); err != nil {
		t.Fatal(err)
	}
	r, err := pgstorage.ApplyMigrations(ctx, pool)
	if err != nil || !slices.Equal(r.Applied, []int{10, 11, 12, 13}) {
		t.Fatalf("applied %+v, %v; want 010 to 013", r, err)
	}
	s = newStore(t, pool, pgstorage.Options{})
	var tok storage.ChangeToken
	var cs []*storage.Change
	if err := s.Update(ctx, func(tx storage.Tx) (err error) {
		if tok, err = tx.Changes().Latest(ctx, l.ID); err != nil {
			return err
		}
		if _, err = tx.Items().Create(ctx, l.ID, storage.ItemInput{By: 1}); err != nil {
			return err
		}
		if _, err = tx.Subscriptions().Create(ctx, storage.SubscriptionInput{ListID: l.ID, NotificationURL: "https://example.com/h",
			ExpirationDateTime: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		cs, err = tx.Changes().Since(ctx, l.ID, 0, 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if tok.Number != 0 || !tok.Time.Equal(l.Created) {
		t.Fatalf("Latest on an old list: %+v (created %v)", tok, l.Created)
	}
	if len(cs) != 1 || cs[0].Number != 1 || cs[0].ItemID != 3 || cs[0].Kind != storage.ChangeAdd {
		t.Fatalf("changes after the migration: %+v", cs)
	}
}

// Writers on several servers at once, adding and updating items of one
// list: every write has its change, numbered 1…n without gaps or
// duplicates, and a reader that pages with Since meanwhile never sees a
// number appear below one it has seen.
func TestConcurrentWritersGetGapFreeChangeNumbers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	stores := farm(t, 3)
	_, l := site(t, stores[0])
	const writers, each = 6, 10
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			s := stores[w%len(stores)]
			for range each {
				err := s.Update(ctx, func(tx storage.Tx) error {
					it, err := tx.Items().Create(ctx, l.ID, storage.ItemInput{By: 1})
					if err != nil {
						return err
					}
					_, err = tx.Items().Update(ctx, l.ID, it.ID, storage.ItemUpdate{By: 1})
					return err
				})
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	var seen []*storage.Change
	after := int64(0)
	finished := 0
	for finished < writers || len(seen) < 2*writers*each {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		default:
		}
		var page []*storage.Change
		if err := stores[1].View(ctx, func(tx storage.Tx) (err error) {
			page, err = tx.Changes().Since(ctx, l.ID, after, 7)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if c.Number != after+1 {
				t.Fatalf("after %d came %d", after, c.Number)
			}
			after = c.Number
			seen = append(seen, c)
		}
		if len(page) == 0 && finished == writers && len(seen) < 2*writers*each {
			t.Fatalf("%d changes, want %d", len(seen), 2*writers*each)
		}
	}
	adds, updates := map[int64]bool{}, map[int64]bool{}
	for _, c := range seen {
		switch c.Kind {
		case storage.ChangeAdd:
			adds[c.ItemID] = true
		case storage.ChangeUpdate:
			if !adds[c.ItemID] {
				t.Fatalf("update of item %d before its add", c.ItemID)
			}
			updates[c.ItemID] = true
		}
	}
	if len(adds) != writers*each || len(updates) != writers*each {
		t.Fatalf("%d adds, %d updates", len(adds), len(updates))
	}
}
