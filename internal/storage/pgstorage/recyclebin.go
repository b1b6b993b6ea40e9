package pgstorage

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// The recycle bin moves the rows of what it recycles out of the live
// tables into "RecycleBinRows" (migration 007): a row of "RecycleBin"
// describes the item, and each row it holds is kept as jsonb by the
// table it came from, so that a restore inserts it back as it was, ids
// included. The live tables and their unique indexes thus never hold
// anything recycled, and no read needs to skip it; the blobs the moved
// rows name stay in use through "IX_RecycleBinRows_Blob". A list moves a
// batch of items per statement, so that one of a million items neither
// runs into the statement timeout nor passes its rows through Go.

type recycleBin struct{ t *tx }

func (t *tx) RecycleBin() storage.RecycleBin { return recycleBin{t} }

// binBatch is how many items of a list one statement moves.
const binBatch = 5000

// binInsert is the CTE that adds bin item $4 of site $2: web $5, type
// $6, names $7 $8 $9, by $10 at $11, of list $1, item $12, folder $13;
// its size is the query sz's n. $3 is each statement's own.
const binInsert = `b AS (INSERT INTO "RecycleBin" ("Id", "SiteId", "WebId", "ItemType", "LeafName", "DirName", "Title",
		"DeletedBy", "DeletedDate", "Size", "ListId", "ItemId", "FolderUrl")
	SELECT $4, $2, $5, $6, $7, $8, $9, $10, $11, sz.n, $1, $12, $13 FROM sz RETURNING "Size")`

// binArgs are binInsert's arguments.
func binArgs(listID, siteID string, it *storage.RecycleBinItem, itemID int64, folder string) []any {
	return []any{listID, siteID, "", it.ID, it.WebID, it.ItemType, it.LeafName, it.DirName, it.Title, it.DeletedBy,
		it.DeletedDate, itemID, folder}
}

func (a recycleBin) RecycleFile(ctx context.Context, listID, url string, by int64, ifVersion int) (*storage.RecycleBinItem, error) {
	t := a.t
	lib, err := t.library(ctx, listID, true, false)
	if err != nil {
		return nil, err
	}
	rec, err := t.find(ctx, lib, url, lockUpdate)
	if err != nil {
		return nil, err
	}
	if rec.ItemID == 0 {
		return nil, storage.RootFolderFixed()
	}
	if err := storage.CheckFileVersion(rec, ifVersion); err != nil {
		return nil, err
	}
	return a.recycleTree(ctx, lib, rec, by)
}

// recycleTree moves rec (locked), what is below it, their items,
// versions and attachments to the bin.
func (a recycleBin) recycleTree(ctx context.Context, lib *library, rec *storage.File, by int64) (*storage.RecycleBinItem, error) {
	t := a.t
	if err := t.checkTreeLocks(ctx, lib, rec, by); err != nil {
		return nil, err
	}
	it := storage.FileBinItem(lib.SiteID, lib.WebID, rec, 0, by, t.now)
	args := binArgs(lib.ID, lib.SiteID, it, 0, rec.DirURL)
	args[2] = rec.URL
	err := t.tx.QueryRow(ctx, `WITH t AS (SELECT f.* FROM "Files" f WHERE f."ListId" = $1 AND f."SiteId" = $2 AND `+subtree("$3")+`),
		sz AS (SELECT COALESCE((SELECT sum("Length") FROM t), 0)
			+ COALESCE((SELECT sum(v."Length") FROM "FileVersions" v WHERE v."FileId" IN (SELECT "Id" FROM t)), 0) AS n),
		`+binInsert+`,
		r1 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Files', to_jsonb(t) FROM t),
		r2 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'ListItems', to_jsonb(i) FROM "ListItems" i
			WHERE i."ListId" = $1 AND i."Id" IN (SELECT "ItemId" FROM t)),
		r3 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'FileVersions', to_jsonb(v) FROM "FileVersions" v
			WHERE v."FileId" IN (SELECT "Id" FROM t)),
		r4 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'ItemVersions', to_jsonb(v) FROM "ItemVersions" v
			WHERE v."ListId" = $1 AND v."ItemId" IN (SELECT "ItemId" FROM t)),
		r5 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Attachments', to_jsonb(x) FROM "Attachments" x
			WHERE x."ListId" = $1 AND x."ItemId" IN (SELECT "ItemId" FROM t))
		SELECT "Size" FROM b`, args...).Scan(&it.Size)
	if err != nil {
		return nil, interpretError(err)
	}
	if err := t.deleteTree(ctx, lib, rec); err != nil {
		return nil, err
	}
	return it, nil
}

func (a recycleBin) RecycleItem(ctx context.Context, listID string, id int64, by int64, ifVersion int) (*storage.RecycleBinItem, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	s, err := t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	lib, err := t.library(ctx, listID, false, false)
	if err != nil {
		return nil, err
	}
	if s.IsLibrary() {
		rec, err := t.fileOfItem(ctx, listID, id, lockUpdate)
		if err != nil {
			return nil, err
		}
		if err := storage.CheckFileVersion(rec, ifVersion); err != nil {
			return nil, err
		}
		return a.recycleTree(ctx, lib, rec, by)
	}
	item, err := items(a).get(ctx, s, listID, id, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckVersion(item, ifVersion); err != nil {
		return nil, err
	}
	it := storage.ItemBinItem(lib.SiteID, &lib.List, item, 0, by, t.now)
	args := binArgs(lib.ID, lib.SiteID, it, id, "")
	args[2] = id
	err = t.tx.QueryRow(ctx, `WITH sz AS (SELECT COALESCE(sum("Length"), 0) AS n FROM "Attachments" WHERE "ListId" = $1 AND "ItemId" = $3),
		`+binInsert+`,
		r1 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'ListItems', to_jsonb(i) FROM "ListItems" i WHERE i."ListId" = $1 AND i."Id" = $3),
		r2 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'ItemVersions', to_jsonb(v) FROM "ItemVersions" v
			WHERE v."ListId" = $1 AND v."ItemId" = $3),
		r3 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Attachments', to_jsonb(x) FROM "Attachments" x
			WHERE x."ListId" = $1 AND x."ItemId" = $3)
		SELECT "Size" FROM b`, args...).Scan(&it.Size)
	if err != nil {
		return nil, interpretError(err)
	}
	if _, err := t.exec(ctx, `DELETE FROM "ListItems" WHERE "ListId" = $1 AND "Id" = $2`, listID, id); err != nil {
		return nil, err
	}
	if err := items(a).touch(ctx, listID, -1, storage.ChangeDeleteObject, []int64{id}, []string{item.GUID}); err != nil {
		return nil, err
	}
	return it, nil
}

func (a recycleBin) RecycleList(ctx context.Context, webID, listID string, by int64) (*storage.RecycleBinItem, error) {
	t := a.t
	defer t.forgetSchema("")
	if err := t.check(true); err != nil {
		return nil, err
	}
	l, err := lists(a).Get(ctx, webID, listID)
	if err != nil {
		return nil, err
	}
	w, err := webs(a).Get(ctx, webID)
	if err != nil {
		return nil, err
	}
	it := storage.ListBinItem(w, l, 0, by, t.now)
	args := binArgs(l.ID, w.SiteID, it, 0, "")
	args[2] = l.ID
	var next int64
	// The list's row is locked first: an item added meanwhile waits, and
	// then finds no list.
	err = t.tx.QueryRow(ctx, `WITH lock AS (SELECT "NextItemId" FROM "Lists" WHERE "Id" = $3::uuid FOR UPDATE),
		sz AS (SELECT COALESCE((SELECT sum("Length") FROM "Files" WHERE "ListId" = $1), 0)
			+ COALESCE((SELECT sum("Length") FROM "FileVersions" WHERE "ListId" = $1), 0)
			+ COALESCE((SELECT sum("Length") FROM "Attachments" WHERE "ListId" = $1), 0) AS n),
		`+binInsert+`,
		r1 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Lists', to_jsonb(x) FROM "Lists" x WHERE x."Id" = $1),
		r2 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Fields', to_jsonb(x) FROM "Fields" x WHERE x."ListId" = $1),
		r3 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Views', to_jsonb(x) FROM "Views" x WHERE x."ListId" = $1)
		SELECT (SELECT "Size" FROM b), (SELECT "NextItemId" FROM lock)`, args...).Scan(&it.Size, &next)
	if err != nil {
		return nil, interpretError(err)
	}
	for lo := int64(0); lo < next; lo += binBatch {
		if _, err := t.exec(ctx, `WITH f AS (SELECT x.* FROM "Files" x WHERE x."ListId" = $1 AND x."ItemId" > $3 AND x."ItemId" <= $4),
			r1 AS (INSERT INTO "RecycleBinRows" SELECT $2, 'Files', to_jsonb(f) FROM f),
			r2 AS (INSERT INTO "RecycleBinRows" SELECT $2, 'FileVersions', to_jsonb(v) FROM "FileVersions" v
				WHERE v."FileId" IN (SELECT "Id" FROM f)),
			r3 AS (INSERT INTO "RecycleBinRows" SELECT $2, 'ItemVersions', to_jsonb(v) FROM "ItemVersions" v
				WHERE v."ListId" = $1 AND v."ItemId" > $3 AND v."ItemId" <= $4),
			r4 AS (INSERT INTO "RecycleBinRows" SELECT $2, 'Attachments', to_jsonb(x) FROM "Attachments" x
				WHERE x."ListId" = $1 AND x."ItemId" > $3 AND x."ItemId" <= $4),
			d AS (DELETE FROM "ListItems" WHERE "ListId" = $1 AND "Id" > $3 AND "Id" <= $4 RETURNING *)
			INSERT INTO "RecycleBinRows" SELECT $2, 'ListItems', to_jsonb(d) FROM d`, l.ID, it.ID, lo, lo+binBatch); err != nil {
			return nil, err
		}
	}
	// What is left (fields, views, versions of files gone) goes with the
	// list's row.
	if _, err := t.exec(ctx, `DELETE FROM "Lists" WHERE "Id" = $1`, l.ID); err != nil {
		return nil, err
	}
	t.indexes = true
	return it, nil
}

func (a recycleBin) RecycleAttachment(ctx context.Context, listID string, itemID int64, name string, by int64) (*storage.RecycleBinItem, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	att := attachments(a)
	l, err := att.item(ctx, listID, itemID, true)
	if err != nil {
		return nil, err
	}
	f, err := att.named(ctx, l, itemID, name)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, errNoAttachment
	}
	lib, err := t.library(ctx, listID, false, false)
	if err != nil {
		return nil, err
	}
	it := storage.AttachmentBinItem(lib.SiteID, &lib.List, f, by, t.now)
	args := binArgs(lib.ID, lib.SiteID, it, itemID, "")
	args[2] = f.UniqueID
	err = t.tx.QueryRow(ctx, `WITH sz AS (SELECT "Length" AS n FROM "Attachments" WHERE "Id" = $3::uuid),
		`+binInsert+`,
		r1 AS (INSERT INTO "RecycleBinRows" SELECT $4, 'Attachments', to_jsonb(x) FROM "Attachments" x WHERE x."Id" = $3::uuid)
		SELECT "Size" FROM b`, args...).Scan(&it.Size)
	if err != nil {
		return nil, interpretError(err)
	}
	// As Attachments().Delete: the item records the change.
	if err := att.Delete(ctx, listID, itemID, f.Name); err != nil {
		return nil, err
	}
	return it, nil
}

const binCols = `"Id"::text, "SiteId"::text, "WebId"::text, "ItemType", "LeafName", "DirName", "Title", "DeletedBy", "DeletedDate", "Size"`

func scanBinItem(row pgx.CollectableRow) (*storage.RecycleBinItem, error) {
	var it storage.RecycleBinItem
	err := row.Scan(&it.ID, &it.SiteID, &it.WebID, &it.ItemType, &it.LeafName, &it.DirName, &it.Title, &it.DeletedBy,
		&it.DeletedDate, &it.Size)
	it.DeletedDate = it.DeletedDate.UTC()
	return &it, err
}

// inWeb is the condition on "RecycleBin" of web $2 and its subwebs.
const inWeb = `"WebId" IN (WITH RECURSIVE w AS (SELECT "Id" FROM "Webs" WHERE "Id" = $2::uuid
	UNION ALL SELECT c."Id" FROM "Webs" c JOIN w ON c."ParentId" = w."Id") SELECT "Id" FROM w)`

// binWhere selects site siteID's bin, or web webID's and its subwebs'.
// binOwnScopes selects the scopes that the lists and items of the bin
// entries matching where (on "RecycleBinRows") owned: a list's or item's
// own scope id, not one it inherited. Their role assignments go when
// the entries are deleted for good (a restore brings them back with the
// rows until then); item ids are never reused, so nothing else could
// hold those scopes.
func binOwnScopes(where string) string {
	return `SELECT r."Row"->>'ScopeId' FROM "RecycleBinRows" r WHERE ` + where + ` AND (
		(r."Table" = 'ListItems' AND r."Row"->>'ScopeId' = (r."Row"->>'ListId') || '/' || (r."Row"->>'Id'))
		OR (r."Table" = 'Lists' AND r."Row"->>'ScopeId' = r."Row"->>'Id'))`
}

func binWhere(siteID, webID string) (string, []any) {
	if webID == "" {
		return `"SiteId" = $1`, []any{siteID}
	}
	return `"SiteId" = $1 AND ` + inWeb, []any{siteID, webID}
}

func (a recycleBin) List(ctx context.Context, siteID, webID string) ([]*storage.RecycleBinItem, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	if !isGUID(siteID) || webID != "" && !isGUID(webID) {
		return []*storage.RecycleBinItem{}, nil
	}
	where, args := binWhere(siteID, webID)
	rows, _ := a.t.tx.Query(ctx, `SELECT `+binCols+` FROM "RecycleBin" WHERE `+where+` ORDER BY "DeletedDate" DESC, "Seq" DESC`, args...)
	out, err := pgx.CollectRows(rows, scanBinItem)
	if out == nil {
		out = []*storage.RecycleBinItem{}
	}
	return out, interpretError(err)
}

func (a recycleBin) Get(ctx context.Context, siteID, id string) (*storage.RecycleBinItem, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	if !isGUID(siteID) || !isGUID(id) {
		return nil, storage.ErrNotInBin
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT `+binCols+` FROM "RecycleBin" WHERE "Id" = $1 AND "SiteId" = $2`, id, siteID)
	it, err := pgx.CollectExactlyOneRow(rows, scanBinItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotInBin
	}
	return it, interpretError(err)
}

func (a recycleBin) Delete(ctx context.Context, siteID, id string) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if !isGUID(siteID) || !isGUID(id) {
		return storage.ErrNotInBin
	}
	n, err := a.t.exec(ctx, `WITH ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $2 AND "ScopeId" IN (`+binOwnScopes(`"BinId" = $1`)+`))
		DELETE FROM "RecycleBin" WHERE "Id" = $1 AND "SiteId" = $2`, id, siteID)
	if err == nil && n == 0 {
		return storage.ErrNotInBin
	}
	return err
}

func (a recycleBin) Empty(ctx context.Context, siteID, webID string) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if !isGUID(siteID) || webID != "" && !isGUID(webID) {
		return nil
	}
	where, args := binWhere(siteID, webID)
	_, err := a.t.exec(ctx, `WITH ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $1 AND "ScopeId" IN (`+
		binOwnScopes(`"BinId" IN (SELECT "Id" FROM "RecycleBin" WHERE `+where+`)`)+`))
		DELETE FROM "RecycleBin" WHERE `+where, args...)
	return err
}

// restoreOrder is the order in which a restore inserts the rows of each
// table, parents first.
var restoreOrder = []string{"Lists", "Fields", "Views", "ListItems", "Files", "FileVersions", "ItemVersions", "Attachments"}

// restoredItems are the ids and GUIDs of the items a restore put back.
type restoredItems struct {
	ids   []int64
	guids []string
}

// restoreRows inserts bin item binID's rows back into their tables and
// removes them from the bin, a batch per statement; it answers which
// items it restored.
func (t *tx) restoreRows(ctx context.Context, binID string) (restoredItems, error) {
	var out restoredItems
	for _, table := range restoreOrder {
		// Items answer their ids and GUIDs, for the change log.
		answer := `SELECT count(*), NULL::bigint, NULL::text FROM i`
		if table == "ListItems" {
			answer = `SELECT 1, (m."Row" ->> 'Id')::bigint, m."Row" ->> 'Guid' FROM m`
		}
		for {
			rows, _ := t.tx.Query(ctx, `WITH m AS (DELETE FROM "RecycleBinRows" WHERE ctid = ANY (ARRAY(
					SELECT ctid FROM "RecycleBinRows" WHERE "BinId" = $1 AND "Table" = $2 LIMIT $3)) RETURNING "Row"),
				i AS (INSERT INTO "`+table+`" SELECT r.* FROM m, jsonb_populate_record(NULL::"`+table+`", m."Row") r RETURNING 1)
				`+answer, binID, table, binBatch)
			var n int64
			for rows.Next() {
				var count int64
				var id *int64
				var guid *string
				if err := rows.Scan(&count, &id, &guid); err != nil {
					rows.Close()
					return restoredItems{}, interpretError(err)
				}
				n += count
				if id != nil && guid != nil {
					out.ids, out.guids = append(out.ids, *id), append(out.guids, *guid)
				}
			}
			if err := rows.Err(); err != nil {
				return restoredItems{}, interpretError(err)
			}
			if n < binBatch {
				break
			}
		}
	}
	return out, nil
}

func (a recycleBin) Restore(ctx context.Context, siteID, id string) error {
	t := a.t
	if err := t.check(true); err != nil {
		return err
	}
	if !isGUID(siteID) || !isGUID(id) {
		return storage.ErrNotInBin
	}
	var kind int
	var listID, folder string
	var itemID int64
	err := t.tx.QueryRow(ctx, `SELECT "ItemType", "ListId"::text, "ItemId", "FolderUrl" FROM "RecycleBin"
		WHERE "Id" = $1 AND "SiteId" = $2 FOR UPDATE`, id, siteID).Scan(&kind, &listID, &itemID, &folder)
	if err == pgx.ErrNoRows {
		return storage.ErrNotInBin
	}
	if err != nil {
		return interpretError(err)
	}
	switch kind {
	case storage.RecycleList:
		defer t.forgetSchema("")
		if _, err := t.restoreRows(ctx, id); err != nil {
			return parentGone(err, "web")
		}
		// Its change log and subscriptions went with the list's row: a
		// token from before has expired.
		if _, err := t.exec(ctx, `UPDATE "Lists" SET "ChangesPrunedThrough" = "LastChange" WHERE "Id" = $1`, listID); err != nil {
			return err
		}
		t.indexes = true
	case storage.RecycleAttachment:
		if _, err := t.restoreRows(ctx, id); err != nil {
			return parentGone(err, "item")
		}
		if err := (attachments{t}).saveItem(ctx, listID, itemID, nil); err != nil {
			return err
		}
	default:
		if kind != storage.RecycleListItem {
			lib, err := t.library(ctx, listID, true, false)
			if err != nil {
				return storage.ErrParentGone("library")
			}
			if _, _, err := t.place(ctx, lib, folder, ""); errors.Is(err, storage.ErrNotFound) {
				return storage.ErrParentGone("folder")
			} else if err != nil {
				return err
			}
		}
		restored, err := t.restoreRows(ctx, id)
		if err != nil {
			return parentGone(err, "list")
		}
		if err := (items{t}).touch(ctx, listID, int64(len(restored.ids)), storage.ChangeRestore, restored.ids, restored.guids); err != nil {
			return err
		}
	}
	_, err = t.exec(ctx, `DELETE FROM "RecycleBin" WHERE "Id" = $1`, id)
	return err
}

// parentGone says which parent a restore missed when a row's foreign key
// found none.
func parentGone(err error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ErrParentGone(what)
	}
	return err
}

// checkTreeLocks is storage.CheckTreeLocks of rec and what is below it:
// one statement for a folder.
func (t *tx) checkTreeLocks(ctx context.Context, lib *library, rec *storage.File, by int64) error {
	if !rec.IsFolder {
		return storage.CheckLock(rec, by)
	}
	var held int64
	err := t.tx.QueryRow(ctx, `SELECT f."CheckedOutBy" FROM "Files" f WHERE f."ListId" = $1 AND f."SiteId" = $2 AND `+subtree("$3")+`
		AND f."CheckOutType" <> 2 AND f."CheckedOutBy" <> 0 AND ($4 = 0 OR f."CheckedOutBy" <> $4) LIMIT 1`,
		lib.ID, lib.SiteID, rec.URL, by).Scan(&held)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return interpretError(err)
	}
	return storage.CheckedOutError()
}

// historyBlobs reports which of keys a file version or the recycle bin
// names, for the blob sweep (Files.BlobsInUse).
func (t *tx) historyBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(ctx, `SELECT "Blob" FROM "FileVersions" WHERE "Blob" = ANY($1)
		UNION SELECT "Row" ->> 'Blob' FROM "RecycleBinRows" WHERE "Row" ? 'Blob' AND "Row" ->> 'Blob' = ANY($1)`, keys)
	return collectKeys(rows)
}
