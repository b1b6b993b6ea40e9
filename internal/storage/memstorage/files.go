package memstorage

import (
	"context"
	"slices"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

// The files and folders of a library live in its list: one record per
// item that carries one, indexed by URL. A record's version, times and
// people are its item's, read when it is returned.

type files struct{ t *tx }

func (t *tx) Files() storage.Files { return files{t} }

var errNotLibrary = storage.Invalid("files and folders live in document libraries: the list is not one")

// library finds a list for a Files call; a write needs a library.
func (a files) library(ctx context.Context, listID string, write bool) (*list, error) {
	l, err := a.t.listOf(ctx, listID, write)
	if err != nil {
		return nil, err
	}
	if write && l.l.BaseType != storage.BaseTypeDocumentLibrary {
		return nil, errNotLibrary
	}
	return l, nil
}

// out is a copy of rec as the contract returns it.
func (l *list) out(rec *storage.File) *storage.File {
	if rec.ItemID == 0 {
		return storage.RootFolder(clone(l.l), l.childCount(rec.URL))
	}
	c := clone(rec)
	if it, ok := l.items[rec.ItemID]; ok {
		c.Version, c.Created, c.Modified, c.AuthorID, c.EditorID = it.Version, it.Created, it.Modified, it.AuthorID, it.EditorID
		c.ScopeID = it.ScopeID
	}
	if c.IsFolder {
		c.ItemCount = l.childCount(c.URL)
	}
	return c
}

func (l *list) childCount(url string) int64 {
	var n int64
	for _, f := range l.files {
		if fold(f.DirURL) == fold(url) {
			n++
		}
	}
	return n
}

// find returns the record at url: the root folder's (ItemID 0) or a
// file's or folder's.
func (l *list) find(url string) (*storage.File, error) {
	rel, err := storage.ResolveFileURL(l.l.RootFolderURL, url)
	if err != nil {
		return nil, err
	}
	if len(rel) == 0 {
		return storage.RootFolder(l.l, 0), nil
	}
	id, ok := l.byURL[fold(l.l.RootFolderURL+"/"+strings.Join(rel, "/"))]
	if !ok {
		return nil, storage.NotFound("the library has no file or folder at this URL")
	}
	return l.files[id], nil
}

// folder returns the folder at url (the root folder included).
func (l *list) folder(url string) (*storage.File, error) {
	f, err := l.find(url)
	if err == nil && !f.IsFolder {
		err = storage.NotFound("the library has no folder at this URL")
	}
	return f, err
}

// tree is rec and, for a folder, everything below it, rec first.
func (l *list) tree(rec *storage.File) []*storage.File {
	out := []*storage.File{rec}
	if rec.IsFolder {
		for _, f := range l.files {
			if storage.IsBelowURL(f.URL, rec.URL) {
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out[1:], func(a, b *storage.File) int { return strings.Compare(fold(a.URL), fold(b.URL)) })
	return out
}

// taken reports whether url is some file's or folder's of the site
// collection of l (URLs are unique in a site, ignoring case).
func (t *tx) taken(l *list, url string) bool {
	site := t.s.db.webs[l.l.WebID].SiteID
	for _, o := range t.s.db.lists {
		if _, ok := o.byURL[fold(url)]; ok && t.s.db.webs[o.l.WebID].SiteID == site {
			return true
		}
	}
	return false
}

func (t *tx) putFile(l *list, rec *storage.File) {
	set(t, l.files, rec.ItemID, rec)
	set(t, l.byURL, fold(rec.URL), rec.ItemID)
}

func (t *tx) dropFile(l *list, rec *storage.File) {
	del(t, l.files, rec.ItemID)
	del(t, l.byURL, fold(rec.URL))
}

// addItem stores a new item of l under the list's next id.
func (t *tx) addItem(l *list, it *storage.Item) {
	assign(t, &l.next, l.next+1)
	it.ID, it.ListID = l.next, l.l.ID
	set(t, l.items, it.ID, it)
}

// deleteTree deletes rec, everything below it and their items.
func (t *tx) deleteTree(l *list, rec *storage.File) {
	tree := l.tree(rec)
	t.recordFiles(l, storage.ChangeDeleteObject, tree...)
	for _, f := range tree {
		t.dropOwnScopes(l, []*storage.Item{l.items[f.ItemID]}, false)
		t.dropFile(l, f)
		t.dropHistory(l, f)
		del(t, l.items, f.ItemID)
	}
	items{t}.touch(l, -int64(len(tree)))
}

func (a files) Get(ctx context.Context, listID, url string) (*storage.File, error) {
	l, err := a.library(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	rec, err := l.find(url)
	if err != nil {
		return nil, err
	}
	return l.out(rec), nil
}

func (a files) GetByID(ctx context.Context, webID, uniqueID string) (*storage.File, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	for _, l := range a.t.s.db.lists {
		if l.l.WebID != fold(webID) {
			continue
		}
		if l.l.ID == fold(uniqueID) {
			return l.out(storage.RootFolder(l.l, 0)), nil
		}
		for _, f := range l.files {
			if f.UniqueID == fold(uniqueID) {
				return l.out(f), nil
			}
		}
	}
	return nil, storage.NotFound("the web has no file or folder with this id")
}

func (a files) GetByItem(ctx context.Context, listID string, itemID int64) (*storage.File, error) {
	l, err := a.library(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	rec, ok := l.files[itemID]
	if !ok {
		return nil, storage.NotFound("item %d of the list carries no file or folder", itemID)
	}
	return l.out(rec), nil
}

func (a files) Children(ctx context.Context, listID, folderURL string, folders bool) ([]*storage.File, error) {
	l, err := a.library(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	dir, err := l.folder(folderURL)
	if err != nil {
		return nil, err
	}
	out := []*storage.File{}
	for _, f := range l.files {
		if f.IsFolder == folders && fold(f.DirURL) == fold(dir.URL) {
			out = append(out, l.out(f))
		}
	}
	slices.SortFunc(out, func(a, b *storage.File) int {
		if c := strings.Compare(fold(a.Name), fold(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// add stores a new file or folder in the folder at dirURL, with its item.
func (a files) add(l *list, dirURL, name string, folder bool, by int64, content *storage.FileInput) (*storage.File, error) {
	t := a.t
	dir, err := l.folder(dirURL)
	if err != nil {
		return nil, err
	}
	f, err := storage.NewFileEntry(l.l.ID, dir.URL, name, folder, by, t.now)
	if err != nil {
		return nil, err
	}
	if content != nil {
		f.Blob, f.Length = content.Blob, content.Length
	}
	if t.taken(l, f.URL) {
		return nil, storage.NameTaken()
	}
	it, err := storage.NewSchema(l.fields).NewFileItem(f)
	if err != nil {
		return nil, err
	}
	it.ScopeID = l.inheritedScope(dir.URL)
	t.addItem(l, it)
	f.ItemID = it.ID
	t.putFile(l, f)
	t.record(l, storage.ChangeAdd, it)
	items{t}.touch(l, 1)
	return l.out(f), nil
}

func (a files) AddFolder(ctx context.Context, listID string, in storage.FolderInput) (*storage.File, error) {
	l, err := a.library(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	return a.add(l, in.ParentURL, in.Name, true, in.By, nil)
}

func (a files) Put(ctx context.Context, listID string, in storage.FileInput) (*storage.File, error) {
	l, err := a.library(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckFileContent(in); err != nil {
		return nil, err
	}
	dir, err := l.folder(in.FolderURL)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckLeafName(in.Name); err != nil {
		return nil, err
	}
	var existing *storage.File
	if id, ok := l.byURL[fold(dir.URL+"/"+in.Name)]; ok {
		existing = l.out(l.files[id])
	}
	if err := storage.CheckPut(existing, in); err != nil {
		return nil, err
	}
	if existing == nil {
		return a.add(l, dir.URL, in.Name, false, in.By, &in)
	}
	return a.t.overwrite(l, existing, in)
}

func (a files) Delete(ctx context.Context, listID, url string, ifVersion int) error {
	l, err := a.library(ctx, listID, true)
	if err != nil {
		return err
	}
	rec, err := l.find(url)
	if err != nil {
		return err
	}
	if rec.ItemID == 0 {
		return storage.RootFolderFixed()
	}
	if err := storage.CheckFileVersion(l.out(rec), ifVersion); err != nil {
		return err
	}
	if err := storage.CheckTreeLocks(l.tree(rec), 0); err != nil {
		return err
	}
	a.t.deleteTree(l, rec)
	return nil
}

func (a files) BlobsInUse(ctx context.Context, keys []string) (map[string]bool, error) {
	return storage.BlobsNamedByAny(ctx, keys, a.fileBlobs, a.t.uploadBlobs, a.t.attachmentBlobs, a.t.historyBlobs)
}

// fileBlobs are the keys files name.
func (a files) fileBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	out := map[string]bool{}
	for _, l := range a.t.s.db.lists {
		for _, f := range l.files {
			if f.Blob != "" && want[f.Blob] {
				out[f.Blob] = true
			}
		}
	}
	return out, nil
}
