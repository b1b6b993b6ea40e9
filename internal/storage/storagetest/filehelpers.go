package storagetest

import (
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// docs is the web's Documents library.
func (e *env) docs() *storage.List {
	e.t.Helper()
	var l *storage.List
	e.read(func(tx storage.Tx) (err error) {
		l, err = tx.Lists().GetByURL(e.ctx, e.web.ID, "Shared Documents")
		return err
	})
	return l
}

// library creates a document library of the web with fields.
func (e *env) library(title string, fields ...storage.FieldInput) *storage.List {
	e.t.Helper()
	var l *storage.List
	e.do(func(tx storage.Tx) (err error) {
		if l, err = tx.Lists().Create(e.ctx, e.web.ID, storage.ListInput{Title: title, BaseTemplate: storage.TemplateDocumentLibrary}); err != nil {
			return err
		}
		for _, f := range fields {
			if _, err := tx.Fields().Create(e.ctx, l.ID, f); err != nil {
				return err
			}
		}
		return nil
	})
	return l
}

// at is the URL of rel ("a/b.txt", "" for the root) in library l.
func at(l *storage.List, rel string) string {
	if rel == "" {
		return l.RootFolderURL
	}
	return l.RootFolderURL + "/" + rel
}

// mkdir creates folder name in the folder at rel of l.
func (e *env) mkdir(l *storage.List, rel, name string) *storage.File {
	e.t.Helper()
	var f *storage.File
	e.do(func(tx storage.Tx) (err error) {
		f, err = tx.Files().AddFolder(e.ctx, l.ID, storage.FolderInput{ParentURL: at(l, rel), Name: name, By: 6})
		return err
	})
	return f
}

// upload adds file name with content blob (of length len(blob)) to the
// folder at rel of l.
func (e *env) upload(l *storage.List, rel, name, blob string) *storage.File {
	e.t.Helper()
	var f *storage.File
	e.do(func(tx storage.Tx) (err error) {
		f, err = tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: at(l, rel), Name: name, Blob: blob, Length: int64(len(blob)), By: 6})
		return err
	})
	return f
}

// file reads what is at url of l.
func (e *env) file(l *storage.List, url string) (*storage.File, error) {
	var f *storage.File
	err := e.s.View(e.ctx, func(tx storage.Tx) (err error) {
		f, err = tx.Files().Get(e.ctx, l.ID, url)
		return err
	})
	return f, err
}

// mustFile reads what is at url of l, which must exist.
func (e *env) mustFile(l *storage.List, url string) *storage.File {
	e.t.Helper()
	f, err := e.file(l, url)
	if err != nil {
		e.t.Fatalf("Get %s: %v", url, err)
	}
	return f
}

// gone checks that nothing is at each URL of l.
func (e *env) gone(l *storage.List, urls ...string) {
	e.t.Helper()
	for _, u := range urls {
		if f, err := e.file(l, u); !errorsIs(err, storage.ErrNotFound) {
			e.t.Errorf("%s: %+v, %v; want ErrNotFound", u, f, err)
		}
	}
}

// children lists the names of the files or folders in the folder at rel.
func (e *env) children(l *storage.List, rel string, folders bool) []string {
	e.t.Helper()
	var names []string
	e.read(func(tx storage.Tx) error {
		fs, err := tx.Files().Children(e.ctx, l.ID, at(l, rel), folders)
		for _, f := range fs {
			names = append(names, f.Name)
		}
		return err
	})
	return names
}

// blobsInUse asks which of keys some file names.
func (e *env) blobsInUse(keys ...string) map[string]bool {
	e.t.Helper()
	var m map[string]bool
	e.read(func(tx storage.Tx) (err error) {
		m, err = tx.Files().BlobsInUse(e.ctx, keys)
		return err
	})
	return m
}

// itemCount is the list's ItemCount.
func (e *env) itemCount(l *storage.List) int64 {
	e.t.Helper()
	var n int64
	e.read(func(tx storage.Tx) error {
		got, err := tx.Lists().Get(e.ctx, l.WebID, l.ID)
		if err == nil {
			n = got.ItemCount
		}
		return err
	})
	return n
}

// move moves (or copies) from to to, both relative to their libraries.
func (e *env) move(copy bool, in storage.MoveInput) (*storage.File, error) {
	var f *storage.File
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		if copy {
			f, err = tx.Files().Copy(e.ctx, in)
		} else {
			f, err = tx.Files().Move(e.ctx, in)
		}
		return err
	})
	return f, err
}

// sameFile reports what differs between two reads of one file.
func sameFile(t *testing.T, what string, got, want *storage.File) {
	t.Helper()
	if got.UniqueID != want.UniqueID || got.ItemID != want.ItemID || got.Version != want.Version ||
		got.Blob != want.Blob || got.Length != want.Length || got.IsFolder != want.IsFolder {
		t.Errorf("%s: %+v, want %+v", what, got, want)
	}
}

// names reads the FileLeafRef of each item.
func names(items []*storage.Item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Values[storage.FieldFileLeafRef].Str)
	}
	return out
}

// hasValues checks values of an item.
func hasValues(t *testing.T, what string, it *storage.Item, want map[string]odata.Value) {
	t.Helper()
	for k, v := range want {
		got, ok := it.Values[k]
		if v.IsNull() && ok {
			t.Errorf("%s: %s = %v, want null", what, k, got)
		}
		if !v.IsNull() && got != v {
			t.Errorf("%s: %s = %v, want %v", what, k, got, v)
		}
	}
}

// noValue checks that err does not repeat a value the test wrote.
func noValue(t *testing.T, err error, values ...string) {
	t.Helper()
	for _, v := range values {
		if err != nil && len(v) >= 3 && containsFold(err.Error(), v) {
			t.Errorf("the error %q repeats %q", err, v)
		}
	}
}
