package storage

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Document libraries hold folders and files. Each folder and file is
// also an item of its library, so that $filter, $select and paging work
// on libraries as on lists: the item carries FileLeafRef (the name),
// FileRef (the server-relative URL), FileDirRef (the parent folder's
// URL) and FSObjType / FileSystemObjectType (0 file, 1 folder), kept by
// the provider. File content is not here: a file names its blob, which a
// blob store (internal/blobstore) holds; the metadata that names a blob
// is only ever committed after the blob is durable.
//
// The items of a library come and go with their files and folders:
// Items().Create on a library is ErrInvalid (add a file or a folder),
// Items().Delete of a folder's item deletes everything in the folder, and
// Items().Update cannot write the fields the provider keeps (read-only).
//
// Paths never leave their library. URLs arrive decoded, but every method
// refuses, whatever cleaned them before, a URL with an empty ("//"), "."
// or ".." segment or a backslash (ErrInvalid), and treats one outside the
// library it names as missing (ErrNotFound): see ResolveFileURL.

// The item fields of a library, beside the fields every list has.
const (
	FieldFileLeafRef = "FileLeafRef"
	FieldFileRef     = "FileRef"
	FieldFileDirRef  = "FileDirRef"
	FieldFSObjType   = "FSObjType"
	// FieldFileSystemObjectType exists on every list (0 on list items).
	FieldFileSystemObjectType = "FileSystemObjectType"
)

// SharePoint's check-out types (SP.CheckOutType).
const (
	CheckOutOnline  = 0
	CheckOutOffline = 1
	CheckOutNone    = 2
)

// File is a file or a folder of a document library.
type File struct {
	// UniqueID is the file's or folder's guid (lower case); it is also
	// its item's GUID. A library's root folder, which is no item, has
	// its library's id.
	UniqueID string
	ListID   string
	// ItemID is the item of the library that carries this file or
	// folder; 0 for a library's root folder, which is no item.
	ItemID int64
	// ScopeID is the item's ScopeID ("" while it inherits its
	// library's; the library's root folder has "").
	ScopeID  string
	Name     string // FileLeafRef: "report.docx"
	URL      string // FileRef, server-relative: "/sites/dev/Shared Documents/a/report.docx"
	DirURL   string // FileDirRef: "/sites/dev/Shared Documents/a"
	IsFolder bool
	// Length is the content's size in bytes (0 for a folder).
	Length int64
	// Blob is the blob store key of the current content ("" for a
	// folder).
	Blob string
	// Version is the ETag's number ("{GUID},n"): the item's version, one
	// more for each change of content or properties (Items().Update
	// included). Created, Modified, AuthorID and EditorID are the item's
	// too: one record of them, kept in the same transaction.
	Version int
	// MajorVersion and MinorVersion make UIVersionLabel ("3.0"); a new
	// file is 1.0 and each overwrite of its content adds one major
	// version.
	MajorVersion int
	MinorVersion int
	// CheckOutType is CheckOutNone unless the file is checked out, by
	// CheckedOutBy (a site user id, 0 when none).
	CheckOutType int
	CheckedOutBy int64
	Created      time.Time // TimeCreated
	Modified     time.Time // TimeLastModified
	AuthorID     int64
	EditorID     int64
	// ItemCount is, for a folder, the number of files and folders directly
	// in it.
	ItemCount int64
}

// FolderInput creates a folder.
type FolderInput struct {
	// ParentURL is the server-relative URL of the folder to create it in
	// (the library's root folder or a folder of the library).
	ParentURL string
	Name      string
	By        int64 // site user id recorded as author and editor
}

// FileInput adds a file, or replaces the content of one.
type FileInput struct {
	// FolderURL is the server-relative URL of the folder the file goes
	// in; Name is its name there.
	FolderURL string
	Name      string
	// Overwrite replaces the content of a file already at that name (a
	// new major version); without it, an existing name is ErrConflict.
	// A folder at that name is ErrConflict either way.
	Overwrite bool
	// IfVersion, when not 0, must be the replaced file's Version
	// (If-Match); otherwise ErrConflict.
	IfVersion int
	Blob      string // the blob store key of the content, already durable
	Length    int64
	By        int64
}

// MoveInput moves (renames) or copies a file or folder within its site
// collection, possibly into another library of the same site.
type MoveInput struct {
	// ListID is the library of From: the one the caller located it in,
	// as for Get. The site collection it belongs to bounds To.
	ListID string
	// From is the server-relative URL of the file or folder; To is the
	// server-relative URL it will have, in any library of the site
	// collection (the one whose root folder holds it).
	From, To string
	// Overwrite replaces a file at To by a file: a move deletes the one
	// there with its item and versions; a copy replaces its content as
	// Put does (the same file and item, a new major version, the replaced
	// content kept as a version). Without it an existing To is
	// ErrConflict. A folder is never overwritten, nor replaced by a
	// folder.
	Overwrite bool
	By        int64
}

// Files are the folders and files of a site collection's libraries.
// URLs are server-relative, compared ignoring case as SharePoint does,
// and stored with the case they were created with.
type Files interface {
	// Get returns the file or folder at a server-relative URL inside
	// library listID; the library's root folder URL gives its root folder
	// (ItemID 0; any list has one). Anything else is ErrNotFound.
	Get(ctx context.Context, listID, url string) (*File, error)
	// GetByID returns the file or folder of web webID (any of its
	// libraries) with this UniqueID.
	GetByID(ctx context.Context, webID, uniqueID string) (*File, error)
	// GetByItem returns the file or folder that item itemID of library
	// listID carries.
	GetByItem(ctx context.Context, listID string, itemID int64) (*File, error)
	// Children lists the folders (folders true) or the files directly in
	// the folder at folderURL, by name ignoring case; a missing folder is
	// ErrNotFound.
	Children(ctx context.Context, listID, folderURL string, folders bool) ([]*File, error)
	// AddFolder creates a folder (and its item). A name taken in the
	// parent, by a file or a folder, ignoring case, is ErrConflict; a
	// missing parent is ErrNotFound; a name SharePoint refuses (see
	// CheckLeafName) is ErrInvalid.
	AddFolder(ctx context.Context, listID string, in FolderInput) (*File, error)
	// Put adds a file (and its item) or, with Overwrite, replaces a
	// file's content: the same UniqueID and item, Version and
	// MajorVersion one more. The parent folder must exist (ErrNotFound).
	// AddFolder and Put on a list that is no library are ErrInvalid.
	Put(ctx context.Context, listID string, in FileInput) (*File, error)
	// Delete removes a file or a folder with everything in it, and their
	// items, in the transaction. ifVersion, when not 0, must be current
	// (ErrConflict). The root folder cannot be deleted (ErrInvalid).
	Delete(ctx context.Context, listID, url string, ifVersion int) error
	// Move moves or renames a file or folder (with everything in it:
	// the URLs below change, ids and versions stay). Copy copies one,
	// new ids, version 1, the same blobs. Both work across the libraries
	// of one site collection; the target's parent folder must exist.
	// Into another library, the items are new items of that library
	// (new ids; the values of fields it has by the same internal name
	// go along) and a move keeps the UniqueIDs. A folder moved or copied
	// into itself, and a file copied onto itself, are ErrInvalid.
	Move(ctx context.Context, in MoveInput) (*File, error)
	Copy(ctx context.Context, in MoveInput) (*File, error)
	// BlobsInUse reports which of keys some file still names (for the
	// blob sweep: an unnamed blob older than its grace time is an
	// orphan).
	BlobsInUse(ctx context.Context, keys []string) (map[string]bool, error)
}

// MaxURLLength is the longest decoded server-relative URL a file or
// folder may have, as in SharePoint Online.
const MaxURLLength = 400

// CheckLeafName refuses a file or folder name SharePoint refuses: empty,
// containing " * : < > ? / \ | or a control character, starting or
// ending with a space, ending with '.', "." or "..", or a name Windows
// reserves (CON, PRN, AUX, NUL, COM1–COM9, LPT1–LPT9, with or without an
// extension). The message names the rule, never the name.
func CheckLeafName(name string) error {
	switch {
	case name == "":
		return Invalid("a file or folder name cannot be empty")
	case name == "." || name == "..":
		return Invalid("a file or folder name cannot be '.' or '..'")
	case strings.ContainsAny(name, "\"*:<>?/\\|"):
		return Invalid(`a file or folder name cannot contain any of " * : < > ? / \ |`)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return Invalid("a file or folder name cannot contain control characters")
	case strings.HasPrefix(name, " ") || strings.HasSuffix(name, " "):
		return Invalid("a file or folder name cannot start or end with a space")
	case strings.HasSuffix(name, "."):
		return Invalid("a file or folder name cannot end with '.'")
	case reservedName(name):
		return Invalid("the file or folder name is reserved (CON, PRN, AUX, NUL, COM1–COM9, LPT1–LPT9)")
	case utf8.RuneCountInString(name) > MaxURLLength:
		return Invalid("a file or folder name is at most %d characters", MaxURLLength)
	}
	return nil
}

func reservedName(name string) bool {
	base := strings.ToUpper(name)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	return len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) &&
		base[3] >= '1' && base[3] <= '9'
}

// BlobsNamedByAny is Files.BlobsInUse for a provider whose references
// to blobs live in several places (files, versions, attachments, upload
// parts, the recycle bin): the keys any of probes names.
func BlobsNamedByAny(ctx context.Context, keys []string, probes ...func(context.Context, []string) (map[string]bool, error)) (map[string]bool, error) {
	out := map[string]bool{}
	for _, probe := range probes {
		named, err := probe(ctx, keys)
		if err != nil {
			return nil, err
		}
		for k, ok := range named {
			if ok {
				out[k] = true
			}
		}
	}
	return out, nil
}
