package pgstorage

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

func (a files) AddFolder(ctx context.Context, listID string, in storage.FolderInput) (*storage.File, error) {
	lib, err := a.t.library(ctx, listID, true, true)
	if err != nil {
		return nil, err
	}
	return a.add(ctx, lib, in.ParentURL, in.Name, true, in.By, nil)
}

func (a files) Put(ctx context.Context, listID string, in storage.FileInput) (*storage.File, error) {
	t := a.t
	lib, err := t.library(ctx, listID, true, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckFileContent(in); err != nil {
		return nil, err
	}
	dir, existing, err := t.place(ctx, lib, in.FolderURL, in.Name)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckLeafName(in.Name); err != nil {
		return nil, err
	}
	if err := storage.CheckPut(existing, in); err != nil {
		return nil, err
	}
	if existing == nil {
		return a.addIn(ctx, lib, dir, in.Name, false, in.By, &in)
	}
	return t.overwrite(ctx, lib, existing, in, false)
}

// add stores a new file or folder in the folder at dirURL of lib.
func (a files) add(ctx context.Context, lib *library, dirURL, name string, folder bool, by int64, content *storage.FileInput) (*storage.File, error) {
	dir, _, err := a.t.place(ctx, lib, dirURL, "")
	if err != nil {
		return nil, err
	}
	return a.addIn(ctx, lib, dir, name, folder, by, content)
}

// addIn stores a new file or folder in the folder at dir, its URL as
// stored, whose rows place has locked.
func (a files) addIn(ctx context.Context, lib *library, dir, name string, folder bool, by int64, content *storage.FileInput) (*storage.File, error) {
	t := a.t
	f, err := storage.NewFileEntry(lib.ID, dir, name, folder, by, t.now)
	if err != nil {
		return nil, err
	}
	if content != nil {
		f.Blob, f.Length = content.Blob, content.Length
	}
	s, err := t.schema(ctx, lib.ID)
	if err != nil {
		return nil, err
	}
	it, err := s.NewFileItem(f)
	if err != nil {
		return nil, err
	}
	if err := t.insertEntries(ctx, lib, []*storage.File{f}, []*storage.Item{it}, storage.ChangeAdd); err != nil {
		return nil, err
	}
	return f, nil
}

// insertEntries stores new items of lib, with the ids the list's counter
// hands out, and the files or folders they carry (entries[i] is carried
// by items[i], whose GUID is its UniqueID; both get the id), with a
// change of kind for each, in one statement whatever their number.
func (t *tx) insertEntries(ctx context.Context, lib *library, entries []*storage.File, items []*storage.Item, kind storage.ChangeType) error {
	n := len(items)
	guids, versions, authors, editors := make([]string, n), make([]int, n), make([]int64, n), make([]int64, n)
	created, modified, data := make([]any, n), make([]any, n), make([]string, n)
	urls, dirs, names, blobs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lengths, checkedOutBy, folders := make([]int64, n), make([]int64, n), make([]bool, n)
	majors, minors, checkOuts := make([]int, n), make([]int, n), make([]int, n)
	for i, it := range items {
		b, err := encode(it.Values)
		if err != nil {
			return err
		}
		guids[i], versions[i], authors[i], editors[i] = it.GUID, it.Version, it.AuthorID, it.EditorID
		created[i], modified[i], data[i] = it.Created, it.Modified, string(b)
		f := entries[i]
		urls[i], dirs[i], names[i], blobs[i] = f.URL, f.DirURL, f.Name, f.Blob
		lengths[i], checkedOutBy[i], folders[i] = f.Length, f.CheckedOutBy, f.IsFolder
		majors[i], minors[i], checkOuts[i] = f.MajorVersion, f.MinorVersion, f.CheckOutType
	}
	// The list's counter row hands out n ids at once (its lock
	// serialises inserts into the list, which keeps ids gap-free); the
	// rows of "Files" go in with their items.
	rows, _ := t.tx.Query(ctx, `WITH c AS (
			UPDATE "Lists" SET "NextItemId" = "NextItemId" + $2::bigint, "ItemCount" = "ItemCount" + $2::bigint, "LastItemModifiedDate" = $3,
				"LastChange" = "LastChange" + $2::bigint
			WHERE "Id" = $1 RETURNING "NextItemId" - $2::bigint AS base, "LastChange" - $2::bigint AS changes),
		v AS (
			SELECT * FROM unnest($4::uuid[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::bigint[], $10::jsonb[],
				$11::text[], $12::text[], $13::text[], $14::bool[], $15::bigint[], $16::text[], $17::int[], $18::int[], $19::int[], $20::bigint[])
				WITH ORDINALITY AS v(guid, version, created, modified, author, editor, data, url, dir, name, folder, length, blob, major, minor, co, cob, n)),
		-- The entries go into one folder (a tree's root first): they
		-- inherit its scope, "" in the root folder.
		s AS (SELECT COALESCE((SELECT pi."ScopeId" FROM "Files" pf JOIN "ListItems" pi ON pi."ListId" = pf."ListId" AND pi."Id" = pf."ItemId"
			WHERE pf."SiteId" = $21 AND lower(pf."Url") COLLATE "C" = lower($23) AND pf."ListId" = $1), '') AS scope),
		i AS (
			INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data", "ScopeId")
			SELECT $1, c.base + v.n, v.guid, v.version, v.created, v.modified, v.author, v.editor, v.data, s.scope FROM c, v, s
			RETURNING "Guid", "Id"),
		ch AS (INSERT INTO "Changes" ("ListId", "Number", "Kind", "ItemId", "UniqueId", "Time")
			SELECT $1, c.changes + v.n, $24, c.base + v.n, v.guid, $3 FROM c, v)
		INSERT INTO "Files" ("Id", "SiteId", "WebId", "ListId", "ItemId", "Url", "DirUrl", "Name", "IsFolder",
			"Length", "Blob", "MajorVersion", "MinorVersion", "CheckOutType", "CheckedOutBy")
		SELECT v.guid, $21, $22, $1, i."Id", v.url, v.dir, v.name, v.folder, v.length, v.blob, v.major, v.minor, v.co, v.cob
		FROM v JOIN i ON i."Guid" = v.guid
		RETURNING "Id"::text, "ItemId"`,
		lib.ID, n, t.now, guids, versions, created, modified, authors, editors, data,
		urls, dirs, names, folders, lengths, blobs, majors, minors, checkOuts, checkedOutBy, lib.SiteID, lib.WebID, entries[0].DirURL, int(kind))
	ids := map[string]int64{}
	var guid string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&guid, &id}, func() error { ids[guid] = id; return nil }); err != nil {
		return interpretError(err)
	}
	if len(ids) != n {
		return storage.NotFound("no list has this id")
	}
	for i, f := range entries {
		items[i].ID = ids[items[i].GUID]
		f.ItemID, f.ListID = items[i].ID, lib.ID
	}
	return nil
}

func (a files) Delete(ctx context.Context, listID, url string, ifVersion int) error {
	t := a.t
	lib, err := t.library(ctx, listID, true, false)
	if err != nil {
		return err
	}
	rec, err := t.find(ctx, lib, url, lockUpdate)
	if err != nil {
		return err
	}
	if rec.ItemID == 0 {
		return storage.RootFolderFixed()
	}
	if err := storage.CheckFileVersion(rec, ifVersion); err != nil {
		return err
	}
	if err := t.checkTreeLocks(ctx, lib, rec, 0); err != nil {
		return err
	}
	return t.deleteTree(ctx, lib, rec)
}

// deleteTree deletes rec, locked FOR UPDATE by the caller, everything
// below it and their items (the rows of "Files" go with their items) and
// versions.
// It reads what is below in a statement after the lock, so it sees every
// entry added under rec before the lock was granted.
func (t *tx) deleteTree(ctx context.Context, lib *library, rec *storage.File) error {
	// Each item deleted logs its change (t holds them by id).
	_, err := t.exec(ctx, `WITH t AS (
			SELECT array_agg(f."ItemId" ORDER BY f."ItemId") AS ids, array_agg(f."Id" ORDER BY f."ItemId") AS guids
			FROM "Files" f WHERE f."ListId" = $1 AND f."SiteId" = $2 AND `+subtree("$3")+`),
		d AS (
			DELETE FROM "ListItems" WHERE "ListId" = $1 AND "Id" = ANY((SELECT ids FROM t)::bigint[])
			RETURNING 1),
		v AS (
			DELETE FROM "FileVersions" WHERE "FileId" = ANY((SELECT guids FROM t)::uuid[])),
		ra AS (
			DELETE FROM "RoleAssignments" WHERE "SiteId" = $2 AND "ScopeId" IN (
				SELECT $1::uuid::text || '/' || o FROM unnest(COALESCE((SELECT ids FROM t), '{}')::bigint[]) o)),
		`+logChanges(storage.ChangeDeleteObject, `COALESCE((SELECT ids FROM t), '{}')::bigint[]`, `COALESCE((SELECT guids FROM t), '{}')::uuid[]`,
		"$4::timestamptz", `"ItemCount" = "ItemCount" - (SELECT count(*) FROM d)`)+`
		SELECT 1`,
		lib.ID, lib.SiteID, rec.URL, t.now)
	return err
}

// deleteItemTree deletes item id of library listID with its file or
// folder and everything in it; done is false when the item carries none.
func (t *tx) deleteItemTree(ctx context.Context, listID string, id int64, ifVersion int) (done bool, err error) {
	rec, err := t.fileOfItem(ctx, listID, id, lockUpdate)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := storage.CheckFileVersion(rec, ifVersion); err != nil {
		return false, err
	}
	lib, err := t.library(ctx, listID, true, false)
	if err != nil {
		return false, err
	}
	if err := t.checkTreeLocks(ctx, lib, rec, 0); err != nil {
		return false, err
	}
	return true, t.deleteTree(ctx, lib, rec)
}
