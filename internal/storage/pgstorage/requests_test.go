package pgstorage_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// Two servers claim one key: the second's claim waits on the first's
// open transaction (seen in pg_stat_activity), and once the first
// commits it gets the first's answer, never a second claim.
func TestASecondServerClaimingAKeyInFlightWaitsAndGetsTheFirstAnswer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testenv.Postgres(t)
	first, second := newStore(t, newPool(t, url), pgstorage.Options{}), newStore(t, newPool(t, url), pgstorage.Options{})
	watch := newPool(t, url)
	claimed, finish := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var firstErr, secondErr error
	var got *storage.RequestRecord
	wg.Go(func() {
		firstErr = first.Update(ctx, func(tx storage.Tx) error {
			_, err := tx.Requests().Claim(ctx, "alice", "k", "POST /x")
			close(claimed)
			if err != nil {
				return err
			}
			<-finish
			return tx.Requests().Answer(ctx, "alice", "k", storage.RequestAnswer{Status: 201, Body: []byte("first")})
		})
	})
	<-claimed
	wg.Go(func() {
		secondErr = second.Update(ctx, func(tx storage.Tx) (err error) {
			got, err = tx.Requests().Claim(ctx, "alice", "k", "POST /x")
			return err
		})
	})
	// Wait until the second claim is blocked on the first's row.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO "Requests"%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second claim never waited on the first")
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(finish)
	wg.Wait()
	if firstErr != nil || secondErr != nil {
		t.Fatalf("first: %v, second: %v", firstErr, secondErr)
	}
	if got == nil || got.Answer.Status != 201 || string(got.Answer.Body) != "first" {
		t.Fatalf("the second claim got %+v; want the first's answer", got)
	}
}
