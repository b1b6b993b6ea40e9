package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

func attachment(name, blob string, by int64) storage.FileInput {
	return storage.FileInput{Name: name, Blob: blob, Length: int64(len(blob)), By: by}
}

func (e *env) attach(listID string, itemID int64, in storage.FileInput) (*storage.File, error) {
	var f *storage.File
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		f, err = tx.Attachments().Put(e.ctx, listID, itemID, in)
		return err
	})
	return f, err
}

func (e *env) mustAttach(listID string, itemID int64, in storage.FileInput) *storage.File {
	e.t.Helper()
	f, err := e.attach(listID, itemID, in)
	if err != nil {
		e.t.Fatalf("Put %s: %v", in.Name, err)
	}
	return f
}

func (e *env) attachments(listID string, itemID int64) ([]*storage.File, error) {
	var fs []*storage.File
	err := e.s.View(e.ctx, func(tx storage.Tx) (err error) {
		fs, err = tx.Attachments().List(e.ctx, listID, itemID)
		return err
	})
	return fs, err
}

func (e *env) unattach(listID string, itemID int64, name string) error {
	return e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.Attachments().Delete(e.ctx, listID, itemID, name) })
}

func attachmentNames(fs []*storage.File) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// sameFile reports how two reads of one attachment differ ("" when
// they do not).
func sameAttachment(a, b *storage.File) string {
	if !a.Created.Equal(b.Created) || !a.Modified.Equal(b.Modified) {
		return fmt.Sprintf("times %v %v vs %v %v", a.Created, a.Modified, b.Created, b.Modified)
	}
	a2, b2 := *a, *b
	a2.Created, a2.Modified, b2.Created, b2.Modified = b.Created, b.Modified, b.Created, b.Modified
	if a2 != b2 {
		return fmt.Sprintf("%+v vs %+v", a2, b2)
	}
	return ""
}

// hasAttachments is the item's Attachments value as Get reads it.
func (e *env) hasAttachments(listID string, id int64) (bool, *storage.Item) {
	e.t.Helper()
	it, err := e.get(listID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	v := it.Values[storage.FieldAttachments]
	if v.Kind != odata.KindBool {
		e.t.Fatalf("item %d's Attachments value is %+v, not a boolean", id, v)
	}
	return v.Bool, it
}

func (e *env) filterIDs(listID, filter string) []int64 {
	e.t.Helper()
	f, err := odata.ParseFilter(filter)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.query(listID, storage.ItemQuery{Filter: f, Select: []string{storage.FieldAttachments}})
	if err != nil {
		e.t.Fatalf("%s: %v", filter, err)
	}
	ids := []int64{}
	for _, it := range p.Items {
		ids = append(ids, it.ID)
		if v := it.Values[storage.FieldAttachments]; v.Kind != odata.KindBool {
			e.t.Errorf("%s: item %d's selected Attachments value is %+v", filter, it.ID, v)
		}
	}
	return ids
}

var attachmentTests = []test{
	{"an attachment lives under the list's Attachments folder of its item and is read back ignoring case", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, map[string]odata.Value{"Title": str("one")})
		f := e.mustAttach(l.ID, it.ID, attachment("Report 1.txt", "blob-r", 7))
		dir := l.RootFolderURL + "/Attachments/1"
		if f.URL != dir+"/Report 1.txt" || f.DirURL != dir || f.Name != "Report 1.txt" || f.ItemID != it.ID || f.ListID != l.ID ||
			f.IsFolder || f.Length != 6 || f.Blob != "blob-r" || f.Version != 1 || f.AuthorID != 7 || f.EditorID != 7 ||
			f.Created.IsZero() || !f.Modified.Equal(f.Created) || f.CheckOutType != storage.CheckOutNone {
			t.Fatalf("put %+v", f)
		}
		if g, ok := odata.Guid(f.UniqueID); !ok || g.Str != f.UniqueID || f.UniqueID == it.GUID {
			t.Fatalf("UniqueId %q is not a new lower-case guid", f.UniqueID)
		}
		e.read(func(tx storage.Tx) error {
			got, err := tx.Attachments().Get(e.ctx, strings.ToUpper(l.ID), it.ID, "REPORT 1.TXT")
			if err != nil {
				return err
			}
			if d := sameAttachment(got, f); d != "" {
				t.Errorf("Get: %s", d)
			}
			return nil
		})
		e.mustAttach(l.ID, it.ID, attachment("b.txt", "blob-b", 7))
		e.mustAttach(l.ID, it.ID, attachment("A.txt", "blob-a", 7))
		fs, err := e.attachments(l.ID, it.ID)
		if err != nil || !slices.Equal(attachmentNames(fs), []string{"A.txt", "b.txt", "Report 1.txt"}) {
			t.Fatalf("List: %v, %v; want by name ignoring case", attachmentNames(fs), err)
		}
		if d := sameAttachment(fs[2], f); d != "" {
			t.Errorf("List: %s", d)
		}
		other := e.add(l.ID, 6, nil)
		if fs, err := e.attachments(l.ID, other.ID); err != nil || fs == nil || len(fs) != 0 {
			t.Fatalf("another item's attachments: %v, %v; want none", fs, err)
		}
	}},
	{"a name taken ignoring case is a conflict unless overwritten, which replaces the content as a new version", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		f := e.mustAttach(l.ID, it.ID, attachment("notes.txt", "blob-1", 6))
		if _, err := e.attach(l.ID, it.ID, attachment("NOTES.txt", "blob-2", 7)); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("a taken name: %v, want ErrConflict", err)
		}
		waitPast(f.Modified)
		in := attachment("NOTES.txt", "blob-22", 7)
		in.Overwrite = true
		g := e.mustAttach(l.ID, it.ID, in)
		if g.UniqueID != f.UniqueID || g.Name != "notes.txt" || g.Blob != "blob-22" || g.Length != 7 || g.Version != 2 ||
			!g.Created.Equal(f.Created) || !g.Modified.After(f.Modified) || g.AuthorID != 6 || g.EditorID != 7 || g.URL != f.URL {
			t.Fatalf("overwritten %+v, was %+v", g, f)
		}
		if fs, _ := e.attachments(l.ID, it.ID); len(fs) != 1 || sameAttachment(fs[0], g) != "" {
			t.Fatalf("after the overwrite %v", attachmentNames(fs))
		}
		// Overwrite on a free name adds it.
		in = attachment("new.txt", "blob-3", 7)
		in.Overwrite = true
		if n := e.mustAttach(l.ID, it.ID, in); n.Version != 1 {
			t.Fatalf("an overwrite of nothing %+v", n)
		}
	}},
	{"an If-Match version that is not the attachment's is a conflict and changes nothing", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		e.mustAttach(l.ID, it.ID, attachment("a.txt", "blob-1", 6))
		for _, c := range []struct {
			name    string
			version int
		}{{"a.txt", 2}, {"free.txt", 1}} {
			in := attachment(c.name, "blob-2", 6)
			in.Overwrite, in.IfVersion = true, c.version
			if _, err := e.attach(l.ID, it.ID, in); !errors.Is(err, storage.ErrConflict) {
				t.Errorf("%s at version %d: %v, want ErrConflict", c.name, c.version, err)
			}
		}
		in := attachment("a.txt", "blob-3", 6)
		in.Overwrite, in.IfVersion = true, 1
		if g, err := e.attach(l.ID, it.ID, in); err != nil || g.Version != 2 || g.Blob != "blob-3" {
			t.Fatalf("the current version: %+v, %v", g, err)
		}
		if fs, _ := e.attachments(l.ID, it.ID); !slices.Equal(attachmentNames(fs), []string{"a.txt"}) {
			t.Fatalf("attachments %v", attachmentNames(fs))
		}
	}},
	{"names SharePoint refuses and content without a blob are invalid, unrepeated, and store nothing", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		long := strings.Repeat("n", storage.MaxURLLength-len(l.RootFolderURL+"/Attachments/1/")+1)
		for _, name := range []string{"", "qq:zz", "qq/zz", `qq\zz`, "qq?zz", "qq*zz", "qq|zz", `qq"zz`, "qq<zz", " qqzz", "qqzz ",
			"qqzz.", ".", "..", "CON", "lpt1.txt", "nul.qqzz", "qq\x01zz", long} {
			_, err := e.attach(l.ID, it.ID, attachment(name, "blob", 6))
			if !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("name %q: %v, want ErrInvalid", name, err)
			} else if len(name) > 3 && strings.Contains(err.Error(), name) {
				t.Errorf("the error %q repeats the name", err)
			}
		}
		// The longest name that fits is taken.
		e.mustAttach(l.ID, it.ID, attachment(long[1:], "blob", 6))
		e.do(func(tx storage.Tx) error { return tx.Attachments().Delete(e.ctx, l.ID, it.ID, long[1:]) })
		for _, in := range []storage.FileInput{{Name: "a.txt"}, {Name: "a.txt", Blob: "b", Length: -1}} {
			if _, err := e.attach(l.ID, it.ID, in); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("input %+v: %v, want ErrInvalid", in, err)
			}
		}
		if fs, _ := e.attachments(l.ID, it.ID); len(fs) != 0 {
			t.Fatalf("stored %v", attachmentNames(fs))
		}
		if has, got := e.hasAttachments(l.ID, it.ID); has || got.Version != 3 {
			t.Fatalf("the item after refused puts: Attachments %v, version %d (want false, 3: one put and one delete)", has, got.Version)
		}
	}},
	{"a missing list, item or attachment is not found", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		for _, c := range []struct {
			list string
			item int64
		}{{l.ID, 99}, {storage.NewGUID(), it.ID}, {"Tasks", it.ID}} {
			if _, err := e.attach(c.list, c.item, attachment("a.txt", "b", 6)); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Put on %v: %v", c, err)
			}
			if _, err := e.attachments(c.list, c.item); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("List on %v: %v", c, err)
			}
			if err := e.unattach(c.list, c.item, "a.txt"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Delete on %v: %v", c, err)
			}
		}
		e.mustAttach(l.ID, it.ID, attachment("here.txt", "b", 6))
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Attachments().Get(e.ctx, l.ID, it.ID, "there.txt"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get of a missing name: %v", err)
			}
			if _, err := tx.Attachments().Get(e.ctx, l.ID, 99, "here.txt"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get on a missing item: %v", err)
			}
			return nil
		})
		if err := e.unattach(l.ID, it.ID, "there.txt"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Delete of a missing name: %v", err)
		}
		if has, got := e.hasAttachments(l.ID, it.ID); !has || got.Version != 2 {
			t.Errorf("the item after a refused delete: Attachments %v, version %d", has, got.Version)
		}
	}},
	{"the item's Attachments value is true while it has one, filters like a boolean, and each change is an item version", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		a := e.add(l.ID, 6, map[string]odata.Value{"Title": str("a")})
		b := e.add(l.ID, 6, map[string]odata.Value{"Title": str("b")})
		if has, _ := e.hasAttachments(l.ID, a.ID); has {
			t.Fatal("a new item has attachments")
		}
		if got := e.filterIDs(l.ID, "Attachments eq 1"); len(got) != 0 {
			t.Fatalf("Attachments eq 1 before any: %v", got)
		}
		waitPast(a.Modified)
		e.mustAttach(l.ID, a.ID, attachment("one.txt", "b1", 7))
		has, got := e.hasAttachments(l.ID, a.ID)
		if !has || got.Version != 2 || got.EditorID != 7 || got.AuthorID != 6 || !got.Modified.After(a.Modified) || got.Values["Title"] != str("a") {
			t.Fatalf("after a put: Attachments %v, item %+v", has, got)
		}
		for filter, want := range map[string][]int64{
			"Attachments eq 1": {a.ID}, "Attachments eq true": {a.ID}, "Attachments eq 0": {b.ID},
			"Attachments ne true": {b.ID}, "not (Attachments eq false) and Title eq 'a'": {a.ID},
		} {
			if got := e.filterIDs(l.ID, filter); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", filter, got, want)
			}
		}
		e.mustAttach(l.ID, a.ID, attachment("two.txt", "b2", 8))
		in := attachment("two.txt", "b2b", 9)
		in.Overwrite = true
		e.mustAttach(l.ID, a.ID, in)
		if err := e.unattach(l.ID, a.ID, "ONE.txt"); err != nil {
			t.Fatal(err)
		}
		if has, got := e.hasAttachments(l.ID, a.ID); !has || got.Version != 5 || got.EditorID != 9 {
			t.Fatalf("with one left: Attachments %v, version %d, editor %d", has, got.Version, got.EditorID)
		}
		if err := e.unattach(l.ID, a.ID, "two.txt"); err != nil {
			t.Fatal(err)
		}
		// Delete names no user: the editor stays the last one known.
		if has, got := e.hasAttachments(l.ID, a.ID); has || got.Version != 6 || got.EditorID != 9 {
			t.Fatalf("after the last delete: Attachments %v, version %d, editor %d", has, got.Version, got.EditorID)
		}
		if got := e.filterIDs(l.ID, "Attachments eq 1"); len(got) != 0 {
			t.Fatalf("Attachments eq 1 after the last delete: %v", got)
		}
		if has, got := e.hasAttachments(l.ID, b.ID); has || got.Version != 1 {
			t.Fatalf("the other item changed: %v, %+v", has, got)
		}
		// The value is the store's to keep.
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, b.ID, storage.ItemUpdate{Values: map[string]odata.Value{storage.FieldAttachments: odata.Bool(true)}})
			return err
		})
	}},
	{"deleting an item deletes its attachments, and a list, web or site with attachments deletes", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		keep := e.add(l.ID, 6, nil)
		e.mustAttach(l.ID, it.ID, attachment("a.txt", "b", 6))
		e.mustAttach(l.ID, keep.ID, attachment("a.txt", "b", 6))
		e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, it.ID, 0) })
		if _, err := e.attachments(l.ID, it.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the deleted item's attachments: %v", err)
		}
		if fs, err := e.attachments(l.ID, keep.ID); err != nil || len(fs) != 1 {
			t.Fatalf("the other item's: %v, %v", attachmentNames(fs), err)
		}
		var sub *storage.Web
		var other *storage.Site
		e.do(func(tx storage.Tx) (err error) {
			if sub, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"}); err != nil {
				return err
			}
			other, err = tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/other", Title: "Other"})
			return err
		})
		for _, webID := range []string{sub.ID, other.RootWebID} {
			var wl *storage.List
			e.do(func(tx storage.Tx) (err error) {
				wl, err = tx.Lists().Create(e.ctx, webID, storage.ListInput{Title: "Notes"})
				return err
			})
			e.mustAttach(wl.ID, e.add(wl.ID, 6, nil).ID, attachment("a.txt", "b", 6))
		}
		e.do(func(tx storage.Tx) error {
			if err := tx.Lists().Delete(e.ctx, e.web.ID, l.ID); err != nil {
				return fmt.Errorf("list: %w", err)
			}
			if err := tx.Webs().Delete(e.ctx, sub.ID); err != nil {
				return fmt.Errorf("web: %w", err)
			}
			if err := tx.Sites().Delete(e.ctx, other.ID); err != nil {
				return fmt.Errorf("site: %w", err)
			}
			return nil
		})
		if _, err := e.attachments(l.ID, keep.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the deleted list's attachments: %v", err)
		}
	}},
	{"attachments roll back with their transaction", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		e.mustAttach(l.ID, it.ID, attachment("kept.txt", "b1", 6))
		err := e.s.Update(e.ctx, func(tx storage.Tx) error {
			if _, err := tx.Attachments().Put(e.ctx, l.ID, it.ID, attachment("new.txt", "b2", 7)); err != nil {
				return err
			}
			in := attachment("kept.txt", "b3", 7)
			in.Overwrite = true
			if _, err := tx.Attachments().Put(e.ctx, l.ID, it.ID, in); err != nil {
				return err
			}
			if err := tx.Attachments().Delete(e.ctx, l.ID, it.ID, "new.txt"); err != nil {
				return err
			}
			if err := tx.Attachments().Delete(e.ctx, l.ID, it.ID, "kept.txt"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		fs, _ := e.attachments(l.ID, it.ID)
		if len(fs) != 1 || fs[0].Name != "kept.txt" || fs[0].Blob != "b1" || fs[0].Version != 1 {
			t.Fatalf("after the rollback %+v", fs)
		}
		if has, got := e.hasAttachments(l.ID, it.ID); !has || got.Version != 2 {
			t.Fatalf("the item after the rollback: %v, version %d", has, got.Version)
		}
	}},
	{"a read-only transaction cannot add or delete an attachment", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		e.mustAttach(l.ID, it.ID, attachment("a.txt", "b", 6))
		if err := e.s.View(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Attachments().Put(e.ctx, l.ID, it.ID, attachment("b.txt", "b", 6))
			return err
		}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Put in a View: %v", err)
		}
		if err := e.s.View(e.ctx, func(tx storage.Tx) error { return tx.Attachments().Delete(e.ctx, l.ID, it.ID, "a.txt") }); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Delete in a View: %v", err)
		}
		if fs, _ := e.attachments(l.ID, it.ID); !slices.Equal(attachmentNames(fs), []string{"a.txt"}) {
			t.Fatalf("attachments %v", attachmentNames(fs))
		}
	}},
	{"of eight writers adding one name to one item at once one adds it", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		AttachConcurrently(t, []storage.Store{e.s}, l.ID, it.ID, 8)
	}},
}

// AttachConcurrently has writers goroutines per store add an attachment
// of one name to one item at once, without Overwrite, and checks that
// exactly one succeeds, the others are ErrConflict, and the item was
// saved once.
func AttachConcurrently(t *testing.T, stores []storage.Store, listID string, itemID int64, writers int) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	start := make(chan struct{})
	for _, s := range stores {
		for w := range writers {
			wg.Go(func() {
				<-start
				err := s.Update(ctx, func(tx storage.Tx) error {
					_, err := tx.Attachments().Put(ctx, listID, itemID, attachment("same.txt", fmt.Sprint("blob-", w), int64(w)))
					return err
				})
				switch {
				case err == nil:
					mu.Lock()
					added++
					mu.Unlock()
				case !errors.Is(err, storage.ErrConflict):
					t.Errorf("writer %d: %v, want ErrConflict", w, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	if added != 1 {
		t.Fatalf("%d writers added the attachment", added)
	}
	if err := stores[0].View(ctx, func(tx storage.Tx) error {
		fs, err := tx.Attachments().List(ctx, listID, itemID)
		if err != nil {
			return err
		}
		it, err := tx.Items().Get(ctx, listID, itemID)
		if err == nil && (len(fs) != 1 || it.Version != 2) {
			t.Errorf("%d attachments, item version %d", len(fs), it.Version)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// AttachmentBlobsInUse checks a provider's attachment probe: an
// attachment's blob is in use until it is overwritten or deleted, or
// its item, list, web or site is, and a rolled-back put names none.
func AttachmentBlobsInUse(t *testing.T, s storage.Store, probe BlobProbe) {
	t.Helper()
	e := newEnv(t, s)
	l := e.list("Tasks")
	var sub *storage.Web
	var other *storage.Site
	e.do(func(tx storage.Tx) (err error) {
		if sub, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"}); err != nil {
			return err
		}
		other, err = tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/other", Title: "Other"})
		return err
	})
	listIn := func(webID string) *storage.List {
		var wl *storage.List
		e.do(func(tx storage.Tx) (err error) {
			wl, err = tx.Lists().Create(e.ctx, webID, storage.ListInput{Title: "Notes"})
			return err
		})
		return wl
	}
	gone, subList, otherList := e.list("Gone"), listIn(sub.ID), listIn(other.RootWebID)
	one, two := e.add(l.ID, 6, nil), e.add(l.ID, 6, nil)
	e.mustAttach(l.ID, one.ID, attachment("a.txt", "over", 6))
	e.mustAttach(l.ID, one.ID, attachment("b.txt", "shared", 6))
	e.mustAttach(l.ID, one.ID, attachment("c.txt", "deleted", 6))
	e.mustAttach(l.ID, two.ID, attachment("a.txt", "item", 6))
	e.mustAttach(l.ID, two.ID, attachment("b.txt", "shared", 6))
	for list, blob := range map[*storage.List]string{gone: "list", subList: "web", otherList: "site"} {
		e.mustAttach(list.ID, e.add(list.ID, 6, nil).ID, attachment("a.txt", blob, 6))
	}
	all := []string{"deleted", "item", "list", "nobody", "over", "rolled-back", "shared", "site", "web"}
	if got := probeBlobs(t, s, probe, all...); !slices.Equal(got, []string{"deleted", "item", "list", "over", "shared", "site", "web"}) {
		t.Fatalf("in use %v", got)
	}
	in := attachment("a.txt", "new", 6)
	in.Overwrite = true
	e.mustAttach(l.ID, one.ID, in)
	e.s.Update(e.ctx, func(tx storage.Tx) error {
		tx.Attachments().Put(e.ctx, l.ID, one.ID, attachment("d.txt", "rolled-back", 6))
		return errBoom
	})
	e.do(func(tx storage.Tx) error {
		if err := tx.Attachments().Delete(e.ctx, l.ID, one.ID, "c.txt"); err != nil {
			return err
		}
		if err := tx.Items().Delete(e.ctx, l.ID, two.ID, 0); err != nil {
			return err
		}
		if err := tx.Lists().Delete(e.ctx, e.web.ID, gone.ID); err != nil {
			return err
		}
		if err := tx.Webs().Delete(e.ctx, sub.ID); err != nil {
			return err
		}
		return tx.Sites().Delete(e.ctx, other.ID)
	})
	if got := probeBlobs(t, s, probe, append(all, "new")...); !slices.Equal(got, []string{"new", "shared"}) {
		t.Fatalf("after overwriting, deleting and a rollback, in use %v; want new, shared", got)
	}
}
