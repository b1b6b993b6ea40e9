package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var changeTests = []test{
	{"item adds, updates and deletes record their change", testItemChanges},
	{"file and folder writes record their changes", testFileChanges},
	{"deleting a folder records a change per item in it", testFolderDeleteChanges},
	{"recycle and restore record DeleteObject and Restore", testRecycleChanges},
	{"moves record Rename, or MoveAway and MoveInto across libraries", testMoveChanges},
	{"a rolled-back transaction records nothing", testChangesRollback},
	{"Since pages in order", testChangesPaging},
	{"a token older than what was pruned has expired", testChangesPrune},
	{"a missing list has no change log", testChangesMissingList},
	{"a list restored from the recycle bin starts a new log", testChangesRecycledList},
	{"breaking and restoring an item's role inheritance records SystemUpdate", testInheritanceChanges},
	{"moves across libraries both ways and prunes run together without a deadlock", testMovesAndPrunes},
}

var subscriptionTests = []test{
	{"create, get, list, update and delete", testSubscriptionCRUD},
	{"what SharePoint refuses is refused", testSubscriptionValidation},
	{"deleting the list deletes its subscriptions", testSubscriptionsGoWithTheList},
	{"active and expired", testSubscriptionsActiveExpired},
	{"due and notified", testSubscriptionsDue},
}

// since reads the list's changes after n (up to 1000).
func (e *env) since(listID string, n int64) []*storage.Change {
	e.t.Helper()
	var cs []*storage.Change
	e.read(func(tx storage.Tx) (err error) {
		cs, err = tx.Changes().Since(e.ctx, listID, n, 1000)
		return err
	})
	return cs
}

func (e *env) latest(listID string) storage.ChangeToken {
	e.t.Helper()
	var tok storage.ChangeToken
	e.read(func(tx storage.Tx) (err error) {
		tok, err = tx.Changes().Latest(e.ctx, listID)
		return err
	})
	return tok
}

// kinds describes changes as "Kind:item" strings, in order.
func kinds(cs []*storage.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%v:%d", c.Kind, c.ItemID))
	}
	return out
}

// expectChanges checks the changes after n of list: kinds, items, and
// that numbers follow n without gaps.
func (e *env) expectChanges(what string, listID string, after int64, want ...string) []*storage.Change {
	e.t.Helper()
	cs := e.since(listID, after)
	if got := kinds(cs); !slices.Equal(got, want) {
		e.t.Fatalf("%s: changes %v, want %v", what, got, want)
	}
	for i, c := range cs {
		if c.Number != after+int64(i)+1 || c.ListID != listID || c.Time.IsZero() {
			e.t.Fatalf("%s: change %d is %+v", what, i, c)
		}
	}
	return cs
}

func testItemChanges(t *testing.T, e *env) {
	l := e.list("Tasks")
	start := e.latest(l.ID)
	if start.Number != 0 || start.ListID != l.ID {
		t.Fatalf("a new list's position: %+v", start)
	}
	a := e.add(l.ID, 6, map[string]odata.Value{"Title": str("a")})
	b := e.add(l.ID, 6, map[string]odata.Value{"Title": str("b")})
	e.do(func(tx storage.Tx) error {
		_, err := tx.Items().Update(e.ctx, l.ID, a.ID, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("a2")}, By: 6})
		return err
	})
	e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, b.ID, 0) })
	if _, err := e.attach(l.ID, a.ID, attachment("n.txt", "blob-n", 6)); err != nil {
		t.Fatal(err)
	}
	cs := e.expectChanges("items", l.ID, 0, "Add:1", "Add:2", "Update:1", "DeleteObject:2", "Update:1")
	if cs[0].UniqueID != a.GUID || cs[3].UniqueID != b.GUID {
		t.Fatalf("unique ids: %+v %+v, want %s %s", cs[0], cs[3], a.GUID, b.GUID)
	}
	tok := e.latest(l.ID)
	if tok.Number != 5 || !tok.Time.Equal(cs[4].Time) {
		t.Fatalf("Latest: %+v, last change %+v", tok, cs[4])
	}
	e.expectChanges("after the latest", l.ID, 5)
	e.expectChanges("after 3", l.ID, 3, "DeleteObject:2", "Update:1")
	// Another list's log is its own.
	other := e.list("Other")
	e.add(other.ID, 6, nil)
	e.expectChanges("other list", other.ID, 0, "Add:1")
}

func testFileChanges(t *testing.T, e *env) {
	lib := e.library("Docs")
	folder := e.mkdir(lib, "", "a")
	f := e.upload(lib, "a", "x.txt", "blob-1")
	e.mustOverwrite(lib, "a", "x.txt", "blob-2", 6)
	if _, err := e.checkOut(lib, f.URL, 6); err != nil {
		t.Fatal(err)
	}
	if _, err := e.checkIn(lib, f.URL, 6, "", storage.CheckInMajor); err != nil {
		t.Fatal(err)
	}
	e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, lib.ID, f.URL, 0) })
	cs := e.expectChanges("files", lib.ID, 0,
		fmt.Sprintf("Add:%d", folder.ItemID), fmt.Sprintf("Add:%d", f.ItemID), fmt.Sprintf("Update:%d", f.ItemID),
		fmt.Sprintf("Update:%d", f.ItemID), fmt.Sprintf("DeleteObject:%d", f.ItemID))
	if cs[0].UniqueID != folder.UniqueID || cs[4].UniqueID != f.UniqueID {
		t.Fatalf("unique ids: %+v %+v", cs[0], cs[4])
	}
}

func testFolderDeleteChanges(t *testing.T, e *env) {
	lib := e.library("Docs")
	folder := e.mkdir(lib, "", "a")
	sub := e.mkdir(lib, "a", "b")
	want := []int64{folder.ItemID, sub.ItemID}
	e.do(func(tx storage.Tx) error {
		for i := range 20 {
			f, err := tx.Files().Put(e.ctx, lib.ID, storage.FileInput{FolderURL: sub.URL, Name: fmt.Sprintf("f%d.txt", i), Blob: "b", Length: 1, By: 6})
			if err != nil {
				return err
			}
			want = append(want, f.ItemID)
		}
		return nil
	})
	before := e.latest(lib.ID).Number
	e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, lib.ID, folder.ItemID, 0) })
	cs := e.since(lib.ID, before)
	var got []int64
	for i, c := range cs {
		if c.Kind != storage.ChangeDeleteObject || c.Number != before+int64(i)+1 {
			t.Fatalf("change %d: %+v", i, c)
		}
		got = append(got, c.ItemID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("deleted items %v, want %v", got, want)
	}
}

func testRecycleChanges(t *testing.T, e *env) {
	l := e.list("Tasks")
	it := e.add(l.ID, 6, nil)
	var bi *storage.RecycleBinItem
	e.do(func(tx storage.Tx) (err error) {
		bi, err = tx.RecycleBin().RecycleItem(e.ctx, l.ID, it.ID, 6, 0)
		return err
	})
	e.mustRestore(bi.ID)
	cs := e.expectChanges("list item", l.ID, 0, "Add:1", "DeleteObject:1", "Restore:1")
	if cs[2].UniqueID != it.GUID {
		t.Fatalf("restored %+v, want GUID %s", cs[2], it.GUID)
	}
	lib := e.library("Docs")
	folder := e.mkdir(lib, "", "a")
	f := e.upload(lib, "a", "x.txt", "blob-1")
	fb := e.mustRecycleFile(lib, folder.URL)
	e.mustRestore(fb.ID)
	cs = e.since(lib.ID, 2)
	got := kinds(cs)
	slices.Sort(got[:2])
	slices.Sort(got[2:])
	want := []string{fmt.Sprintf("DeleteObject:%d", folder.ItemID), fmt.Sprintf("DeleteObject:%d", f.ItemID),
		fmt.Sprintf("Restore:%d", folder.ItemID), fmt.Sprintf("Restore:%d", f.ItemID)}
	slices.Sort(want[:2])
	slices.Sort(want[2:])
	if !slices.Equal(got, want) {
		t.Fatalf("folder: %v, want %v", got, want)
	}
}

func testMoveChanges(t *testing.T, e *env) {
	lib := e.library("Docs")
	other := e.library("Other")
	f := e.upload(lib, "", "x.txt", "blob-1")
	if _, err := e.move(false, storage.MoveInput{ListID: lib.ID, From: f.URL, To: at(lib, "y.txt"), By: 6}); err != nil {
		t.Fatal(err)
	}
	moved, err := e.move(false, storage.MoveInput{ListID: lib.ID, From: at(lib, "y.txt"), To: at(other, "y.txt"), By: 6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.move(true, storage.MoveInput{ListID: other.ID, From: moved.URL, To: at(other, "z.txt"), By: 6}); err != nil {
		t.Fatal(err)
	}
	e.expectChanges("source", lib.ID, 0, fmt.Sprintf("Add:%d", f.ItemID), fmt.Sprintf("Rename:%d", f.ItemID), fmt.Sprintf("MoveAway:%d", f.ItemID))
	cs := e.expectChanges("target", other.ID, 0, fmt.Sprintf("MoveInto:%d", moved.ItemID), fmt.Sprintf("Add:%d", moved.ItemID+1))
	if cs[0].UniqueID != f.UniqueID {
		t.Fatalf("moved into: %+v, want UniqueID %s", cs[0], f.UniqueID)
	}
}

func testChangesRollback(t *testing.T, e *env) {
	l := e.list("Tasks")
	lib := e.library("Docs")
	boom := errors.New("boom")
	e.fails(boom, func(tx storage.Tx) error {
		if _, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{By: 6}); err != nil {
			return err
		}
		if _, err := tx.Files().AddFolder(e.ctx, lib.ID, storage.FolderInput{ParentURL: lib.RootFolderURL, Name: "a", By: 6}); err != nil {
			return err
		}
		return boom
	})
	e.expectChanges("list", l.ID, 0)
	e.expectChanges("library", lib.ID, 0)
	if n := e.latest(l.ID).Number; n != 0 {
		t.Fatalf("position %d after a rollback", n)
	}
	// The numbers the rolled-back transaction took are handed out again.
	e.add(l.ID, 6, nil)
	e.expectChanges("after", l.ID, 0, "Add:1")
}

func testChangesPaging(t *testing.T, e *env) {
	l := e.list("Tasks")
	e.do(func(tx storage.Tx) error {
		for range 25 {
			if _, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{By: 6}); err != nil {
				return err
			}
		}
		return nil
	})
	var all []int64
	after := int64(0)
	for {
		var page []*storage.Change
		e.read(func(tx storage.Tx) (err error) {
			page, err = tx.Changes().Since(e.ctx, l.ID, after, 10)
			return err
		})
		if len(page) == 0 {
			break
		}
		if len(page) > 10 {
			t.Fatalf("page of %d", len(page))
		}
		for _, c := range page {
			all = append(all, c.ItemID)
			after = c.Number
		}
	}
	if len(all) != 25 || !slices.IsSorted(all) || all[0] != 1 || all[24] != 25 {
		t.Fatalf("paged items %v", all)
	}
	e.read(func(tx storage.Tx) error {
		if _, err := tx.Changes().Since(e.ctx, l.ID, 0, 0); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("limit 0: %v", err)
		}
		return nil
	})
}

func testChangesPrune(t *testing.T, e *env) {
	l := e.list("Tasks")
	e.add(l.ID, 6, nil)
	e.add(l.ID, 6, nil)
	var n int64
	// Nothing is older than a minute ago.
	e.do(func(tx storage.Tx) (err error) {
		n, err = tx.Changes().Prune(e.ctx, time.Now().Add(-time.Minute))
		return err
	})
	if n != 0 {
		t.Fatalf("pruned %d recent changes", n)
	}
	e.do(func(tx storage.Tx) (err error) {
		n, err = tx.Changes().Prune(e.ctx, time.Now().Add(time.Minute))
		return err
	})
	if n != 2 {
		t.Fatalf("pruned %d, want 2", n)
	}
	for _, after := range []int64{0, 1} {
		err := e.s.View(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Changes().Since(e.ctx, l.ID, after, 10)
			return err
		})
		if !errors.Is(err, storage.ErrChangeTokenExpired) {
			t.Fatalf("after %d: %v; want ErrChangeTokenExpired", after, err)
		}
	}
	// The current position is still good, and numbering goes on.
	tok := e.latest(l.ID)
	if tok.Number != 2 {
		t.Fatalf("Latest after pruning: %+v", tok)
	}
	e.expectChanges("at the latest", l.ID, 2)
	e.add(l.ID, 6, nil)
	e.expectChanges("after pruning", l.ID, 2, "Add:3")
}

func testChangesMissingList(t *testing.T, e *env) {
	for _, id := range []string{storage.NewGUID(), "not-a-guid"} {
		err := e.s.View(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Changes().Since(e.ctx, id, 0, 10)
			return err
		})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Since on %q: %v", id, err)
		}
		err = e.s.View(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Changes().Latest(e.ctx, id)
			return err
		})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Latest on %q: %v", id, err)
		}
	}
}

func (e *env) subscribe(listID string, exp time.Time, state string) (*storage.Subscription, error) {
	var s *storage.Subscription
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		s, err = tx.Subscriptions().Create(e.ctx, storage.SubscriptionInput{ListID: listID, NotificationURL: "https://hooks.example.com/in",
			ClientState: state, ExpirationDateTime: exp, CreatedBy: 6})
		return err
	})
	return s, err
}

func (e *env) mustSubscribe(listID string, exp time.Time) *storage.Subscription {
	e.t.Helper()
	s, err := e.subscribe(listID, exp, "state")
	if err != nil {
		e.t.Fatalf("subscribe: %v", err)
	}
	return s
}

func (e *env) subscriptions(listID string) []string {
	e.t.Helper()
	var ids []string
	e.read(func(tx storage.Tx) error {
		ss, err := tx.Subscriptions().List(e.ctx, listID)
		for _, s := range ss {
			ids = append(ids, s.ID)
		}
		return err
	})
	return ids
}

func testSubscriptionCRUD(t *testing.T, e *env) {
	l := e.list("Tasks")
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Microsecond)
	s := e.mustSubscribe(l.ID, exp)
	if !storage.IsGUID(s.ID) || s.ListID != l.ID || s.Resource != l.ID || s.WebID != e.web.ID || s.SiteID != e.site.ID ||
		s.ClientState != "state" || s.NotificationURL != "https://hooks.example.com/in" || !s.ExpirationDateTime.Equal(exp) ||
		s.CreatedBy != 6 || s.Created.IsZero() {
		t.Fatalf("created %+v", s)
	}
	var got *storage.Subscription
	e.read(func(tx storage.Tx) (err error) {
		got, err = tx.Subscriptions().Get(e.ctx, l.ID, s.ID)
		return err
	})
	if *got != *s {
		t.Fatalf("Get: %+v, want %+v", got, s)
	}
	// Another list does not hold it.
	other := e.list("Other")
	err := e.s.View(e.ctx, func(tx storage.Tx) error {
		_, err := tx.Subscriptions().Get(e.ctx, other.ID, s.ID)
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get from another list: %v", err)
	}
	s2 := e.mustSubscribe(l.ID, exp)
	if ids := e.subscriptions(l.ID); len(ids) != 2 || !slices.Contains(ids, s.ID) || !slices.Contains(ids, s2.ID) {
		t.Fatalf("List: %v", ids)
	}
	renewed := exp.Add(48 * time.Hour)
	e.do(func(tx storage.Tx) (err error) {
		got, err = tx.Subscriptions().Update(e.ctx, l.ID, s.ID, storage.SubscriptionUpdate{ExpirationDateTime: &renewed,
			ClientState: ptr("new")})
		return err
	})
	if !got.ExpirationDateTime.Equal(renewed) || got.ClientState != "new" || got.NotificationURL != s.NotificationURL {
		t.Fatalf("Update: %+v", got)
	}
	e.read(func(tx storage.Tx) (err error) {
		got, err = tx.Subscriptions().Get(e.ctx, l.ID, s.ID)
		return err
	})
	if !got.ExpirationDateTime.Equal(renewed) || got.ClientState != "new" {
		t.Fatalf("Get after Update: %+v", got)
	}
	e.do(func(tx storage.Tx) error { return tx.Subscriptions().Delete(e.ctx, l.ID, s.ID) })
	if ids := e.subscriptions(l.ID); !slices.Equal(ids, []string{s2.ID}) {
		t.Fatalf("List after Delete: %v", ids)
	}
	e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Subscriptions().Delete(e.ctx, l.ID, s.ID) })
	e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
		_, err := tx.Subscriptions().Update(e.ctx, l.ID, s.ID, storage.SubscriptionUpdate{ClientState: ptr("x")})
		return err
	})
}

func testSubscriptionValidation(t *testing.T, e *env) {
	l := e.list("Tasks")
	now := time.Now()
	for name, tc := range map[string]struct {
		exp   time.Time
		state string
	}{
		"expiry in the past":    {now.Add(-time.Hour), ""},
		"expiry past 180 days":  {now.Add(181 * 24 * time.Hour), ""},
		"client state too long": {now.Add(time.Hour), string(make([]byte, 256))},
	} {
		if _, err := e.subscribe(l.ID, tc.exp, tc.state); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", name, err)
		}
	}
	e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
		_, err := tx.Subscriptions().Create(e.ctx, storage.SubscriptionInput{ListID: l.ID, ExpirationDateTime: now.Add(time.Hour)})
		return err
	})
	if _, err := e.subscribe(storage.NewGUID(), now.Add(time.Hour), ""); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing list: %v", err)
	}
	s := e.mustSubscribe(l.ID, now.Add(time.Hour))
	past := now.Add(-time.Minute)
	e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
		_, err := tx.Subscriptions().Update(e.ctx, l.ID, s.ID, storage.SubscriptionUpdate{ExpirationDateTime: &past})
		return err
	})
	e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
		_, err := tx.Subscriptions().Update(e.ctx, l.ID, s.ID, storage.SubscriptionUpdate{NotificationURL: ptr("")})
		return err
	})
	if ids := e.subscriptions(l.ID); len(ids) != 1 {
		t.Fatalf("after refused writes: %v", ids)
	}
}

func testSubscriptionsGoWithTheList(t *testing.T, e *env) {
	l := e.list("Tasks")
	s := e.mustSubscribe(l.ID, time.Now().Add(time.Hour))
	e.do(func(tx storage.Tx) error { return tx.Lists().Delete(e.ctx, e.web.ID, l.ID) })
	e.read(func(tx storage.Tx) error {
		if _, err := tx.Subscriptions().Get(e.ctx, l.ID, s.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get after the list's delete: %v", err)
		}
		if _, err := tx.Subscriptions().List(e.ctx, l.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("List after the list's delete: %v", err)
		}
		ex, err := tx.Subscriptions().Expired(e.ctx, time.Now().Add(2*time.Hour), 10)
		if err != nil || len(ex) != 0 {
			t.Fatalf("Expired after the list's delete: %v, %v", ex, err)
		}
		return nil
	})
}

func testSubscriptionsActiveExpired(t *testing.T, e *env) {
	l := e.list("Tasks")
	other := e.list("Other")
	now := time.Now()
	soon := e.mustSubscribe(l.ID, now.Add(time.Hour))
	later := e.mustSubscribe(l.ID, now.Add(3*time.Hour))
	elsewhere := e.mustSubscribe(other.ID, now.Add(2*time.Hour))
	e.read(func(tx storage.Tx) error {
		act, err := tx.Subscriptions().Active(e.ctx, l.ID, now.Add(90*time.Minute))
		if err != nil || len(act) != 1 || act[0].ID != later.ID {
			t.Fatalf("Active in 90 minutes: %v, %v", act, err)
		}
		if act, err = tx.Subscriptions().Active(e.ctx, l.ID, now); err != nil || len(act) != 2 {
			t.Fatalf("Active now: %v, %v", act, err)
		}
		ex, err := tx.Subscriptions().Expired(e.ctx, now.Add(150*time.Minute), 10)
		if err != nil || len(ex) != 2 || ex[0].ID != soon.ID || ex[1].ID != elsewhere.ID {
			t.Fatalf("Expired in 150 minutes: %v, %v", ex, err)
		}
		if ex, err = tx.Subscriptions().Expired(e.ctx, now.Add(4*time.Hour), 2); err != nil || len(ex) != 2 || ex[1].ID != elsewhere.ID {
			t.Fatalf("Expired with a limit: %v, %v", ex, err)
		}
		return nil
	})
}

func testChangesRecycledList(t *testing.T, e *env) {
	l := e.list("Tasks")
	e.add(l.ID, 6, nil)
	e.add(l.ID, 6, nil)
	e.mustSubscribe(l.ID, time.Now().Add(time.Hour))
	var bi *storage.RecycleBinItem
	e.do(func(tx storage.Tx) (err error) {
		bi, err = tx.RecycleBin().RecycleList(e.ctx, e.web.ID, l.ID, 6)
		return err
	})
	e.read(func(tx storage.Tx) error {
		if ex, err := tx.Subscriptions().Expired(e.ctx, time.Now().Add(2*time.Hour), 10); err != nil || len(ex) != 0 {
			t.Fatalf("Expired while the list is in the bin: %v, %v", ex, err)
		}
		return nil
	})
	e.mustRestore(bi.ID)
	if ids := e.subscriptions(l.ID); len(ids) != 0 {
		t.Fatalf("subscriptions after the restore: %v", ids)
	}
	err := e.s.View(e.ctx, func(tx storage.Tx) error {
		_, err := tx.Changes().Since(e.ctx, l.ID, 1, 10)
		return err
	})
	if !errors.Is(err, storage.ErrChangeTokenExpired) {
		t.Fatalf("a token from before the recycle: %v", err)
	}
	if n := e.latest(l.ID).Number; n != 2 {
		t.Fatalf("position after the restore: %d", n)
	}
	e.add(l.ID, 6, nil)
	e.expectChanges("after the restore", l.ID, 2, "Add:3")
}

func testSubscriptionsDue(t *testing.T, e *env) {
	l := e.list("Tasks")
	other := e.list("Other")
	e.add(l.ID, 6, map[string]odata.Value{"Title": str("before")})
	now := time.Now()
	sub := e.mustSubscribe(l.ID, now.Add(time.Hour))
	quiet := e.mustSubscribe(other.ID, now.Add(time.Hour))
	if sub.NotifiedThrough != 1 || quiet.NotifiedThrough != 0 {
		t.Fatalf("a new subscription starts at its list's last change: %d, %d", sub.NotifiedThrough, quiet.NotifiedThrough)
	}
	due := func(at time.Time) []*storage.Subscription {
		t.Helper()
		var out []*storage.Subscription
		e.read(func(tx storage.Tx) (err error) {
			out, err = tx.Subscriptions().Due(e.ctx, at, 10)
			return err
		})
		return out
	}
	if d := due(now); len(d) != 0 {
		t.Fatalf("due before any change after subscribing: %+v", d)
	}
	e.add(l.ID, 6, map[string]odata.Value{"Title": str("a")})
	e.add(l.ID, 6, map[string]odata.Value{"Title": str("b")})
	d := due(now)
	if len(d) != 1 || d[0].ID != sub.ID || d[0].LastChange != 3 || d[0].NotifiedThrough != 1 {
		t.Fatalf("due after two changes: %+v", d)
	}
	if d := due(now.Add(2 * time.Hour)); len(d) != 0 {
		t.Fatalf("an expired subscription is due: %+v", d)
	}
	e.do(func(tx storage.Tx) error { return tx.Subscriptions().MarkNotified(e.ctx, l.ID, sub.ID, 3) })
	e.do(func(tx storage.Tx) error { return tx.Subscriptions().MarkNotified(e.ctx, l.ID, sub.ID, 2) }) // never back
	if d := due(now); len(d) != 0 {
		t.Fatalf("due after being notified: %+v", d)
	}
	e.read(func(tx storage.Tx) error {
		got, err := tx.Subscriptions().Get(e.ctx, l.ID, sub.ID)
		if err != nil || got.NotifiedThrough != 3 {
			t.Fatalf("NotifiedThrough %+v, %v; want 3", got, err)
		}
		return nil
	})
	e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Subscriptions().MarkNotified(e.ctx, l.ID, quiet.ID, 1) })
	e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
		_, err := tx.Subscriptions().Due(e.ctx, now, 0)
		return err
	})
}

// Moves between two libraries, in both directions, while the change log
// is pruned: a cross-library move writes both lists' rows (the change
// counters), Prune writes the rows of every list it pruned. Whatever the
// interleaving, nothing deadlocks (PostgreSQL's 40P01 would surface as
// ErrUnavailable): every move and every prune succeeds.
func testMovesAndPrunes(t *testing.T, e *env) {
	a, b := e.library("Left"), e.library("Right")
	const movers, rounds = 2, 15
	var wg sync.WaitGroup
	errs := make(chan error, 4*movers*rounds+1)
	moved := make(chan struct{}, 1) // a move ended: time for a prune
	for m := range movers {
		// Mover m's own files, one in each library, so moves never race
		// for a name: each round trip moves them across and back.
		fa := e.upload(a, "", fmt.Sprintf("a%d.txt", m), "blob-a")
		fb := e.upload(b, "", fmt.Sprintf("b%d.txt", m), "blob-b")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for _, mv := range []storage.MoveInput{
					{ListID: a.ID, From: fa.URL, To: at(b, fa.Name)},
					{ListID: b.ID, From: fb.URL, To: at(a, fb.Name)},
					{ListID: b.ID, From: at(b, fa.Name), To: fa.URL},
					{ListID: a.ID, From: at(a, fb.Name), To: fb.URL},
				} {
					mv.By = 6
					if _, err := e.move(false, mv); err != nil {
						errs <- fmt.Errorf("move %s -> %s: %w", mv.From, mv.To, err)
					}
					select {
					case moved <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	// Prunes of every change so far, one after a move ends (while the
	// next ones run), until the movers are done.
	done := make(chan struct{})
	pruned := make(chan int)
	go func() {
		n := 0
		defer func() { pruned <- n }()
		for {
			select {
			case <-done:
				return
			case <-moved:
			}
			err := e.s.Update(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Changes().Prune(e.ctx, time.Now().Add(time.Hour))
				return err
			})
			if err != nil {
				errs <- fmt.Errorf("prune: %w", err)
				return
			}
			n++
		}
	}()
	wg.Wait()
	close(done)
	prunes := <-pruned
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d moves and %d prunes failed", n, movers*rounds*4, prunes+1)
	}
	for m := range movers {
		e.mustFile(a, at(a, fmt.Sprintf("a%d.txt", m)))
		e.mustFile(b, at(b, fmt.Sprintf("b%d.txt", m)))
	}
}

// SharePoint records a SystemUpdate on the item whose role inheritance is
// broken or restored, in the transaction that changes it; a call that
// changes nothing records nothing.
func testInheritanceChanges(t *testing.T, e *env) {
	l := e.list("Tasks")
	a, b := e.add(l.ID, 6, nil), e.add(l.ID, 6, nil)
	last := e.latest(l.ID).Number
	ref := func(it *storage.Item) storage.ScopeRef {
		return storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: it.ID}
	}
	e.sec(func(s storage.Security) error { _, err := s.BreakInheritance(e.ctx, ref(a), true, false); return err })
	e.sec(func(s storage.Security) error { _, err := s.BreakInheritance(e.ctx, ref(a), true, false); return err }) // already unique
	e.sec(func(s storage.Security) error { _, err := s.BreakInheritance(e.ctx, ref(b), false, true); return err })
	e.sec(func(s storage.Security) error { return s.ResetInheritance(e.ctx, ref(a)) })
	e.sec(func(s storage.Security) error { return s.ResetInheritance(e.ctx, ref(a)) }) // already inherits
	cs := e.expectChanges("inheritance", l.ID, last, fmt.Sprintf("SystemUpdate:%d", a.ID), fmt.Sprintf("SystemUpdate:%d", b.ID),
		fmt.Sprintf("SystemUpdate:%d", a.ID))
	if cs[0].UniqueID != a.GUID || cs[1].UniqueID != b.GUID {
		t.Fatalf("changes %+v %+v, want UniqueIds %s %s", cs[0], cs[1], a.GUID, b.GUID)
	}
	// A broken inheritance that is rolled back records nothing.
	errRollback := errors.New("roll back")
	err := e.s.Update(e.ctx, func(tx storage.Tx) error {
		if _, err := tx.Security().BreakInheritance(e.ctx, ref(a), true, false); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	e.expectChanges("rolled back", l.ID, last+3)
}
