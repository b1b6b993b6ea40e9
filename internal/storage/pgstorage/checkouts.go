package pgstorage

import (
	"context"

	"github.com/cesivi/cesivi/internal/storage"
)

// A check-out is the file row's "CheckOutType" and "CheckedOutBy",
// changed under the row lock (lockUpdate): of two check-outs at once the
// second waits, then reads the first's and is ErrLocked. The content the
// file had when it was checked out is kept, at the holder's first
// overwrite, as a version with the file's own label (see overwrite);
// check-in keeps it as the earlier version, Undo puts it back.

type checkOuts struct{ t *tx }

func (t *tx) CheckOuts() storage.CheckOuts { return checkOuts{t} }

func (a checkOuts) CheckOut(ctx context.Context, listID, url string, by int64) (*storage.File, error) {
	_, f, err := versions(a).fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	changed, err := storage.CheckOutDecision(f, by)
	if err != nil || !changed {
		return f, err
	}
	n := storage.CheckedOut(f, by)
	if _, err := a.t.exec(ctx, `UPDATE "Files" SET "CheckOutType" = $2, "CheckedOutBy" = $3, "CheckedOutDate" = $4 WHERE "Id" = $1`,
		n.UniqueID, n.CheckOutType, n.CheckedOutBy, a.t.now); err != nil {
		return nil, err
	}
	return n, nil
}

func (a checkOuts) CheckIn(ctx context.Context, listID, url string, by int64, comment string, kind int) (*storage.File, error) {
	t := a.t
	lib, f, err := versions(a).fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckEndOfCheckOut(f, by); err != nil {
		return nil, err
	}
	if err := storage.CheckInComment(comment); err != nil {
		return nil, err
	}
	major, minor, err := storage.CheckedInLabel(f, kind)
	if err != nil {
		return nil, err
	}
	n := *f
	n.MajorVersion, n.MinorVersion = major, minor
	n.CheckOutType, n.CheckedOutBy = storage.CheckOutNone, 0
	n.Version++
	n.Modified, n.EditorID = t.now, by
	// The content of the check-out (kept already, or the current one)
	// becomes the earlier version, unless the check-in overwrites it or
	// the library keeps no versions; then a kept one goes.
	keep := kind != storage.CheckInOverwrite && lib.EnableVersioning
	if _, err := t.exec(ctx, `WITH `+keepFileVersionSQL+`,
		unkept AS (DELETE FROM "FileVersions" WHERE NOT $11 AND "FileId" = $3 AND "VersionId" = $16),
		`+setComment("$1", "$3", "$9", "$10", "$15")+`,
		f AS (UPDATE "Files" SET "Blob" = $4, "Length" = $5, "MajorVersion" = $6, "MinorVersion" = $7, "CheckOutType" = 2, "CheckedOutBy" = 0,
			"CheckedOutDate" = NULL WHERE "Id" = $3),
		i AS (UPDATE "ListItems" SET "Version" = $8, "Modified" = $9, "EditorId" = $10 WHERE "ListId" = $1 AND "Id" = $2),
		`+logOne(storage.ChangeUpdate, "$3", "$9::timestamptz")+`
		SELECT 1`,
		lib.ID, n.ItemID, n.UniqueID, n.Blob, n.Length, n.MajorVersion, n.MinorVersion, n.Version, n.Modified, n.EditorID,
		keep, lib.MajorVersionLimit, keep, lib.EnableVersioning, comment, heldLabel(f)); err != nil {
		return nil, err
	}
	return &n, nil
}

func (a checkOuts) Undo(ctx context.Context, listID, url string, by int64) (*storage.File, error) {
	t := a.t
	lib, f, err := versions(a).fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckEndOfCheckOut(f, by); err != nil {
		return nil, err
	}
	v, err := t.heldContent(ctx, f)
	if err != nil {
		return nil, err
	}
	n := *f
	n.CheckOutType, n.CheckedOutBy = storage.CheckOutNone, 0
	if v == nil {
		_, err := t.exec(ctx, `UPDATE "Files" SET "CheckOutType" = 2, "CheckedOutBy" = 0, "CheckedOutDate" = NULL WHERE "Id" = $1`, f.UniqueID)
		return &n, err
	}
	n.Blob, n.Length, n.Modified, n.EditorID = v.Blob, v.Length, v.Created, v.CreatedBy
	n.Version++
	if _, err := t.exec(ctx, `WITH v AS (DELETE FROM "FileVersions" WHERE "FileId" = $3 AND "VersionId" = $8),
		`+setComment("$1", "$3", "$7", "$10", "$9")+`,
		f AS (UPDATE "Files" SET "Blob" = $4, "Length" = $5, "CheckOutType" = 2, "CheckedOutBy" = 0, "CheckedOutDate" = NULL
			WHERE "Id" = $3),
		i AS (UPDATE "ListItems" SET "Version" = $6, "Modified" = $7, "EditorId" = $10 WHERE "ListId" = $1 AND "Id" = $2),
		`+logOne(storage.ChangeUpdate, "$3", "$11::timestamptz")+`
		SELECT 1`,
		lib.ID, n.ItemID, n.UniqueID, n.Blob, n.Length, n.Version, n.Modified, v.ID, v.CheckInComment, n.EditorID, t.now); err != nil {
		return nil, err
	}
	return &n, nil
}
