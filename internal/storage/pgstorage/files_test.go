package pgstorage_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/pgmigrate"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// docs reads the Documents library of a site's root web.
func docs(t *testing.T, s storage.Store, site *storage.Site) *storage.List {
	t.Helper()
	var l *storage.List
	if err := s.View(t.Context(), func(tx storage.Tx) (err error) {
		l, err = tx.Lists().GetByURL(t.Context(), site.RootWebID, "Shared Documents")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

// waitForALockWait returns once some transaction of the database waits
// for a lock, or fails the test after 30 s.
func waitForALockWait(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatalf("no transaction waited for a lock: %v", err)
		}
		if n > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no transaction waited for a lock within 30 s")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// The suite's race lets transactions collide as they happen to; this one
// makes the worst case happen every time: the second server checks the
// name while the first has added it but not committed.
func TestAddingANameATransactionInFlightAddsIsAConflictOnceItCommits(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	stores := []storage.Store{newStore(t, newPool(t, url), pgstorage.Options{}), newStore(t, newPool(t, url), pgstorage.Options{})}
	observer := newPool(t, url)
	site, _ := site(t, stores[0])
	l := docs(t, stores[0], site)
	ctx := t.Context()
	put := func(tx storage.Tx, name string) error {
		_, err := tx.Files().Put(ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: name, Blob: "blob-" + name, Length: 1})
		return err
	}
	second := make(chan error, 1)
	if err := stores[0].Update(ctx, func(tx storage.Tx) error {
		if err := put(tx, "race.txt"); err != nil {
			return err
		}
		go func() { second <- stores[1].Update(ctx, func(tx storage.Tx) error { return put(tx, "RACE.txt") }) }()
		waitForALockWait(t, observer)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err := <-second
	if !errorsIs(err, storage.ErrConflict) || !strings.Contains(err.Error(), "already exists in the folder") {
		t.Fatalf("the second add: %v, want ErrConflict", err)
	}
	var files []*storage.File
	if err := stores[1].View(ctx, func(tx storage.Tx) (err error) {
		files, err = tx.Files().Children(ctx, l.ID, l.RootFolderURL, false)
		return err
	}); err != nil || len(files) != 1 || files[0].Blob != "blob-race.txt" {
		t.Fatalf("after the race: %+v %v", files, err)
	}
}

// A file added in a folder while another server deletes the folder is
// either refused (the folder is gone) or deleted with it: never left
// without its folder.
func TestAFolderDeletedWhileAFileGoesInLeavesNoOrphan(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	stores := []storage.Store{newStore(t, newPool(t, url), pgstorage.Options{}), newStore(t, newPool(t, url), pgstorage.Options{})}
	observer := newPool(t, url)
	site, _ := site(t, stores[0])
	l := docs(t, stores[0], site)
	ctx := t.Context()
	if err := stores[0].Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Files().AddFolder(ctx, l.ID, storage.FolderInput{ParentURL: l.RootFolderURL, Name: "a"}); err != nil {
			return err
		}
		_, err := tx.Files().AddFolder(ctx, l.ID, storage.FolderInput{ParentURL: l.RootFolderURL + "/a", Name: "b"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	deleted := make(chan error, 1)
	if err := stores[0].Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Files().Put(ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL + "/a/b", Name: "x.txt", Blob: "blob-x", Length: 1})
		if err != nil {
			return err
		}
		go func() {
			deleted <- stores[1].Update(ctx, func(tx storage.Tx) error { return tx.Files().Delete(ctx, l.ID, l.RootFolderURL+"/a", 0) })
		}()
		waitForALockWait(t, observer)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := observer.QueryRow(ctx, `SELECT count(*) FROM "Files" WHERE "ListId" = $1`, l.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d files left after the folder's delete (%v)", n, err)
	}
	if err := observer.QueryRow(ctx, `SELECT count(*) FROM "ListItems" WHERE "ListId" = $1`, l.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d items left after the folder's delete (%v)", n, err)
	}
}

func TestLibrariesMadeBeforeTheFilesMigrationGetTheirFields(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	ctx := t.Context()
	ms, err := pgmigrate.Load(os.DirFS("migrations"), ".")
	if err != nil {
		t.Fatal(err)
	}
	before := slices.DeleteFunc(ms, func(m pgmigrate.Migration) bool { return m.Version >= 3 })
	if _, err := pgmigrate.Apply(ctx, pool, "storage", before); err != nil {
		t.Fatal(err)
	}
	// A site as the storage made them before 003: a list and a library
	// without the file fields. Written in SQL, since today's code writes
	// the columns and tables of later migrations.
	site := oldSite(t, pool)
	if _, err := pgstorage.ApplyMigrations(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, pool, pgstorage.Options{})
	l := docs(t, s, site)
	var tasks *storage.List
	if err := s.View(ctx, func(tx storage.Tx) (err error) {
		tasks, err = tx.Lists().GetByTitle(ctx, site.RootWebID, "Tasks")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var libFields, listFields []*storage.Field
	if err := s.View(ctx, func(tx storage.Tx) (err error) {
		if libFields, err = tx.Fields().List(ctx, l.ID); err != nil {
			return err
		}
		listFields, err = tx.Fields().List(ctx, tasks.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := storage.SystemFields(l.ID, storage.TemplateDocumentLibrary)
	if len(libFields) != len(want) {
		t.Fatalf("%d fields after the migration, want %d", len(libFields), len(want))
	}
	for i, w := range want {
		g := libFields[i]
		if g.InternalName != w.InternalName || g.Title != w.Title || g.Type != w.Type || g.ReadOnly != w.ReadOnly ||
			g.Hidden != w.Hidden || g.System != w.System || g.MaxLength != w.MaxLength || g.DefaultValue != w.DefaultValue {
			t.Errorf("field %d: %+v, want %+v", i, g, w)
		}
	}
	if len(listFields) != len(storage.SystemFields(tasks.ID, storage.TemplateGenericList)) {
		t.Errorf("a list got %d fields", len(listFields))
	}
	if err := s.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Files().Put(ctx, l.ID, storage.FileInput{FolderURL: l.RootFolderURL, Name: "a.txt", Blob: "blob-a", Length: 1})
		return err
	}); err != nil {
		t.Fatalf("a file in the migrated library: %v", err)
	}
}

// oldSite writes, in the schema of migrations 001 and 002, a root site
// with a list "Tasks" and a library "Shared Documents" whose fields are
// today's system fields without those 003 adds.
func oldSite(t *testing.T, pool *pgxpool.Pool) *storage.Site {
	t.Helper()
	ctx := t.Context()
	site := &storage.Site{ID: storage.NewGUID(), URL: "/", RootWebID: storage.NewGUID()}
	now := time.Now()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO "Sites" ("Id", "Url", "RootWebId", "Created") VALUES ($1, '/', $2, $3)`, site.ID, site.RootWebID, now)
	exec(`INSERT INTO "Webs" ("Id", "SiteId", "ServerRelativeUrl", "Title", "Description", "Language", "WebTemplate", "Created", "LastItemModifiedDate")
		VALUES ($1, $2, '/', 'Root', '', 1033, 'STS#3', $3, $3)`, site.RootWebID, site.ID, now)
	added := map[string]bool{storage.FieldFileLeafRef: true, storage.FieldFileRef: true, storage.FieldFileDirRef: true, storage.FieldFSObjType: true}
	for _, l := range []struct {
		title, url, entity string
		template, baseType int
	}{
		{"Tasks", "Lists/Tasks", "TasksList", storage.TemplateGenericList, 0},
		{"Documents", "Shared Documents", "Shared_x0020_Documents", storage.TemplateDocumentLibrary, 1},
	} {
		id := storage.NewGUID()
		exec(`INSERT INTO "Lists" ("Id", "WebId", "Title", "Description", "BaseTemplate", "BaseType", "UrlName", "RootFolderUrl",
			"EntityTypeName", "ListItemEntityTypeFullName", "Hidden", "Created", "LastItemModifiedDate")
			VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9, false, $10, $10)`,
			id, site.RootWebID, l.title, l.template, l.baseType, l.url, "/"+l.url, l.entity, storage.ListItemEntityTypeFullName(l.entity), now)
		for _, f := range storage.SystemFields(id, l.template) {
			if added[f.InternalName] {
				continue
			}
			exec(`INSERT INTO "Fields" ("Id", "ListId", "InternalName", "Title", "Description", "TypeAsString", "Required", "Indexed",
				"ReadOnly", "Hidden", "System", "Choices", "LookupList", "LookupField", "DefaultValue", "MaxLength")
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
				storage.NewGUID(), id, f.InternalName, f.Title, f.Description, string(f.Type), f.Required, f.Indexed,
				f.ReadOnly, f.Hidden, f.System, append([]string{}, f.Choices...), f.LookupList, f.LookupField, f.DefaultValue, f.MaxLength)
		}
	}
	return site
}
