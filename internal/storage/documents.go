package storage

import (
	"context"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
)

// Document management beyond folders and files: versions, check-out,
// attachments, the recycle bin and chunked uploads. Each is an aggregate
// of its own, reached from Tx.

// FileVersion is an earlier version of a file's content.
type FileVersion struct {
	// ID is SharePoint's version id, 512 × major + minor (512 is "1.0").
	ID             int
	Label          string // "1.0"
	Blob           string
	Length         int64
	Created        time.Time // when this version was made current
	CreatedBy      int64
	CheckInComment string
}

// ItemVersion is a version of an item's values, in a list or library
// whose versioning is on (List.EnableVersioning).
type ItemVersion struct {
	ID        int    // 512 × major + minor
	Label     string // "1.0"
	Values    map[string]odata.Value
	Created   time.Time
	EditorID  int64
	IsCurrent bool
}

// Versions are the version histories of files and items.
//
// Overwriting a file's content (Files.Put, a move or copy onto it, a
// restore) keeps the replaced content as a FileVersion, at most the
// library's MajorVersionLimit of them (the oldest dropped first). Every
// change of an item of a list with EnableVersioning records the values
// it replaced as an ItemVersion.
type Versions interface {
	// Comment is the comment the file's current content was checked in
	// with ("" when none).
	Comment(ctx context.Context, listID, url string) (string, error)
	// Files lists a file's earlier versions, oldest first (the current
	// one is the File itself).
	Files(ctx context.Context, listID, url string) ([]*FileVersion, error)
	// Restore makes an earlier version's content (label "1.0") current,
	// as a new major version.
	Restore(ctx context.Context, listID, url, label string, by int64) (*File, error)
	// Delete removes one earlier version by id; DeleteAll every one.
	Delete(ctx context.Context, listID, url string, id int) error
	DeleteAll(ctx context.Context, listID, url string) error
	// Items lists an item's versions, oldest first, the current one last
	// (IsCurrent).
	Items(ctx context.Context, listID string, id int64) ([]*ItemVersion, error)
}

// CheckOuts are SharePoint's check-out and check-in of files.
//
// While a file is checked out, Put, Move (of it or a folder holding
// it), a copy onto it, recycling and item updates by anyone but its
// holder are ErrLocked; Files.Delete and Items.Delete, which name no
// user, are ErrLocked for everyone (the holder checks it in or undoes
// the check-out first). The holder's overwrites make no new version
// until check-in: the content the file had at check-out is kept, listed
// among its versions with the file's own label, and becomes the earlier
// version at check-in (or the current content again at Undo).
type CheckOuts interface {
	// CheckOut checks a file out to user by (CheckOutOnline); out to
	// another user already is ErrLocked, to by already is no change.
	CheckOut(ctx context.Context, listID, url string, by int64) (*File, error)
	// CheckIn ends by's check-out: kind 0 a minor version (x.y+1), 1 a
	// major one (x+1.0), 2 overwrite (no new version); the comment is
	// kept with the version. Not checked out is ErrInvalid, out to
	// another user ErrLocked.
	CheckIn(ctx context.Context, listID, url string, by int64, comment string, kind int) (*File, error)
	// Undo ends by's check-out and restores the content and version the
	// file had when it was checked out.
	Undo(ctx context.Context, listID, url string, by int64) (*File, error)
}

// Attachments are the files attached to list items: at
// <list root>/Attachments/<item id>/<name>, with no items of their own.
// An item's Attachments value is true while it has one; deleting the
// item deletes them.
type Attachments interface {
	List(ctx context.Context, listID string, itemID int64) ([]*File, error)
	Get(ctx context.Context, listID string, itemID int64, name string) (*File, error)
	// Put adds one (a taken name is ErrConflict) or, with in.Overwrite,
	// replaces its content. in.FolderURL is ignored.
	Put(ctx context.Context, listID string, itemID int64, in FileInput) (*File, error)
	Delete(ctx context.Context, listID string, itemID int64, name string) error
}

// SharePoint's recycle bin item types (SP.RecycleBinItemType).
const (
	RecycleFile       = 1
	RecycleListItem   = 3
	RecycleList       = 4
	RecycleFolder     = 5
	RecycleAttachment = 7
)

// RecycleBinItem is something deleted to a site's recycle bin.
type RecycleBinItem struct {
	ID       string // guid
	SiteID   string
	WebID    string
	ItemType int
	// LeafName is the name of what was deleted (a file's or folder's
	// name, a list's title, an item's Title or id); DirName the URL of
	// where it was, server-relative without the leading '/'
	// ("sites/dev/Shared Documents/a"), as SharePoint writes it.
	LeafName    string
	DirName     string
	Title       string
	DeletedBy   int64
	DeletedDate time.Time
	// Size is the bytes of file content it holds, versions included.
	Size int64
}

// RecycleBin is a site collection's first-stage recycle bin. What is in
// it is invisible everywhere else (no Get, Query, Children or URL finds
// it and its names are free) until it is restored; its blobs stay in
// use.
type RecycleBin interface {
	// RecycleFile moves a file, or a folder with everything in it, with
	// their items and versions, to the bin; ifVersion as in Files.Delete.
	RecycleFile(ctx context.Context, listID, url string, by int64, ifVersion int) (*RecycleBinItem, error)
	RecycleItem(ctx context.Context, listID string, id int64, by int64, ifVersion int) (*RecycleBinItem, error)
	RecycleList(ctx context.Context, webID, listID string, by int64) (*RecycleBinItem, error)
	RecycleAttachment(ctx context.Context, listID string, itemID int64, name string, by int64) (*RecycleBinItem, error)
	// List returns a site's bin, newest first: the whole site's (webID
	// "") or what was deleted from one web and its subwebs.
	List(ctx context.Context, siteID, webID string) ([]*RecycleBinItem, error)
	Get(ctx context.Context, siteID, id string) (*RecycleBinItem, error)
	// Restore puts it back where it was, with its ids, versions and URLs.
	// A name taken there meanwhile is ErrConflict; a parent that is gone
	// (folder, item, list, web) is ErrNotFound.
	Restore(ctx context.Context, siteID, id string) error
	// Delete removes it for good (its blobs become orphans for the sweep);
	// Empty does so for a whole bin (webID "" for the site's).
	Delete(ctx context.Context, siteID, id string) error
	Empty(ctx context.Context, siteID, webID string) error
}

// UploadPart is one chunk of a chunked upload.
type UploadPart struct {
	Offset int64
	Size   int64
	Blob   string
}

// Upload is a chunked upload in progress (startUpload … finishUpload).
// Its state is in the database, so each chunk may reach another server.
type Upload struct {
	ID      string // the client's uploadId (a guid, lower case)
	ListID  string
	FileURL string // the file being written (PnPjs creates it, empty, first)
	UserID  int64  // only this user may continue, finish or cancel it
	Parts   []UploadPart
	Started time.Time
	Touched time.Time // when the last chunk arrived
}

// Size is the bytes received so far: the next chunk's offset.
func (u *Upload) Size() int64 {
	if len(u.Parts) == 0 {
		return 0
	}
	last := u.Parts[len(u.Parts)-1]
	return last.Offset + last.Size
}

// Uploads are the chunked uploads in progress, of every site.
type Uploads interface {
	// Start opens an upload with its first part (offset 0); an id in use
	// is ErrConflict.
	Start(ctx context.Context, u Upload) (*Upload, error)
	Get(ctx context.Context, id string) (*Upload, error)
	// Append adds the part received at offset, which must be Size()
	// (ErrConflict otherwise) — except a part equal in offset and size to
	// the last one, a client resending a chunk whose answer it lost: that
	// changes nothing and answers the upload as it is.
	Append(ctx context.Context, id string, offset, size int64, blob string) (*Upload, error)
	// Delete ends an upload, finished or cancelled: its parts' blobs are
	// no longer in use.
	Delete(ctx context.Context, id string) error
	// Expired lists uploads last touched before the time given.
	Expired(ctx context.Context, before time.Time) ([]*Upload, error)
}
