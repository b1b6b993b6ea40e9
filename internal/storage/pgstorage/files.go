package pgstorage

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// A file's or folder's row in "Files" is read with its item: the item
// holds the version, times and people (one record of them).

const fileCols = `f."Id"::text, f."ListId"::text, f."ItemId", f."Name", f."Url", f."DirUrl", f."IsFolder", f."Length", f."Blob",
	i."Version", f."MajorVersion", f."MinorVersion", f."CheckOutType", f."CheckedOutBy", i."Created", i."Modified", i."AuthorId", i."EditorId",
	CASE WHEN f."IsFolder" THEN (SELECT count(*) FROM "Files" c
		WHERE c."ListId" = f."ListId" AND lower(c."DirUrl") COLLATE "C" = lower(f."Url") COLLATE "C") ELSE 0 END`

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
		&f.AuthorID, &f.EditorID, &f.ItemCount)
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

// library reads a list for a Files call; a write needs a library.
func (t *tx) library(ctx context.Context, listID string, write bool) (*library, error) {
	if err := t.check(write); err != nil {
		return nil, err
	}
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	l, err := one[library](ctx, t, storage.NotFound("no list has this id"), `SELECT `+listCols+`,
		(SELECT w."SiteId"::text FROM "Webs" w WHERE w."Id" = "Lists"."WebId") AS "SiteId" FROM "Lists" WHERE "Id" = $1`, listID)
	if err != nil {
		return nil, err
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

// rootFolder is lib's root folder with what it holds counted.
func (t *tx) rootFolder(ctx context.Context, l *storage.List) (*storage.File, error) {
	var n int64
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM "Files" f WHERE f."ListId" = $1 AND lower(f."DirUrl") COLLATE "C" = lower($2)`,
		l.ID, l.RootFolderURL).Scan(&n)
	return storage.RootFolder(l, n), interpretError(err)
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

// parentFolder returns the stored URL of the folder at url of lib, for
// an entry to go in it, and locks the folders on the way (FOR SHARE):
// a delete or move of one of them, which locks it FOR UPDATE first,
// then either waits for this transaction or has happened, and the
// folder is missing.
func (t *tx) parentFolder(ctx context.Context, lib *library, url string) (string, error) {
	rel, err := storage.ResolveFileURL(lib.RootFolderURL, url)
	if err != nil {
		return "", err
	}
	if len(rel) == 0 {
		return lib.RootFolderURL, nil
	}
	chain := storage.FolderChain(lib.RootFolderURL, rel)
	rows, _ := t.tx.Query(ctx, `SELECT f."Url" FROM "Files" f WHERE f."SiteId" = $1 AND f."ListId" = $2 AND f."IsFolder"
		AND lower(f."Url") COLLATE "C" IN (SELECT lower(u) FROM unnest($3::text[]) u) FOR SHARE`, lib.SiteID, lib.ID, chain)
	urls, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", interpretError(err)
	}
	if len(urls) != len(chain) {
		return "", errNoFolder
	}
	deepest := urls[0]
	for _, u := range urls {
		if strings.Count(u, "/") > strings.Count(deepest, "/") {
			deepest = u
		}
	}
	return deepest, nil
}

func (a files) Get(ctx context.Context, listID, url string) (*storage.File, error) {
	lib, err := a.t.library(ctx, listID, false)
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
	lib, err := a.t.library(ctx, listID, false)
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
