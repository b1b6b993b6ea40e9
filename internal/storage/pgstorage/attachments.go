package pgstorage

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// Attachments are rows of "Attachments", which the item's delete (and
// so its list's, web's and site's) cascades to. A write locks the item's
// row first: two servers adding one name to one item queue there, and
// the second then sees the first's attachment.

const attachmentCols = `"Id"::text, "ListId"::text, "ItemId", "Name", "Blob", "Length", "Version", "Created", "Modified", "AuthorId", "EditorId"`

type attachments struct{ t *tx }

func (t *tx) Attachments() storage.Attachments { return attachments{t} }

var errNoAttachment = storage.NotFound("the item has no attachment with this name")

// item reads what an attachment needs of its item's list (id, base type,
// root folder URL), locking the item's row for a write. A missing list
// or item is ErrNotFound.
func (a attachments) item(ctx context.Context, listID string, itemID int64, lock bool) (*storage.List, error) {
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	sql := `SELECT l."Id"::text, l."BaseType", l."RootFolderUrl" FROM "ListItems" i JOIN "Lists" l ON l."Id" = i."ListId"
		WHERE i."ListId" = $1 AND i."Id" = $2`
	if lock {
		sql += ` FOR UPDATE OF i`
	}
	var l storage.List
	err := a.t.tx.QueryRow(ctx, sql, listID, itemID).Scan(&l.ID, &l.BaseType, &l.RootFolderURL)
	if err == pgx.ErrNoRows {
		return nil, storage.NotFound("the list has no item %d", itemID)
	}
	return &l, interpretError(err)
}

// attachmentScanner turns rows of attachmentCols into files of list l.
func attachmentScanner(l *storage.List) pgx.RowToFunc[*storage.File] {
	return func(row pgx.CollectableRow) (*storage.File, error) {
		f := &storage.File{CheckOutType: storage.CheckOutNone}
		if err := row.Scan(&f.UniqueID, &f.ListID, &f.ItemID, &f.Name, &f.Blob, &f.Length, &f.Version,
			&f.Created, &f.Modified, &f.AuthorID, &f.EditorID); err != nil {
			return nil, err
		}
		f.Created, f.Modified = f.Created.UTC(), f.Modified.UTC()
		f.DirURL = storage.AttachmentsDir(l.RootFolderURL, f.ItemID)
		f.URL = f.DirURL + "/" + f.Name
		f.MajorVersion = f.Version
		return f, nil
	}
}

// named reads the item's attachment with this name, ignoring case; nil
// when there is none.
func (a attachments) named(ctx context.Context, l *storage.List, itemID int64, name string) (*storage.File, error) {
	rows, _ := a.t.tx.Query(ctx, `SELECT `+attachmentCols+` FROM "Attachments"
		WHERE "ListId" = $1 AND "ItemId" = $2 AND lower("Name") = lower($3)`, l.ID, itemID, name)
	f, err := pgx.CollectExactlyOneRow(rows, attachmentScanner(l))
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	return f, interpretError(err)
}

func (a attachments) List(ctx context.Context, listID string, itemID int64) ([]*storage.File, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	l, err := a.item(ctx, listID, itemID, false)
	if err != nil {
		return nil, err
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT `+attachmentCols+` FROM "Attachments" WHERE "ListId" = $1 AND "ItemId" = $2
		ORDER BY lower("Name") COLLATE "C", "Name" COLLATE "C"`, l.ID, itemID)
	fs, err := pgx.CollectRows(rows, attachmentScanner(l))
	if fs == nil {
		fs = []*storage.File{}
	}
	return fs, interpretError(err)
}

func (a attachments) Get(ctx context.Context, listID string, itemID int64, name string) (*storage.File, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	l, err := a.item(ctx, listID, itemID, false)
	if err != nil {
		return nil, err
	}
	f, err := a.named(ctx, l, itemID, name)
	if err == nil && f == nil {
		return nil, errNoAttachment
	}
	return f, err
}

func (a attachments) Put(ctx context.Context, listID string, itemID int64, in storage.FileInput) (*storage.File, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	l, err := a.item(ctx, listID, itemID, true)
	if err != nil {
		return nil, err
	}
	// Read after the lock: a statement that waited for it would see the
	// attachments as they were before the wait.
	old, err := a.named(ctx, l, itemID, in.Name)
	if err != nil {
		return nil, err
	}
	f, err := storage.PutAttachment(l, itemID, old, in, t.now)
	if err != nil {
		return nil, err
	}
	if old == nil {
		_, err = t.exec(ctx, `INSERT INTO "Attachments" (`+attachmentColNames+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)`,
			f.UniqueID, f.ListID, f.ItemID, f.Name, f.Blob, f.Length, f.Version, f.Created, f.AuthorID)
	} else {
		_, err = t.exec(ctx, `UPDATE "Attachments" SET "Blob" = $2, "Length" = $3, "Version" = $4, "Modified" = $5, "EditorId" = $6
			WHERE "Id" = $1`, f.UniqueID, f.Blob, f.Length, f.Version, f.Modified, f.EditorID)
	}
	if err != nil {
		return nil, err
	}
	if err := a.saveItem(ctx, l.ID, itemID, &in.By); err != nil {
		return nil, err
	}
	return f, nil
}

const attachmentColNames = `"Id", "ListId", "ItemId", "Name", "Blob", "Length", "Version", "Created", "Modified", "AuthorId", "EditorId"`

func (a attachments) Delete(ctx context.Context, listID string, itemID int64, name string) error {
	t := a.t
	if err := t.check(true); err != nil {
		return err
	}
	l, err := a.item(ctx, listID, itemID, true)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, `DELETE FROM "Attachments" WHERE "ListId" = $1 AND "ItemId" = $2 AND lower("Name") = lower($3)`,
		l.ID, itemID, name)
	if err != nil {
		return err
	}
	if n == 0 {
		return errNoAttachment
	}
	return a.saveItem(ctx, l.ID, itemID, nil)
}

// saveItem records on the item that its attachments changed, as
// SharePoint saves an item with them: its Attachments value (whether one
// is left), a new version (the ETag changes), Modified and, when known,
// the editor; and the list's LastItemModifiedDate.
func (a attachments) saveItem(ctx context.Context, listID string, itemID int64, by *int64) error {
	_, err := a.t.exec(ctx, `WITH i AS (
			UPDATE "ListItems" SET "Data" = jsonb_set("Data", '{`+storage.FieldAttachments+`}',
				to_jsonb(EXISTS (SELECT 1 FROM "Attachments" WHERE "ListId" = $1 AND "ItemId" = $2))),
				"Version" = "Version" + 1, "Modified" = $3, "EditorId" = COALESCE($4::bigint, "EditorId")
			WHERE "ListId" = $1 AND "Id" = $2 RETURNING "Guid"),
		`+logChanges(storage.ChangeUpdate, `ARRAY(SELECT $2::bigint FROM i)`, `ARRAY(SELECT "Guid" FROM i)`, "$3::timestamptz", "")+`
		SELECT 1`, listID, itemID, a.t.now, by)
	return err
}

// attachmentBlobs reports which of keys an attachment names, for the
// blob sweep (Files.BlobsInUse).
func (t *tx) attachmentBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(ctx, `SELECT DISTINCT "Blob" FROM "Attachments" WHERE "Blob" = ANY($1)`, keys)
	return collectKeys(rows)
}
