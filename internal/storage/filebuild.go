package storage

import (
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
)

// The builders below make the records and decisions of the Files
// aggregate, so that both providers build the same entries and items and
// refuse the same operations with the same messages.

// ContentTypeFolder is the content type of a folder's item.
const ContentTypeFolder = "0x0120"

// The conflicts SharePoint reports. Its own message names the file ("The
// file <url> already exists."); these say the same without repeating a
// value the user wrote.
var (
	errFileExists     = Conflict("A file with this name already exists in the folder.")
	errFolderExists   = Conflict("A folder with this name already exists in the folder.")
	errNameTaken      = Conflict("A file or folder with this name already exists in the folder.")
	errRootFolder     = Invalid("a library's root folder cannot be deleted, moved, copied or replaced")
	errIntoItself     = Invalid("a folder cannot be moved or copied into itself")
	errCopyOntoItself = Invalid("a file cannot be copied onto itself")
	errLibraryItem    = Invalid("an item of a document library is added with its file or folder (Files), not as an item")
)

// LibraryItemRefused is the error of Items().Create on a library.
func LibraryItemRefused() error { return errLibraryItem }

// RootFolderFixed is the error of deleting, moving, copying or replacing
// a library's root folder.
func RootFolderFixed() error { return errRootFolder }

// NameTaken is the conflict of a new file or folder whose name is taken
// in its folder, ignoring case (also what a unique index reports).
func NameTaken() error { return errNameTaken }

// NewFileEntry checks the name of a new file or folder in the folder at
// dir (the folder's URL as stored) of library listID and builds it.
func NewFileEntry(listID, dir, name string, folder bool, by int64, now time.Time) (*File, error) {
	if err := CheckLeafName(name); err != nil {
		return nil, err
	}
	f := &File{UniqueID: NewGUID(), ListID: listID, Name: name, URL: dir + "/" + name, DirURL: dir, IsFolder: folder,
		Version: 1, MajorVersion: 1, CheckOutType: CheckOutNone, Created: now, Modified: now, AuthorID: by, EditorID: by}
	if err := CheckURLLength(f.URL); err != nil {
		return nil, err
	}
	return f, nil
}

// CheckFileContent refuses a Put that names no content.
func CheckFileContent(in FileInput) error {
	switch {
	case in.Blob == "":
		return Invalid("a file needs the blob store key of its content")
	case in.Length < 0:
		return Invalid("a file's length cannot be negative")
	}
	return nil
}

// RootFolder is library l's root folder, which is no item: its UniqueID
// is the library's id; itemCount is what the root holds directly.
func RootFolder(l *List, itemCount int64) *File {
	return &File{UniqueID: l.ID, ListID: l.ID, Name: LeafName(l.RootFolderURL), URL: l.RootFolderURL,
		DirURL: ParentURL(l.RootFolderURL), IsFolder: true, Version: 1, MajorVersion: 1, CheckOutType: CheckOutNone,
		Created: l.Created, Modified: l.LastItemModifiedDate, ItemCount: itemCount}
}

// FileValues are the values the provider keeps on f's item.
func FileValues(f *File) map[string]odata.Value {
	kind := int64(0)
	if f.IsFolder {
		kind = 1
	}
	vals := map[string]odata.Value{
		FieldFileLeafRef: odata.String(f.Name), FieldFileRef: odata.String(f.URL), FieldFileDirRef: odata.String(f.DirURL),
		FieldFSObjType: odata.Int(kind), FieldFileSystemObjectType: odata.Int(kind),
	}
	if f.IsFolder {
		// A folder's title is its name, and its content type Folder.
		vals[FieldTitle] = odata.String(f.Name)
		vals["ContentTypeId"] = odata.String(ContentTypeFolder)
	}
	return vals
}

// NewFileItem is the item of a new file or folder of the library s
// describes: the library's defaults, and the values the provider keeps.
// Its id is the provider's to give.
func (s *Schema) NewFileItem(f *File) (*Item, error) {
	vals, err := s.Prepare(nil, true)
	if err != nil {
		return nil, err
	}
	return &Item{ListID: f.ListID, GUID: f.UniqueID, Version: f.Version, Created: f.Created, Modified: f.Modified,
		AuthorID: f.AuthorID, EditorID: f.EditorID, Values: Merge(vals, FileValues(f))}, nil
}

// CarryValues are the values of an item moved or copied into the
// library s describes, as f: the values of the fields the library has
// by the same internal name and would accept from a client, over its
// defaults, then the values the provider keeps.
func (s *Schema) CarryValues(old map[string]odata.Value, f *File) map[string]odata.Value {
	vals, err := s.Prepare(nil, true)
	if err != nil {
		vals = map[string]odata.Value{}
	}
	for name, v := range old {
		tf, ok := s.byName[strings.ToLower(name)]
		if !ok || tf.InternalName != name || tf.ReadOnly {
			continue
		}
		if c, err := Coerce(tf, v); err == nil && !c.IsNull() {
			vals[name] = c
		}
	}
	return Merge(vals, FileValues(f))
}

// CheckPut decides what a Put does with existing, what is at the name
// already (nil for nothing): nil means write (add, or overwrite when
// existing is not nil).
func CheckPut(existing *File, in FileInput) error {
	switch {
	case existing == nil && in.IfVersion != 0:
		return Conflict("there is no file at this URL, so none at version %d", in.IfVersion)
	case existing == nil:
		return nil
	case existing.IsFolder:
		return errFolderExists
	case !in.Overwrite:
		return errFileExists
	}
	return CheckFileVersion(existing, in.IfVersion)
}

// CheckFileVersion refuses a write naming a version (If-Match) that is
// not the file's; want 0 is "*".
func CheckFileVersion(f *File, want int) error {
	if want != 0 && want != f.Version {
		return Conflict("the file or folder is at version %d, not %d", f.Version, want)
	}
	return nil
}

// Overwritten is f with its content replaced by in's: a new major
// version.
func Overwritten(f *File, in FileInput, now time.Time) *File {
	c := *f
	c.Blob, c.Length = in.Blob, in.Length
	c.Version++
	c.MajorVersion++
	c.MinorVersion = 0
	c.Modified, c.EditorID = now, in.By
	return &c
}

// MoveTarget is where a move or copy goes: the library, the folder (its
// URL as stored), the new name, and what is at that URL now (nil for
// nothing).
type MoveTarget struct {
	ListID   string
	Parent   string
	Name     string
	Existing *File
}

// MovePlan is what a move or copy writes.
type MovePlan struct {
	// Entries are the file or folder and everything below it as they
	// will be, the top first. A move's keep their UniqueIDs, versions
	// and ItemIDs (the old ones, when the library changes); a copy's
	// have new UniqueIDs, version 1, ItemID 0.
	Entries []*File
	// Replaced is the file at the target an overwrite deletes first.
	Replaced *File
	// CrossList: the entries change library.
	CrossList bool
}

// PlanMove checks a move (copy false) or a copy of tree — a file, or a
// folder and everything below it, the top first — to dst.
func PlanMove(tree []*File, dst MoveTarget, in MoveInput, copy bool, now time.Time) (*MovePlan, error) {
	src := tree[0]
	if src.ItemID == 0 {
		return nil, errRootFolder
	}
	if err := CheckLeafName(dst.Name); err != nil {
		return nil, err
	}
	top := dst.Parent + "/" + dst.Name
	self := dst.Existing != nil && dst.Existing.UniqueID == src.UniqueID
	switch {
	case src.IsFolder && (IsBelowURL(top, src.URL) || copy && self):
		return nil, errIntoItself
	case copy && self:
		return nil, errCopyOntoItself
	}
	p := &MovePlan{CrossList: dst.ListID != src.ListID}
	if dst.Existing != nil && !self {
		switch {
		case dst.Existing.IsFolder || src.IsFolder:
			return nil, errNameTaken
		case !in.Overwrite:
			return nil, errFileExists
		}
		p.Replaced = dst.Existing
	}
	for _, f := range tree {
		c := *f
		c.ListID = dst.ListID
		c.URL = RebaseURL(f.URL, src.URL, top)
		c.DirURL = RebaseURL(f.DirURL, src.URL, top)
		if f == src {
			c.Name, c.DirURL = dst.Name, dst.Parent
		}
		if err := CheckURLLength(c.URL); err != nil {
			return nil, err
		}
		if copy {
			c.UniqueID, c.ItemID = NewGUID(), 0
			c.Version, c.MajorVersion, c.MinorVersion = 1, 1, 0
			c.CheckOutType, c.CheckedOutBy = CheckOutNone, 0
			c.Created, c.Modified, c.AuthorID, c.EditorID = now, now, in.By, in.By
		}
		p.Entries = append(p.Entries, &c)
	}
	return p, nil
}
