package storagetest

import (
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

var fileMoveTests = []test{
	{"a move renames a folder and rewrites the URLs below it, in its rows and its items", func(t *testing.T, e *env) {
		l := e.docs()
		reports := e.mkdir(l, "", "Reports")
		year := e.mkdir(l, "Reports", "2026")
		q1 := e.upload(l, "Reports/2026", "q1.docx", "blob-q1")
		sub := e.mkdir(l, "Reports/2026", "sub")
		q2 := e.upload(l, "Reports/2026/sub", "q2.docx", "blob-q2")
		sibling := e.mkdir(l, "", "Reports2")
		moved, err := e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "reports"), To: at(l, "Archive"), By: 7})
		if err != nil {
			t.Fatal(err)
		}
		if moved.URL != at(l, "Archive") || moved.Name != "Archive" || moved.UniqueID != reports.UniqueID || moved.ItemID != reports.ItemID ||
			moved.Version != reports.Version || moved.ItemCount != 1 {
			t.Fatalf("moved %+v", moved)
		}
		e.gone(l, reports.URL, year.URL, q1.URL, sub.URL, q2.URL)
		for rel, was := range map[string]*storage.File{"Archive/2026": year, "Archive/2026/q1.docx": q1, "Archive/2026/sub": sub, "Archive/2026/sub/q2.docx": q2} {
			got := e.mustFile(l, at(l, rel))
			sameFile(t, rel, got, was)
			if got.URL != at(l, rel) || got.DirURL != storage.ParentURL(at(l, rel)) {
				t.Errorf("%s: URL %q in %q", rel, got.URL, got.DirURL)
			}
			it, _ := e.get(l.ID, got.ItemID)
			hasValues(t, rel, it, map[string]odata.Value{storage.FieldFileRef: str(got.URL), storage.FieldFileDirRef: str(got.DirURL),
				storage.FieldFileLeafRef: str(was.Name)})
		}
		it, _ := e.get(l.ID, reports.ItemID)
		hasValues(t, "the folder's item", it, map[string]odata.Value{storage.FieldTitle: str("Archive"), storage.FieldFileLeafRef: str("Archive")})
		sameFile(t, "a folder whose name begins like the moved one's", e.mustFile(l, sibling.URL), sibling)
		f, _ := odata.ParseFilter("FileDirRef eq '" + at(l, "Archive/2026") + "'")
		p, err := e.query(l.ID, storage.ItemQuery{Filter: f, OrderBy: []odata.OrderKey{{Field: storage.FieldFileLeafRef}}})
		if err != nil || !slices.Equal(names(p.Items), []string{"q1.docx", "sub"}) {
			t.Errorf("query by the new folder: %v %v", p, err)
		}
		// A file moves into another folder.
		if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "Archive/2026/q1.docx"), To: at(l, "Reports2/q1.docx")}); err != nil {
			t.Fatal(err)
		}
		if got := e.children(l, "Reports2", false); !slices.Equal(got, []string{"q1.docx"}) || e.mustFile(l, at(l, "Archive/2026")).ItemCount != 1 {
			t.Errorf("after moving a file: %q", got)
		}
		if e.itemCount(l) != 6 {
			t.Errorf("a move changed the item count to %d", e.itemCount(l))
		}
	}},
	{"a rename that only changes case keeps the file", func(t *testing.T, e *env) {
		l := e.docs()
		f := e.upload(l, "", "report.docx", "blob-r")
		got, err := e.move(false, storage.MoveInput{ListID: l.ID, From: f.URL, To: at(l, "Report.DOCX")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Report.DOCX" || got.UniqueID != f.UniqueID {
			t.Fatalf("renamed %+v", got)
		}
		if again := e.mustFile(l, at(l, "report.docx")); again.Name != "Report.DOCX" {
			t.Errorf("read back %+v", again)
		}
	}},
	{"a move onto a file needs Overwrite and never replaces a folder", func(t *testing.T, e *env) {
		l := e.docs()
		a := e.upload(l, "", "a.txt", "blob-a")
		b := e.upload(l, "", "b.txt", "blob-b")
		e.mkdir(l, "", "F")
		e.mkdir(l, "", "G")
		if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: a.URL, To: b.URL}); !errorsIs(err, storage.ErrConflict) {
			t.Fatalf("onto a file without Overwrite: %v", err)
		}
		for _, c := range []struct{ from, to string }{{a.URL, at(l, "f")}, {at(l, "G"), at(l, "F")}, {at(l, "G"), b.URL}} {
			if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: c.from, To: c.to, Overwrite: true}); !errorsIs(err, storage.ErrConflict) {
				t.Errorf("%s onto %s with Overwrite: %v", c.from, c.to, err)
			}
		}
		got, err := e.move(false, storage.MoveInput{ListID: l.ID, From: a.URL, To: b.URL, Overwrite: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.UniqueID != a.UniqueID || got.Name != "b.txt" || got.Blob != "blob-a" {
			t.Errorf("moved over b: %+v", got)
		}
		e.gone(l, a.URL)
		if _, err := e.get(l.ID, b.ItemID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("the replaced file's item: %v", err)
		}
		if m := e.blobsInUse("blob-a", "blob-b"); m["blob-b"] || !m["blob-a"] {
			t.Errorf("blobs in use %v", m)
		}
		if n := e.itemCount(l); n != 3 {
			t.Errorf("%d items, want 3", n)
		}
	}},
	{"a folder cannot go into itself, a root folder nowhere, nor anything into a missing folder", func(t *testing.T, e *env) {
		l := e.docs()
		e.mkdir(l, "", "A")
		e.mkdir(l, "A", "B")
		f := e.upload(l, "", "f.txt", "blob-f")
		for _, c := range []struct {
			copy     bool
			from, to string
			want     error
		}{
			{false, at(l, "A"), at(l, "A/B/A"), storage.ErrInvalid},
			{false, at(l, "A"), at(l, "a/C"), storage.ErrInvalid},
			{true, at(l, "A"), at(l, "A/B/A"), storage.ErrInvalid},
			{true, at(l, "A"), at(l, "a"), storage.ErrInvalid},
			{true, f.URL, f.URL, storage.ErrInvalid},
			{false, l.RootFolderURL, at(l, "A/root"), storage.ErrInvalid},
			{false, f.URL, l.RootFolderURL, storage.ErrInvalid},
			{false, f.URL, at(l, "nope/f.txt"), storage.ErrNotFound},
			{false, f.URL, at(l, "f.txt/g.txt"), storage.ErrNotFound},
			{false, at(l, "nope.txt"), at(l, "g.txt"), storage.ErrNotFound},
			{false, f.URL, "/sites/other/Shared Documents/f.txt", storage.ErrNotFound},
		} {
			if _, err := e.move(c.copy, storage.MoveInput{ListID: l.ID, From: c.from, To: c.to}); !errorsIs(err, c.want) {
				t.Errorf("copy %v %s to %s: %v, want %v", c.copy, c.from, c.to, err, c.want)
			}
		}
		if got := e.children(l, "A", true); !slices.Equal(got, []string{"B"}) || e.itemCount(l) != 3 {
			t.Errorf("refused moves changed the library: %q", got)
		}
	}},
	{"a move into another library of the site makes its items items there", func(t *testing.T, e *env) {
		client := storage.FieldInput{Title: "Client", Type: storage.TypeText}
		l := e.docs()
		e.do(func(tx storage.Tx) error { _, err := tx.Fields().Create(e.ctx, l.ID, client); return err })
		archive := e.library("Archive", client, storage.FieldInput{Title: "Shelf", Type: storage.TypeNumber})
		e.upload(archive, "", "existing.txt", "blob-e")
		cases := e.mkdir(l, "", "Cases")
		one := e.upload(l, "Cases", "one.txt", "blob-1")
		e.do(func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, one.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{"Client": str("Contoso")}})
			return err
		})
		e.mkdir(l, "Cases", "sub")
		two := e.upload(l, "Cases/sub", "two.txt", "blob-2")
		moved, err := e.move(false, storage.MoveInput{ListID: l.ID, From: cases.URL, To: at(archive, "Moved")})
		if err != nil {
			t.Fatal(err)
		}
		if moved.ListID != archive.ID || moved.UniqueID != cases.UniqueID || moved.ItemID != 2 || moved.URL != at(archive, "Moved") {
			t.Fatalf("moved %+v", moved)
		}
		e.gone(l, cases.URL, one.URL, two.URL)
		if _, err := e.get(l.ID, one.ItemID); !errorsIs(err, storage.ErrNotFound) {
			t.Errorf("the old item: %v", err)
		}
		got := e.mustFile(archive, at(archive, "Moved/one.txt"))
		if got.UniqueID != one.UniqueID || got.Version != 2 || got.Blob != "blob-1" || got.ItemID < 3 {
			t.Errorf("moved file %+v", got)
		}
		it, _ := e.get(archive.ID, got.ItemID)
		hasValues(t, "moved item", it, map[string]odata.Value{"Client": str("Contoso"), storage.FieldFileRef: str(got.URL),
			storage.FieldFileDirRef: str(at(archive, "Moved"))})
		if it.GUID != one.UniqueID || it.Version != 2 {
			t.Errorf("moved item %+v", it)
		}
		f, _ := odata.ParseFilter("Client eq 'Contoso'")
		if p, err := e.query(archive.ID, storage.ItemQuery{Filter: f}); err != nil || !slices.Equal(names(p.Items), []string{"one.txt"}) {
			t.Errorf("query the target library: %v %v", p, err)
		}
		if e.itemCount(l) != 0 || e.itemCount(archive) != 5 {
			t.Errorf("item counts %d and %d, want 0 and 5", e.itemCount(l), e.itemCount(archive))
		}
		if again := e.upload(l, "", "later.txt", "blob-l"); again.ItemID != 5 {
			t.Errorf("the source's ids went back to %d", again.ItemID)
		}
		// A library of a subweb is in the same site collection.
		var team *storage.Web
		var teamDocs *storage.List
		e.do(func(tx storage.Tx) (err error) {
			if team, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"}); err != nil {
				return err
			}
			teamDocs, err = tx.Lists().GetByURL(e.ctx, team.ID, "Shared Documents")
			return err
		})
		if _, err := e.move(false, storage.MoveInput{ListID: archive.ID, From: got.URL, To: at(teamDocs, "one.txt")}); err != nil {
			t.Fatal(err)
		}
		e.read(func(tx storage.Tx) error {
			if f, err := tx.Files().GetByID(e.ctx, team.ID, one.UniqueID); err != nil || f.ListID != teamDocs.ID {
				t.Errorf("in the subweb: %+v %v", f, err)
			}
			if _, err := tx.Files().GetByID(e.ctx, e.web.ID, one.UniqueID); !errorsIs(err, storage.ErrNotFound) {
				t.Errorf("the root web still finds the moved file: %v", err)
			}
			return nil
		})
	}},
	{"a copy has new ids, version 1 and the same blobs", func(t *testing.T, e *env) {
		l := e.docs()
		a := e.upload(l, "", "a.txt", "blob-a")
		e.do(func(tx storage.Tx) error {
			_, err := tx.Items().Update(e.ctx, l.ID, a.ItemID, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("A")}})
			return err
		})
		c, err := e.move(true, storage.MoveInput{ListID: l.ID, From: a.URL, To: at(l, "copy of a.txt"), By: 9})
		if err != nil {
			t.Fatal(err)
		}
		if c.UniqueID == a.UniqueID || c.ItemID != 2 || c.Version != 1 || c.MajorVersion != 1 || c.Blob != "blob-a" ||
			c.Length != a.Length || c.AuthorID != 9 || c.Name != "copy of a.txt" {
			t.Fatalf("copy %+v", c)
		}
		if it, _ := e.get(l.ID, c.ItemID); it.Values["Title"] != str("A") || it.GUID != c.UniqueID || it.Version != 1 {
			t.Errorf("the copy's item %+v", it)
		}
		if got := e.mustFile(l, a.URL); got.Version != 2 || got.UniqueID != a.UniqueID {
			t.Errorf("the original after a copy %+v", got)
		}
		e.mkdir(l, "", "F")
		inner := e.upload(l, "F", "inner.txt", "blob-inner")
		if _, err := e.move(true, storage.MoveInput{ListID: l.ID, From: at(l, "F"), To: at(l, "F2")}); err != nil {
			t.Fatal(err)
		}
		got := e.mustFile(l, at(l, "F2/inner.txt"))
		if got.UniqueID == inner.UniqueID || got.Blob != "blob-inner" || got.DirURL != at(l, "F2") {
			t.Errorf("copied inner file %+v", got)
		}
		sameFile(t, "the copied folder's original content", e.mustFile(l, inner.URL), inner)
		archive := e.library("Archive")
		if _, err := e.move(true, storage.MoveInput{ListID: l.ID, From: at(l, "F"), To: at(archive, "F")}); err != nil {
			t.Fatal(err)
		}
		if got := e.children(archive, "F", false); !slices.Equal(got, []string{"inner.txt"}) || e.itemCount(archive) != 2 {
			t.Errorf("copied into another library: %q", got)
		}
		if _, err := e.move(true, storage.MoveInput{ListID: l.ID, From: a.URL, To: c.URL}); !errorsIs(err, storage.ErrConflict) {
			t.Errorf("a copy onto a file without Overwrite: %v", err)
		}
		e.do(func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, a.URL, 0) })
		if m := e.blobsInUse("blob-a"); !m["blob-a"] {
			t.Errorf("the copy's blob is no longer in use after the original's delete")
		}
		if n := e.itemCount(l); n != 5 {
			t.Errorf("%d items in the library, want 5", n)
		}
	}},
}
