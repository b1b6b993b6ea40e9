package memstorage

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

type sites struct{ t *tx }

func (a sites) Create(ctx context.Context, in storage.SiteInput) (*storage.Site, error) {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return nil, err
	}
	site, root, err := storage.NewSite(in, t.now)
	if err != nil {
		return nil, err
	}
	for _, s := range t.s.db.sites {
		if fold(s.URL) == fold(site.URL) {
			return nil, storage.Conflict("a site exists at this URL")
		}
	}
	set(t, t.s.db.sites, site.ID, site)
	set(t, t.s.db.users, site.ID, &siteUsers{byID: map[int64]*storage.User{}})
	if err := t.createWeb(ctx, root); err != nil {
		return nil, err
	}
	t.seedSecurity(site, root)
	return clone(site), nil
}

func (a sites) Get(ctx context.Context, id string) (*storage.Site, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	s, ok := a.t.s.db.sites[fold(id)]
	if !ok {
		return nil, storage.NotFound("no site has this id")
	}
	return clone(s), nil
}

func (a sites) GetByURL(ctx context.Context, url string) (*storage.Site, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	for _, s := range a.t.s.db.sites {
		if fold(s.URL) == fold(url) {
			return clone(s), nil
		}
	}
	return nil, storage.NotFound("no site has this URL")
}

func (a sites) List(ctx context.Context) ([]*storage.Site, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	var out []*storage.Site
	for _, s := range a.t.s.db.sites {
		out = append(out, clone(s))
	}
	slices.SortFunc(out, func(a, b *storage.Site) int { return strings.Compare(a.URL, b.URL) })
	return out, nil
}

func (a sites) Delete(ctx context.Context, id string) error {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return err
	}
	s, ok := t.s.db.sites[fold(id)]
	if !ok {
		return storage.NotFound("no site has this id")
	}
	t.deleteWeb(s.RootWebID)
	del(t, t.s.db.users, s.ID)
	del(t, t.s.db.security, s.ID)
	del(t, t.s.db.sites, s.ID)
	return nil
}

type webs struct{ t *tx }

// createWeb stores w with its default lists.
func (t *tx) createWeb(ctx context.Context, w *storage.Web) error {
	for _, o := range t.s.db.webs {
		if fold(o.ServerRelativeURL) == fold(w.ServerRelativeURL) {
			return storage.Conflict("a web exists at this URL")
		}
	}
	set(t, t.s.db.webs, w.ID, w)
	for _, in := range storage.DefaultLists(w.ParentID == "") {
		if _, err := t.createList(ctx, w, in); err != nil {
			return err
		}
	}
	return nil
}

// deleteWeb removes w, its subwebs and their lists.
func (t *tx) deleteWeb(id string) {
	for _, o := range t.s.db.webs {
		if o.ParentID == id {
			t.deleteWeb(o.ID)
		}
	}
	for _, l := range t.s.db.lists {
		if l.l.WebID == id {
			del(t, t.s.db.lists, l.l.ID)
		}
	}
	del(t, t.s.db.webs, id)
}

// web returns a copy of a web with LastItemModifiedDate over its lists.
func (t *tx) web(w *storage.Web) *storage.Web {
	c := clone(w)
	for _, l := range t.s.db.lists {
		if l.l.WebID == w.ID && l.l.LastItemModifiedDate.After(c.LastItemModifiedDate) {
			c.LastItemModifiedDate = l.l.LastItemModifiedDate
		}
	}
	return c
}

func (a webs) Create(ctx context.Context, in storage.WebInput) (*storage.Web, error) {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return nil, err
	}
	parent, ok := t.s.db.webs[fold(in.ParentID)]
	if !ok {
		return nil, storage.NotFound("no web has the parent's id")
	}
	w, err := storage.NewWeb(parent, in, t.now)
	if err != nil {
		return nil, err
	}
	if err := t.createWeb(ctx, w); err != nil {
		return nil, err
	}
	return t.web(w), nil
}

func (a webs) Get(ctx context.Context, id string) (*storage.Web, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	w, ok := a.t.s.db.webs[fold(id)]
	if !ok {
		return nil, storage.NotFound("no web has this id")
	}
	return a.t.web(w), nil
}

func (a webs) GetByURL(ctx context.Context, url string) (*storage.Web, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	for _, w := range a.t.s.db.webs {
		if fold(w.ServerRelativeURL) == fold(url) {
			return a.t.web(w), nil
		}
	}
	return nil, storage.NotFound("no web has this URL")
}

func (a webs) Children(ctx context.Context, parentID string) ([]*storage.Web, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	if _, ok := a.t.s.db.webs[fold(parentID)]; !ok {
		return nil, storage.NotFound("no web has this id")
	}
	out := []*storage.Web{}
	for _, w := range a.t.s.db.webs {
		if w.ParentID == fold(parentID) {
			out = append(out, a.t.web(w))
		}
	}
	slices.SortFunc(out, func(a, b *storage.Web) int { return strings.Compare(a.ServerRelativeURL, b.ServerRelativeURL) })
	return out, nil
}

func (a webs) Update(ctx context.Context, id string, upd storage.WebUpdate) (*storage.Web, error) {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return nil, err
	}
	w, ok := t.s.db.webs[fold(id)]
	if !ok {
		return nil, storage.NotFound("no web has this id")
	}
	n, err := storage.ApplyWebUpdate(w, upd)
	if err != nil {
		return nil, err
	}
	set(t, t.s.db.webs, n.ID, n)
	return t.web(n), nil
}

func (a webs) Delete(ctx context.Context, id string) error {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return err
	}
	w, ok := t.s.db.webs[fold(id)]
	if !ok {
		return storage.NotFound("no web has this id")
	}
	if w.ParentID == "" {
		return storage.Invalid("a site's root web is deleted with its site only")
	}
	t.deleteWeb(w.ID)
	return nil
}

// Locate ignores next: every read is a map access already.
func (a webs) Locate(ctx context.Context, url string, ref storage.ListRef, _ storage.Prefetch) (*storage.Location, error) {
	w, err := a.GetByURL(ctx, url)
	if err != nil {
		return nil, err
	}
	loc := &storage.Location{Web: w}
	if ref.IsZero() {
		return loc, nil
	}
	ls := lists{a.t}
	var l *storage.List
	if ref.Title != "" {
		l, err = ls.GetByTitle(ctx, w.ID, ref.Title)
	} else {
		l, err = ls.Get(ctx, w.ID, ref.ID)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return loc, nil
	}
	if err != nil {
		return nil, err
	}
	fs, err := fields{a.t}.List(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	loc.List, loc.Fields = l, fs
	return loc, nil
}
