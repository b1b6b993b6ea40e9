package memstorage

import (
	"context"
	"maps"
	"slices"

	"github.com/cesivi/cesivi/internal/storage"
)

// The recycle bin moves what it recycles out of the store into entries
// of db.bin, records and all (they are never changed in place, so the
// entry holds them as they were), and restore puts them back under the
// same ids and URLs. A list goes to the bin whole, as the one record
// that holds everything of it. Entries of a web that is gone are
// ignored: they went with it.

type recycleBin struct{ t *tx }

func (t *tx) RecycleBin() storage.RecycleBin { return recycleBin{t} }

// binEntry is one recycle bin item and what it holds.
type binEntry struct {
	item *storage.RecycleBinItem
	seq  int64 // the order of recycling, for items deleted at one time
	// listID is the list a file tree, an item or an attachment was in.
	listID string
	// A file tree (the top first) or one item: the records, their items,
	// histories and attachments.
	files         []*storage.File
	items         []*storage.Item
	histories     map[string]*fileHistory
	itemHistories map[int64][]*storage.ItemVersion
	attachments   map[int64]map[string]*storage.File
	// A whole list.
	list *list
	// An attachment.
	attachment *storage.File
}

// blobs calls fn with every blob the entry names.
func (e *binEntry) blobs(fn func(key string)) {
	for _, f := range e.files {
		fn(f.Blob)
	}
	for _, h := range e.histories {
		for _, v := range h.versions {
			fn(v.Blob)
		}
	}
	for _, byName := range e.attachments {
		for _, f := range byName {
			fn(f.Blob)
		}
	}
	if e.attachment != nil {
		fn(e.attachment.Blob)
	}
	if e.list != nil {
		e.list.blobs(fn)
	}
}

// blobs calls fn with every blob a list names: its files', their
// versions' and its attachments'.
func (l *list) blobs(fn func(key string)) {
	for _, f := range l.files {
		fn(f.Blob)
	}
	for _, h := range l.fileHistories {
		for _, v := range h.versions {
			fn(v.Blob)
		}
	}
	for _, byName := range l.attachments {
		for _, f := range byName {
			fn(f.Blob)
		}
	}
}

// size is the bytes of content e holds, versions included.
func (e *binEntry) size() int64 {
	var n int64
	for _, f := range e.files {
		n += f.Length
	}
	for _, h := range e.histories {
		for _, v := range h.versions {
			n += v.Length
		}
	}
	for _, byName := range e.attachments {
		for _, f := range byName {
			n += f.Length
		}
	}
	if e.list != nil {
		for _, f := range e.list.files {
			n += f.Length
		}
		for _, h := range e.list.fileHistories {
			for _, v := range h.versions {
				n += v.Length
			}
		}
		for _, byName := range e.list.attachments {
			for _, f := range byName {
				n += f.Length
			}
		}
	}
	if e.attachment != nil {
		n += e.attachment.Length
	}
	return n
}

// historyBlobs reports which of keys a file version or the recycle bin
// names, for the blob sweep (Files.BlobsInUse).
func (t *tx) historyBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	used := map[string]bool{}
	mark := func(k string) {
		if want[k] {
			used[k] = true
		}
	}
	for _, l := range t.s.db.lists {
		for _, h := range l.fileHistories {
			for _, v := range h.versions {
				mark(v.Blob)
			}
		}
	}
	for _, e := range t.s.db.bin {
		if _, ok := t.s.db.webs[e.item.WebID]; ok {
			e.blobs(mark)
		}
	}
	return used, nil
}

// siteOf is the site collection of list l.
func (t *tx) siteOf(l *list) string { return t.s.db.webs[l.l.WebID].SiteID }

// toBin stores entry e, filling in its size.
func (t *tx) toBin(e *binEntry) *storage.RecycleBinItem {
	if t.s.db.bin == nil {
		assign(t, &t.s.db.bin, map[string]*binEntry{})
	}
	e.item.Size = e.size()
	assign(t, &t.s.db.binSeq, t.s.db.binSeq+1)
	e.seq = t.s.db.binSeq
	set(t, t.s.db.bin, e.item.ID, e)
	return clone(e.item)
}

func (a recycleBin) RecycleFile(ctx context.Context, listID, url string, by int64, ifVersion int) (*storage.RecycleBinItem, error) {
	l, err := files(a).library(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	rec, err := l.find(url)
	if err != nil {
		return nil, err
	}
	if rec.ItemID == 0 {
		return nil, storage.RootFolderFixed()
	}
	if err := storage.CheckFileVersion(l.out(rec), ifVersion); err != nil {
		return nil, err
	}
	return a.recycleTree(l, rec, by)
}

// recycleTree moves rec, what is below it and their items to the bin.
func (a recycleBin) recycleTree(l *list, rec *storage.File, by int64) (*storage.RecycleBinItem, error) {
	t := a.t
	tree := l.tree(rec)
	if err := storage.CheckTreeLocks(tree, by); err != nil {
		return nil, err
	}
	e := &binEntry{listID: l.l.ID, histories: map[string]*fileHistory{}, itemHistories: map[int64][]*storage.ItemVersion{},
		attachments: map[int64]map[string]*storage.File{}}
	for _, f := range tree {
		e.files = append(e.files, f)
		e.items = append(e.items, l.items[f.ItemID])
		if h, ok := l.fileHistories[f.UniqueID]; ok {
			e.histories[f.UniqueID] = h
		}
		if vs, ok := l.itemHistories[f.ItemID]; ok {
			e.itemHistories[f.ItemID] = vs
		}
	}
	e.item = storage.FileBinItem(t.siteOf(l), l.l.WebID, l.out(rec), 0, by, t.now)
	t.deleteTree(l, rec)
	return t.toBin(e), nil
}

func (a recycleBin) RecycleItem(ctx context.Context, listID string, id int64, by int64, ifVersion int) (*storage.RecycleBinItem, error) {
	t := a.t
	l, it, err := items(a).item(ctx, listID, id, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckVersion(it, ifVersion); err != nil {
		return nil, err
	}
	if rec, ok := l.files[id]; ok {
		return a.recycleTree(l, rec, by)
	}
	e := &binEntry{listID: l.l.ID, items: []*storage.Item{it}, itemHistories: map[int64][]*storage.ItemVersion{},
		attachments: map[int64]map[string]*storage.File{}}
	if vs, ok := l.itemHistories[id]; ok {
		e.itemHistories[id] = vs
	}
	if byName, ok := l.attachments[id]; ok {
		e.attachments[id] = byName
	}
	e.item = storage.ItemBinItem(t.siteOf(l), l.l, it, 0, by, t.now)
	del(t, l.items, id)
	del(t, l.attachments, id)
	del(t, l.itemHistories, id)
	t.record(l, storage.ChangeDeleteObject, it)
	items(a).touch(l, -1)
	return t.toBin(e), nil
}

func (a recycleBin) RecycleList(ctx context.Context, webID, listID string, by int64) (*storage.RecycleBinItem, error) {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return nil, err
	}
	l, err := t.list(webID, listID)
	if err != nil {
		return nil, err
	}
	e := &binEntry{list: l, item: storage.ListBinItem(t.s.db.webs[l.l.WebID], l.l, 0, by, t.now)}
	del(t, t.s.db.lists, l.l.ID)
	return t.toBin(e), nil
}

func (a recycleBin) RecycleAttachment(ctx context.Context, listID string, itemID int64, name string, by int64) (*storage.RecycleBinItem, error) {
	t := a.t
	l, _, err := items(a).item(ctx, listID, itemID, true)
	if err != nil {
		return nil, err
	}
	f, ok := l.attachments[itemID][fold(name)]
	if !ok {
		return nil, errNoAttachment
	}
	// As Attachments().Delete: the item records the change.
	if err := (attachments{t}).Delete(ctx, listID, itemID, name); err != nil {
		return nil, err
	}
	e := &binEntry{listID: l.l.ID, attachment: f, item: storage.AttachmentBinItem(t.siteOf(l), l.l, f, by, t.now)}
	return t.toBin(e), nil
}

// inBin reports whether e is in site siteID's bin and its web (and so
// what it was deleted from) still exists.
func (t *tx) inBin(e *binEntry, siteID string) bool {
	_, ok := t.s.db.webs[e.item.WebID]
	return ok && e.item.SiteID == fold(siteID)
}

// webBelow reports whether web id is web top or one of its subwebs.
func (t *tx) webBelow(id, top string) bool {
	for id != "" {
		if id == top {
			return true
		}
		w, ok := t.s.db.webs[id]
		if !ok {
			return false
		}
		id = w.ParentID
	}
	return false
}

// entries are the entries of a site's bin (webID "": all of them; else
// those of the web and its subwebs), newest first.
func (t *tx) entries(siteID, webID string) []*binEntry {
	var out []*binEntry
	for _, e := range t.s.db.bin {
		if t.inBin(e, siteID) && (webID == "" || t.webBelow(e.item.WebID, fold(webID))) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *binEntry) int {
		if c := b.item.DeletedDate.Compare(a.item.DeletedDate); c != 0 {
			return c
		}
		return int(b.seq - a.seq)
	})
	return out
}

func (a recycleBin) List(ctx context.Context, siteID, webID string) ([]*storage.RecycleBinItem, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	out := []*storage.RecycleBinItem{}
	for _, e := range a.t.entries(siteID, webID) {
		out = append(out, clone(e.item))
	}
	return out, nil
}

func (a recycleBin) entry(ctx context.Context, siteID, id string, write bool) (*binEntry, error) {
	if err := a.t.check(ctx, write); err != nil {
		return nil, err
	}
	e, ok := a.t.s.db.bin[fold(id)]
	if !ok || !a.t.inBin(e, siteID) {
		return nil, storage.ErrNotInBin
	}
	return e, nil
}

func (a recycleBin) Get(ctx context.Context, siteID, id string) (*storage.RecycleBinItem, error) {
	e, err := a.entry(ctx, siteID, id, false)
	if err != nil {
		return nil, err
	}
	return clone(e.item), nil
}

func (a recycleBin) Delete(ctx context.Context, siteID, id string) error {
	e, err := a.entry(ctx, siteID, id, true)
	if err != nil {
		return err
	}
	a.t.forget(e)
	return nil
}

// forget deletes bin entry e for good, with the scopes its list or items
// owned.
func (t *tx) forget(e *binEntry) {
	if e.list != nil {
		items := make([]*storage.Item, 0, len(e.list.items))
		for _, it := range e.list.items {
			items = append(items, it)
		}
		t.dropOwnScopes(e.list, items, true)
	} else if l, ok := t.s.db.lists[e.listID]; ok {
		t.dropOwnScopes(l, e.items, false)
	}
	del(t, t.s.db.bin, e.item.ID)
}

func (a recycleBin) Empty(ctx context.Context, siteID, webID string) error {
	if err := a.t.check(ctx, true); err != nil {
		return err
	}
	for _, e := range a.t.entries(siteID, webID) {
		a.t.forget(e)
	}
	return nil
}

func (a recycleBin) Restore(ctx context.Context, siteID, id string) error {
	t := a.t
	e, err := a.entry(ctx, siteID, id, true)
	if err != nil {
		return err
	}
	switch {
	case e.list != nil:
		err = t.restoreList(e)
	case e.attachment != nil:
		err = t.restoreAttachment(ctx, e)
	default:
		err = t.restoreItems(e)
	}
	if err != nil {
		return err
	}
	del(t, t.s.db.bin, e.item.ID)
	return nil
}

func (t *tx) restoreList(e *binEntry) error {
	l := e.list
	if _, ok := t.s.db.webs[l.l.WebID]; !ok {
		return storage.ErrParentGone("web")
	}
	for _, o := range t.s.db.lists {
		if o.l.WebID != l.l.WebID {
			continue
		}
		if fold(o.l.Title) == fold(l.l.Title) {
			return storage.Conflict("a list with this title exists in the web")
		}
		if fold(o.l.URLName) == fold(l.l.URLName) {
			return storage.Conflict("a list with this URL exists in the web")
		}
	}
	set(t, t.s.db.lists, l.l.ID, l)
	// Its change log and subscriptions do not come back (as in
	// PostgreSQL, where they go with the list's row): a token from
	// before has expired.
	assign(t, &l.changes, nil)
	assign(t, &l.subs, nil)
	assign(t, &l.prunedThrough, l.lastChange)
	return nil
}

func (t *tx) restoreAttachment(ctx context.Context, e *binEntry) error {
	l, err := t.anyList(e.listID)
	if err != nil {
		return storage.ErrParentGone("list")
	}
	f := e.attachment
	it, ok := l.items[f.ItemID]
	if !ok {
		return storage.ErrParentGone("item")
	}
	if _, taken := l.attachments[f.ItemID][fold(f.Name)]; taken {
		return storage.Conflict("the item has an attachment with this name")
	}
	if l.attachments == nil {
		assign(t, &l.attachments, map[int64]map[string]*storage.File{})
	}
	byName := maps.Clone(l.attachments[f.ItemID])
	if byName == nil {
		byName = map[string]*storage.File{}
	}
	byName[fold(f.Name)] = f
	set(t, l.attachments, f.ItemID, byName)
	attachments{t}.saveItem(l, it, nil)
	return ctx.Err()
}

// restoreItems puts back a file tree or an item.
func (t *tx) restoreItems(e *binEntry) error {
	l, err := t.anyList(e.listID)
	if err != nil {
		return storage.ErrParentGone("list")
	}
	if len(e.files) > 0 {
		top := e.files[0]
		if _, err := l.folder(top.DirURL); err != nil {
			return storage.ErrParentGone("folder")
		}
		for _, f := range e.files {
			if t.taken(l, f.URL) {
				return storage.NameTaken()
			}
		}
		for _, f := range e.files {
			t.putFile(l, f)
		}
	}
	for _, it := range e.items {
		set(t, l.items, it.ID, it)
	}
	t.record(l, storage.ChangeRestore, e.items...)
	for uid, h := range e.histories {
		t.setHistory(l, uid, h)
	}
	if len(e.itemHistories) > 0 && l.itemHistories == nil {
		assign(t, &l.itemHistories, map[int64][]*storage.ItemVersion{})
	}
	for id, vs := range e.itemHistories {
		set(t, l.itemHistories, id, vs)
	}
	if len(e.attachments) > 0 && l.attachments == nil {
		assign(t, &l.attachments, map[int64]map[string]*storage.File{})
	}
	for id, byName := range e.attachments {
		set(t, l.attachments, id, byName)
	}
	items{t}.touch(l, int64(len(e.items)))
	return nil
}
