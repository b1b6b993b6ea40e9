package storagetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var siteTests = []test{
	{"Locate finds a web and one of its lists with its fields in one step", func(t *testing.T, e *env) {
		l := e.list("Tasks", storage.FieldInput{Title: "Priority", Type: storage.TypeNumber})
		e.read(func(tx storage.Tx) error {
			w, err := tx.Webs().GetByURL(e.ctx, e.web.ServerRelativeURL)
			if err != nil {
				return err
			}
			fields, err := tx.Fields().List(e.ctx, l.ID)
			if err != nil {
				return err
			}
			for _, ref := range []storage.ListRef{{Title: "tasks"}, {ID: strings.ToUpper(l.ID)}} {
				loc, err := tx.Webs().Locate(e.ctx, strings.ToUpper(e.web.ServerRelativeURL), ref, storage.Prefetch{})
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(utcWeb(loc.Web), utcWeb(w)) {
					t.Errorf("%+v: web %+v, want %+v", ref, loc.Web, w)
				}
				if loc.List == nil || loc.List.ID != l.ID || loc.List.Title != "Tasks" || !loc.List.Created.Equal(l.Created) {
					t.Errorf("%+v: list %+v, want %+v", ref, loc.List, l)
				}
				if !reflect.DeepEqual(loc.Fields, fields) {
					t.Errorf("%+v: fields differ from Fields().List:\n%+v\n%+v", ref, loc.Fields, fields)
				}
			}
			none, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{Title: "Nope"}, storage.Prefetch{})
			if err != nil || none.List != nil || none.Fields != nil || none.Web.ID != w.ID {
				t.Errorf("missing list: %+v %v", none, err)
			}
			if only, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{}, storage.Prefetch{}); err != nil || only.List != nil {
				t.Errorf("no list asked: %+v %v", only, err)
			}
			if _, err := tx.Webs().Locate(e.ctx, "/sites/nope", storage.ListRef{Title: "Tasks"}, storage.Prefetch{}); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("missing web: %v", err)
			}
			return nil
		})
	}},
	{"Locate's item hint: Get then answers that item as stored, a missing one is not found, and a write sees its own change", func(t *testing.T, e *env) {
		l := e.list("Tasks", storage.FieldInput{Title: "Priority", Type: storage.TypeNumber})
		it := e.add(l.ID, 1, map[string]odata.Value{"Title": odata.String("first"), "Priority": odata.Int(7)})
		stored, err := e.get(l.ID, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{Title: "Tasks"}, storage.Prefetch{Item: it.ID}); err != nil {
				return err
			}
			for range 2 { // the second Get reads again
				got, err := tx.Items().Get(e.ctx, l.ID, it.ID)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(utcItem(got), utcItem(stored)) {
					t.Errorf("hinted Get: %+v, want %+v", got, stored)
				}
			}
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{ID: l.ID}, storage.Prefetch{Item: 99}); err != nil {
				return err
			}
			if _, err := tx.Items().Get(e.ctx, l.ID, 99); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("hinted Get of a missing item: %v", err)
			}
			return nil
		})
		e.do(func(tx storage.Tx) error {
			if _, err := tx.Items().Update(e.ctx, l.ID, it.ID, storage.ItemUpdate{By: 1, Values: map[string]odata.Value{"Title": odata.String("second")}}); err != nil {
				return err
			}
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{Title: "Tasks"}, storage.Prefetch{Item: it.ID}); err != nil {
				return err
			}
			got, err := tx.Items().Get(e.ctx, l.ID, it.ID)
			if err != nil || got.Values["Title"].Str != "second" || got.Version != 2 {
				t.Errorf("Get in the writing transaction: %+v %v", got, err)
			}
			return nil
		})
	}},
	{"Locate's login hint: the next lookup by login answers the user as stored, a missing one is made by Ensure, and a change to the user is seen", func(t *testing.T, e *env) {
		var bob *storage.User
		e.do(func(tx storage.Tx) (err error) {
			bob, err = tx.Users().Ensure(e.ctx, e.site.ID, "i:0#.f|membership|bob@example.com", "Bob", "bob@example.com")
			return err
		})
		e.do(func(tx storage.Tx) error {
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{}, storage.Prefetch{Login: "i:0#.f|membership|BOB@example.com"}); err != nil {
				return err
			}
			u, err := tx.Users().Ensure(e.ctx, e.site.ID, "i:0#.f|membership|bob@example.com", "Bob", "bob@example.com")
			if err != nil || !reflect.DeepEqual(utcUser(u), utcUser(bob)) {
				t.Errorf("hinted Ensure: %+v %v, want %+v", u, err, bob)
			}
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{}, storage.Prefetch{Login: "i:0#.f|membership|carol@example.com"}); err != nil {
				return err
			}
			if _, err := tx.Users().GetByLogin(e.ctx, e.site.ID, "i:0#.f|membership|carol@example.com"); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("hinted lookup of a missing user: %v", err)
			}
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{}, storage.Prefetch{Login: "i:0#.f|membership|carol@example.com"}); err != nil {
				return err
			}
			carol, err := tx.Users().Ensure(e.ctx, e.site.ID, "i:0#.f|membership|carol@example.com", "Carol", "carol@example.com")
			if err != nil || carol.ID == bob.ID || carol.Title != "Carol" {
				t.Errorf("hinted Ensure of a missing user: %+v %v", carol, err)
			}
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{}, storage.Prefetch{Login: "i:0#.f|membership|bob@example.com"}); err != nil {
				return err
			}
			if _, err := tx.Users().Update(e.ctx, e.site.ID, bob.ID, storage.UserUpdate{Title: ptr("Robert")}); err != nil {
				return err
			}
			u, err = tx.Users().GetByLogin(e.ctx, e.site.ID, "i:0#.f|membership|bob@example.com")
			if err != nil || u.Title != "Robert" {
				t.Errorf("lookup after a change: %+v %v", u, err)
			}
			return nil
		})
	}},
	{"Locate gives a list's current fields after each change, and none of a change rolled back", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		names := func() []string {
			var out []string
			e.read(func(tx storage.Tx) error {
				loc, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{Title: "Tasks"}, storage.Prefetch{})
				if err != nil {
					return err
				}
				for _, f := range loc.Fields {
					if !f.System {
						out = append(out, f.InternalName+"/"+f.Title)
					}
				}
				// The fields are the caller's: changing them changes
				// nothing of the next Locate's.
				for _, f := range loc.Fields {
					f.Title = "scribbled"
				}
				return nil
			})
			return out
		}
		before := names()
		var f *storage.Field
		e.do(func(tx storage.Tx) (err error) {
			f, err = tx.Fields().Create(e.ctx, l.ID, storage.FieldInput{Title: "Priority", Type: storage.TypeNumber})
			return err
		})
		if got := names(); len(got) != len(before)+1 || !slices.Contains(got, "Priority/Priority") {
			t.Fatalf("after a field add: %v (before %v)", got, before)
		}
		e.do(func(tx storage.Tx) error {
			_, err := tx.Fields().Update(e.ctx, l.ID, f.ID, storage.FieldUpdate{Title: ptr("Urgency")})
			return err
		})
		if got := names(); !slices.Contains(got, "Priority/Urgency") {
			t.Fatalf("after a rename: %v", got)
		}
		e.fails(errRolledBack, func(tx storage.Tx) error {
			if _, err := tx.Fields().Update(e.ctx, l.ID, f.ID, storage.FieldUpdate{Title: ptr("Never")}); err != nil {
				return err
			}
			if _, err := tx.Webs().Locate(e.ctx, e.web.ServerRelativeURL, storage.ListRef{Title: "Tasks"}, storage.Prefetch{}); err != nil {
				return err
			}
			return errRolledBack
		})
		if got := names(); !slices.Contains(got, "Priority/Urgency") {
			t.Fatalf("after a rolled-back rename: %v", got)
		}
		e.do(func(tx storage.Tx) error { return tx.Fields().Delete(e.ctx, l.ID, f.ID) })
		if got := names(); !slices.Equal(got, before) {
			t.Fatalf("after a delete: %v, want %v", got, before)
		}
	}},
	{"a new site has a root web at its URL", func(t *testing.T, e *env) {
		if e.web.ServerRelativeURL != "/sites/dev" || e.web.ParentID != "" || e.web.Title != "Dev" ||
			e.web.Language != 1033 || e.web.WebTemplate != storage.DefaultWebTemplate || e.web.SiteID != e.site.ID {
			t.Fatalf("root web %+v", e.web)
		}
		e.read(func(tx storage.Tx) error {
			s, err := tx.Sites().GetByURL(e.ctx, "/SITES/dev")
			if err != nil || s.ID != e.site.ID || s.RootWebID != e.web.ID {
				t.Errorf("GetByURL: %+v %v", s, err)
			}
			w, err := tx.Webs().GetByURL(e.ctx, "/sites/DEV")
			if err != nil || w.ID != e.web.ID {
				t.Errorf("web GetByURL: %v", err)
			}
			return nil
		})
	}},
	{"a site at a taken URL is a conflict and a malformed URL is invalid", func(t *testing.T, e *env) {
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/Dev", Title: "x"})
			return err
		})
		for _, url := range []string{"", "sites/x", "/sites/", "/other/x", "/sites/a/b", "/sites/a?b"} {
			e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
				_, err := tx.Sites().Create(e.ctx, storage.SiteInput{URL: url, Title: "x"})
				return err
			})
		}
		e.read(func(tx storage.Tx) error {
			ss, err := tx.Sites().List(e.ctx)
			if err != nil || len(ss) != 1 {
				t.Errorf("sites %d, %v", len(ss), err)
			}
			return nil
		})
	}},
	{"a root web gets the default lists with their fields and views", func(t *testing.T, e *env) {
		e.read(func(tx storage.Tx) error {
			ls, err := tx.Lists().List(e.ctx, e.web.ID)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, l := range ls {
				titles = append(titles, l.Title)
			}
			if !slices.Equal(titles, []string{"Documents", "Site Assets", "Site Pages", "User Information List"}) {
				t.Fatalf("lists %q", titles)
			}
			docs, err := tx.Lists().GetByTitle(e.ctx, e.web.ID, "documents")
			if err != nil {
				t.Fatal(err)
			}
			if docs.URLName != "Shared Documents" || docs.BaseTemplate != 101 || docs.BaseType != 1 ||
				docs.RootFolderURL != "/sites/dev/Shared Documents" || docs.EntityTypeName != "Shared_x0020_Documents" ||
				docs.ListItemEntityTypeFullName != "SP.Data.Shared_x0020_DocumentsItem" || docs.Hidden {
				t.Errorf("Documents %+v", docs)
			}
			if l, err := tx.Lists().GetByURL(e.ctx, e.web.ID, "siteassets"); err != nil || l.Title != "Site Assets" {
				t.Errorf("Site Assets by URL: %v", err)
			}
			if l, _ := tx.Lists().GetByTitle(e.ctx, e.web.ID, "User Information List"); l == nil || !l.Hidden || l.BaseTemplate != 112 {
				t.Errorf("User Information List %+v", l)
			}
			fs, err := tx.Fields().List(e.ctx, docs.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range fs {
				names = append(names, f.InternalName)
				if !f.System {
					t.Errorf("field %s not flagged as system", f.InternalName)
				}
			}
			for _, want := range []string{"ID", "Title", "Created", "Modified", "Author", "Editor", "GUID", "ContentTypeId", "Attachments", "FileSystemObjectType", "_UIVersionString"} {
				if !slices.Contains(names, want) {
					t.Errorf("Documents has no %s field (%q)", want, names)
				}
			}
			vs, err := tx.Views().List(e.ctx, docs.ID)
			if err != nil || len(vs) != 1 || !vs[0].DefaultView || vs[0].Title != "All Documents" {
				t.Errorf("views %+v %v", vs, err)
			}
			return nil
		})
	}},
	{"a subweb gets its URL under its parent and the default lists", func(t *testing.T, e *env) {
		var w *storage.Web
		e.do(func(tx storage.Tx) (err error) {
			w, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team", Description: "d"})
			return err
		})
		if w.ServerRelativeURL != "/sites/dev/team" || w.ParentID != e.web.ID || w.SiteID != e.site.ID || w.Description != "d" {
			t.Fatalf("subweb %+v", w)
		}
		e.read(func(tx storage.Tx) error {
			ls, _ := tx.Lists().List(e.ctx, w.ID)
			if len(ls) != 3 {
				t.Errorf("subweb has %d lists", len(ls))
			}
			docs, err := tx.Lists().GetByTitle(e.ctx, w.ID, "Documents")
			if err != nil || docs.RootFolderURL != "/sites/dev/team/Shared Documents" {
				t.Errorf("subweb Documents %+v %v", docs, err)
			}
			kids, err := tx.Webs().Children(e.ctx, e.web.ID)
			if err != nil || len(kids) != 1 || kids[0].ID != w.ID {
				t.Errorf("children %v %v", kids, err)
			}
			return nil
		})
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "TEAM", Title: "Again"})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "a/b", Title: "Bad"})
			return err
		})
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Webs().Create(e.ctx, storage.WebInput{ParentID: storage.NewGUID(), URLName: "x", Title: "Orphan"})
			return err
		})
	}},
	{"a web is updated, and deleted with its subwebs and lists", func(t *testing.T, e *env) {
		var w, sub *storage.Web
		e.do(func(tx storage.Tx) (err error) {
			if w, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "a", Title: "A"}); err != nil {
				return err
			}
			sub, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: w.ID, URLName: "b", Title: "B"})
			return err
		})
		e.do(func(tx storage.Tx) error {
			u, err := tx.Webs().Update(e.ctx, w.ID, storage.WebUpdate{Title: ptr("A2"), Description: ptr("new")})
			if err == nil && (u.Title != "A2" || u.Description != "new" || u.ServerRelativeURL != "/sites/dev/a") {
				t.Errorf("updated %+v", u)
			}
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Webs().Update(e.ctx, w.ID, storage.WebUpdate{Title: ptr("")})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error { return tx.Webs().Delete(e.ctx, e.web.ID) })
		e.do(func(tx storage.Tx) error { return tx.Webs().Delete(e.ctx, w.ID) })
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Webs().Get(e.ctx, sub.ID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("subweb after delete: %v", err)
			}
			if _, err := tx.Lists().List(e.ctx, w.ID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("lists after delete: %v", err)
			}
			return nil
		})
	}},
	{"a site is deleted with everything in it", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.add(l.ID, 0, nil)
		e.do(func(tx storage.Tx) error {
			_, err := tx.Users().Ensure(e.ctx, e.site.ID, "a@b.c", "A", "a@b.c")
			return err
		})
		e.do(func(tx storage.Tx) error { return tx.Sites().Delete(e.ctx, e.site.ID) })
		e.read(func(tx storage.Tx) error {
			for _, err := range []error{
				second(tx.Sites().Get(e.ctx, e.site.ID)),
				second(tx.Webs().Get(e.ctx, e.web.ID)),
				second(tx.Lists().Get(e.ctx, e.web.ID, l.ID)),
				second(tx.Items().Get(e.ctx, l.ID, 1)),
				second(tx.Users().List(e.ctx, e.site.ID)),
			} {
				if !errorsIs(err, storage.ErrNotFound) {
					t.Errorf("after site delete: %v", err)
				}
			}
			return nil
		})
	}},
}

func second[T any](_ T, err error) error { return err }

// utcWeb is a copy of w with its instants in UTC, for comparisons that
// must not depend on the time.Location a provider reads them in.
func utcWeb(w *storage.Web) storage.Web {
	c := *w
	c.Created, c.LastItemModifiedDate = c.Created.UTC(), c.LastItemModifiedDate.UTC()
	return c
}

// utcItem is it with its times in UTC, for comparison.
func utcItem(it *storage.Item) storage.Item {
	c := *it
	c.Created, c.Modified = c.Created.UTC(), c.Modified.UTC()
	return c
}

// errRolledBack ends a transaction that must leave nothing behind.
var errRolledBack = errors.New("storagetest: rolled back on purpose")

// utcUser is u with its time in UTC, for comparison.
func utcUser(u *storage.User) storage.User {
	c := *u
	c.Created = c.Created.UTC()
	return c
}
