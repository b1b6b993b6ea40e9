package pgstorage

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

func (a files) Move(ctx context.Context, in storage.MoveInput) (*storage.File, error) {
	return a.relocate(ctx, in, false)
}

func (a files) Copy(ctx context.Context, in storage.MoveInput) (*storage.File, error) {
	return a.relocate(ctx, in, true)
}

// targetLibrary reads the library of site collection siteID whose root
// folder holds url (the deepest, should roots nest).
func (t *tx) targetLibrary(ctx context.Context, siteID, url string) (*library, error) {
	return one[library](ctx, t, storage.NotFound("no library of the site collection holds the target URL"),
		`SELECT `+listCols+`, $1::uuid::text AS "SiteId" FROM "Lists"
		WHERE "BaseType" = 1 AND "WebId" IN (SELECT w."Id" FROM "Webs" w WHERE w."SiteId" = $1::uuid)
			AND (lower($2) = lower("RootFolderUrl") OR starts_with(lower($2), lower("RootFolderUrl") || '/'))
		ORDER BY length("RootFolderUrl") DESC LIMIT 1`, siteID, url)
}

// tree reads rec, locked, and, for a folder, everything below it, rec
// first (its URL begins every other), locking them and their items, with
// the items' values.
func (t *tx) tree(ctx context.Context, lib *library, rec *storage.File) ([]*storage.File, []map[string]odata.Value, error) {
	s, err := t.schema(ctx, lib.ID)
	if err != nil {
		return nil, nil, err
	}
	rows, _ := t.tx.Query(ctx, `SELECT `+fileCols+`, i."Data"`+fileFrom+`
		WHERE f."ListId" = $1 AND f."SiteId" = $2 AND `+subtree("$3")+`
		ORDER BY lower(f."Url") COLLATE "C"`+lockUpdate, lib.ID, lib.SiteID, rec.URL)
	var tree []*storage.File
	var vals []map[string]odata.Value
	for rows.Next() {
		f, err := scanFile(rowWithData{rows, &vals, s})
		if err != nil {
			rows.Close()
			return nil, nil, interpretError(err)
		}
		tree = append(tree, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, interpretError(err)
	}
	if len(tree) == 0 || tree[0].UniqueID != rec.UniqueID {
		return nil, nil, errNoFile
	}
	return tree, vals, nil
}

// rowWithData scans a file's columns and then its item's "Data".
type rowWithData struct {
	pgx.Rows
	vals *[]map[string]odata.Value
	s    *storage.Schema
}

func (r rowWithData) Scan(dest ...any) error {
	var data []byte
	if err := r.Rows.Scan(append(dest, &data)...); err != nil {
		return err
	}
	v, err := decode(r.s, data)
	*r.vals = append(*r.vals, v)
	return err
}

func (a files) relocate(ctx context.Context, in storage.MoveInput, copy bool) (*storage.File, error) {
	t := a.t
	src, err := t.library(ctx, in.ListID, true, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckFileURL(in.To); err != nil {
		return nil, err
	}
	rec, err := t.find(ctx, src, in.From, lockUpdate)
	if err != nil {
		return nil, err
	}
	dst, err := t.targetLibrary(ctx, src.SiteID, in.To)
	if err != nil {
		return nil, err
	}
	if !copy && dst.ID != src.ID {
		// Both list rows are written (ItemCount, the change counters;
		// replacing a file writes the target's first): lock them in the
		// one order.
		if err := t.lockLists(ctx, src.ID, dst.ID); err != nil {
			return nil, err
		}
	}
	rel, err := storage.ResolveFileURL(dst.RootFolderURL, in.To)
	if err != nil {
		return nil, err
	}
	if len(rel) == 0 {
		return nil, storage.RootFolderFixed()
	}
	name := rel[len(rel)-1]
	parent, existing, err := t.place(ctx, dst, dst.RootFolderURL+"/"+strings.Join(rel[:len(rel)-1], "/"), name)
	if err != nil {
		return nil, err
	}
	to := storage.MoveTarget{ListID: dst.ID, Parent: parent, Name: name, Existing: existing}
	if rec.ItemID == 0 {
		_, err := storage.PlanMove([]*storage.File{rec}, to, in, copy, t.now)
		return nil, err
	}
	tree, vals, err := t.tree(ctx, src, rec)
	if err != nil {
		return nil, err
	}
	plan, err := storage.PlanMove(tree, to, in, copy, t.now)
	if err != nil {
		return nil, err
	}
	if !copy {
		if err := storage.CheckTreeLocks(tree, in.By); err != nil {
			return nil, err
		}
	}
	if plan.Replaced != nil && copy {
		// A copy onto a file replaces its content, as Put does: a new
		// version of that file.
		return t.overwrite(ctx, dst, plan.Replaced, storage.FileInput{Blob: rec.Blob, Length: rec.Length, By: in.By}, false)
	}
	if plan.Replaced != nil {
		if err := storage.CheckLock(plan.Replaced, in.By); err != nil {
			return nil, err
		}
		if err := t.deleteTree(ctx, dst, plan.Replaced); err != nil {
			return nil, err
		}
	}
	dstSchema, err := t.schema(ctx, dst.ID)
	if err != nil {
		return nil, err
	}
	switch {
	case copy:
		items := make([]*storage.Item, len(plan.Entries))
		for i, e := range plan.Entries {
			if items[i], err = dstSchema.NewFileItem(e); err != nil {
				return nil, err
			}
			if plan.CrossList {
				items[i].Values = dstSchema.CarryValues(vals[i], e)
			} else {
				items[i].Values = storage.Merge(vals[i], storage.FileValues(e))
			}
		}
		err = t.insertEntries(ctx, dst, plan.Entries, items, storage.ChangeAdd)
	case plan.CrossList:
		err = t.moveAcross(ctx, src, dst, dstSchema, tree, vals, plan.Entries)
	default:
		err = t.moveWithin(ctx, src, plan.Entries)
	}
	if err != nil {
		return nil, err
	}
	return t.fileAt(ctx, dst, plan.Entries[0].URL, lockNone)
}

// moveWithin rewrites the URLs of moved entries of one library, in their
// rows and in their items' values; ids and versions stay.
func (t *tx) moveWithin(ctx context.Context, lib *library, entries []*storage.File) error {
	var ids, urls, dirs, names, data []string
	var items []int64
	for _, e := range entries {
		b, err := encode(storage.FileValues(e))
		if err != nil {
			return err
		}
		ids, urls, dirs, names = append(ids, e.UniqueID), append(urls, e.URL), append(dirs, e.DirURL), append(names, e.Name)
		items, data = append(items, e.ItemID), append(data, string(b))
	}
	// The moved entry, unless it owns its scope, and what below it shared
	// its scope, take the destination folder's ("" in the root folder).
	if _, err := t.exec(ctx, `WITH r AS (SELECT "ScopeId" AS old FROM "ListItems" WHERE "ListId" = $1 AND "Id" = $2),
			d AS (SELECT COALESCE((SELECT pi."ScopeId" FROM "Files" pf JOIN "ListItems" pi ON pi."ListId" = pf."ListId" AND pi."Id" = pf."ItemId"
				WHERE pf."SiteId" = $5 AND lower(pf."Url") COLLATE "C" = lower($4) AND pf."ListId" = $1), '') AS scope)
		UPDATE "ListItems" i SET "ScopeId" = d.scope FROM r, d
		WHERE i."ListId" = $1 AND i."Id" = ANY($3::bigint[]) AND i."ScopeId" = r.old
			AND r.old <> $1::uuid::text || '/' || $2::bigint AND r.old <> d.scope`,
		lib.ID, entries[0].ItemID, items, entries[0].DirURL, lib.SiteID); err != nil {
		return err
	}
	_, err := t.exec(ctx, `WITH f AS (
			UPDATE "Files" f SET "Url" = v.url, "DirUrl" = v.dir, "Name" = v.name
			FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS v(id, url, dir, name) WHERE f."Id" = v.id),
		i AS (
			UPDATE "ListItems" i SET "Data" = i."Data" || v.data
			FROM unnest($6::bigint[], $7::jsonb[]) AS v(id, data) WHERE i."ListId" = $1 AND i."Id" = v.id),
		`+logChanges(storage.ChangeRename, "$6::bigint[]", "$2::uuid[]", "$8::timestamptz", "")+`
		SELECT 1`,
		lib.ID, ids, urls, dirs, names, items, data, t.now)
	return err
}

// moveAcross moves entries into library dst: their items become new
// items of dst (the values dst has fields for go along), the rows follow
// them, and the old items go.
func (t *tx) moveAcross(ctx context.Context, src, dst *library, dstSchema *storage.Schema, tree []*storage.File,
	vals []map[string]odata.Value, entries []*storage.File) error {
	items := make([]*storage.Item, len(entries))
	old := make([]int64, len(entries))
	oldGUIDs := make([]string, len(entries))
	for i, e := range entries {
		old[i], oldGUIDs[i] = tree[i].ItemID, tree[i].UniqueID
		items[i] = &storage.Item{GUID: e.UniqueID, Version: e.Version, Created: e.Created, Modified: e.Modified,
			AuthorID: e.AuthorID, EditorID: e.EditorID, Values: dstSchema.CarryValues(vals[i], e)}
	}
	// The old rows make way for the new ones (their URLs and ids are
	// unique), then the new ones go in under the new items.
	// Items get new ids in dst: the scopes they owned cannot follow, and
	// they take the destination folder's (insertEntries).
	if _, err := t.exec(ctx, `WITH d AS (DELETE FROM "ListItems" WHERE "ListId" = $1 AND "Id" = ANY($2::bigint[]) RETURNING 1),
			ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $4 AND "ScopeId" IN (SELECT $1::uuid::text || '/' || o FROM unnest($2::bigint[]) o)),
		`+logChanges(storage.ChangeMoveAway, "$2::bigint[]", "$5::uuid[]", "$3::timestamptz", `"ItemCount" = "ItemCount" - (SELECT count(*) FROM d)`)+`
		SELECT 1`,
		src.ID, old, t.now, src.SiteID, oldGUIDs); err != nil {
		return err
	}
	if err := t.insertEntries(ctx, dst, entries, items, storage.ChangeMoveInto); err != nil {
		return err
	}
	// The files' versions go with them (they are the files', not the
	// items').
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.UniqueID
	}
	_, err := t.exec(ctx, `UPDATE "FileVersions" SET "ListId" = $1 WHERE "FileId" = ANY($2::uuid[])`, dst.ID, ids)
	return err
}
