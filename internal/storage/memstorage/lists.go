package memstorage

import (
	"context"
	"slices"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

type lists struct{ t *tx }

func (t *tx) createList(ctx context.Context, w *storage.Web, in storage.ListInput) (*storage.List, error) {
	l, fs, v, err := storage.NewList(w, in, t.now)
	if err != nil {
		return nil, err
	}
	for _, o := range t.s.db.lists {
		if o.l.WebID != w.ID {
			continue
		}
		if fold(o.l.Title) == fold(l.Title) {
			return nil, storage.Conflict("a list with this title exists in the web")
		}
		if fold(o.l.URLName) == fold(l.URLName) {
			return nil, storage.Conflict("a list with this URL exists in the web")
		}
	}
	set(t, t.s.db.lists, l.ID, &list{l: l, fields: fs, views: []*storage.View{v}, items: map[int64]*storage.Item{},
		files: map[int64]*storage.File{}, byURL: map[string]int64{}})
	return clone(l), nil
}

// list finds a list of a web.
func (t *tx) list(webID, id string) (*list, error) {
	l, ok := t.s.db.lists[fold(id)]
	if !ok || l.l.WebID != fold(webID) {
		return nil, storage.NotFound("the web has no list with this id")
	}
	return l, nil
}

// listOf checks the transaction and finds a list by id alone.
func (t *tx) listOf(ctx context.Context, id string, write bool) (*list, error) {
	if err := t.check(ctx, write); err != nil {
		return nil, err
	}
	return t.anyList(id)
}

// anyList finds a list by id alone.
func (t *tx) anyList(id string) (*list, error) {
	l, ok := t.s.db.lists[fold(id)]
	if !ok {
		return nil, storage.NotFound("no list has this id")
	}
	return l, nil
}

func (a lists) Create(ctx context.Context, webID string, in storage.ListInput) (*storage.List, error) {
	if err := a.t.check(ctx, true); err != nil {
		return nil, err
	}
	w, ok := a.t.s.db.webs[fold(webID)]
	if !ok {
		return nil, storage.NotFound("no web has this id")
	}
	return a.t.createList(ctx, w, in)
}

func (a lists) Get(ctx context.Context, webID, id string) (*storage.List, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	l, err := a.t.list(webID, id)
	if err != nil {
		return nil, err
	}
	return clone(l.l), nil
}

func (a lists) find(ctx context.Context, webID string, match func(*storage.List) bool) (*storage.List, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	for _, l := range a.t.s.db.lists {
		if l.l.WebID == fold(webID) && match(l.l) {
			return clone(l.l), nil
		}
	}
	return nil, storage.NotFound("the web has no such list")
}

func (a lists) GetByTitle(ctx context.Context, webID, title string) (*storage.List, error) {
	return a.find(ctx, webID, func(l *storage.List) bool { return fold(l.Title) == fold(title) })
}

func (a lists) GetByURL(ctx context.Context, webID, url string) (*storage.List, error) {
	return a.find(ctx, webID, func(l *storage.List) bool { return fold(l.URLName) == fold(url) })
}

func (a lists) List(ctx context.Context, webID string) ([]*storage.List, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	if _, ok := a.t.s.db.webs[fold(webID)]; !ok {
		return nil, storage.NotFound("no web has this id")
	}
	out := []*storage.List{}
	for _, l := range a.t.s.db.lists {
		if l.l.WebID == fold(webID) {
			out = append(out, clone(l.l))
		}
	}
	slices.SortFunc(out, func(a, b *storage.List) int { return strings.Compare(fold(a.Title), fold(b.Title)) })
	return out, nil
}

func (a lists) Update(ctx context.Context, webID, id string, upd storage.ListUpdate) (*storage.List, error) {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return nil, err
	}
	l, err := t.list(webID, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyListUpdate(l.l, upd)
	if err != nil {
		return nil, err
	}
	for _, o := range t.s.db.lists {
		if o != l && o.l.WebID == n.WebID && fold(o.l.Title) == fold(n.Title) {
			return nil, storage.Conflict("a list with this title exists in the web")
		}
	}
	assign(t, &l.l, n)
	return clone(n), nil
}

func (a lists) Delete(ctx context.Context, webID, id string) error {
	if err := a.t.check(ctx, true); err != nil {
		return err
	}
	l, err := a.t.list(webID, id)
	if err != nil {
		return err
	}
	del(a.t, a.t.s.db.lists, l.l.ID)
	return nil
}

type fields struct{ t *tx }

func cloneField(f *storage.Field) *storage.Field {
	c := clone(f)
	c.Choices = slices.Clone(f.Choices)
	return c
}

func (a fields) Create(ctx context.Context, listID string, in storage.FieldInput) (*storage.Field, error) {
	t := a.t
	l, err := t.listOf(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	f, err := storage.NewField(l.l.ID, in)
	if err != nil {
		return nil, err
	}
	for _, o := range l.fields {
		if fold(o.InternalName) == fold(f.InternalName) {
			return nil, storage.Conflict("the list has a field with this internal name")
		}
	}
	assign(t, &l.fields, append(slices.Clip(l.fields), f))
	return cloneField(f), nil
}

func (a fields) index(l *list, id string) (int, error) {
	i := slices.IndexFunc(l.fields, func(f *storage.Field) bool { return f.ID == fold(id) })
	if i < 0 {
		return 0, storage.NotFound("the list has no field with this id")
	}
	return i, nil
}

func (a fields) Get(ctx context.Context, listID, id string) (*storage.Field, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	i, err := a.index(l, id)
	if err != nil {
		return nil, err
	}
	return cloneField(l.fields[i]), nil
}

func (a fields) GetByName(ctx context.Context, listID, name string) (*storage.Field, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	if f, ok := storage.FieldByName(l.fields, name); ok {
		return cloneField(f), nil
	}
	return nil, storage.NotFound("the list has no field with this name or title")
}

func (a fields) List(ctx context.Context, listID string) ([]*storage.Field, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	out := make([]*storage.Field, len(l.fields))
	for i, f := range l.fields {
		out[i] = cloneField(f)
	}
	return out, nil
}

func (a fields) Update(ctx context.Context, listID, id string, upd storage.FieldUpdate) (*storage.Field, error) {
	t := a.t
	l, err := t.listOf(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	i, err := a.index(l, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyFieldUpdate(l.fields[i], upd)
	if err != nil {
		return nil, err
	}
	fs := slices.Clone(l.fields)
	fs[i] = n
	assign(t, &l.fields, fs)
	return cloneField(n), nil
}

func (a fields) Delete(ctx context.Context, listID, id string) error {
	t := a.t
	l, err := t.listOf(ctx, listID, true)
	if err != nil {
		return err
	}
	i, err := a.index(l, id)
	if err != nil {
		return err
	}
	f := l.fields[i]
	if f.System {
		return storage.Invalid("field %s is a system field and cannot be deleted", f.InternalName)
	}
	assign(t, &l.fields, slices.Delete(slices.Clone(l.fields), i, i+1))
	for id, it := range l.items {
		if _, ok := it.Values[f.InternalName]; ok {
			n := cloneItem(it)
			delete(n.Values, f.InternalName)
			set(t, l.items, id, n)
		}
	}
	return nil
}

type views struct{ t *tx }

func cloneView(v *storage.View) *storage.View {
	c := clone(v)
	c.ViewFields = slices.Clone(v.ViewFields)
	return c
}

// putView stores v at index i (or appends it with i < 0), clearing the
// other views' default flag when v is the default.
func (a views) putView(l *list, i int, v *storage.View) error {
	vs := slices.Clone(l.views)
	for j, o := range vs {
		if j != i && fold(o.Title) == fold(v.Title) {
			return storage.Conflict("the list has a view with this title")
		}
	}
	if v.DefaultView {
		for j, o := range vs {
			if j != i && o.DefaultView {
				c := cloneView(o)
				c.DefaultView = false
				vs[j] = c
			}
		}
	}
	if i < 0 {
		vs = append(vs, v)
	} else {
		vs[i] = v
	}
	assign(a.t, &l.views, vs)
	return nil
}

func (a views) Create(ctx context.Context, listID string, in storage.ViewInput) (*storage.View, error) {
	l, err := a.t.listOf(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	v, err := storage.NewView(l.l.ID, in)
	if err != nil {
		return nil, err
	}
	if err := a.putView(l, -1, v); err != nil {
		return nil, err
	}
	return cloneView(v), nil
}

func (a views) find(ctx context.Context, listID string, match func(*storage.View) bool) (*list, int, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, 0, err
	}
	l, err := a.t.anyList(listID)
	if err != nil {
		return nil, 0, err
	}
	i := slices.IndexFunc(l.views, match)
	if i < 0 {
		return nil, 0, storage.NotFound("the list has no such view")
	}
	return l, i, nil
}

func (a views) Get(ctx context.Context, listID, id string) (*storage.View, error) {
	l, i, err := a.find(ctx, listID, func(v *storage.View) bool { return v.ID == fold(id) })
	if err != nil {
		return nil, err
	}
	return cloneView(l.views[i]), nil
}

func (a views) GetByTitle(ctx context.Context, listID, title string) (*storage.View, error) {
	l, i, err := a.find(ctx, listID, func(v *storage.View) bool { return fold(v.Title) == fold(title) })
	if err != nil {
		return nil, err
	}
	return cloneView(l.views[i]), nil
}

func (a views) List(ctx context.Context, listID string) ([]*storage.View, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	out := make([]*storage.View, len(l.views))
	for i, v := range l.views {
		out[i] = cloneView(v)
	}
	return out, nil
}

func (a views) Update(ctx context.Context, listID, id string, upd storage.ViewUpdate) (*storage.View, error) {
	if err := a.t.check(ctx, true); err != nil {
		return nil, err
	}
	l, i, err := a.find(ctx, listID, func(v *storage.View) bool { return v.ID == fold(id) })
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyViewUpdate(l.views[i], upd)
	if err != nil {
		return nil, err
	}
	if err := a.putView(l, i, n); err != nil {
		return nil, err
	}
	return cloneView(n), nil
}

func (a views) Delete(ctx context.Context, listID, id string) error {
	if err := a.t.check(ctx, true); err != nil {
		return err
	}
	l, i, err := a.find(ctx, listID, func(v *storage.View) bool { return v.ID == fold(id) })
	if err != nil {
		return err
	}
	if l.views[i].DefaultView {
		return storage.Invalid("the default view cannot be deleted")
	}
	assign(a.t, &l.views, slices.Delete(slices.Clone(l.views), i, i+1))
	return nil
}
