package storagetest

import (
	"testing"

	"github.com/cesivi/cesivi/internal/storage"
)

// overwrite replaces the content of file name in the folder at rel of l
// by blob, as user by.
func (e *env) overwrite(l *storage.List, rel, name, blob string, by int64) (*storage.File, error) {
	var f *storage.File
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		f, err = tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: at(l, rel), Name: name, Overwrite: true,
			Blob: blob, Length: int64(len(blob)), By: by})
		return err
	})
	return f, err
}

func (e *env) mustOverwrite(l *storage.List, rel, name, blob string, by int64) *storage.File {
	e.t.Helper()
	f, err := e.overwrite(l, rel, name, blob, by)
	if err != nil {
		e.t.Fatalf("overwrite %s: %v", name, err)
	}
	return f
}

// fileVersions lists the earlier versions of the file at url of l.
func (e *env) fileVersions(l *storage.List, url string) []*storage.FileVersion {
	e.t.Helper()
	var vs []*storage.FileVersion
	e.read(func(tx storage.Tx) (err error) {
		vs, err = tx.Versions().Files(e.ctx, l.ID, url)
		return err
	})
	return vs
}

// labels are the versions' labels and blobs, "1.0=blob-a".
func labels(vs []*storage.FileVersion) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Label+"="+v.Blob)
	}
	return out
}

func (e *env) itemVersions(listID string, id int64) []*storage.ItemVersion {
	e.t.Helper()
	var vs []*storage.ItemVersion
	e.read(func(tx storage.Tx) (err error) {
		vs, err = tx.Versions().Items(e.ctx, listID, id)
		return err
	})
	return vs
}

func (e *env) setVersioning(l *storage.List, on bool, limit int) {
	e.t.Helper()
	e.do(func(tx storage.Tx) error {
		upd := storage.ListUpdate{EnableVersioning: &on}
		if limit > 0 {
			upd.MajorVersionLimit = &limit
		}
		_, err := tx.Lists().Update(e.ctx, l.WebID, l.ID, upd)
		return err
	})
}

func (e *env) checkOut(l *storage.List, url string, by int64) (*storage.File, error) {
	var f *storage.File
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		f, err = tx.CheckOuts().CheckOut(e.ctx, l.ID, url, by)
		return err
	})
	return f, err
}

func (e *env) checkIn(l *storage.List, url string, by int64, comment string, kind int) (*storage.File, error) {
	var f *storage.File
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		f, err = tx.CheckOuts().CheckIn(e.ctx, l.ID, url, by, comment, kind)
		return err
	})
	return f, err
}

func (e *env) undoCheckOut(l *storage.List, url string, by int64) (*storage.File, error) {
	var f *storage.File
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		f, err = tx.CheckOuts().Undo(e.ctx, l.ID, url, by)
		return err
	})
	return f, err
}

// recycleFile recycles the file or folder at url of l as user by.
func (e *env) recycleFile(l *storage.List, url string, by int64) (*storage.RecycleBinItem, error) {
	var it *storage.RecycleBinItem
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		it, err = tx.RecycleBin().RecycleFile(e.ctx, l.ID, url, by, 0)
		return err
	})
	return it, err
}

func (e *env) mustRecycleFile(l *storage.List, url string) *storage.RecycleBinItem {
	e.t.Helper()
	it, err := e.recycleFile(l, url, 6)
	if err != nil {
		e.t.Fatalf("RecycleFile %s: %v", url, err)
	}
	return it
}

func (e *env) restore(id string) error {
	return e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.RecycleBin().Restore(e.ctx, e.site.ID, id) })
}

func (e *env) mustRestore(id string) {
	e.t.Helper()
	if err := e.restore(id); err != nil {
		e.t.Fatalf("Restore: %v", err)
	}
}

// bin lists the ids of the bin of web webID ("" for the site's).
func (e *env) bin(webID string) []*storage.RecycleBinItem {
	e.t.Helper()
	var out []*storage.RecycleBinItem
	e.read(func(tx storage.Tx) (err error) {
		out, err = tx.RecycleBin().List(e.ctx, e.site.ID, webID)
		return err
	})
	return out
}

func binIDs(items []*storage.RecycleBinItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// locked checks that err is ErrLocked.
func locked(t *testing.T, what string, err error) {
	t.Helper()
	if !errorsIs(err, storage.ErrLocked) {
		t.Errorf("%s: %v, want ErrLocked", what, err)
	}
}
