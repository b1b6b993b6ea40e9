package storagetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var fileTests = []test{
	{"nested folders and a file are items of their library with the values the provider keeps", func(t *testing.T, e *env) {
		l := e.docs()
		reports := e.mkdir(l, "", "Reports")
		year := e.mkdir(l, "Reports", "2026")
		f := e.upload(l, "Reports/2026", "Q1 report.docx", "blob-q1")
		if f.URL != "/sites/dev/Shared Documents/Reports/2026/Q1 report.docx" || f.DirURL != year.URL || f.Name != "Q1 report.docx" ||
			f.IsFolder || f.Length != 7 || f.Blob != "blob-q1" || f.Version != 1 || f.MajorVersion != 1 || f.MinorVersion != 0 ||
			f.CheckOutType != storage.CheckOutNone || f.ItemID != 3 || len(f.UniqueID) != 36 || f.ListID != l.ID ||
			f.AuthorID != 6 || f.EditorID != 6 || f.Created.IsZero() || !f.Created.Equal(f.Modified) {
			t.Fatalf("file %+v", f)
		}
		if !year.IsFolder || year.URL != "/sites/dev/Shared Documents/Reports/2026" || year.DirURL != reports.URL || year.Blob != "" {
			t.Fatalf("folder %+v", year)
		}
		it, err := e.get(l.ID, f.ItemID)
		if err != nil {
			t.Fatal(err)
		}
		hasValues(t, "file item", it, map[string]odata.Value{
			storage.FieldFileLeafRef: str("Q1 report.docx"), storage.FieldFileRef: str(f.URL), storage.FieldFileDirRef: str(year.URL),
			storage.FieldFSObjType: odata.Int(0), storage.FieldFileSystemObjectType: odata.Int(0), storage.FieldTitle: odata.Null(),
			"ContentTypeId": str("0x0101"),
		})
		if it.GUID != f.UniqueID || it.Version != 1 || it.AuthorID != 6 || !it.Created.Equal(f.Created) {
			t.Errorf("file item %+v", it)
		}
		folderItem, _ := e.get(l.ID, year.ItemID)
		hasValues(t, "folder item", folderItem, map[string]odata.Value{
			storage.FieldTitle: str("2026"), storage.FieldFileLeafRef: str("2026"), storage.FieldFSObjType: odata.Int(1),
			storage.FieldFileSystemObjectType: odata.Int(1), "ContentTypeId": str(storage.ContentTypeFolder),
		})
		got := e.mustFile(l, strings.ToUpper(f.URL))
		sameFile(t, "Get ignoring case", got, f)
		if got.URL != f.URL || got.Name != f.Name {
			t.Errorf("Get ignoring case gives %q %q, want the stored case", got.URL, got.Name)
		}
		if e.mustFile(l, reports.URL).ItemCount != 1 || e.mustFile(l, year.URL+"/").ItemCount != 1 {
			t.Errorf("folder ItemCounts: %+v", e.mustFile(l, reports.URL))
		}
		e.read(func(tx storage.Tx) error {
			byItem, err := tx.Files().GetByItem(e.ctx, l.ID, f.ItemID)
			if err != nil {
				return err
			}
			sameFile(t, "GetByItem", byItem, f)
			byID, err := tx.Files().GetByID(e.ctx, e.web.ID, strings.ToUpper(f.UniqueID))
			if err != nil {
				return err
			}
			sameFile(t, "GetByID", byID, f)
			if _, err := tx.Files().GetByItem(e.ctx, l.ID, 99); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("GetByItem of no item: %v", err)
			}
			if _, err := tx.Files().GetByID(e.ctx, e.web.ID, storage.NewGUID()); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("GetByID of no file: %v", err)
			}
			return nil
		})
		if n := e.itemCount(l); n != 3 {
			t.Errorf("the library counts %d items, want 3", n)
		}
	}},
	{"a library's root folder is its list's and counts what it holds", func(t *testing.T, e *env) {
		l := e.docs()
		e.mkdir(l, "", "a")
		e.upload(l, "", "b.txt", "blob-b")
		e.upload(l, "a", "c.txt", "blob-c")
		root := e.mustFile(l, strings.ToLower(l.RootFolderURL)+"/")
		if root.ItemID != 0 || !root.IsFolder || root.URL != l.RootFolderURL || root.Name != "Shared Documents" ||
			root.DirURL != "/sites/dev" || root.UniqueID != l.ID || root.ListID != l.ID || root.ItemCount != 2 {
			t.Fatalf("root folder %+v", root)
		}
		e.read(func(tx storage.Tx) error {
			byID, err := tx.Files().GetByID(e.ctx, e.web.ID, l.ID)
			if err == nil && (byID.URL != l.RootFolderURL || byID.ItemCount != 2) {
				t.Errorf("root folder by id %+v", byID)
			}
			return err
		})
	}},
	{"children are the files or the folders directly in a folder, by name ignoring case", func(t *testing.T, e *env) {
		l := e.docs()
		for _, n := range []string{"b.txt", "A.txt", "c.txt"} {
			e.upload(l, "", n, "blob-"+n)
		}
		for _, n := range []string{"Zed", "alpha", "Mid"} {
			e.mkdir(l, "", n)
		}
		e.upload(l, "Mid", "inner.txt", "blob-inner")
		if got := e.children(l, "", false); !slices.Equal(got, []string{"A.txt", "b.txt", "c.txt"}) {
			t.Errorf("files %q", got)
		}
		if got := e.children(l, "", true); !slices.Equal(got, []string{"alpha", "Mid", "Zed"}) {
			t.Errorf("folders %q", got)
		}
		if got := e.children(l, "MID", false); !slices.Equal(got, []string{"inner.txt"}) {
			t.Errorf("files of Mid %q", got)
		}
		if got := e.children(l, "alpha", false); got != nil {
			t.Errorf("files of an empty folder %q", got)
		}
		for _, u := range []string{at(l, "nope"), at(l, "b.txt")} {
			err := e.s.View(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Files().Children(e.ctx, l.ID, u, false)
				return err
			})
			if !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("children of %s: %v, want ErrNotFound", u, err)
			}
		}
	}},
	{"a query filters, orders and selects on the file fields and on the library's own fields", func(t *testing.T, e *env) {
		l := e.library("Contracts", storage.FieldInput{Title: "Client", Type: storage.TypeText})
		e.mkdir(l, "", "2026")
		clients := map[string]string{"b.docx": "Contoso", "2026/a.docx": "Fabrikam", "2026/c.pdf": "Contoso"}
		for rel, client := range clients {
			dir, name := "", rel
			if i := strings.LastIndexByte(rel, '/'); i >= 0 {
				dir, name = rel[:i], rel[i+1:]
			}
			f := e.upload(l, dir, name, "blob-"+name)
			e.do(func(tx storage.Tx) error {
				_, err := tx.Items().Update(e.ctx, l.ID, f.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{"Client": str(client)}})
				return err
			})
		}
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{"FileLeafRef eq 'B.DOCX'", []string{"b.docx"}},
			{"startswith(FileLeafRef,'a')", []string{"a.docx"}},
			{"FSObjType eq 1", []string{"2026"}},
			{"FileSystemObjectType eq 0", []string{"a.docx", "b.docx", "c.pdf"}},
			{"FileDirRef eq '/sites/dev/Contracts/2026'", []string{"a.docx", "c.pdf"}},
			{"FileRef eq '/sites/dev/contracts/2026/C.pdf'", []string{"c.pdf"}},
			{"Client eq 'Contoso'", []string{"b.docx", "c.pdf"}},
			{"Client eq 'contoso' and substringof('2026',FileDirRef) and FSObjType eq 0", []string{"c.pdf"}},
		} {
			f, err := odata.ParseFilter(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.query(l.ID, storage.ItemQuery{Filter: f, OrderBy: []odata.OrderKey{{Field: storage.FieldFileLeafRef}}})
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			if got := names(p.Items); !slices.Equal(got, c.want) {
				t.Errorf("%s: %q, want %q", c.filter, got, c.want)
			}
		}
		// Ordered by name, descending, two a page: the token resumes.
		q := storage.ItemQuery{OrderBy: []odata.OrderKey{{Field: storage.FieldFileLeafRef, Desc: true}}, Top: 2}
		var all []string
		for {
			p, err := e.query(l.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, names(p.Items)...)
			if p.Next == nil {
				break
			}
			q.After = p.Next
		}
		if !slices.Equal(all, []string{"c.pdf", "b.docx", "a.docx", "2026"}) {
			t.Errorf("pages by name descending %q", all)
		}
		p, err := e.query(l.ID, storage.ItemQuery{Select: []string{"FileRef"}, OrderBy: []odata.OrderKey{{Field: storage.FieldFileRef}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 4 || len(p.Items[0].Values) != 1 || p.Items[0].Values[storage.FieldFileRef] != str("/sites/dev/Contracts/2026") {
			t.Errorf("$select FileRef: %+v", p.Items[0])
		}
	}},
	{"the fields the provider keeps are read-only and a library's items come with its files", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "a.txt", "blob-a")
		for _, name := range []string{storage.FieldFileLeafRef, storage.FieldFileRef, storage.FieldFileDirRef, storage.FieldFSObjType, storage.FieldFileSystemObjectType} {
			err := e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
				_, err := tx.Items().Update(e.ctx, l.ID, f.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{name: str("qqzz.txt")}})
				return err
			})
			if !strings.Contains(err.Error(), "read-only") {
				t.Errorf("writing %s: %v", name, err)
			}
		}
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{Values: map[string]odata.Value{"Title": str("x")}})
			return err
		})
		if got := e.mustFile(l, f.URL); got.Version != 1 || got.Name != "a.txt" || e.itemCount(l) != 1 {
			t.Errorf("after refused writes: %+v", got)
		}
		var fs []*storage.Field
		e.read(func(tx storage.Tx) (err error) { fs, err = tx.Fields().List(e.ctx, l.ID); return err })
		kinds := map[string]storage.FieldType{}
		for _, fd := range fs {
			if fd.System && fd.ReadOnly {
				kinds[fd.InternalName] = fd.Type
			}
		}
		if kinds["FileLeafRef"] != storage.TypeFile || kinds["FileRef"] != storage.TypeText || kinds["FileDirRef"] != storage.TypeText ||
			kinds["FSObjType"] != storage.TypeInteger {
			t.Errorf("library fields %v", kinds)
		}
		tasks := e.list("Tasks")
		e.read(func(tx storage.Tx) error {
			fs, err := tx.Fields().List(e.ctx, tasks.ID)
			for _, fd := range fs {
				if fd.InternalName == storage.FieldFileRef {
					t.Errorf("a list that is no library has %s", fd.InternalName)
				}
			}
			return err
		})
	}},
	{"a property update through the item bumps the file's version", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "a.txt", "blob-a")
		e.do(func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, f.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("The A")}, By: 7, IfVersion: 1})
			return err
		})
		got := e.mustFile(l, f.URL)
		if got.Version != 2 || got.MajorVersion != 1 || got.EditorID != 7 || got.Modified.Before(f.Modified) {
			t.Fatalf("after a property update %+v", got)
		}
		put := func(ifVersion int) error {
			return e.s.Update(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: "a.txt", Overwrite: true,
					IfVersion: ifVersion, Blob: "blob-a2", Length: 2, By: 8})
				return err
			})
		}
		if err := put(1); !errorsIs(err, storage.ErrConflict) {
			t.Fatalf("overwrite at the version before the update: %v", err)
		}
		if err := put(2); err != nil {
			t.Fatal(err)
		}
		got = e.mustFile(l, f.URL)
		it, _ := e.get(l.ID, f.ItemID)
		if got.Version != 3 || got.MajorVersion != 2 || it.Version != 3 || it.Values["Title"] != str("The A") || it.EditorID != 8 {
			t.Errorf("after the overwrite %+v, item %+v", got, it)
		}
	}},
	{"an existing name is a conflict without Overwrite, and a folder's name always", func(t *testing.T, e *env) {
		l := e.docs()
		e.upload(l, "", "qqzz.txt", "blob-a")
		e.mkdir(l, "", "Folder")
		put := func(name string, overwrite bool) error {
			return e.s.Update(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: name, Overwrite: overwrite, Blob: "blob-b", Length: 1})
				return err
			})
		}
		mkdir := func(name string) error {
			return e.s.Update(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Files().AddFolder(e.ctx, l.ID, storage.FolderInput{ParentURL: l.RootFolderURL, Name: name})
				return err
			})
		}
		err := put("QQZZ.TXT", false)
		if !errorsIs(err, storage.ErrConflict) || !strings.Contains(err.Error(), "A file with this name already exists in the folder.") {
			t.Errorf("Put of a taken name: %v", err)
		}
		noValue(t, err, "qqzz")
		for _, overwrite := range []bool{false, true} {
			if err := put("folder", overwrite); !errorsIs(err, storage.ErrConflict) || !strings.Contains(err.Error(), "folder") {
				t.Errorf("Put over a folder (Overwrite %v): %v", overwrite, err)
			}
		}
		for _, name := range []string{"FOLDER", "qqzz.TXT"} {
			if err := mkdir(name); !errorsIs(err, storage.ErrConflict) {
				t.Errorf("AddFolder %s: %v", name, err)
			}
		}
		if n := e.itemCount(l); n != 2 {
			t.Errorf("%d items after refused adds", n)
		}
		if f := e.upload(l, "", "b.txt", "blob-b"); f.ItemID != 3 {
			t.Errorf("refused adds used item ids: next is %d", f.ItemID)
		}
	}},
	{"overwrite keeps the file and its item and makes a new major version", func(t *testing.T, e *env) {
		l := e.docs()
		e.mkdir(l, "", "f")
		old := e.upload(l, "f", "a.txt", "blob-old")
		var n *storage.File
		e.do(func(tx storage.Tx) (err error) {
			n, err = tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: at(l, "F"), Name: "A.TXT", Overwrite: true, Blob: "blob-new", Length: 20, By: 7})
			return err
		})
		if n.UniqueID != old.UniqueID || n.ItemID != old.ItemID || n.Name != "a.txt" || n.URL != old.URL || n.Version != 2 ||
			n.MajorVersion != 2 || n.MinorVersion != 0 || n.Blob != "blob-new" || n.Length != 20 || n.EditorID != 7 ||
			n.AuthorID != 6 || !n.Created.Equal(old.Created) || n.Modified.Before(old.Modified) {
			t.Fatalf("overwritten %+v, was %+v", n, old)
		}
		sameFile(t, "read after overwrite", e.mustFile(l, old.URL), n)
		it, _ := e.get(l.ID, old.ItemID)
		if it.Version != 2 || it.EditorID != 7 || !it.Modified.Equal(n.Modified) {
			t.Errorf("item after overwrite %+v", it)
		}
		if e.itemCount(l) != 2 {
			t.Errorf("an overwrite added an item")
		}
		// The library keeps versions: the replaced content is version 1.0.
		if m := e.blobsInUse("blob-old", "blob-new"); !m["blob-old"] || !m["blob-new"] {
			t.Errorf("blobs in use %v", m)
		}
	}},
	{"IfVersion is honoured by Put and Delete", func(t *testing.T, e *env) {
		l := e.docs()
		put := func(name string, overwrite bool, ifVersion int) error {
			return e.s.Update(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: name, Overwrite: overwrite,
					IfVersion: ifVersion, Blob: "blob-x", Length: 1})
				return err
			})
		}
		del := func(url string, ifVersion int) error {
			return e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, url, ifVersion) })
		}
		if err := put("new.txt", true, 3); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("If-Match on a missing file: %v", err)
		}
		e.gone(l, at(l, "new.txt"))
		f := e.upload(l, "", "a.txt", "blob-a")
		if err := put("a.txt", true, 2); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("stale If-Match on overwrite: %v", err)
		}
		if got := e.mustFile(l, f.URL); got.Blob != "blob-a" || got.Version != 1 {
			t.Errorf("a refused overwrite wrote %+v", got)
		}
		if err := del(f.URL, 2); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("stale If-Match on delete: %v", err)
		}
		if err := put("a.txt", true, 1); err != nil {
			t.Fatal(err)
		}
		if err := del(f.URL, 2); err != nil {
			t.Fatal(err)
		}
		e.gone(l, f.URL)
		dir := e.mkdir(l, "", "d")
		if err := del(dir.URL, 5); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("stale If-Match on a folder's delete: %v", err)
		}
	}},
}
