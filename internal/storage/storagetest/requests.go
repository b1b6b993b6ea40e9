package storagetest

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var requestTests = []test{
	{"a claimed key gives its answer back, with nothing written", testRequestReplay},
	{"a key is free again when its claim rolled back or was released", testRequestClaimUndone},
	{"keys are per owner; bad keys are refused", testRequestOwnersAndBadKeys},
	{"a second claim of a key in flight gets the first one's answer", testRequestConcurrentClaim},
	{"prune removes records by age", testRequestPrune},
}

func testRequestReplay(t *testing.T, e *env) {
	l := e.list("Tasks")
	ans := storage.RequestAnswer{Status: 201, Header: http.Header{"Etag": {`"1"`}}, Body: []byte(`{"Id":1}`)}
	e.do(func(tx storage.Tx) error {
		r, err := tx.Requests().Claim(e.ctx, "i:0#.f|membership|alice", "k-1", "POST /_api/x")
		if err != nil || r != nil {
			t.Fatalf("first claim: %+v, %v; want the key free", r, err)
		}
		if _, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{By: 1, Values: map[string]odata.Value{"Title": odata.String("a")}}); err != nil {
			return err
		}
		return tx.Requests().Answer(e.ctx, "i:0#.f|membership|alice", "k-1", ans)
	})
	before := time.Now()
	e.do(func(tx storage.Tx) error {
		r, err := tx.Requests().Claim(e.ctx, "i:0#.f|membership|alice", "k-1", "POST /_api/x")
		if err != nil || r == nil {
			t.Fatalf("second claim: %+v, %v; want the first's record", r, err)
		}
		if r.Owner != "i:0#.f|membership|alice" || r.Key != "k-1" || r.Fingerprint != "POST /_api/x" || r.Answer.Status != 201 ||
			string(r.Answer.Body) != `{"Id":1}` || r.Answer.Header.Get("ETag") != `"1"` || r.Created.After(before) || r.Created.Location() != time.UTC {
			t.Errorf("record = %+v", r)
		}
		return nil
	})
	// The second claim wrote nothing: the list holds one item.
	e.read(func(tx storage.Tx) error {
		got, err := tx.Lists().Get(e.ctx, e.web.ID, l.ID)
		if err == nil && got.ItemCount != 1 {
			t.Errorf("%d items after the replay; want 1", got.ItemCount)
		}
		return err
	})
}

func testRequestClaimUndone(t *testing.T, e *env) {
	e.fails(errRolledBack, func(tx storage.Tx) error {
		if r, err := tx.Requests().Claim(e.ctx, "o", "k", "f"); err != nil || r != nil {
			t.Fatalf("claim: %+v, %v", r, err)
		}
		return errRolledBack
	})
	e.do(func(tx storage.Tx) error {
		if r, err := tx.Requests().Claim(e.ctx, "o", "k", "f2"); err != nil || r != nil {
			t.Fatalf("claim after a rollback: %+v, %v; want the key free", r, err)
		}
		return tx.Requests().Release(e.ctx, "o", "k")
	})
	e.do(func(tx storage.Tx) error {
		if r, err := tx.Requests().Claim(e.ctx, "o", "k", "f3"); err != nil || r != nil {
			t.Fatalf("claim after a release: %+v, %v; want the key free", r, err)
		}
		return tx.Requests().Answer(e.ctx, "o", "k", storage.RequestAnswer{Status: 204})
	})
	e.do(func(tx storage.Tx) error {
		r, err := tx.Requests().Claim(e.ctx, "o", "k", "f")
		if err != nil || r == nil || r.Fingerprint != "f3" || r.Answer.Status != 204 || r.Answer.Header != nil || len(r.Answer.Body) != 0 {
			t.Fatalf("claim: %+v, %v; want f3's record", r, err)
		}
		return nil
	})
	// Answering a key nobody claimed is an error.
	e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
		return tx.Requests().Answer(e.ctx, "o", "never", storage.RequestAnswer{Status: 200})
	})
}

func testRequestOwnersAndBadKeys(t *testing.T, e *env) {
	e.do(func(tx storage.Tx) error {
		for _, owner := range []string{"alice", "bob"} {
			if r, err := tx.Requests().Claim(e.ctx, owner, "same", "f"); err != nil || r != nil {
				t.Fatalf("%s's claim: %+v, %v; want the key free", owner, r, err)
			}
		}
		return nil
	})
	for _, key := range []string{"", "has space", "tab\t", "é", string(make([]byte, storage.MaxIdempotencyKey+1))} {
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Requests().Claim(e.ctx, "alice", key, "f")
			return err
		})
	}
	if err := e.s.View(e.ctx, func(tx storage.Tx) error {
		_, err := tx.Requests().Claim(e.ctx, "alice", "k", "f")
		return err
	}); err == nil {
		t.Error("a claim in a read-only transaction succeeded")
	}
}

func testRequestConcurrentClaim(t *testing.T, e *env) {
	claimed := make(chan struct{})
	finish := make(chan struct{})
	var wg sync.WaitGroup
	var firstErr error
	wg.Go(func() {
		firstErr = e.s.Update(e.ctx, func(tx storage.Tx) error {
			if r, err := tx.Requests().Claim(e.ctx, "o", "k", "f"); err != nil || r != nil {
				close(claimed)
				return err
			}
			close(claimed)
			<-finish
			return tx.Requests().Answer(e.ctx, "o", "k", storage.RequestAnswer{Status: 201, Body: []byte("first")})
		})
	})
	<-claimed
	var got []*storage.RequestRecord
	var mu sync.Mutex
	for range 3 {
		wg.Go(func() {
			err := e.s.Update(e.ctx, func(tx storage.Tx) error {
				r, err := tx.Requests().Claim(e.ctx, "o", "k", "f")
				mu.Lock()
				got = append(got, r)
				mu.Unlock()
				return err
			})
			if err != nil {
				t.Errorf("a second claim failed: %v", err)
			}
		})
	}
	close(finish)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if len(got) != 3 || slices.ContainsFunc(got, func(r *storage.RequestRecord) bool { return r == nil || string(r.Answer.Body) != "first" }) {
		t.Fatalf("the second claims got %+v; want the first's answer each", got)
	}
}

func testRequestPrune(t *testing.T, e *env) {
	e.do(func(tx storage.Tx) error {
		_, err := tx.Requests().Claim(e.ctx, "o", "k", "f")
		return err
	})
	for _, c := range []struct {
		before time.Time
		want   int64
	}{{time.Now().Add(-time.Minute), 0}, {time.Now().Add(time.Minute), 1}, {time.Now().Add(time.Minute), 0}} {
		e.do(func(tx storage.Tx) error {
			n, err := tx.Requests().Prune(e.ctx, c.before)
			if err == nil && n != c.want {
				t.Errorf("Prune(%v) removed %d; want %d", c.before, n, c.want)
			}
			return err
		})
	}
	e.do(func(tx storage.Tx) error {
		if r, err := tx.Requests().Claim(e.ctx, "o", "k", "f"); err != nil || r != nil {
			t.Fatalf("claim after prune: %+v, %v; want the key free", r, err)
		}
		return nil
	})
}
