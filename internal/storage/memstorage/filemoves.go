package memstorage

import (
	"context"
	"errors"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

func (a files) Move(ctx context.Context, in storage.MoveInput) (*storage.File, error) {
	return a.relocate(ctx, in, false)
}

func (a files) Copy(ctx context.Context, in storage.MoveInput) (*storage.File, error) {
	return a.relocate(ctx, in, true)
}

// target finds the library of l's site collection whose root folder
// holds url (the deepest, should roots nest) and url's segments in it.
func (t *tx) target(l *list, url string) (*list, []string, error) {
	site := t.s.db.webs[l.l.WebID].SiteID
	var best *list
	var rel []string
	for _, o := range t.s.db.lists {
		if o.l.BaseType != storage.BaseTypeDocumentLibrary || t.s.db.webs[o.l.WebID].SiteID != site {
			continue
		}
		r, err := storage.ResolveFileURL(o.l.RootFolderURL, url)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if best == nil || len(o.l.RootFolderURL) > len(best.l.RootFolderURL) {
			best, rel = o, r
		}
	}
	if best == nil {
		return nil, nil, storage.NotFound("no library of the site collection holds the target URL")
	}
	return best, rel, nil
}

func (a files) relocate(ctx context.Context, in storage.MoveInput, copy bool) (*storage.File, error) {
	t := a.t
	src, err := a.library(ctx, in.ListID, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckFileURL(in.To); err != nil {
		return nil, err
	}
	rec, err := src.find(in.From)
	if err != nil {
		return nil, err
	}
	dst, rel, err := t.target(src, in.To)
	if err != nil {
		return nil, err
	}
	if len(rel) == 0 {
		return nil, storage.RootFolderFixed()
	}
	parent, err := dst.folder(dst.l.RootFolderURL + "/" + strings.Join(rel[:len(rel)-1], "/"))
	if err != nil {
		return nil, err
	}
	to := storage.MoveTarget{ListID: dst.l.ID, Parent: parent.URL, Name: rel[len(rel)-1]}
	if id, ok := dst.byURL[fold(to.Parent+"/"+to.Name)]; ok {
		to.Existing = dst.files[id]
	}
	tree := src.tree(rec)
	plan, err := storage.PlanMove(tree, to, in, copy, t.now)
	if err != nil {
		return nil, err
	}
	if !copy {
		if err := storage.CheckTreeLocks(tree, in.By); err != nil {
			return nil, err
		}
	}
	if plan.Replaced != nil && copy {
		// A copy onto a file replaces its content, as Put does: a new
		// version of that file.
		return t.overwrite(dst, dst.out(plan.Replaced), storage.FileInput{Blob: rec.Blob, Length: rec.Length, By: in.By})
	}
	if plan.Replaced != nil {
		if err := storage.CheckLock(plan.Replaced, in.By); err != nil {
			return nil, err
		}
		t.deleteTree(dst, plan.Replaced)
	}
	if !copy {
		for _, f := range tree {
			t.dropFile(src, f)
		}
	}
	for _, e := range plan.Entries {
		if t.taken(dst, e.URL) {
			return nil, storage.NameTaken()
		}
	}
	dstSchema := storage.NewSchema(dst.fields)
	for i, e := range plan.Entries {
		old := src.items[tree[i].ItemID]
		switch {
		case !copy && !plan.CrossList:
			it := cloneItem(old)
			it.Values = storage.Merge(it.Values, storage.FileValues(e))
			if it.ScopeID != storage.ItemScopeID(src.l.ID, it.ID) {
				it.ScopeID = src.inheritedScope(e.DirURL)
			}
			set(t, src.items, it.ID, it)
			t.record(src, storage.ChangeRename, it)
		case !copy:
			it := cloneItem(old)
			it.Values = dstSchema.CarryValues(old.Values, e)
			it.ScopeID = dst.inheritedScope(e.DirURL)
			del(t, src.items, old.ID)
			t.record(src, storage.ChangeMoveAway, old)
			t.addItem(dst, it)
			t.record(dst, storage.ChangeMoveInto, it)
			e.ItemID = it.ID
			// The file's versions go with it; its item is a new one.
			if h, ok := src.fileHistories[e.UniqueID]; ok {
				t.setHistory(dst, e.UniqueID, h)
			}
			t.dropHistory(src, tree[i])
		default:
			it, err := dstSchema.NewFileItem(e)
			if err != nil {
				return nil, err
			}
			if plan.CrossList {
				it.Values = dstSchema.CarryValues(old.Values, e)
			} else {
				it.Values = storage.Merge(old.Values, storage.FileValues(e))
			}
			it.ScopeID = dst.inheritedScope(e.DirURL)
			t.addItem(dst, it)
			t.record(dst, storage.ChangeAdd, it)
			e.ItemID = it.ID
		}
		t.putFile(dst, e)
	}
	n := int64(len(plan.Entries))
	switch {
	case copy:
		items{t}.touch(dst, n)
	case plan.CrossList:
		items{t}.touch(src, -n)
		items{t}.touch(dst, n)
	default:
		items{t}.touch(src, 0)
	}
	return dst.out(plan.Entries[0]), nil
}
