package storagetest

import (
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var listTests = []test{
	{"a list gets its URL under Lists, entity names from it, system fields and All Items", func(t *testing.T, e *env) {
		var l *storage.List
		e.do(func(tx storage.Tx) (err error) {
			l, err = tx.Lists().Create(e.ctx, e.web.ID, storage.ListInput{Title: "My Tasks", Description: "todo", BaseTemplate: 107})
			return err
		})
		if l.URLName != "Lists/My Tasks" || l.RootFolderURL != "/sites/dev/Lists/My Tasks" || l.EntityTypeName != "My_x0020_TasksList" ||
			l.ListItemEntityTypeFullName != "SP.Data.My_x0020_TasksListItem" || l.BaseTemplate != 107 || l.BaseType != 0 ||
			l.Description != "todo" || l.ItemCount != 0 || l.Created.IsZero() {
			t.Fatalf("list %+v", l)
		}
		e.read(func(tx storage.Tx) error {
			v, err := tx.Views().GetByTitle(e.ctx, l.ID, "all items")
			if err != nil || !v.DefaultView || v.RowLimit != 30 {
				t.Errorf("default view %+v %v", v, err)
			}
			f, err := tx.Fields().GetByName(e.ctx, l.ID, "Created By")
			if err != nil || f.InternalName != "Author" || f.Type != storage.TypeUser || !f.ReadOnly || f.TypeKind() != 20 {
				t.Errorf("Author %+v %v", f, err)
			}
			return nil
		})
	}},
	{"a renamed list keeps its URL and entity names", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.do(func(tx storage.Tx) error {
			u, err := tx.Lists().Update(e.ctx, e.web.ID, l.ID, storage.ListUpdate{Title: ptr("Chores"), Hidden: ptr(true)})
			if err == nil && (u.Title != "Chores" || !u.Hidden || u.URLName != "Lists/Tasks" || u.EntityTypeName != "TasksList") {
				t.Errorf("renamed %+v", u)
			}
			return err
		})
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Lists().GetByTitle(e.ctx, e.web.ID, "Tasks"); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("old title: %v", err)
			}
			if g, err := tx.Lists().GetByTitle(e.ctx, e.web.ID, "CHORES"); err != nil || g.ID != l.ID {
				t.Errorf("new title: %v", err)
			}
			return nil
		})
	}},
	{"a duplicate list title or URL is a conflict and nothing is stored", func(t *testing.T, e *env) {
		e.list("Tasks")
		for _, in := range []storage.ListInput{{Title: "TASKS"}, {Title: "Other", URLName: "tasks"}} {
			e.fails(storage.ErrConflict, func(tx storage.Tx) error {
				_, err := tx.Lists().Create(e.ctx, e.web.ID, in)
				return err
			})
		}
		other := e.list("Other")
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Lists().Update(e.ctx, e.web.ID, other.ID, storage.ListUpdate{Title: ptr("tasks")})
			return err
		})
		e.read(func(tx storage.Tx) error {
			ls, _ := tx.Lists().List(e.ctx, e.web.ID)
			if len(ls) != 6 {
				t.Errorf("%d lists", len(ls))
			}
			return nil
		})
	}},
	{"a list without a usable title or template is invalid", func(t *testing.T, e *env) {
		for _, in := range []storage.ListInput{{Title: ""}, {Title: "  "}, {Title: "???"}, {Title: "x", URLName: "a/b"}, {Title: "x", BaseTemplate: -1}} {
			e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
				_, err := tx.Lists().Create(e.ctx, e.web.ID, in)
				return err
			})
		}
	}},
	{"a list is found only in its own web and deleted with its items", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.add(l.ID, 0, nil)
		var w *storage.Web
		e.do(func(tx storage.Tx) (err error) {
			w, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "sub", Title: "Sub"})
			return err
		})
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Lists().Get(e.ctx, w.ID, l.ID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("list through another web: %v", err)
			}
			return nil
		})
		e.do(func(tx storage.Tx) error { return tx.Lists().Delete(e.ctx, e.web.ID, l.ID) })
		if _, err := e.get(l.ID, 1); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("item after list delete: %v", err)
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Lists().Delete(e.ctx, e.web.ID, l.ID) })
	}},
	{"a library lives at the web's root", func(t *testing.T, e *env) {
		e.do(func(tx storage.Tx) error {
			l, err := tx.Lists().Create(e.ctx, e.web.ID, storage.ListInput{Title: "Team Files", BaseTemplate: 101})
			if err == nil && (l.URLName != "Team Files" || l.EntityTypeName != "Team_x0020_Files" || l.BaseType != 1) {
				t.Errorf("library %+v", l)
			}
			return err
		})
	}},
}

var fieldTests = []test{
	{"a Text field keeps its MaxLength and holds no more", func(t *testing.T, e *env) {
		l := e.list("Tasks", storage.FieldInput{Title: "Code", Type: storage.TypeText, MaxLength: 5})
		var f *storage.Field
		e.read(func(tx storage.Tx) (err error) {
			f, err = tx.Fields().GetByName(e.ctx, l.ID, "Code")
			return err
		})
		if f.MaxLength != 5 {
			t.Fatalf("MaxLength %d, want 5", f.MaxLength)
		}
		e.add(l.ID, 0, map[string]odata.Value{"Code": str("ÄÖÜßé")}) // five characters, ten bytes
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{Values: map[string]odata.Value{"Code": str("123456")}})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Fields().Create(e.ctx, l.ID, storage.FieldInput{Title: "Long", Type: storage.TypeText, MaxLength: 256})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Fields().Create(e.ctx, l.ID, storage.FieldInput{Title: "N", Type: storage.TypeNumber, MaxLength: 5})
			return err
		})
		e.do(func(tx storage.Tx) error {
			u, err := tx.Fields().Update(e.ctx, l.ID, f.ID, storage.FieldUpdate{MaxLength: ptr(10)})
			if err == nil && u.MaxLength != 10 {
				t.Errorf("updated MaxLength %d", u.MaxLength)
			}
			return err
		})
		e.add(l.ID, 0, map[string]odata.Value{"Code": str("1234567890")})
	}},
	{"a field is created, found by name or title, updated and deleted", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		var f *storage.Field
		e.do(func(tx storage.Tx) (err error) {
			f, err = tx.Fields().Create(e.ctx, l.ID, storage.FieldInput{Title: "Due Date", Type: storage.TypeDateTime, Required: true})
			return err
		})
		if f.InternalName != "Due_x0020_Date" || f.Type != storage.TypeDateTime || f.TypeKind() != 4 || !f.Required || f.System {
			t.Fatalf("field %+v", f)
		}
		e.do(func(tx storage.Tx) error {
			g, err := tx.Fields().GetByName(e.ctx, l.ID, "due date")
			if err != nil || g.ID != f.ID {
				t.Errorf("by title: %v", err)
			}
			u, err := tx.Fields().Update(e.ctx, l.ID, f.ID, storage.FieldUpdate{Title: ptr("Deadline"), Indexed: ptr(true), Required: ptr(false)})
			if err != nil || u.Title != "Deadline" || !u.Indexed || u.Required || u.InternalName != "Due_x0020_Date" {
				t.Errorf("update %+v %v", u, err)
			}
			return err
		})
		e.add(l.ID, 0, map[string]odata.Value{"Due_x0020_Date": str("2026-05-01T10:00:00Z")})
		e.do(func(tx storage.Tx) error { return tx.Fields().Delete(e.ctx, l.ID, f.ID) })
		it, err := e.get(l.ID, 1)
		if err != nil || len(it.Values) != 3 {
			t.Errorf("item after field delete: %v %v", it, err)
		}
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Fields().Get(e.ctx, l.ID, f.ID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("deleted field: %v", err)
			}
			return nil
		})
	}},
	{"every field type can be created with choices, lookups and defaults", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.do(func(tx storage.Tx) error {
			for _, in := range []storage.FieldInput{
				{Title: "Body", Type: storage.TypeNote}, {Title: "Count", Type: storage.TypeInteger},
				{Title: "Cost", Type: storage.TypeCurrency}, {Title: "Done", Type: storage.TypeBoolean, DefaultValue: "0"},
				{Title: "Status", Type: storage.TypeChoice, Choices: []string{"Open", "Closed"}, DefaultValue: "Open"},
				{Title: "Tags", Type: storage.TypeMultiChoice, Choices: []string{"a", "b"}}, {Title: "Link", Type: storage.TypeURL},
				{Title: "Owner", Type: storage.TypeUser}, {Title: "Parent", Type: storage.TypeLookup, LookupList: l.ID},
				{Title: "Key", Type: storage.TypeGuid}, {Title: "Score", Type: storage.TypeNumber, DefaultValue: "1.5"},
			} {
				if _, err := tx.Fields().Create(e.ctx, l.ID, in); err != nil {
					return err
				}
			}
			return nil
		})
		it := e.add(l.ID, 0, nil)
		if it.Values["Done"] != odata.Bool(false) || it.Values["Status"] != str("Open") || it.Values["Score"] != odata.Decimal(1.5) {
			t.Errorf("defaults %v", it.Values)
		}
		e.read(func(tx storage.Tx) error {
			f, err := tx.Fields().GetByName(e.ctx, l.ID, "Status")
			if err != nil || len(f.Choices) != 2 || f.Choices[1] != "Closed" || f.TypeKind() != 6 {
				t.Errorf("choice %+v %v", f, err)
			}
			p, err := tx.Fields().GetByName(e.ctx, l.ID, "Parent")
			if err != nil || p.LookupList != l.ID || p.LookupField != "Title" {
				t.Errorf("lookup %+v %v", p, err)
			}
			return nil
		})
	}},
	{"a bad field is invalid, a duplicate name a conflict, a system field stays", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		for _, in := range []storage.FieldInput{
			{Title: "", Type: storage.TypeText}, {Title: "x", Type: "Blob"}, {Title: "x", Type: storage.TypeCounter},
			{Title: "x", Type: storage.TypeText, InternalName: "1bad"}, {Title: "x", Type: storage.TypeNumber, DefaultValue: "many"},
			{Title: "x", Type: storage.TypeLookup},
		} {
			e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
				_, err := tx.Fields().Create(e.ctx, l.ID, in)
				return err
			})
		}
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Fields().Create(e.ctx, l.ID, storage.FieldInput{Title: "TITLE", Type: storage.TypeText})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			f, err := tx.Fields().GetByName(e.ctx, l.ID, "Title")
			if err != nil {
				return err
			}
			return tx.Fields().Delete(e.ctx, l.ID, f.ID)
		})
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Fields().Create(e.ctx, storage.NewGUID(), storage.FieldInput{Title: "x", Type: storage.TypeText})
			return err
		})
	}},
	{"views are created, one is the default, and the default stays", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		var v *storage.View
		e.do(func(tx storage.Tx) (err error) {
			v, err = tx.Views().Create(e.ctx, l.ID, storage.ViewInput{Title: "Mine", RowLimit: 50,
				ViewQuery:  `<Where><Eq><FieldRef Name="Author"/><Value Type="Integer"><UserID/></Value></Eq></Where>`,
				ViewFields: []string{"LinkTitle", "Modified"}})
			return err
		})
		if v.DefaultView || v.RowLimit != 50 || len(v.ViewFields) != 2 {
			t.Fatalf("view %+v", v)
		}
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Views().Create(e.ctx, l.ID, storage.ViewInput{Title: "MINE"})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Views().Create(e.ctx, l.ID, storage.ViewInput{Title: "x", RowLimit: -1})
			return err
		})
		e.do(func(tx storage.Tx) error {
			_, err := tx.Views().Update(e.ctx, l.ID, v.ID, storage.ViewUpdate{DefaultView: ptr(true), Title: ptr("My Items")})
			return err
		})
		e.read(func(tx storage.Tx) error {
			vs, _ := tx.Views().List(e.ctx, l.ID)
			defaults := 0
			for _, x := range vs {
				if x.DefaultView {
					defaults++
					if x.ID != v.ID || x.Title != "My Items" {
						t.Errorf("default %+v", x)
					}
				}
			}
			if len(vs) != 2 || defaults != 1 {
				t.Errorf("%d views, %d defaults", len(vs), defaults)
			}
			return nil
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error { return tx.Views().Delete(e.ctx, l.ID, v.ID) })
		e.do(func(tx storage.Tx) error {
			all, err := tx.Views().GetByTitle(e.ctx, l.ID, "All Items")
			if err != nil {
				return err
			}
			return tx.Views().Delete(e.ctx, l.ID, all.ID)
		})
	}},
}
