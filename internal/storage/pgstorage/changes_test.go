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
	if _, err := pool.Exec(ctx, `DROP TABLE "Changes"; DROP TABLE "Subscriptions";
		ALTER TABLE "Lists" DROP COLUMN "LastChange", DROP COLUMN "ChangesPrunedThrough";
		DELETE FROM "SchemaMigrations" WHERE "Component" = 'storage' AND "Version" = 10`); err != nil {
		t.Fatal(err)
	}
	r, err := pgstorage.ApplyMigrations(ctx, pool)
	if err != nil || !slices.Equal(r.Applied, []int{10}) {
		t.Fatalf("applied %+v, %v; want 010 alone", r, err)
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
