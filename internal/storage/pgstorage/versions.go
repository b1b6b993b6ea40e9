package pgstorage

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// A file's earlier versions are rows of "FileVersions", an item's of
// "ItemVersions" (migration 007). The write that replaces a content or
// changes an item records the version it replaces in the same statement,
// from the row as it was before the statement.

type versions struct{ t *tx }

func (t *tx) Versions() storage.Versions { return versions{t} }

var errNoVersion = storage.NotFound("the file has no version with this id")

// commentRow is the "VersionId" of the row of "FileVersions" that holds
// the comment the current content was checked in with (no version has
// it: the first is 1.0, 512); every read of versions skips it.
const commentRow = "0"

// setComment is the CTE that sets the current check-in comment of file
// file (of list list) to comment, at created by by (parameters).
func setComment(list, file, created, by, comment string) string {
	return `commented AS (
		INSERT INTO "FileVersions" ("FileId", "ListId", "VersionId", "Blob", "Length", "Created", "CreatedBy", "CheckInComment")
		VALUES (` + file + `, ` + list + `, ` + commentRow + `, '', 0, ` + created + `, ` + by + `, ` + comment + `)
		ON CONFLICT ("FileId", "VersionId") DO UPDATE SET "CheckInComment" = EXCLUDED."CheckInComment")`
}

// keepFileVersionSQL are the CTEs that keep the content of file $3
// (before the statement) as an earlier version of list $1 (when $11),
// and drop the oldest beyond limit $12 (when $13), the kept one
// counted. A version that is there already (the content of a check-out,
// kept at its holder's first overwrite) is left as it is; and the
// item's values as an item version (when $14).
const keepFileVersionSQL = `old AS (
		SELECT f."Id", f."Blob", f."Length", f."MajorVersion", f."MinorVersion",
			COALESCE((SELECT c."CheckInComment" FROM "FileVersions" c WHERE c."FileId" = $3 AND c."VersionId" = ` + commentRow + `), '') AS "CheckInComment",
			i."Modified", i."EditorId", i."Version", i."Data"
		FROM "Files" f JOIN "ListItems" i ON i."ListId" = f."ListId" AND i."Id" = f."ItemId" WHERE f."Id" = $3),
	kept AS (
		INSERT INTO "FileVersions" ("FileId", "ListId", "VersionId", "Blob", "Length", "Created", "CreatedBy", "CheckInComment")
		SELECT "Id", $1, 512 * "MajorVersion" + "MinorVersion", "Blob", "Length", "Modified", "EditorId", "CheckInComment"
		FROM old WHERE $11 ON CONFLICT DO NOTHING),
	dropped AS (
		DELETE FROM "FileVersions" WHERE $13 AND "FileId" = $3 AND "VersionId" IN (
			SELECT "VersionId" FROM "FileVersions" WHERE "FileId" = $3 AND "VersionId" > 0 ORDER BY "VersionId" DESC
			OFFSET GREATEST($12::int, 1) - CASE WHEN EXISTS (SELECT 1 FROM "FileVersions" v, old
				WHERE v."FileId" = $3 AND v."VersionId" = 512 * old."MajorVersion" + old."MinorVersion") THEN 0 ELSE 1 END)),
	itemKept AS (
		INSERT INTO "ItemVersions" ("ListId", "ItemId", "VersionId", "Data", "Modified", "EditorId")
		SELECT $1, $2, 512 * "Version", "Data", "Modified", "EditorId" FROM old WHERE $14 ON CONFLICT DO NOTHING),
	itemDropped AS (
		DELETE FROM "ItemVersions" WHERE $14 AND "ListId" = $1 AND "ItemId" = $2 AND "VersionId" IN (
			SELECT "VersionId" FROM "ItemVersions" WHERE "ListId" = $1 AND "ItemId" = $2
			ORDER BY "VersionId" DESC OFFSET GREATEST($12::int, 1) - 1))`

// overwrite replaces existing's content (existing read with lockUpdate)
// by in's, as Files.Put does: by its holder while it is checked out the
// content of the check-out is kept (once) for Undo and check-in and the
// label stays; otherwise the replaced content becomes an earlier version
// when the library keeps versions (always, with keepAlways: a restore),
// and the file a new major version; its check-in comment goes with it.
// One statement.
func (t *tx) overwrite(ctx context.Context, lib *library, existing *storage.File, in storage.FileInput, keepAlways bool) (*storage.File, error) {
	if err := storage.CheckLock(existing, in.By); err != nil {
		return nil, err
	}
	held := storage.IsHeld(existing)
	var n *storage.File
	if held {
		n = storage.HeldOverwrite(existing, in, t.now)
	} else {
		n = storage.Overwritten(existing, in, t.now)
	}
	keep := held || keepAlways || lib.EnableVersioning
	if _, err := t.exec(ctx, `WITH `+keepFileVersionSQL+`,
		uncommented AS (DELETE FROM "FileVersions" WHERE NOT $15 AND "FileId" = $3 AND "VersionId" = `+commentRow+`),
		f AS (UPDATE "Files" SET "Blob" = $4, "Length" = $5, "MajorVersion" = $6, "MinorVersion" = $7 WHERE "Id" = $3),
		i AS (UPDATE "ListItems" SET "Version" = $8, "Modified" = $9, "EditorId" = $10 WHERE "ListId" = $1 AND "Id" = $2),
		`+logOne(storage.ChangeUpdate, "$3", "$9::timestamptz")+`
		SELECT 1`,
		lib.ID, n.ItemID, n.UniqueID, n.Blob, n.Length, n.MajorVersion, n.MinorVersion, n.Version, n.Modified, n.EditorID,
		keep, lib.MajorVersionLimit, keep && !held, lib.EnableVersioning, held); err != nil {
		return nil, err
	}
	return n, nil
}

// fileFor reads the file (no folder) at url of library listID, locked
// for a write.
func (a versions) fileFor(ctx context.Context, listID, url string, write bool) (*library, *storage.File, error) {
	lib, err := a.t.library(ctx, listID, write, false)
	if err != nil {
		return nil, nil, err
	}
	lock := lockNone
	if write {
		lock = lockUpdate
	}
	f, err := a.t.find(ctx, lib, url, lock)
	if err != nil {
		return nil, nil, err
	}
	if f.IsFolder {
		return nil, nil, storage.NotFound("the library has no file at this URL (a folder has no versions)")
	}
	return lib, f, nil
}

func (t *tx) fileVersions(ctx context.Context, fileID string) ([]*storage.FileVersion, error) {
	rows, _ := t.tx.Query(ctx, `SELECT "VersionId", "Blob", "Length", "Created", "CreatedBy", "CheckInComment"
		FROM "FileVersions" WHERE "FileId" = $1 AND "VersionId" > 0 ORDER BY "VersionId"`, fileID)
	vs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*storage.FileVersion, error) {
		var v storage.FileVersion
		err := row.Scan(&v.ID, &v.Blob, &v.Length, &v.Created, &v.CreatedBy, &v.CheckInComment)
		v.Label, v.Created = storage.VersionLabel(v.ID), v.Created.UTC()
		return &v, err
	})
	if vs == nil {
		vs = []*storage.FileVersion{}
	}
	return vs, interpretError(err)
}

// heldContent is the content f had when it was checked out, when its
// holder has replaced it (the version with f's own label); nil when not.
func (t *tx) heldContent(ctx context.Context, f *storage.File) (*storage.FileVersion, error) {
	if !storage.IsHeld(f) {
		return nil, nil
	}
	id := storage.VersionID(f.MajorVersion, f.MinorVersion)
	var v storage.FileVersion
	err := t.tx.QueryRow(ctx, `SELECT "VersionId", "Blob", "Length", "Created", "CreatedBy", "CheckInComment"
		FROM "FileVersions" WHERE "FileId" = $1 AND "VersionId" = $2`, f.UniqueID, id).
		Scan(&v.ID, &v.Blob, &v.Length, &v.Created, &v.CreatedBy, &v.CheckInComment)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	v.Label, v.Created = storage.VersionLabel(v.ID), v.Created.UTC()
	return &v, interpretError(err)
}

func (a versions) Comment(ctx context.Context, listID, url string) (string, error) {
	_, f, err := a.fileFor(ctx, listID, url, false)
	if err != nil {
		return "", err
	}
	var comment string
	err = a.t.tx.QueryRow(ctx, `SELECT "CheckInComment" FROM "FileVersions" WHERE "FileId" = $1 AND "VersionId" = `+commentRow,
		f.UniqueID).Scan(&comment)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return comment, interpretError(err)
}

func (a versions) Files(ctx context.Context, listID, url string) ([]*storage.FileVersion, error) {
	_, f, err := a.fileFor(ctx, listID, url, false)
	if err != nil {
		return nil, err
	}
	return a.t.fileVersions(ctx, f.UniqueID)
}

func (a versions) Restore(ctx context.Context, listID, url, label string, by int64) (*storage.File, error) {
	lib, f, err := a.fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	id, ok := storage.ParseVersionLabel(label)
	if !ok {
		return nil, storage.Invalid("a version label is major.minor, such as 1.0")
	}
	var v storage.FileVersion
	err = a.t.tx.QueryRow(ctx, `SELECT "Blob", "Length" FROM "FileVersions" WHERE "FileId" = $1 AND "VersionId" = $2 AND "VersionId" > 0`,
		f.UniqueID, id).Scan(&v.Blob, &v.Length)
	if err == pgx.ErrNoRows {
		return nil, errNoVersion
	}
	if err != nil {
		return nil, interpretError(err)
	}
	return a.t.overwrite(ctx, lib, f, storage.FileInput{Blob: v.Blob, Length: v.Length, By: by}, true)
}

// Delete and DeleteAll leave the content of a check-out alone: Undo
// needs it.
func (a versions) Delete(ctx context.Context, listID, url string, id int) error {
	_, f, err := a.fileFor(ctx, listID, url, true)
	if err != nil {
		return err
	}
	n, err := a.t.exec(ctx, `DELETE FROM "FileVersions" WHERE "FileId" = $1 AND "VersionId" = $2 AND "VersionId" <> $3 AND "VersionId" > 0`,
		f.UniqueID, id, heldLabel(f))
	if err == nil && n == 0 {
		return errNoVersion
	}
	return err
}

func (a versions) DeleteAll(ctx context.Context, listID, url string) error {
	_, f, err := a.fileFor(ctx, listID, url, true)
	if err != nil {
		return err
	}
	_, err = a.t.exec(ctx, `DELETE FROM "FileVersions" WHERE "FileId" = $1 AND "VersionId" <> $2 AND "VersionId" > 0`, f.UniqueID, heldLabel(f))
	return err
}

// heldLabel is the version id of a held file's check-out content (-1
// for a file not checked out).
func heldLabel(f *storage.File) int {
	if !storage.IsHeld(f) {
		return -1
	}
	return storage.VersionID(f.MajorVersion, f.MinorVersion)
}

func (a versions) Items(ctx context.Context, listID string, id int64) ([]*storage.ItemVersion, error) {
	t := a.t
	if err := t.check(false); err != nil {
		return nil, err
	}
	s, err := t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	cur, err := items(a).get(ctx, s, listID, id, false)
	if err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(ctx, `SELECT "VersionId", "Data", "Modified", "EditorId" FROM "ItemVersions"
		WHERE "ListId" = $1 AND "ItemId" = $2 ORDER BY "VersionId"`, listID, id)
	vs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*storage.ItemVersion, error) {
		var v storage.ItemVersion
		var data []byte
		if err := row.Scan(&v.ID, &data, &v.Created, &v.EditorID); err != nil {
			return nil, err
		}
		v.Label, v.Created = storage.VersionLabel(v.ID), v.Created.UTC()
		v.Values, err = decode(s, data)
		return &v, err
	})
	if err != nil {
		return nil, interpretError(err)
	}
	c := storage.ItemVersionOf(cur)
	c.IsCurrent = true
	return append(vs, c), nil
}

// keepItemVersionSQL are the CTEs of Items.Update that keep item $2 of
// list $1 as it was before the statement, when the list keeps versions,
// and drop the oldest beyond its limit; u is the update's CTE, which
// must have changed the row.
const keepItemVersionSQL = `l AS (SELECT "EnableVersioning" AS versioning, "MajorVersionLimit" AS lim FROM "Lists" WHERE "Id" = $1),
	itemKept AS (
		INSERT INTO "ItemVersions" ("ListId", "ItemId", "VersionId", "Data", "Modified", "EditorId")
		SELECT i."ListId", i."Id", 512 * i."Version", i."Data", i."Modified", i."EditorId" FROM "ListItems" i, l
		WHERE l.versioning AND i."ListId" = $1 AND i."Id" = $2 AND EXISTS (SELECT 1 FROM u) ON CONFLICT DO NOTHING),
	itemDropped AS (
		DELETE FROM "ItemVersions" WHERE "ListId" = $1 AND "ItemId" = $2 AND (SELECT versioning FROM l) AND EXISTS (SELECT 1 FROM u)
			AND "VersionId" IN (SELECT "VersionId" FROM "ItemVersions" WHERE "ListId" = $1 AND "ItemId" = $2
				ORDER BY "VersionId" DESC OFFSET GREATEST((SELECT lim FROM l), 1) - 1))`
