package memstorage

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

type items struct{ t *tx }

func cloneItem(it *storage.Item) *storage.Item {
	c := clone(it)
	c.Values = maps.Clone(it.Values)
	if c.Values == nil {
		c.Values = map[string]odata.Value{}
	}
	return c
}

// touch records an item change on the list.
func (a items) touch(l *list, delta int64) {
	n := clone(l.l)
	n.ItemCount += delta
	n.LastItemModifiedDate = a.t.now
	assign(a.t, &l.l, n)
}

func (a items) Create(ctx context.Context, listID string, in storage.ItemInput) (*storage.Item, error) {
	t := a.t
	l, err := t.listOf(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	schema := storage.NewSchema(l.fields)
	if schema.IsLibrary() {
		return nil, storage.LibraryItemRefused()
	}
	vals, err := schema.Prepare(in.Values, true)
	if err != nil {
		return nil, err
	}
	assign(t, &l.next, l.next+1)
	it := &storage.Item{ID: l.next, ListID: l.l.ID, GUID: storage.NewGUID(), Version: 1, Created: t.now, Modified: t.now,
		AuthorID: in.By, EditorID: in.By, Values: vals}
	set(t, l.items, it.ID, it)
	t.record(l, storage.ChangeAdd, it)
	a.touch(l, 1)
	return cloneItem(it), nil
}

func (a items) item(ctx context.Context, listID string, id int64, write bool) (*list, *storage.Item, error) {
	if err := a.t.check(ctx, write); err != nil {
		return nil, nil, err
	}
	l, err := a.t.anyList(listID)
	if err != nil {
		return nil, nil, err
	}
	it, ok := l.items[id]
	if !ok {
		return nil, nil, storage.NotFound("the list has no item %d", id)
	}
	return l, it, nil
}

func (a items) Get(ctx context.Context, listID string, id int64) (*storage.Item, error) {
	_, it, err := a.item(ctx, listID, id, false)
	if err != nil {
		return nil, err
	}
	return cloneItem(it), nil
}

func (a items) Update(ctx context.Context, listID string, id int64, upd storage.ItemUpdate) (*storage.Item, error) {
	l, it, err := a.item(ctx, listID, id, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckVersion(it, upd.IfVersion); err != nil {
		return nil, err
	}
	if rec, ok := l.files[id]; ok {
		if err := storage.CheckLock(rec, upd.By); err != nil {
			return nil, err
		}
	}
	vals, err := storage.NewSchema(l.fields).Prepare(upd.Values, false)
	if err != nil {
		return nil, err
	}
	n := cloneItem(it)
	n.Values = storage.Merge(it.Values, vals)
	n.Version++
	n.Modified, n.EditorID = a.t.now, upd.By
	a.t.keepItemVersion(l, it)
	set(a.t, l.items, id, n)
	a.t.record(l, storage.ChangeUpdate, n)
	a.touch(l, 0)
	return cloneItem(n), nil
}

func (a items) Delete(ctx context.Context, listID string, id int64, ifVersion int) error {
	l, it, err := a.item(ctx, listID, id, true)
	if err != nil {
		return err
	}
	if err := storage.CheckVersion(it, ifVersion); err != nil {
		return err
	}
	if rec, ok := l.files[id]; ok {
		// A library's item goes with its file or folder, and a folder's
		// with everything in it.
		if err := storage.CheckTreeLocks(l.tree(rec), 0); err != nil {
			return err
		}
		a.t.deleteTree(l, rec)
		return nil
	}
	a.t.dropOwnScopes(l, []*storage.Item{it}, false)
	del(a.t, l.items, id)
	del(a.t, l.attachments, id)
	del(a.t, l.itemHistories, id)
	a.t.record(l, storage.ChangeDeleteObject, it)
	a.touch(l, -1)
	return nil
}

func (a items) Query(ctx context.Context, listID string, q storage.ItemQuery) (*storage.ItemPage, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	schema := storage.NewSchema(l.fields)
	plan, err := schema.Plan(q)
	if err != nil {
		return nil, err
	}
	var rows []*storage.Item
	sec := security{a.t}
	for _, it := range l.items {
		if !plan.IsAfter(it) || !sec.visible(l, it, q.Viewer) {
			continue
		}
		if plan.Filter != nil {
			ok, err := odata.Eval(plan.Filter, schema.Getter(it))
			if err != nil {
				return nil, fmt.Errorf("%w: %w", storage.ErrInvalid, err)
			}
			if !ok {
				continue
			}
		}
		rows = append(rows, it)
	}
	slices.SortFunc(rows, func(a, b *storage.Item) int {
		switch {
		case plan.Less(a, b):
			return -1
		case plan.Less(b, a):
			return 1
		}
		return 0
	})
	page := &storage.ItemPage{Items: []*storage.Item{}}
	for i, it := range rows {
		if i == plan.Top {
			page.Next = plan.Next(rows[i-1])
			break
		}
		c := cloneItem(it)
		plan.Project(c)
		page.Items = append(page.Items, c)
	}
	return page, nil
}
