package pgstorage

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// Chunked uploads are rows of "UploadSessions", each with its parts as a
// jsonb array (see migration 005 for why). An append is one conditional
// UPDATE: it adds the part only where "Size" is the chunk's offset and
// the chunk is not a resend of the last part. Two servers appending at
// one offset queue on the row lock; the second re-evaluates the
// condition on the row the first wrote and updates nothing, and only
// then is the row read to tell a resend from a conflict.

const uploadCols = `"Id"::text, "ListId"::text, "FileUrl", "UserId", "Parts", "Started", "Touched"`

type uploads struct{ t *tx }

func (t *tx) Uploads() storage.Uploads { return uploads{t} }

var errNoUpload = storage.NotFound("no upload in progress has this id")

func scanUpload(row pgx.CollectableRow) (*storage.Upload, error) {
	var u storage.Upload
	var parts []byte
	if err := row.Scan(&u.ID, &u.ListID, &u.FileURL, &u.UserID, &parts, &u.Started, &u.Touched); err != nil {
		return nil, err
	}
	u.Started, u.Touched = u.Started.UTC(), u.Touched.UTC()
	if err := json.Unmarshal(parts, &u.Parts); err != nil {
		return nil, err
	}
	return &u, nil
}

// oneUpload reads the single upload a statement returns; none is
// errNoUpload.
func (a uploads) oneUpload(ctx context.Context, sql string, args ...any) (*storage.Upload, error) {
	rows, _ := a.t.tx.Query(ctx, sql, args...)
	u, err := pgx.CollectExactlyOneRow(rows, scanUpload)
	if err == pgx.ErrNoRows {
		return nil, errNoUpload
	}
	return u, interpretError(err)
}

func (a uploads) Start(ctx context.Context, in storage.Upload) (*storage.Upload, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	if err := storage.CheckUploadStart(in); err != nil {
		return nil, err
	}
	u := in
	u.Parts = slices.Clone(in.Parts)
	u.ID, _ = storage.UploadID(in.ID)
	u.ListID = lower(in.ListID)
	u.Started, u.Touched = t.now, t.now
	parts, err := json.Marshal(u.Parts)
	if err != nil {
		return nil, err
	}
	// ON CONFLICT, not the unique violation: an error would abort the
	// caller's transaction, and of two servers starting one id at once
	// the second waits for the first and then inserts nothing.
	n, err := t.exec(ctx, `INSERT INTO "UploadSessions" ("Id", "ListId", "FileUrl", "UserId", "Parts", "Size", "Started", "Touched")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT ("Id") DO NOTHING`,
		u.ID, u.ListID, u.FileURL, u.UserID, parts, u.Size(), t.now)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, storage.Conflict("an upload with this id is in progress")
	}
	return &u, nil
}

func (a uploads) Get(ctx context.Context, id string) (*storage.Upload, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	key, ok := storage.UploadID(id)
	if !ok {
		return nil, errNoUpload
	}
	return a.oneUpload(ctx, `SELECT `+uploadCols+` FROM "UploadSessions" WHERE "Id" = $1`, key)
}

func (a uploads) Append(ctx context.Context, id string, offset, size int64, blob string) (*storage.Upload, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	if err := storage.CheckUploadPart(offset, size, blob); err != nil {
		return nil, err
	}
	key, ok := storage.UploadID(id)
	if !ok {
		return nil, errNoUpload
	}
	part, err := json.Marshal([]storage.UploadPart{{Offset: offset, Size: size, Blob: blob}})
	if err != nil {
		return nil, err
	}
	u, err := a.oneUpload(ctx, `UPDATE "UploadSessions" SET "Parts" = "Parts" || $4::jsonb, "Size" = "Size" + $3, "Touched" = $5
		WHERE "Id" = $1 AND "Size" = $2
			AND (("Parts"->-1->>'Offset')::bigint, ("Parts"->-1->>'Size')::bigint) IS DISTINCT FROM ($2::bigint, $3::bigint)
		RETURNING `+uploadCols, key, offset, size, part, t.now)
	if err != errNoUpload {
		return u, err
	}
	// Nothing appended: no such upload, a resend, or another offset.
	if u, err = a.Get(ctx, key); err != nil {
		return nil, err
	}
	resend, err := u.Accept(offset, size)
	switch {
	case err != nil:
		return nil, err
	case resend:
		return u, nil
	}
	// The chunk fits now but did not when it was appended: another
	// server's chunk arrived in between.
	return nil, storage.Conflict("another chunk of the upload arrived at the same time")
}

func (a uploads) Delete(ctx context.Context, id string) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	key, ok := storage.UploadID(id)
	if !ok {
		return errNoUpload
	}
	n, err := a.t.exec(ctx, `DELETE FROM "UploadSessions" WHERE "Id" = $1`, key)
	if err == nil && n == 0 {
		return errNoUpload
	}
	return err
}

func (a uploads) Expired(ctx context.Context, before time.Time) ([]*storage.Upload, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT `+uploadCols+` FROM "UploadSessions" WHERE "Touched" < $1 ORDER BY "Touched", "Id"`, before)
	us, err := pgx.CollectRows(rows, scanUpload)
	if us == nil {
		us = []*storage.Upload{}
	}
	return us, interpretError(err)
}

// uploadBlobs reports which of keys a part of an upload in progress
// names, for the blob sweep (Files.BlobsInUse): a chunk received but not
// yet finished into a file is still in use. It reads every upload in
// progress (no index looks inside the arrays): there are few, as the
// sweep also ends the abandoned ones.
func (t *tx) uploadBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(ctx, `SELECT DISTINCT p->>'Blob' FROM "UploadSessions", jsonb_array_elements("Parts") p
		WHERE p->>'Blob' = ANY($1)`, keys)
	return collectKeys(rows)
}

// collectKeys reads a column of blob keys as a set.
func collectKeys(rows pgx.Rows) (map[string]bool, error) {
	ks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, interpretError(err)
	}
	used := make(map[string]bool, len(ks))
	for _, k := range ks {
		used[k] = true
	}
	return used, nil
}
