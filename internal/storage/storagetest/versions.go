package storagetest

import (
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var versionTests = []test{
	{"an overwrite keeps the replaced content as an earlier version", func(t *testing.T, e *env) {
		l := e.docs()
		first := e.upload(l, "", "v.txt", "blob-one")
		second := e.mustOverwrite(l, "", "v.txt", "blob-two2", 7)
		third := e.mustOverwrite(l, "", "v.txt", "blob-three", 8)
		if third.MajorVersion != 3 || third.Blob != "blob-three" {
			t.Fatalf("after two overwrites %+v", third)
		}
		vs := e.fileVersions(l, first.URL)
		if got := labels(vs); !slices.Equal(got, []string{"1.0=blob-one", "2.0=blob-two2"}) {
			t.Fatalf("versions %q", got)
		}
		if v := vs[0]; v.ID != 512 || v.Length != int64(len("blob-one")) || v.CreatedBy != 6 || !v.Created.Equal(first.Modified) {
			t.Errorf("version 1.0 %+v, file was %+v", v, first)
		}
		if v := vs[1]; v.ID != 1024 || v.CreatedBy != 7 || !v.Created.Equal(second.Modified) {
			t.Errorf("version 2.0 %+v", v)
		}
		if m := e.blobsInUse("blob-one", "blob-two2", "blob-three"); len(m) != 3 {
			t.Errorf("blobs in use %v", m)
		}
	}},
	{"at most MajorVersionLimit earlier versions are kept, the oldest dropped first", func(t *testing.T, e *env) {
		l := e.docs()
		e.setVersioning(l, true, 2)
		e.upload(l, "", "v.txt", "blob-1")
		for _, b := range []string{"blob-2", "blob-3", "blob-4"} {
			e.mustOverwrite(l, "", "v.txt", b, 6)
		}
		if got := labels(e.fileVersions(l, at(l, "v.txt"))); !slices.Equal(got, []string{"2.0=blob-2", "3.0=blob-3"}) {
			t.Errorf("versions %q", got)
		}
		if m := e.blobsInUse("blob-1", "blob-2"); m["blob-1"] || !m["blob-2"] {
			t.Errorf("blobs in use %v", m)
		}
	}},
	{"a library without versioning keeps no earlier content", func(t *testing.T, e *env) {
		l := e.docs()
		e.setVersioning(l, false, 0)
		e.upload(l, "", "v.txt", "blob-1")
		if f := e.mustOverwrite(l, "", "v.txt", "blob-2", 6); f.MajorVersion != 2 {
			t.Errorf("overwritten %+v", f)
		}
		if vs := e.fileVersions(l, at(l, "v.txt")); len(vs) != 0 {
			t.Errorf("versions %q", labels(vs))
		}
		if m := e.blobsInUse("blob-1"); m["blob-1"] {
			t.Errorf("the replaced blob is still in use")
		}
	}},
	{"versions move with their file, are not copied, and go with its delete", func(t *testing.T, e *env) {
		l := e.docs()
		archive := e.library("Archive")
		e.mkdir(l, "", "F")
		e.upload(l, "F", "v.txt", "blob-1")
		e.mustOverwrite(l, "F", "v.txt", "blob-2", 6)
		if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "F"), To: at(l, "G"), By: 6}); err != nil {
			t.Fatal(err)
		}
		if got := labels(e.fileVersions(l, at(l, "G/v.txt"))); !slices.Equal(got, []string{"1.0=blob-1"}) {
			t.Errorf("after a move %q", got)
		}
		if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "G/v.txt"), To: at(archive, "v.txt"), By: 6}); err != nil {
			t.Fatal(err)
		}
		if got := labels(e.fileVersions(archive, at(archive, "v.txt"))); !slices.Equal(got, []string{"1.0=blob-1"}) {
			t.Errorf("after a move into another library %q", got)
		}
		c, err := e.move(true, storage.MoveInput{ListID: archive.ID, From: at(archive, "v.txt"), To: at(l, "copy.txt"), By: 6})
		if err != nil {
			t.Fatal(err)
		}
		if vs := e.fileVersions(l, c.URL); len(vs) != 0 || c.MajorVersion != 1 {
			t.Errorf("a copy has versions %q, %+v", labels(vs), c)
		}
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, archive.ID, at(archive, "v.txt"), 0) })
		if m := e.blobsInUse("blob-1"); m["blob-1"] {
			t.Errorf("a deleted file's version is still in use")
		}
	}},
	{"a copy onto a file makes a new version of that file", func(t *testing.T, e *env) {
		l := e.docs()
		src := e.upload(l, "", "src.txt", "blob-src")
		dst := e.upload(l, "", "dst.txt", "blob-dst")
		got, err := e.move(true, storage.MoveInput{ListID: l.ID, From: src.URL, To: dst.URL, Overwrite: true, By: 7})
		if err != nil {
			t.Fatal(err)
		}
		if got.UniqueID != dst.UniqueID || got.Blob != "blob-src" || got.MajorVersion != 2 || got.EditorID != 7 {
			t.Errorf("copied over %+v", got)
		}
		if v := labels(e.fileVersions(l, dst.URL)); !slices.Equal(v, []string{"1.0=blob-dst"}) {
			t.Errorf("versions %q", v)
		}
	}},
	{"restore makes an earlier version current as a new major version", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "v.txt", "blob-1")
		e.mustOverwrite(l, "", "v.txt", "blob-2", 6)
		e.mustOverwrite(l, "", "v.txt", "blob-3", 6)
		var n *storage.File
		e.do(func(tx storage.Tx) (err error) {
			n, err = tx.Versions().Restore(e.ctx, l.ID, f.URL, "1.0", 9)
			return err
		})
		if n.MajorVersion != 4 || n.Blob != "blob-1" || n.EditorID != 9 || n.UniqueID != f.UniqueID {
			t.Fatalf("restored %+v", n)
		}
		if got := labels(e.fileVersions(l, f.URL)); !slices.Equal(got, []string{"1.0=blob-1", "2.0=blob-2", "3.0=blob-3"}) {
			t.Errorf("versions after restore %q", got)
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Versions().Restore(e.ctx, l.ID, f.URL, "7.0", 9)
			return err
		})
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Versions().Delete(e.ctx, l.ID, f.URL, 9*512) })
		e.do(func(tx storage.Tx) error { return tx.Versions().Delete(e.ctx, l.ID, f.URL, 1024) })
		if got := labels(e.fileVersions(l, f.URL)); !slices.Equal(got, []string{"1.0=blob-1", "3.0=blob-3"}) {
			t.Errorf("after deleting 2.0 %q", got)
		}
		if m := e.blobsInUse("blob-2"); m["blob-2"] {
			t.Errorf("a deleted version's blob is in use")
		}
		e.do(func(tx storage.Tx) error { return tx.Versions().DeleteAll(e.ctx, l.ID, f.URL) })
		if vs := e.fileVersions(l, f.URL); len(vs) != 0 {
			t.Errorf("after DeleteAll %q", labels(vs))
		}
		if m := e.blobsInUse("blob-1", "blob-3"); !m["blob-1"] || m["blob-3"] {
			t.Errorf("blobs in use after DeleteAll %v", m)
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Versions().Files(e.ctx, l.ID, at(l, "missing.txt"))
			return err
		})
	}},
	{"item versions record each change of a list that keeps them", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		it := e.add(l.ID, 6, map[string]odata.Value{"Title": str("one")})
		update := func(title string, by int64) {
			e.do(func(tx storage.Tx) error {
				_, err := tx.Items().Update(e.ctx, l.ID, it.ID, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str(title)}, By: by})
				return err
			})
		}
		update("two", 7)
		vs := e.itemVersions(l.ID, it.ID)
		if len(vs) != 1 || !vs[0].IsCurrent || vs[0].Label != "2.0" || vs[0].Values["Title"] != str("two") {
			t.Fatalf("without versioning %+v", vs)
		}
		e.setVersioning(l, true, 0)
		update("three", 8)
		update("four", 9)
		vs = e.itemVersions(l.ID, it.ID)
		var got []string
		for _, v := range vs {
			got = append(got, v.Label+"="+v.Values["Title"].Str)
		}
		if !slices.Equal(got, []string{"2.0=two", "3.0=three", "4.0=four"}) || !vs[2].IsCurrent || vs[1].IsCurrent {
			t.Fatalf("item versions %q", got)
		}
		if vs[0].ID != 1024 || vs[0].EditorID != 7 || vs[1].EditorID != 8 {
			t.Errorf("version records %+v %+v", vs[0], vs[1])
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Versions().Items(e.ctx, l.ID, 99)
			return err
		})
	}},
	{"a library item keeps the values its file's overwrites replaced", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "v.txt", "blob-1")
		e.mustOverwrite(l, "", "v.txt", "blob-2", 7)
		vs := e.itemVersions(l.ID, f.ItemID)
		if len(vs) != 2 || vs[0].Label != "1.0" || vs[0].EditorID != 6 || !vs[1].IsCurrent || vs[1].EditorID != 7 ||
			vs[0].Values[storage.FieldFileLeafRef] != str("v.txt") {
			t.Errorf("item versions %+v", vs)
		}
	}},
}
