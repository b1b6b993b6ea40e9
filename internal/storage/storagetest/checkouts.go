package storagetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var checkOutTests = []test{
	{"a checked-out file is writable only by its holder", func(t *testing.T, e *env) {
		l := e.docs()
		e.mkdir(l, "", "F")
		f := e.upload(l, "F", "doc.txt", "blob-1")
		got, err := e.checkOut(l, f.URL, 7)
		if err != nil {
			t.Fatal(err)
		}
		if got.CheckOutType != storage.CheckOutOnline || got.CheckedOutBy != 7 {
			t.Fatalf("checked out %+v", got)
		}
		if r := e.mustFile(l, f.URL); r.CheckOutType != storage.CheckOutOnline || r.CheckedOutBy != 7 {
			t.Errorf("read back %+v", r)
		}
		if again, err := e.checkOut(l, f.URL, 7); err != nil || again.CheckedOutBy != 7 {
			t.Errorf("checked out again by its holder: %+v, %v", again, err)
		}
		_, err = e.checkOut(l, f.URL, 8)
		locked(t, "a check-out by another", err)
		_, err = e.overwrite(l, "F", "doc.txt", "blob-8", 8)
		locked(t, "an overwrite by another", err)
		_, err = e.move(false, storage.MoveInput{ListID: l.ID, From: f.URL, To: at(l, "moved.txt"), By: 8})
		locked(t, "a move by another", err)
		_, err = e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "F"), To: at(l, "G"), By: 8})
		locked(t, "a move of its folder by another", err)
		_, err = e.recycleFile(l, f.URL, 8)
		locked(t, "a recycle by another", err)
		_, err = e.recycleFile(l, at(l, "F"), 8)
		locked(t, "a recycle of its folder by another", err)
		locked(t, "an item update by another", e.s.Update(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, f.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("x")}, By: 8})
			return err
		}))
		// A delete names no user: refused while anyone holds the file.
		locked(t, "a delete", e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, f.URL, 0) }))
		locked(t, "a delete of its folder", e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, at(l, "F"), 0) }))
		locked(t, "a delete of its item", e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, f.ItemID, 0) }))
		_, err = e.checkIn(l, f.URL, 8, "", storage.CheckInMajor)
		locked(t, "a check-in by another", err)
		_, err = e.undoCheckOut(l, f.URL, 8)
		locked(t, "an undo by another", err)
		sameFile(t, "after the refused writes", e.mustFile(l, f.URL), got)
		// Its holder may.
		e.do(func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, f.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("mine")}, By: 7})
			return err
		})
		if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "F"), To: at(l, "G"), By: 7}); err != nil {
			t.Fatalf("a move by the holder: %v", err)
		}
		n, err := e.checkIn(l, at(l, "G/doc.txt"), 7, "done", storage.CheckInMajor)
		if err != nil {
			t.Fatal(err)
		}
		if n.CheckOutType != storage.CheckOutNone || n.CheckedOutBy != 0 || n.MajorVersion != 2 {
			t.Errorf("checked in %+v", n)
		}
		if _, err := e.overwrite(l, "G", "doc.txt", "blob-8", 8); err != nil {
			t.Errorf("an overwrite after the check-in: %v", err)
		}
	}},
	{"the holder's overwrites make no version until check-in", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "doc.txt", "blob-1")
		if _, err := e.checkOut(l, f.URL, 7); err != nil {
			t.Fatal(err)
		}
		e.mustOverwrite(l, "", "doc.txt", "blob-draft1", 7)
		d := e.mustOverwrite(l, "", "doc.txt", "blob-draft2", 7)
		if d.MajorVersion != 1 || d.MinorVersion != 0 || d.Blob != "blob-draft2" || d.CheckedOutBy != 7 {
			t.Fatalf("a draft %+v", d)
		}
		for _, v := range e.fileVersions(l, f.URL) {
			if v.Blob != "blob-1" {
				t.Errorf("a draft made a version: %q", labels(e.fileVersions(l, f.URL)))
			}
		}
		if m := e.blobsInUse("blob-draft1"); m["blob-draft1"] {
			t.Errorf("a replaced draft is still in use")
		}
		n, err := e.checkIn(l, f.URL, 7, "first draft", storage.CheckInMinor)
		if err != nil {
			t.Fatal(err)
		}
		if n.MajorVersion != 1 || n.MinorVersion != 1 || n.Blob != "blob-draft2" {
			t.Errorf("checked in as minor %+v", n)
		}
		if got := labels(e.fileVersions(l, f.URL)); !slices.Equal(got, []string{"1.0=blob-1"}) {
			t.Errorf("versions after check-in %q", got)
		}
		// The comment goes with the content it was checked in with.
		e.checkOut(l, f.URL, 7)
		if n, err = e.checkIn(l, f.URL, 7, "", storage.CheckInMajor); err != nil || n.MajorVersion != 2 || n.MinorVersion != 0 {
			t.Fatalf("checked in as major %+v, %v", n, err)
		}
		vs := e.fileVersions(l, f.URL)
		if got := labels(vs); !slices.Equal(got, []string{"1.0=blob-1", "1.1=blob-draft2"}) || vs[1].CheckInComment != "first draft" || vs[1].ID != 513 {
			t.Errorf("versions %q %+v", got, vs)
		}
		// An overwrite check-in replaces without a version.
		e.checkOut(l, f.URL, 7)
		e.mustOverwrite(l, "", "doc.txt", "blob-fix", 7)
		if n, err = e.checkIn(l, f.URL, 7, "", storage.CheckInOverwrite); err != nil || n.MajorVersion != 2 || n.Blob != "blob-fix" {
			t.Fatalf("checked in as overwrite %+v, %v", n, err)
		}
		if got := labels(e.fileVersions(l, f.URL)); len(got) != 2 {
			t.Errorf("an overwrite check-in made a version: %q", got)
		}
		if m := e.blobsInUse("blob-draft2"); !m["blob-draft2"] {
			t.Errorf("version 1.1's blob is not in use")
		}
	}},
	{"undo puts back the content and version of the check-out", func(t *testing.T, e *env) {
		l := e.docs()
		e.upload(l, "", "doc.txt", "blob-1")
		f := e.mustOverwrite(l, "", "doc.txt", "blob-2", 6)
		e.checkOut(l, f.URL, 7)
		e.mustOverwrite(l, "", "doc.txt", "blob-draft", 7)
		n, err := e.undoCheckOut(l, f.URL, 7)
		if err != nil {
			t.Fatal(err)
		}
		if n.Blob != "blob-2" || n.MajorVersion != 2 || n.CheckOutType != storage.CheckOutNone || n.CheckedOutBy != 0 || n.EditorID != 6 {
			t.Errorf("after undo %+v", n)
		}
		if got := labels(e.fileVersions(l, f.URL)); !slices.Equal(got, []string{"1.0=blob-1"}) {
			t.Errorf("versions after undo %q", got)
		}
		if m := e.blobsInUse("blob-draft"); m["blob-draft"] {
			t.Errorf("the discarded draft is in use")
		}
		// Undo of a check-out that changed nothing.
		e.checkOut(l, f.URL, 7)
		if n, err := e.undoCheckOut(l, f.URL, 7); err != nil || n.Blob != "blob-2" || n.CheckOutType != storage.CheckOutNone {
			t.Errorf("undo without a change %+v, %v", n, err)
		}
	}},
	{"a check-in needs a check-out, and a folder has none", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "doc.txt", "blob-1")
		e.mkdir(l, "", "F")
		_, err := e.checkIn(l, f.URL, 7, "", storage.CheckInMajor)
		if !errorsIs(err, storage.ErrInvalid) {
			t.Errorf("check-in without a check-out: %v", err)
		}
		if _, err := e.undoCheckOut(l, f.URL, 7); !errorsIs(err, storage.ErrInvalid) {
			t.Errorf("undo without a check-out: %v", err)
		}
		if _, err := e.checkOut(l, at(l, "F"), 7); !errorsIs(err, storage.ErrInvalid) && !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("a folder's check-out: %v", err)
		}
		e.checkOut(l, f.URL, 7)
		if _, err := e.checkIn(l, f.URL, 7, "", 3); !errorsIs(err, storage.ErrInvalid) {
			t.Errorf("check-in type 3: %v", err)
		}
	}},
	{"of two check-outs at once one wins", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "doc.txt", "blob-1")
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.checkOut(l, f.URL, int64(10+i))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errorsIs(err, storage.ErrLocked):
				t.Errorf("a losing check-out: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d check-outs won", won)
		}
		if r := e.mustFile(l, f.URL); r.CheckedOutBy < 10 || errs[r.CheckedOutBy-10] != nil {
			t.Errorf("held by %d", r.CheckedOutBy)
		}
	}},
}
