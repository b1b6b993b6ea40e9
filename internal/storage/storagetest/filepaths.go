package storagetest

import (
	"strings"
	"sync"
	"testing"

	"github.com/cesivi/cesivi/internal/storage"
)

var filePathTests = []test{
	{"names SharePoint refuses are invalid and the error does not repeat them", func(t *testing.T, e *env) {
		l := e.docs()
		src := e.upload(l, "", "ok.txt", "blob-ok")
		for _, name := range []string{"", "qq*zz", `qq"zz`, "qq:zz", "qq<zz", "qq>zz", "qq?zz", "qq/zz", `qq\zz`, "qq|zz",
			"qq\tzz", " qqzz", "qqzz ", "qqzz.", ".", "..", "CON", "con.txt", "LPT1", "COM9.doc", "aux.tar.gz", strings.Repeat("q", 401)} {
			errs := []error{
				e.s.Update(e.ctx, func(tx storage.Tx) error {
					_, err := tx.Files().AddFolder(e.ctx, l.ID, storage.FolderInput{ParentURL: l.RootFolderURL, Name: name})
					return err
				}),
				e.s.Update(e.ctx, func(tx storage.Tx) error {
					_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: name, Blob: "blob-x", Length: 1})
					return err
				}),
			}
			if !strings.ContainsAny(name, `/\`) && name != "" && name != "." && name != ".." {
				_, err := e.move(false, storage.MoveInput{ListID: l.ID, From: src.URL, To: at(l, name)})
				errs = append(errs, err)
			}
			for i, err := range errs {
				if !errorsIs(err, storage.ErrInvalid) {
					t.Errorf("name %q (%d): %v, want ErrInvalid", name, i, err)
				}
				if strings.HasPrefix(strings.TrimSpace(name), "qq") {
					noValue(t, err, strings.TrimSpace(name))
				}
			}
		}
		for _, name := range []string{"with space.txt", "%#'&+.txt", "名前.txt", "a.b.c", "CONSOLE.txt", "com10", ".hidden"} {
			e.upload(l, "", name, "blob-"+name)
		}
		if n := e.itemCount(l); n != 8 {
			t.Errorf("%d items, want 8", n)
		}
	}},
	{"a URL longer than 400 characters is refused, below a moved folder too", func(t *testing.T, e *env) {
		l := e.docs() // "/sites/dev/Shared Documents": 27 characters
		long := strings.Repeat("a", 179)
		e.mkdir(l, "", long)
		e.mkdir(l, long, long) // 27 + 2×180 = 387
		deep := long + "/" + long
		e.upload(l, deep, strings.Repeat("b", 12), "blob-400") // 400
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: at(l, deep), Name: strings.Repeat("c", 13), Blob: "blob-401", Length: 1})
			return err
		})
		e.mkdir(l, "", "x")
		e.upload(l, "x", strings.Repeat("d", 20), "blob-d")
		if _, err := e.move(false, storage.MoveInput{ListID: l.ID, From: at(l, "x"), To: at(l, deep+"/x")}); !errorsIs(err, storage.ErrInvalid) {
			t.Errorf("a move that makes a URL below too long: %v", err)
		}
		if got := e.children(l, "x", false); len(got) != 1 {
			t.Errorf("a refused move moved %q", got)
		}
	}},
	{"no URL climbs out of its library", func(t *testing.T, e *env) {
		l := e.docs()
		e.mkdir(l, "", "a")
		var teamDocs *storage.List
		e.do(func(tx storage.Tx) error {
			team, err := tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"})
			if err != nil {
				return err
			}
			teamDocs, err = tx.Lists().GetByURL(e.ctx, team.ID, "Shared Documents")
			return err
		})
		e.mkdir(teamDocs, "", "secret")
		cases := map[string]error{
			at(l, "../SiteAssets"):               storage.ErrInvalid,
			at(l, "a/../../SiteAssets"):          storage.ErrInvalid,
			at(l, "a//b"):                        storage.ErrInvalid,
			at(l, `a\..\b`):                      storage.ErrInvalid,
			at(l, "./a"):                         storage.ErrInvalid,
			"/sites/dev/SiteAssets":              storage.ErrNotFound,
			"/sites/dev/Shared Documents2":       storage.ErrNotFound,
			"/sites/dev/team/Shared Documents":   storage.ErrNotFound,
			at(teamDocs, "secret"):               storage.ErrNotFound,
			"/sites/other/Shared Documents":      storage.ErrNotFound,
			"/sites/dev":                         storage.ErrNotFound,
			"/":                                  storage.ErrNotFound,
			"Shared Documents/a":                 storage.ErrNotFound,
			"":                                   storage.ErrNotFound,
			"/sites/dev/Shared Documents/a/nope": storage.ErrNotFound,
		}
		for u, want := range cases {
			if _, err := e.file(l, u); !errorsIs(err, want) {
				t.Errorf("Get %q: %v, want %v", u, err, want)
			}
			errs := map[string]error{
				"AddFolder": e.s.Update(e.ctx, func(tx storage.Tx) error {
					_, err := tx.Files().AddFolder(e.ctx, l.ID, storage.FolderInput{ParentURL: u, Name: "x"})
					return err
				}),
				"Put": e.s.Update(e.ctx, func(tx storage.Tx) error {
					_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: u, Name: "x.txt", Blob: "blob-x", Length: 1})
					return err
				}),
				"Children": e.s.View(e.ctx, func(tx storage.Tx) error {
					_, err := tx.Files().Children(e.ctx, l.ID, u, true)
					return err
				}),
				"Delete": e.s.Update(e.ctx, func(tx storage.Tx) error { return tx.Files().Delete(e.ctx, l.ID, u, 0) }),
			}
			_, errs["Move from"] = e.move(false, storage.MoveInput{ListID: l.ID, From: u, To: at(l, "b")})
			for op, err := range errs {
				if !errorsIs(err, want) {
					t.Errorf("%s %q: %v, want %v", op, u, err, want)
				}
			}
		}
		if got := e.children(teamDocs, "secret", true); got != nil {
			t.Errorf("another web's folder got %q", got)
		}
		if got := e.children(teamDocs, "", true); len(got) != 1 {
			t.Errorf("another web's library got %q", got)
		}
		if n := e.itemCount(l); n != 1 {
			t.Errorf("%d items in the library, want 1", n)
		}
	}},
	{"files and folders need a library", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Files().AddFolder(e.ctx, l.ID, storage.FolderInput{ParentURL: l.RootFolderURL, Name: "a"})
			return err
		})
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: "a.txt", Blob: "blob-a", Length: 1})
			return err
		})
		if root := e.mustFile(l, l.RootFolderURL); root.URL != "/sites/dev/Lists/Tasks" || root.DirURL != "/sites/dev/Lists" || root.ItemCount != 0 {
			t.Errorf("a list's root folder %+v", root)
		}
		docs := e.docs()
		e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
			_, err := tx.Files().Put(e.ctx, docs.ID, storage.FileInput{FolderURL: docs.RootFolderURL, Name: "a.txt"})
			return err
		})
	}},
	{"of 8 transactions adding one name at once, one wins and the others conflict", func(t *testing.T, e *env) {
		l := e.docs()
		for _, folder := range []bool{false, true} {
			name := "race.txt"
			if folder {
				name = "Race folder"
			}
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					errs[i] = e.s.Update(e.ctx, func(tx storage.Tx) error {
						n := name
						if i%2 == 1 {
							n = strings.ToUpper(name)
						}
						if folder {
							_, err := tx.Files().AddFolder(e.ctx, l.ID, storage.FolderInput{ParentURL: l.RootFolderURL, Name: n})
							return err
						}
						_, err := tx.Files().Put(e.ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: n, Blob: "blob-race", Length: 1})
						return err
					})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errorsIs(err, storage.ErrConflict):
					t.Errorf("folder %v: %v, want ErrConflict", folder, err)
				}
			}
			if won != 1 {
				t.Errorf("folder %v: %d won", folder, won)
			}
		}
		if n := e.itemCount(l); n != 2 || len(e.children(l, "", false)) != 1 || len(e.children(l, "", true)) != 1 {
			t.Errorf("after the races: %d items", n)
		}
	}},
}
