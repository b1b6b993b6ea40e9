package storagetest

import (
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/storage"
)

var fileDeleteTests = []test{
	{"deleting a folder deletes everything below it and their items", func(t *testing.T, e *env) {
		l := e.docs()
		a := e.mkdir(l, "", "a")
		x := e.upload(l, "a", "x.txt", "blob-x")
		b := e.mkdir(l, "a", "b")
		y := e.upload(l, "a/b", "y.txt", "blob-y")
		// Names that begin like the folder's are not in it.
		ab := e.mkdir(l, "", "ab")
		z := e.upload(l, "ab", "z.txt", "blob-z")
		dotted := e.upload(l, "", "a.txt", "blob-dot")
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, strings.ToUpper(a.URL), 0) })
		e.gone(l, a.URL, x.URL, b.URL, y.URL)
		for _, f := range []*storage.File{a, x, b, y} {
			if _, err := e.get(l.ID, f.ItemID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("the item of %s: %v", f.Name, err)
			}
		}
		for _, f := range []*storage.File{ab, z, dotted} {
			sameFile(t, f.Name, e.mustFile(l, f.URL), f)
		}
		if n := e.itemCount(l); n != 3 {
			t.Errorf("the library counts %d items, want 3", n)
		}
		if m := e.blobsInUse("blob-x", "blob-y", "blob-z"); m["blob-x"] || m["blob-y"] || !m["blob-z"] {
			t.Errorf("blobs in use %v", m)
		}
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, l.RootFolderURL, 0) })
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, a.URL, 0) })
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, z.URL, 0) })
		if _, err := e.get(l.ID, z.ItemID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("a deleted file's item: %v", err)
		}
	}},
	{"deleting a folder's item deletes the folder with what it holds", func(t *testing.T, e *env) {
		l := e.docs()
		a := e.mkdir(l, "", "a")
		x := e.upload(l, "a", "x.txt", "blob-x")
		y := e.upload(l, "", "y.txt", "blob-y")
		e.fails(storage.ErrConflict, func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, a.ItemID, 7) })
		e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, a.ItemID, 1) })
		e.gone(l, a.URL, x.URL)
		if _, err := e.get(l.ID, x.ItemID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("the item of a file in the folder: %v", err)
		}
		e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, y.ItemID, 0) })
		e.gone(l, y.URL)
		if n := e.itemCount(l); n != 0 {
			t.Errorf("the library counts %d items", n)
		}
	}},
	{"deleting a list, a web or a site removes its files", func(t *testing.T, e *env) {
		l := e.library("Team Files")
		e.mkdir(l, "", "a")
		e.upload(l, "a", "x.txt", "blob-list")
		e.do(func(tx storage.Tx) error { return tx.Lists().Delete(e.ctx, e.web.ID, l.ID) })
		var team, other *storage.Web
		var otherSite *storage.Site
		e.do(func(tx storage.Tx) (err error) {
			if team, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"}); err != nil {
				return err
			}
			if otherSite, err = tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/other", Title: "Other"}); err != nil {
				return err
			}
			other, err = tx.Webs().Get(e.ctx, otherSite.RootWebID)
			return err
		})
		for w, blob := range map[*storage.Web]string{team: "blob-web", other: "blob-site"} {
			e.do(func(tx storage.Tx) error {
				docs, err := tx.Lists().GetByURL(e.ctx, w.ID, "Shared Documents")
				if err != nil {
					return err
				}
				_, err = tx.Files().Put(e.ctx, docs.ID, storage.FileInput{FolderURL: docs.RootFolderURL, Name: "x.txt", Blob: blob, Length: 1})
				return err
			})
		}
		if m := e.blobsInUse("blob-list", "blob-web", "blob-site"); len(m) != 2 || m["blob-list"] {
			t.Fatalf("before the deletes %v", m)
		}
		e.do(func(tx storage.Tx) error { return tx.Webs().Delete(e.ctx, team.ID) })
		e.do(func(tx storage.Tx) error { return tx.Sites().Delete(e.ctx, otherSite.ID) })
		if m := e.blobsInUse("blob-list", "blob-web", "blob-site"); len(m) != 0 {
			t.Errorf("blobs still named after the deletes %v", m)
		}
	}},
	{"BlobsInUse reports the keys some file of any site names", func(t *testing.T, e *env) {
		e.upload(e.docs(), "", "a.txt", "blob-1")
		e.mkdir(e.docs(), "", "folder")
		e.do(func(tx storage.Tx) error {
			s, err := tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/other", Title: "Other"})
			if err != nil {
				return err
			}
			docs, err := tx.Lists().GetByURL(e.ctx, s.RootWebID, "Shared Documents")
			if err != nil {
				return err
			}
			_, err = tx.Files().Put(e.ctx, docs.ID, storage.FileInput{FolderURL: docs.RootFolderURL, Name: "b.txt", Blob: "blob-2", Length: 1})
			return err
		})
		m := e.blobsInUse("blob-1", "blob-2", "blob-3", "")
		if len(m) != 2 || !m["blob-1"] || !m["blob-2"] {
			t.Errorf("in use %v", m)
		}
		if m := e.blobsInUse(); len(m) != 0 {
			t.Errorf("no keys asked: %v", m)
		}
	}},
}
