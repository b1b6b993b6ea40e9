package pgstorage

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

func (a files) AddFolder(ctx context.Context, listID string, in storage.FolderInput) (*storage.File, error) {
	lib, err := a.t.library(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	return a.add(ctx, lib, in.ParentURL, in.Name, true, in.By, nil)
}

func (a files) Put(ctx context.Context, listID string, in storage.FileInput) (*storage.File, error) {
	t := a.t
	lib, err := t.library(ctx, listID, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckFileContent(in); err != nil {
		return nil, err
	}
	dir, err := t.parentFolder(ctx, lib, in.FolderURL)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckLeafName(in.Name); err != nil {
		return nil, err
	}
	existing, err := t.fileAt(ctx, lib, dir+"/"+in.Name, lockUpdate)
	if errors.Is(err, storage.ErrNotFound) {
		existing, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := storage.CheckPut(existing, in); err != nil {
		return nil, err
	}
	if existing == nil {
		return a.addIn(ctx, lib, dir, in.Name, false, in.By, &in)
	}
	n := storage.Overwritten(existing, in, t.now)
	if _, err := t.exec(ctx, `WITH f AS (UPDATE "Files" SET "Blob" = $4, "Length" = $5, "MajorVersion" = $6, "MinorVersion" = $7 WHERE "Id" = $3),
		i AS (UPDATE "ListItems" SET "Version" = $8, "Modified" = $9, "EditorId" = $10 WHERE "ListId" = $1 AND "Id" = $2)
		UPDATE "Lists" SET "LastItemModifiedDate" = $9 WHERE "Id" = $1`,
		lib.ID, n.ItemID, n.UniqueID, n.Blob, n.Length, n.MajorVersion, n.MinorVersion, n.Version, n.Modified, n.EditorID); err != nil {
		return nil, err
	}
	return n, nil
}

// add stores a new file or folder in the folder at dirURL of lib.
func (a files) add(ctx context.Context, lib *library, dirURL, name string, folder bool, by int64, content *storage.FileInput) (*storage.File, error) {
	dir, err := a.t.parentFolder(ctx, lib, dirURL)
	if err != nil {
		return nil, err
	}
	return a.addIn(ctx, lib, dir, name, folder, by, content)
}

// addIn stores a new file or folder in the folder at dir, its URL as
// stored, whose rows parentFolder has locked.
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
	if err := t.insertEntries(ctx, lib, []*storage.File{f}, []*storage.Item{it}); err != nil {
		return nil, err
	}
	return f, nil
}

// insertEntries stores new items of lib, with the ids the list's counter
// hands out, and the files or folders they carry (entries[i] is carried
// by items[i]; both get the id). Two statements, whatever their number.
func (t *tx) insertEntries(ctx context.Context, lib *library, entries []*storage.File, items []*storage.Item) error {
	n := len(items)
	guids, versions, authors, editors := make([]string, n), make([]int, n), make([]int64, n), make([]int64, n)
	created, modified, data := make([]any, n), make([]any, n), make([]string, n)
	for i, it := range items {
		b, err := encode(it.Values)
		if err != nil {
			return err
		}
		guids[i], versions[i], authors[i], editors[i] = it.GUID, it.Version, it.AuthorID, it.EditorID
		created[i], modified[i], data[i] = it.Created, it.Modified, string(b)
	}
	// The list's counter row hands out n ids at once (its lock
	// serialises inserts into the list, which keeps ids gap-free).
	rows, _ := t.tx.Query(ctx, `WITH c AS (
			UPDATE "Lists" SET "NextItemId" = "NextItemId" + $2::bigint, "ItemCount" = "ItemCount" + $2::bigint, "LastItemModifiedDate" = $3
			WHERE "Id" = $1 RETURNING "NextItemId" - $2::bigint AS base)
		INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
		SELECT $1, c.base + v.n, v.guid, v.version, v.created, v.modified, v.author, v.editor, v.data
		FROM c, unnest($4::uuid[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::bigint[], $10::jsonb[])
			WITH ORDINALITY AS v(guid, version, created, modified, author, editor, data, n)
		RETURNING "Guid"::text, "Id"`,
		lib.ID, n, t.now, guids, versions, created, modified, authors, editors, data)
	ids := map[string]int64{}
	var guid string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&guid, &id}, func() error { ids[guid] = id; return nil }); err != nil {
		return interpretError(err)
	}
	if len(ids) != n {
		return storage.NotFound("no list has this id")
	}
	var (
		fileIDs, urls, dirs, names, blobs []string
		itemIDs, lengths, checkedOutBy    []int64
		folders                           []bool
		majors, minors, checkOuts         []int
	)
	for i, f := range entries {
		items[i].ID = ids[items[i].GUID]
		f.ItemID, f.ListID = items[i].ID, lib.ID
		fileIDs, urls, dirs, names, blobs = append(fileIDs, f.UniqueID), append(urls, f.URL), append(dirs, f.DirURL), append(names, f.Name), append(blobs, f.Blob)
		itemIDs, lengths, checkedOutBy = append(itemIDs, f.ItemID), append(lengths, f.Length), append(checkedOutBy, f.CheckedOutBy)
		folders = append(folders, f.IsFolder)
		majors, minors, checkOuts = append(majors, f.MajorVersion), append(minors, f.MinorVersion), append(checkOuts, f.CheckOutType)
	}
	_, err := t.exec(ctx, `INSERT INTO "Files" ("Id", "SiteId", "WebId", "ListId", "ItemId", "Url", "DirUrl", "Name", "IsFolder",
			"Length", "Blob", "MajorVersion", "MinorVersion", "CheckOutType", "CheckedOutBy")
		SELECT v.id, $1, $2, $3, v.item, v.url, v.dir, v.name, v.folder, v.length, v.blob, v.major, v.minor, v.co, v.cob
		FROM unnest($4::uuid[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::bigint[], $11::text[],
			$12::int[], $13::int[], $14::int[], $15::bigint[]) AS v(id, item, url, dir, name, folder, length, blob, major, minor, co, cob)`,
		lib.SiteID, lib.WebID, lib.ID, fileIDs, itemIDs, urls, dirs, names, folders, lengths, blobs, majors, minors, checkOuts, checkedOutBy)
	return err
}

func (a files) Delete(ctx context.Context, listID, url string, ifVersion int) error {
	t := a.t
	lib, err := t.library(ctx, listID, true)
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
	return t.deleteTree(ctx, lib, rec)
}

// deleteTree deletes rec, locked FOR UPDATE by the caller, everything
// below it and their items (the rows of "Files" go with their items).
// It reads what is below in a statement after the lock, so it sees every
// entry added under rec before the lock was granted.
func (t *tx) deleteTree(ctx context.Context, lib *library, rec *storage.File) error {
	_, err := t.exec(ctx, `WITH d AS (
			DELETE FROM "ListItems" WHERE "ListId" = $1 AND "Id" IN (
				SELECT f."ItemId" FROM "Files" f WHERE f."ListId" = $1 AND f."SiteId" = $2 AND `+subtree("$3")+`)
			RETURNING 1)
		UPDATE "Lists" SET "ItemCount" = "ItemCount" - (SELECT count(*) FROM d), "LastItemModifiedDate" = $4 WHERE "Id" = $1`,
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
	lib, err := t.library(ctx, listID, true)
	if err != nil {
		return false, err
	}
	return true, t.deleteTree(ctx, lib, rec)
}
