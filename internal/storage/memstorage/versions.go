package memstorage

import (
	"context"
	"slices"

	"github.com/cesivi/cesivi/internal/storage"
)

// Version histories live in their list: a file's earlier versions and
// the comment its current content was checked in with by its UniqueID
// (so that they move with it), an item's earlier versions by its id.
// Records are never changed in place: a change stores a new record, so
// the transaction's undo log can put the old one back.

type versions struct{ t *tx }

func (t *tx) Versions() storage.Versions { return versions{t} }

// fileHistory is what a file keeps beside its current content.
type fileHistory struct {
	versions []*storage.FileVersion // oldest first
	comment  string                 // the current content's check-in comment
}

var errNoVersion = storage.NotFound("the file has no version with this id")

// history is the file's history (empty when it has none).
func (l *list) history(uniqueID string) *fileHistory {
	if h, ok := l.fileHistories[uniqueID]; ok {
		return h
	}
	return &fileHistory{}
}

func (t *tx) setHistory(l *list, uniqueID string, h *fileHistory) {
	if l.fileHistories == nil {
		assign(t, &l.fileHistories, map[string]*fileHistory{})
	}
	if len(h.versions) == 0 && h.comment == "" {
		del(t, l.fileHistories, uniqueID)
		return
	}
	set(t, l.fileHistories, uniqueID, h)
}

// keepVersion records f's current content as an earlier version, with
// the comment it was checked in with, dropping the oldest beyond the
// list's limit; the new content has no comment until a check-in gives it
// one.
func (t *tx) keepVersion(l *list, f *storage.File) {
	h := l.history(f.UniqueID)
	vs := append(slices.Clone(h.versions), storage.ContentVersion(f, h.comment))
	vs = vs[storage.VersionsToDrop(len(vs), l.l.MajorVersionLimit):]
	t.setHistory(l, f.UniqueID, &fileHistory{versions: vs})
}

// keepItemVersion records item it as it is before a change, when the
// list keeps versions.
func (t *tx) keepItemVersion(l *list, it *storage.Item) {
	if !l.l.EnableVersioning {
		return
	}
	if l.itemHistories == nil {
		assign(t, &l.itemHistories, map[int64][]*storage.ItemVersion{})
	}
	vs := append(slices.Clone(l.itemHistories[it.ID]), storage.ItemVersionOf(cloneItem(it)))
	set(t, l.itemHistories, it.ID, vs[storage.VersionsToDrop(len(vs), l.l.MajorVersionLimit):])
}

// dropHistory forgets the histories of a file that is deleted.
func (t *tx) dropHistory(l *list, f *storage.File) {
	del(t, l.fileHistories, f.UniqueID)
	del(t, l.itemHistories, f.ItemID)
}

// overwrite replaces existing's content (existing as l.out returns it)
// by in's, as Files.Put does: by its holder while it is checked out the
// content of the check-out is kept (once) for Undo and check-in and the
// label stays; otherwise the replaced content becomes an earlier version
// when the library keeps versions, and the file a new major version.
func (t *tx) overwrite(l *list, existing *storage.File, in storage.FileInput) (*storage.File, error) {
	if err := storage.CheckLock(existing, in.By); err != nil {
		return nil, err
	}
	var n *storage.File
	if storage.IsHeld(existing) {
		if !t.heldContentKept(l, existing) {
			t.keepVersion(l, existing)
		}
		n = storage.HeldOverwrite(existing, in, t.now)
	} else {
		if l.l.EnableVersioning {
			t.keepVersion(l, existing)
		} else if h := l.history(existing.UniqueID); h.comment != "" {
			t.setHistory(l, existing.UniqueID, &fileHistory{versions: h.versions})
		}
		n = storage.Overwritten(existing, in, t.now)
	}
	t.saveContent(l, n)
	return l.out(n), nil
}

// heldContentKept reports whether the content f had when it was checked
// out is kept already: a version with f's own label, which only a held
// file has.
func (t *tx) heldContentKept(l *list, f *storage.File) bool {
	vs := l.history(f.UniqueID).versions
	return len(vs) > 0 && vs[len(vs)-1].ID == storage.VersionID(f.MajorVersion, f.MinorVersion)
}

// saveContent stores n, a new state of a file's record, and the item
// change it is (version, time, editor), recording the item's version
// before it.
func (t *tx) saveContent(l *list, n *storage.File) {
	t.keepItemVersion(l, l.items[n.ItemID])
	t.storeContent(l, n)
}

// storeContent stores n and its item's change without a version.
func (t *tx) storeContent(l *list, n *storage.File) {
	it := cloneItem(l.items[n.ItemID])
	it.Version, it.Modified, it.EditorID = n.Version, n.Modified, n.EditorID
	set(t, l.items, it.ID, it)
	t.record(l, storage.ChangeUpdate, it)
	rec := clone(n)
	rec.ItemCount = 0
	t.putFile(l, rec)
	items{t}.touch(l, 0)
}

// fileFor finds the file (no folder) at url of library listID.
func (a versions) fileFor(ctx context.Context, listID, url string, write bool) (*list, *storage.File, error) {
	l, err := files(a).library(ctx, listID, write)
	if err != nil {
		return nil, nil, err
	}
	rec, err := l.find(url)
	if err != nil {
		return nil, nil, err
	}
	if rec.IsFolder {
		return nil, nil, storage.NotFound("the library has no file at this URL (a folder has no versions)")
	}
	return l, l.out(rec), nil
}

func (a versions) Comment(ctx context.Context, listID, url string) (string, error) {
	l, f, err := a.fileFor(ctx, listID, url, false)
	if err != nil {
		return "", err
	}
	return l.history(f.UniqueID).comment, nil
}

func (a versions) Files(ctx context.Context, listID, url string) ([]*storage.FileVersion, error) {
	l, f, err := a.fileFor(ctx, listID, url, false)
	if err != nil {
		return nil, err
	}
	out := []*storage.FileVersion{}
	for _, v := range l.history(f.UniqueID).versions {
		out = append(out, clone(v))
	}
	return out, nil
}

func (a versions) Restore(ctx context.Context, listID, url, label string, by int64) (*storage.File, error) {
	t := a.t
	l, f, err := a.fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	id, ok := storage.ParseVersionLabel(label)
	if !ok {
		return nil, storage.Invalid("a version label is major.minor, such as 1.0")
	}
	i := slices.IndexFunc(l.history(f.UniqueID).versions, func(v *storage.FileVersion) bool { return v.ID == id })
	if i < 0 {
		return nil, errNoVersion
	}
	v := l.history(f.UniqueID).versions[i]
	if err := storage.CheckLock(f, by); err != nil {
		return nil, err
	}
	if storage.IsHeld(f) {
		return t.overwrite(l, f, storage.FileInput{Blob: v.Blob, Length: v.Length, By: by})
	}
	// The replaced content is kept whatever the library's setting: a
	// restore is asked for by someone who wants the history.
	t.keepVersion(l, f)
	n := storage.RestoredContent(f, v, by, t.now)
	t.saveContent(l, n)
	return l.out(n), nil
}

func (a versions) Delete(ctx context.Context, listID, url string, id int) error {
	l, f, err := a.fileFor(ctx, listID, url, true)
	if err != nil {
		return err
	}
	h := l.history(f.UniqueID)
	i := slices.IndexFunc(h.versions, func(v *storage.FileVersion) bool { return v.ID == id })
	if i < 0 || storage.IsHeld(f) && a.t.heldContentKept(l, f) && i == len(h.versions)-1 {
		// The content of a check-out is not a version to delete: Undo
		// needs it.
		return errNoVersion
	}
	a.t.setHistory(l, f.UniqueID, &fileHistory{versions: slices.Delete(slices.Clone(h.versions), i, i+1), comment: h.comment})
	return nil
}

func (a versions) DeleteAll(ctx context.Context, listID, url string) error {
	l, f, err := a.fileFor(ctx, listID, url, true)
	if err != nil {
		return err
	}
	h := l.history(f.UniqueID)
	var keep []*storage.FileVersion
	if storage.IsHeld(f) && a.t.heldContentKept(l, f) {
		keep = h.versions[len(h.versions)-1:]
	}
	a.t.setHistory(l, f.UniqueID, &fileHistory{versions: keep, comment: h.comment})
	return nil
}

func (a versions) Items(ctx context.Context, listID string, id int64) ([]*storage.ItemVersion, error) {
	l, it, err := items(a).item(ctx, listID, id, false)
	if err != nil {
		return nil, err
	}
	out := []*storage.ItemVersion{}
	for _, v := range l.itemHistories[id] {
		c := clone(v)
		c.Values = cloneItem(&storage.Item{Values: v.Values}).Values
		out = append(out, c)
	}
	cur := storage.ItemVersionOf(cloneItem(it))
	cur.IsCurrent = true
	return append(out, cur), nil
}
