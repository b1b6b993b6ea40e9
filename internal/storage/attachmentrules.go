package storage

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The rules of Attachments both providers apply: where an attachment
// lives, which names and inputs it takes, and what Put makes of it.

// FieldAttachments is the system field whose value says whether an item
// has attachments (a Boolean kind: $filter=Attachments eq 1 works).
const FieldAttachments = "Attachments"

// AttachmentsDir is the folder of item itemID's attachments in a list
// whose root folder is at rootFolderURL, as SharePoint places them.
func AttachmentsDir(rootFolderURL string, itemID int64) string {
	return rootFolderURL + "/Attachments/" + strconv.FormatInt(itemID, 10)
}

// PutAttachment checks in and returns what Attachments.Put stores on
// item itemID of list l (its ID, BaseType and RootFolderURL are used),
// given the attachment of that name the item has (old, nil when none): a
// new attachment, version 1, or old with the new content, one version
// more. A library's items have no attachments (in SharePoint neither),
// and a name is checked as a file's.
func PutAttachment(l *List, itemID int64, old *File, in FileInput, now time.Time) (*File, error) {
	switch {
	case l.BaseType == BaseTypeDocumentLibrary:
		return nil, Invalid("the items of a document library have no attachments")
	case in.Blob == "":
		return nil, Invalid("an attachment names the blob that holds its content")
	case in.Length < 0:
		return nil, Invalid("an attachment's length cannot be negative")
	}
	if err := CheckLeafName(in.Name); err != nil {
		return nil, err
	}
	dirURL := AttachmentsDir(l.RootFolderURL, itemID)
	url := dirURL + "/" + in.Name
	if utf8.RuneCountInString(url) > MaxURLLength {
		return nil, Invalid("an attachment's URL is at most %d characters", MaxURLLength)
	}
	if old == nil {
		if in.IfVersion != 0 {
			return nil, Conflict("the item has no attachment with this name to be at version %d", in.IfVersion)
		}
		return &File{UniqueID: NewGUID(), ListID: l.ID, ItemID: itemID, Name: in.Name, URL: url, DirURL: dirURL,
			Length: in.Length, Blob: in.Blob, Version: 1, MajorVersion: 1, CheckOutType: CheckOutNone,
			Created: now, Modified: now, AuthorID: in.By, EditorID: in.By}, nil
	}
	if !in.Overwrite {
		return nil, Conflict("the item has an attachment with this name")
	}
	if in.IfVersion != 0 && in.IfVersion != old.Version {
		return nil, Conflict("the attachment is at version %d, not %d", old.Version, in.IfVersion)
	}
	f := *old
	f.Length, f.Blob, f.Modified, f.EditorID = in.Length, in.Blob, now, in.By
	f.Version++
	f.MajorVersion = f.Version
	return &f, nil
}
