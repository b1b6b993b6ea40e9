package pgstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// A file's or folder's row in "Files" is read with its item: the item
// holds the version, times and people (one record of them).

// fileCols are named as storage.File's fields, for row_to_json.
const fileCols = `f."Id"::text AS "UniqueID", f."ListId"::text AS "ListID", f."ItemId" AS "ItemID", f."Name" AS "Name",
	f."Url" AS "URL", f."DirUrl" AS "DirURL", f."IsFolder" AS "IsFolder", f."Length" AS "Length", f."Blob" AS "Blob",
	i."Version" AS "Version", f."MajorVersion" AS "MajorVersion", f."MinorVersion" AS "MinorVersion",
	f."CheckOutType" AS "CheckOutType", f."CheckedOutBy" AS "CheckedOutBy", i."Created" AS "Created", i."Modified" AS "Modified",
	i."AuthorId" AS "AuthorID", i."EditorId" AS "EditorID", i."ScopeId" AS "ScopeID",
	CASE WHEN f."IsFolder" THEN (SELECT count(*) FROM "Files" c
		WHERE c."ListId" = f."ListId" AND lower(c."DirUrl") COLLATE "C" = lower(f."Url") COLLATE "C") ELSE 0 END AS "ItemCount"`

const fileFrom = ` FROM "Files" f JOIN "ListItems" i ON i."ListId" = f."ListId" AND i."Id" = f."ItemId"`

// urlIs matches a row's URL with parameter n, ignoring case, in the
// order "IX_Files_Url" keeps.
func urlIs(n string) string { return `lower(f."Url") COLLATE "C" = lower(` + n + `)` }

// subtree matches the row at URL parameter n and the rows below it (with
// f."SiteId" fixed): one range of "IX_Files_Url", from n up to n + '0'
// ('0' is the character after '/'), less the rows in it that only begin
// like n ("n.txt", "n-2").
func subtree(n string) string {
	ln := `lower(` + n + `)`
	return `(lower(f."Url") COLLATE "C" >= ` + ln + ` AND lower(f."Url") COLLATE "C" < ` + ln + ` || '0'
		AND substr(lower(f."Url"), char_length(` + ln + `) + 1, 1) IN ('', '/'))`
}

// Row locks, for the writes: the row (and its item) to change, or the
// folders a new entry goes under, which a concurrent delete or move of
// one of them must wait for (or see it gone).
const (
	lockNone   = ""
	lockUpdate = " FOR UPDATE OF f, i"
)

func scanFile(row pgx.CollectableRow) (*storage.File, error) {
	var f storage.File
	err := row.Scan(&f.UniqueID, &f.ListID, &f.ItemID, &f.Name, &f.URL, &f.DirURL, &f.IsFolder, &f.Length, &f.Blob,
		&f.Version, &f.MajorVersion, &f.MinorVersion, &f.CheckOutType, &f.CheckedOutBy, &f.Created, &f.Modified,
		&f.AuthorID, &f.EditorID, &f.ScopeID, &f.ItemCount)
	f.Created, f.Modified = f.Created.UTC(), f.Modified.UTC()
	return &f, err
}

type files struct{ t *tx }

func (t *tx) Files() storage.Files { return files{t} }

var (
	errNotLibrary = storage.Invalid("files and folders live in document libraries: the list is not one")
	errNoFile     = storage.NotFound("the library has no file or folder at this URL")
	errNoFolder   = storage.NotFound("the library has no folder at this URL")
)

// library is a list with the site collection it belongs to.
type library struct {
	storage.List
	SiteID string `db:"SiteId"`
}

// libraryRow is a library with its fields, when they are to be read.
type libraryRow struct {
	library
	Fields *string `db:"Fields"`
}

func (t *tx) cacheLibrary(l *library) {
	if t.libraries == nil {
		t.libraries = map[string]*library{}
	}
	t.libraries[l.ID] = l
}

// library reads a list for a Files call, and with withFields its fields
// unless this transaction has them, in one statement; a write needs a
// library. What it returns is what never changes of a list (its id, web,
// root folder, base type), read once per transaction.
func (t *tx) library(ctx context.Context, listID string, write, withFields bool) (*library, error) {
	if err := t.check(write); err != nil {
		return nil, err
	}
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	l, ok := t.libraries[lower(listID)]
	if !ok {
		_, cached := t.schemas[lower(listID)]
		cached = cached || !withFields
		row, err := one[libraryRow](ctx, t, storage.NotFound("no list has this id"), `SELECT `+listCols+`,
			(SELECT w."SiteId"::text FROM "Webs" w WHERE w."Id" = "Lists"."WebId") AS "SiteId",
			CASE WHEN NOT $2 THEN (SELECT json_agg(f)::text FROM (SELECT `+fieldCols+` FROM "Fields"
				WHERE "ListId" = $1 ORDER BY "Position") f) END AS "Fields"
			FROM "Lists" WHERE "Id" = $1`, listID, cached)
		if err != nil {
			return nil, err
		}
		if row.Fields != nil {
			var fs []*storage.Field
			if err := json.Unmarshal([]byte(*row.Fields), &fs); err != nil {
				return nil, fmt.Errorf("pgstorage: reading a library's fields: %w", err)
			}
			if t.schemas == nil {
				t.schemas = map[string]*storage.Schema{}
			}
			t.schemas[row.ID] = storage.NewSchema(fs)
		}
		l = &row.library
		t.cacheLibrary(l)
	}
	if write && l.BaseType != storage.BaseTypeDocumentLibrary {
		return nil, errNotLibrary
	}
	return l, nil
}

// fileAt reads the file or folder at a full URL of lib.
func (t *tx) fileAt(ctx context.Context, lib *library, url, lock string) (*storage.File, error) {
	rows, _ := t.tx.Query(ctx, `SELECT `+fileCols+fileFrom+` WHERE f."SiteId" = $1 AND `+urlIs("$2")+` AND f."ListId" = $3`+lock,
		lib.SiteID, url, lib.ID)
	f, err := pgx.CollectExactlyOneRow(rows, scanFile)
	if err == pgx.ErrNoRows {
		return nil, errNoFile
	}
	return f, interpretError(err)
}

// rootFolder is l's root folder with what it holds counted (and its
// time of change read now: l may come from the transaction's cache).
func (t *tx) rootFolder(ctx context.Context, l *storage.List) (*storage.File, error) {
	var n int64
	c := *l
	err := t.tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM "Files" f WHERE f."ListId" = $1 AND lower(f."DirUrl") COLLATE "C" = lower($2)),
		"LastItemModifiedDate" FROM "Lists" WHERE "Id" = $1`, l.ID, l.RootFolderURL).Scan(&n, &c.LastItemModifiedDate)
	if err == pgx.ErrNoRows {
		return nil, storage.NotFound("no list has this id")
	}
	c.LastItemModifiedDate = c.LastItemModifiedDate.UTC()
	return storage.RootFolder(&c, n), interpretError(err)
}

// find reads what is at url in lib: its root folder, a file or a folder.
func (t *tx) find(ctx context.Context, lib *library, url, lock string) (*storage.File, error) {
	rel, err := storage.ResolveFileURL(lib.RootFolderURL, url)
	if err != nil {
		return nil, err
	}
	if len(rel) == 0 {
		return t.rootFolder(ctx, &lib.List)
	}
	return t.fileAt(ctx, lib, lib.RootFolderURL+"/"+strings.Join(rel, "/"), lock)
}

// place returns the stored URL of the folder at url of lib, for an
// entry to go in it, and what is at name in it (nil for nothing; name ""
// looks for nothing), in one statement. It locks the folders on the way
// FOR SHARE: a delete or move of one of them, which locks it FOR UPDATE
// first, then either waits for this transaction or has happened, and
// the folder is missing. What is at name is locked FOR UPDATE.
func (t *tx) place(ctx context.Context, lib *library, url, name string) (string, *storage.File, error) {
	rel, err := storage.ResolveFileURL(lib.RootFolderURL, url)
	if err != nil {
		return "", nil, err
	}
	chain := storage.FolderChain(lib.RootFolderURL, rel)
	target := ""
	if name != "" {
		target = storage.FolderChain(lib.RootFolderURL, append(slices.Clip(rel), name))[len(rel)]
	}
	var urls []string
	var existing *string
	if err := t.tx.QueryRow(ctx, `WITH chain AS (
			SELECT f."Url" FROM "Files" f WHERE f."SiteId" = $1 AND f."ListId" = $2 AND f."IsFolder"
				AND lower(f."Url") COLLATE "C" IN (SELECT lower(u) FROM unnest($3::text[]) u) FOR SHARE),
		ex AS (
			SELECT `+fileCols+fileFrom+` WHERE f."SiteId" = $1 AND `+urlIs("$4")+` AND f."ListId" = $2`+lockUpdate+`)
		SELECT COALESCE((SELECT array_agg("Url") FROM chain), '{}'), (SELECT row_to_json(ex)::text FROM ex)`,
		lib.SiteID, lib.ID, chain, target).Scan(&urls, &existing); err != nil {
		return "", nil, interpretError(err)
	}
	if len(urls) != len(chain) {
		return "", nil, errNoFolder
	}
	dir := lib.RootFolderURL
	for _, u := range urls {
		if strings.Count(u, "/") > strings.Count(dir, "/") {
			dir = u
		}
	}
	if existing == nil {
		return dir, nil, nil
	}
	var f storage.File
	if err := json.Unmarshal([]byte(*existing), &f); err != nil {
		return "", nil, fmt.Errorf("pgstorage: reading a file: %w", err)
	}
	f.Created, f.Modified = f.Created.UTC(), f.Modified.UTC()
	return dir, &f, nil
}

func (a files) Get(ctx context.Context, listID, url string) (*storage.File, error) {
	lib, err := a.t.library(ctx, listID, false, false)
	if err != nil {
		return nil, err
	}
	return a.t.find(ctx, lib, url, lockNone)
}

func (a files) GetByID(ctx context.Context, webID, uniqueID string) (*storage.File, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	errNone := storage.NotFound("the web has no file or folder with this id")
	if !isGUID(webID) || !isGUID(uniqueID) {
		return nil, errNone
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT `+fileCols+fileFrom+` WHERE f."Id" = $1 AND f."WebId" = $2`, uniqueID, webID)
	f, err := pgx.CollectExactlyOneRow(rows, scanFile)
	if err != pgx.ErrNoRows {
		return f, interpretError(err)
	}
	// A root folder's id is its library's.
	l, err := lists(a).Get(ctx, webID, uniqueID)
	if err != nil {
		return nil, errNone
	}
	return a.t.rootFolder(ctx, l)
}

func (a files) GetByItem(ctx context.Context, listID string, itemID int64) (*storage.File, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	return a.t.fileOfItem(ctx, listID, itemID, lockNone)
}

func (t *tx) fileOfItem(ctx context.Context, listID string, itemID int64, lock string) (*storage.File, error) {
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	rows, _ := t.tx.Query(ctx, `SELECT `+fileCols+fileFrom+` WHERE f."ListId" = $1 AND f."ItemId" = $2`+lock, listID, itemID)
	f, err := pgx.CollectExactlyOneRow(rows, scanFile)
	if err == pgx.ErrNoRows {
		return nil, storage.NotFound("item %d of the list carries no file or folder", itemID)
	}
	return f, interpretError(err)
}

func (a files) Children(ctx context.Context, listID, folderURL string, folders bool) ([]*storage.File, error) {
	lib, err := a.t.library(ctx, listID, false, false)
	if err != nil {
		return nil, err
	}
	dir, err := a.t.find(ctx, lib, folderURL, lockNone)
	if err != nil {
		return nil, err
	}
	if !dir.IsFolder {
		return nil, errNoFolder
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT `+fileCols+fileFrom+` WHERE f."ListId" = $1 AND lower(f."DirUrl") COLLATE "C" = lower($2)
		AND f."IsFolder" = $3 ORDER BY lower(f."Name") COLLATE "C", f."Name" COLLATE "C"`, lib.ID, dir.URL, folders)
	out, err := pgx.CollectRows(rows, scanFile)
	if out == nil {
		out = []*storage.File{}
	}
	return out, interpretError(err)
}

func (a files) BlobsInUse(ctx context.Context, keys []string) (map[string]bool, error) {
	return storage.BlobsNamedByAny(ctx, keys, a.fileBlobs, a.t.uploadBlobs, a.t.attachmentBlobs, a.t.historyBlobs)
}

// fileBlobs are the keys files name.
func (a files) fileBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT DISTINCT "Blob" FROM "Files" WHERE "Blob" <> '' AND "Blob" = ANY($1::text[])`, keys)
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, interpretError(err)
	}
	out := make(map[string]bool, len(found))
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}
