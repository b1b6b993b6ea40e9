package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var itemTests = []test{
	{"an item gets id 1, version 1, a GUID, author and typed values", func(t *testing.T, e *env) {
		l := e.list("Tasks", storage.FieldInput{Title: "Priority", Type: storage.TypeNumber},
			storage.FieldInput{Title: "Due", Type: storage.TypeDateTime}, storage.FieldInput{Title: "Owner", Type: storage.TypeUser})
		it := e.add(l.ID, 6, map[string]odata.Value{"Title": str("Task 1"), "Priority": odata.Int(1),
			"Due": str("2026-11-23T19:35:09.123456Z"), "OwnerId": odata.Int(7)})
		if it.ID != 1 || it.Version != 1 || it.AuthorID != 6 || it.EditorID != 6 || len(it.GUID) != 36 ||
			it.Created.IsZero() || !it.Created.Equal(it.Modified) {
			t.Fatalf("item %+v", it)
		}
		got, err := e.get(l.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]odata.Value{"Title": str("Task 1"), "Priority": odata.Decimal(1),
			"Due": odata.DateTime(time.Date(2026, 11, 23, 19, 35, 9, 123456000, time.UTC)), "Owner": odata.Int(7)}
		for k, v := range want {
			if got.Values[k] != v {
				t.Errorf("%s = %v, want %v", k, got.Values[k], v)
			}
		}
		if got.GUID != it.GUID || !got.Created.Equal(it.Created) {
			t.Errorf("read back %+v", got)
		}
		e.read(func(tx storage.Tx) error {
			l2, _ := tx.Lists().Get(e.ctx, e.web.ID, l.ID)
			if l2.ItemCount != 1 || l2.LastItemModifiedDate.Before(l.LastItemModifiedDate) {
				t.Errorf("list after insert %+v", l2)
			}
			return nil
		})
	}},
	{"an update adds one to the version and a null clears a field", func(t *testing.T, e *env) {
		l := e.list("Tasks", storage.FieldInput{Title: "Note", Type: storage.TypeNote})
		e.add(l.ID, 6, map[string]odata.Value{"Title": str("a"), "Note": str("n")})
		e.do(func(tx storage.Tx) error {
			it, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("b"), "Note": odata.Null()}, By: 7, IfVersion: 1})
			if err == nil && (it.Version != 2 || it.EditorID != 7 || it.AuthorID != 6 || it.Values["Title"] != str("b")) {
				t.Errorf("updated %+v", it)
			}
			return err
		})
		it, _ := e.get(l.ID, 1)
		if _, ok := it.Values["Note"]; ok || it.Version != 2 {
			t.Errorf("after update %+v", it)
		}
		e.do(func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("c")}})
			return err
		})
		if it, _ := e.get(l.ID, 1); it.Version != 3 {
			t.Errorf("an update with If-Match * gives version %d", it.Version)
		}
	}},
	{"a stale version is a conflict on update and delete", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.add(l.ID, 0, nil)
		e.do(func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("x")}, IfVersion: 1})
			return err
		})
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("y")}, IfVersion: 1})
			return err
		})
		e.fails(storage.ErrConflict, func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, 1, 1) })
		if it, _ := e.get(l.ID, 1); it.Values["Title"] != str("x") {
			t.Errorf("stale update was written: %v", it.Values)
		}
		e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, 1, 2) })
		if _, err := e.get(l.ID, 1); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted item: %v", err)
		}
	}},
	{"of 8 concurrent updates naming one version exactly one succeeds", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.add(l.ID, 0, nil)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				errs[i] = e.s.Update(e.ctx, func(tx storage.Tx) error {
					_, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("w")}, IfVersion: 1})
					return err
				})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, storage.ErrConflict):
				t.Errorf("unexpected error %v", err)
			}
		}
		if it, _ := e.get(l.ID, 1); ok != 1 || it.Version != 2 {
			t.Errorf("%d succeeded, version %d", ok, it.Version)
		}
	}},
	{"8 writers inserting 200 items each get ids 1 to 1600 once each", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		InsertConcurrently(t, []storage.Store{e.s}, l.ID, 8, 200)
	}},
	{"ids are never reused after a delete", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.add(l.ID, 0, nil)
		e.add(l.ID, 0, nil)
		e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, 2, 0) })
		if it := e.add(l.ID, 0, nil); it.ID != 3 {
			t.Errorf("id after delete %d", it.ID)
		}
		e.read(func(tx storage.Tx) error {
			l2, _ := tx.Lists().Get(e.ctx, e.web.ID, l.ID)
			if l2.ItemCount != 2 {
				t.Errorf("ItemCount %d", l2.ItemCount)
			}
			return nil
		})
	}},
	{"a value of the wrong type, an unknown or read-only field is invalid and nothing is stored", func(t *testing.T, e *env) {
		l := e.list("Tasks", storage.FieldInput{Title: "Priority", Type: storage.TypeNumber},
			storage.FieldInput{Title: "Done", Type: storage.TypeBoolean}, storage.FieldInput{Title: "Due", Type: storage.TypeDateTime},
			storage.FieldInput{Title: "Key", Type: storage.TypeGuid}, storage.FieldInput{Title: "Count", Type: storage.TypeInteger})
		for _, vals := range []map[string]odata.Value{
			{"Priority": str("high")}, {"Done": str("yes")}, {"Due": str("tomorrow")}, {"Key": str("nope")},
			{"Count": odata.Decimal(1.5)}, {"Title": odata.Int(3)}, {"Nope": str("qqzz")}, {"ID": odata.Int(9)},
			{"Created": str("2026-01-01")}, {"AuthorId": odata.Int(1)},
		} {
			err := e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
				_, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{Values: vals})
				return err
			})
			for k, v := range vals {
				if v.Kind == odata.KindString && containsFold(err.Error(), v.Str) {
					t.Errorf("the error %q repeats the value of %s", err, k)
				}
			}
		}
		e.add(l.ID, 0, nil)
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Priority": odata.Bool(true)}})
			return err
		})
		if it, _ := e.get(l.ID, 1); it.Version != 1 {
			t.Errorf("a refused update changed the item")
		}
		if it := e.add(l.ID, 0, nil); it.ID != 2 {
			t.Errorf("refused inserts used ids: next is %d", it.ID)
		}
	}},
	{"a missing item or list is not found", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		if _, err := e.get(l.ID, 1); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("get: %v", err)
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, 5, storage.ItemUpdate{})
			return err
		})
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Items().Create(e.ctx, storage.NewGUID(), storage.ItemInput{})
			return err
		})
		if _, err := e.query(storage.NewGUID(), storage.ItemQuery{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("query: %v", err)
		}
	}},
}

// InsertConcurrently inserts writers×n items into a list, each in its own
// transaction, spreading the writers over the stores, and checks that the
// ids are 1…writers×n, each once.
func InsertConcurrently(t *testing.T, stores []storage.Store, listID string, writers, n int) {
	t.Helper()
	ctx := t.Context()
	ids := make(chan int64, writers*n*len(stores))
	var wg sync.WaitGroup
	for _, s := range stores {
		for range writers {
			wg.Go(func() {
				for range n {
					err := s.Update(ctx, func(tx storage.Tx) error {
						it, err := tx.Items().Create(ctx, listID, storage.ItemInput{Values: map[string]odata.Value{"Title": str("x")}})
						if err == nil {
							ids <- it.ID
						}
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(ids)
	total := writers * n * len(stores)
	seen := make([]bool, total+1)
	count := 0
	for id := range ids {
		if id < 1 || id > int64(total) || seen[id] {
			t.Fatalf("id %d out of range or given twice", id)
		}
		seen[id] = true
		count++
	}
	if count != total {
		t.Fatalf("%d ids, want %d", count, total)
	}
}
