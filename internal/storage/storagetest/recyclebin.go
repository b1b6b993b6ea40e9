package storagetest

import (
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var recycleBinTests = []test{
	{"a recycled folder is invisible until restored with its ids, versions and URLs", func(t *testing.T, e *env) {
		l := e.docs()
		folder := e.mkdir(l, "", "F")
		sub := e.mkdir(l, "F", "S")
		f := e.upload(l, "F/S", "in.txt", "blob-1")
		f = e.mustOverwrite(l, "F/S", "in.txt", "blob-22", 6)
		keep := e.upload(l, "", "keep.txt", "blob-keep")
		it, err := e.recycleFile(l, folder.URL, 9)
		if err != nil {
			t.Fatal(err)
		}
		if len(it.ID) != 36 || it.ItemType != storage.RecycleFolder || it.LeafName != "F" || it.DirName != "sites/dev/Shared Documents" ||
			it.Title != "F" || it.DeletedBy != 9 || it.WebID != e.web.ID || it.SiteID != e.site.ID || it.Size != int64(len("blob-1")+len("blob-22")) {
			t.Errorf("bin item %+v", it)
		}
		e.gone(l, folder.URL, sub.URL, f.URL)
		if got := e.children(l, "", true); len(got) != 0 {
			t.Errorf("folders at the root %q", got)
		}
		if _, err := e.get(l.ID, f.ItemID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("the recycled file's item: %v", err)
		}
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Files().GetByID(e.ctx, e.web.ID, f.UniqueID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("GetByID: %v", err)
			}
			if _, err := tx.Files().GetByItem(e.ctx, l.ID, folder.ItemID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("GetByItem: %v", err)
			}
			p, err := tx.Items().Query(e.ctx, l.ID, storage.ItemQuery{})
			if err != nil || len(p.Items) != 1 || p.Items[0].ID != keep.ItemID {
				t.Errorf("the library's items %+v, %v", p, err)
			}
			return nil
		})
		if n := e.itemCount(l); n != 1 {
			t.Errorf("ItemCount %d", n)
		}
		if m := e.blobsInUse("blob-1", "blob-22"); !m["blob-1"] || !m["blob-22"] {
			t.Errorf("the bin's blobs in use %v", m)
		}
		// Its name is free meanwhile.
		again := e.mkdir(l, "", "f")
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, again.URL, 0) })
		if got := binIDs(e.bin("")); !slices.Equal(got, []string{it.ID}) {
			t.Fatalf("the site's bin %q", got)
		}
		e.mustRestore(it.ID)
		got := e.mustFile(l, f.URL)
		sameFile(t, "the restored file", got, f)
		if got.MajorVersion != 2 {
			t.Errorf("restored %+v", got)
		}
		if v := labels(e.fileVersions(l, f.URL)); !slices.Equal(v, []string{"1.0=blob-1"}) {
			t.Errorf("restored versions %q", v)
		}
		if vs := e.itemVersions(l.ID, f.ItemID); len(vs) != 2 {
			t.Errorf("restored item versions %+v", vs)
		}
		sameFile(t, "the restored folder", e.mustFile(l, sub.URL), sub)
		if n := e.itemCount(l); n != 4 {
			t.Errorf("ItemCount after restore %d", n)
		}
		if got := e.bin(""); len(got) != 0 {
			t.Errorf("the bin after restore %+v", got)
		}
		if err := e.restore(it.ID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("a second restore: %v", err)
		}
	}},
	{"a restore refuses a name taken meanwhile and a folder that is gone", func(t *testing.T, e *env) {
		l := e.docs()
		a := e.upload(l, "", "a.txt", "blob-a")
		it := e.mustRecycleFile(l, a.URL)
		e.upload(l, "", "A.TXT", "blob-other")
		if err := e.restore(it.ID); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("onto a taken name: %v", err)
		}
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, at(l, "a.txt"), 0) })
		e.mustRestore(it.ID)
		sameFile(t, "restored", e.mustFile(l, a.URL), a)

		e.mkdir(l, "", "G")
		g := e.upload(l, "G", "g.txt", "blob-g")
		gi := e.mustRecycleFile(l, g.URL)
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, at(l, "G"), 0) })
		if err := e.restore(gi.ID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("into a deleted folder: %v", err)
		}
		if n := e.itemCount(l); n != 1 {
			t.Errorf("ItemCount %d", n)
		}
	}},
	{"a recycled item goes with its attachments and comes back", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, map[string]odata.Value{"Title": str("t1")})
		e.mustAttach(l.ID, it.ID, attachment("a.txt", "blob-att", 6))
		untitled := e.add(l.ID, 6, nil)
		var bi *storage.RecycleBinItem
		e.do(func(tx storage.Tx) (err error) {
			bi, err = tx.RecycleBin().RecycleItem(e.ctx, l.ID, it.ID, 7, 0)
			return err
		})
		if bi.ItemType != storage.RecycleListItem || bi.LeafName != "t1" || bi.Title != "t1" || bi.DirName != "sites/dev/Lists/Tasks" || bi.Size != int64(len("blob-att")) {
			t.Errorf("bin item %+v", bi)
		}
		if _, err := e.get(l.ID, it.ID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("a recycled item: %v", err)
		}
		if p, err := e.query(l.ID, storage.ItemQuery{}); err != nil || len(p.Items) != 1 {
			t.Errorf("query %+v, %v", p, err)
		}
		if m := e.blobsInUse("blob-att"); !m["blob-att"] {
			t.Errorf("a recycled attachment's blob is not in use")
		}
		e.do(func(tx storage.Tx) error {
			other, err := tx.RecycleBin().RecycleItem(e.ctx, l.ID, untitled.ID, 7, 0)
			if err == nil && other.LeafName != "2" {
				t.Errorf("an untitled item's bin item %+v", other)
			}
			return err
		})
		e.mustRestore(bi.ID)
		got, err := e.get(l.ID, it.ID)
		if err != nil || got.Version != it.Version+1 || got.Values["Title"] != str("t1") {
			t.Errorf("restored %+v, %v", got, err)
		}
		if fs, _ := e.attachments(l.ID, it.ID); len(fs) != 1 {
			t.Errorf("restored attachments %q", attachmentNames(fs))
		}
		if n := e.itemCount(l); n != 1 {
			t.Errorf("ItemCount %d", n)
		}
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.RecycleBin().RecycleItem(e.ctx, l.ID, it.ID, 7, 99)
			return err
		})
	}},
	{"recycling a library's item recycles its file", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "a.txt", "blob-a")
		var bi *storage.RecycleBinItem
		e.do(func(tx storage.Tx) (err error) {
			bi, err = tx.RecycleBin().RecycleItem(e.ctx, l.ID, f.ItemID, 7, 0)
			return err
		})
		if bi.ItemType != storage.RecycleFile || bi.LeafName != "a.txt" {
			t.Errorf("bin item %+v", bi)
		}
		e.gone(l, f.URL)
		e.mustRestore(bi.ID)
		sameFile(t, "restored", e.mustFile(l, f.URL), f)
	}},
	{"a recycled list is invisible, its title free, its blobs in use", func(t *testing.T, e *env) {
		l := e.library("Archive")
		f := e.upload(l, "", "a.txt", "blob-a")
		e.mustOverwrite(l, "", "a.txt", "blob-a2", 6)
		var bi *storage.RecycleBinItem
		e.do(func(tx storage.Tx) (err error) {
			bi, err = tx.RecycleBin().RecycleList(e.ctx, e.web.ID, l.ID, 7)
			return err
		})
		if bi.ItemType != storage.RecycleList || bi.LeafName != "Archive" || bi.DirName != "sites/dev" || bi.Size != int64(len("blob-a")+len("blob-a2")) {
			t.Errorf("bin item %+v", bi)
		}
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Lists().Get(e.ctx, e.web.ID, l.ID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("Get: %v", err)
			}
			if _, err := tx.Lists().GetByTitle(e.ctx, e.web.ID, "Archive"); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("GetByTitle: %v", err)
			}
			ls, _ := tx.Lists().List(e.ctx, e.web.ID)
			for _, o := range ls {
				if o.ID == l.ID {
					t.Errorf("listed")
				}
			}
			if loc, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{Title: "Archive"}, storage.Prefetch{}); err != nil || loc.List != nil {
				t.Errorf("Locate %+v, %v", loc, err)
			}
			if _, err := tx.Items().Get(e.ctx, l.ID, f.ItemID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("its item: %v", err)
			}
			if _, err := tx.Files().GetByID(e.ctx, e.web.ID, f.UniqueID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("its file by id: %v", err)
			}
			return nil
		})
		if m := e.blobsInUse("blob-a", "blob-a2"); len(m) != 2 {
			t.Errorf("blobs in use %v", m)
		}
		other := e.library("Archive")
		e.upload(other, "", "a.txt", "blob-b")
		if err := e.restore(bi.ID); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("a restore onto a taken title: %v", err)
		}
		e.do(func(tx storage.Tx) error { return tx.Lists().Delete(e.ctx, e.web.ID, other.ID) })
		e.mustRestore(bi.ID)
		sameFile(t, "its restored file", e.mustFile(l, f.URL), e.mustFile(l, f.URL))
		if got := e.mustFile(l, f.URL); got.UniqueID != f.UniqueID || got.Blob != "blob-a2" {
			t.Errorf("restored %+v", got)
		}
		if v := labels(e.fileVersions(l, f.URL)); !slices.Equal(v, []string{"1.0=blob-a"}) {
			t.Errorf("restored versions %q", v)
		}
		if n := e.itemCount(l); n != 1 {
			t.Errorf("ItemCount %d", n)
		}
	}},
	{"recycling an attachment saves its item as a delete does", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, nil)
		e.mustAttach(l.ID, it.ID, attachment("a.txt", "blob-a", 6))
		var bi *storage.RecycleBinItem
		e.do(func(tx storage.Tx) (err error) {
			bi, err = tx.RecycleBin().RecycleAttachment(e.ctx, l.ID, it.ID, "A.TXT", 7)
			return err
		})
		if bi.ItemType != storage.RecycleAttachment || bi.LeafName != "a.txt" || bi.DirName != "sites/dev/Lists/Tasks/Attachments/1" || bi.Size != 6 {
			t.Errorf("bin item %+v", bi)
		}
		has, got := e.hasAttachments(l.ID, it.ID)
		if has || got.Version != 3 {
			t.Errorf("the item after the recycle %+v", got)
		}
		if m := e.blobsInUse("blob-a"); !m["blob-a"] {
			t.Errorf("the recycled attachment's blob is not in use")
		}
		e.mustRestore(bi.ID)
		if has, got := e.hasAttachments(l.ID, it.ID); !has || got.Version != 4 {
			t.Errorf("the item after the restore %+v", got)
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.RecycleBin().RecycleAttachment(e.ctx, l.ID, it.ID, "missing.txt", 7)
			return err
		})
		bi = nil
		e.do(func(tx storage.Tx) (err error) {
			bi, err = tx.RecycleBin().RecycleAttachment(e.ctx, l.ID, it.ID, "a.txt", 7)
			return err
		})
		e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, it.ID, 0) })
		if err := e.restore(bi.ID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("the restore of an attachment of a deleted item: %v", err)
		}
	}},
	{"the bin lists newest first, by web, and deletes for good", func(t *testing.T, e *env) {
		l := e.docs()
		var sub *storage.Web
		e.do(func(tx storage.Tx) (err error) {
			sub, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"})
			return err
		})
		var subDocs *storage.List
		e.read(func(tx storage.Tx) (err error) {
			subDocs, err = tx.Lists().GetByURL(e.ctx, sub.ID, "Shared Documents")
			return err
		})
		e.upload(l, "", "a.txt", "blob-a")
		e.upload(l, "", "b.txt", "blob-b")
		e.upload(subDocs, "", "c.txt", "blob-c")
		a := e.mustRecycleFile(l, at(l, "a.txt"))
		b := e.mustRecycleFile(l, at(l, "b.txt"))
		c := e.mustRecycleFile(subDocs, at(subDocs, "c.txt"))
		if got := binIDs(e.bin("")); !slices.Equal(got, []string{c.ID, b.ID, a.ID}) {
			t.Errorf("the site's bin %q, want c b a", got)
		}
		if got := binIDs(e.bin(e.web.ID)); !slices.Equal(got, []string{c.ID, b.ID, a.ID}) {
			t.Errorf("the root web's bin %q", got)
		}
		if got := binIDs(e.bin(sub.ID)); !slices.Equal(got, []string{c.ID}) {
			t.Errorf("the subweb's bin %q", got)
		}
		e.read(func(tx storage.Tx) error {
			got, err := tx.RecycleBin().Get(e.ctx, e.site.ID, b.ID)
			if err != nil || *got != *b {
				t.Errorf("Get %+v, %v", got, err)
			}
			return nil
		})
		e.do(func(tx storage.Tx) error { return tx.RecycleBin().Delete(e.ctx, e.site.ID, b.ID) })
		if m := e.blobsInUse("blob-a", "blob-b"); !m["blob-a"] || m["blob-b"] {
			t.Errorf("blobs in use after a delete %v", m)
		}
		if err := e.restore(b.ID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("the restore of a deleted bin item: %v", err)
		}
		e.do(func(tx storage.Tx) error { return tx.RecycleBin().Empty(e.ctx, e.site.ID, sub.ID) })
		if got := binIDs(e.bin("")); !slices.Equal(got, []string{a.ID}) {
			t.Errorf("after emptying the subweb's bin %q", got)
		}
		var other *storage.Site
		e.do(func(tx storage.Tx) (err error) {
			other, err = tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/other", Title: "Other"})
			return err
		})
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.RecycleBin().Get(e.ctx, other.ID, a.ID)
			return err
		})
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.RecycleBin().Restore(e.ctx, other.ID, a.ID) })
		e.do(func(tx storage.Tx) error { return tx.RecycleBin().Empty(e.ctx, e.site.ID, "") })
		if got := e.bin(""); len(got) != 0 {
			t.Errorf("after emptying the site's bin %+v", got)
		}
		if m := e.blobsInUse("blob-a", "blob-c"); len(m) != 0 {
			t.Errorf("blobs in use after Empty %v", m)
		}
	}},
	{"a web's delete takes its bin along", func(t *testing.T, e *env) {
		var sub *storage.Web
		e.do(func(tx storage.Tx) (err error) {
			sub, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"})
			return err
		})
		var subDocs *storage.List
		e.read(func(tx storage.Tx) (err error) {
			subDocs, err = tx.Lists().GetByURL(e.ctx, sub.ID, "Shared Documents")
			return err
		})
		e.upload(subDocs, "", "c.txt", "blob-c")
		e.mustRecycleFile(subDocs, at(subDocs, "c.txt"))
		e.do(func(tx storage.Tx) error { return tx.Webs().Delete(e.ctx, sub.ID) })
		if got := e.bin(""); len(got) != 0 {
			t.Errorf("the bin after the web's delete %+v", got)
		}
		if m := e.blobsInUse("blob-c"); m["blob-c"] {
			t.Errorf("a deleted web's bin keeps its blob in use")
		}
	}},
}
