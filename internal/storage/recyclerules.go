package storage

import (
	"strconv"
	"strings"
	"time"
)

// The records of RecycleBin both providers build, so that both describe
// what they recycle alike.

// binDir is a URL as a recycle bin item's DirName: server-relative
// without the leading '/'.
func binDir(url string) string { return strings.TrimPrefix(url, "/") }

// FileBinItem describes recycling f (a file, or a folder with what it
// holds) of web webID; size is the bytes of content it holds, versions
// included.
func FileBinItem(siteID, webID string, f *File, size, by int64, now time.Time) *RecycleBinItem {
	kind := RecycleFile
	if f.IsFolder {
		kind = RecycleFolder
	}
	return &RecycleBinItem{ID: NewGUID(), SiteID: siteID, WebID: webID, ItemType: kind, LeafName: f.Name,
		DirName: binDir(f.DirURL), Title: f.Name, DeletedBy: by, DeletedDate: now, Size: size}
}

// ItemBinItem describes recycling item it of list l: its Title, or its
// id when it has none, is its name.
func ItemBinItem(siteID string, l *List, it *Item, size, by int64, now time.Time) *RecycleBinItem {
	title := it.Values[FieldTitle].Str
	leaf := title
	if leaf == "" {
		leaf = strconv.FormatInt(it.ID, 10)
	}
	return &RecycleBinItem{ID: NewGUID(), SiteID: siteID, WebID: l.WebID, ItemType: RecycleListItem, LeafName: leaf,
		DirName: binDir(l.RootFolderURL), Title: title, DeletedBy: by, DeletedDate: now, Size: size}
}

// ListBinItem describes recycling list l of web w.
func ListBinItem(w *Web, l *List, size, by int64, now time.Time) *RecycleBinItem {
	return &RecycleBinItem{ID: NewGUID(), SiteID: w.SiteID, WebID: w.ID, ItemType: RecycleList, LeafName: l.Title,
		DirName: binDir(w.ServerRelativeURL), Title: l.Title, DeletedBy: by, DeletedDate: now, Size: size}
}

// AttachmentBinItem describes recycling attachment f of list l.
func AttachmentBinItem(siteID string, l *List, f *File, by int64, now time.Time) *RecycleBinItem {
	return &RecycleBinItem{ID: NewGUID(), SiteID: siteID, WebID: l.WebID, ItemType: RecycleAttachment, LeafName: f.Name,
		DirName: binDir(f.DirURL), Title: f.Name, DeletedBy: by, DeletedDate: now, Size: f.Length}
}

// ErrNotInBin is the error of a recycle bin item that is not in the bin
// (restored, deleted, or of another site).
var ErrNotInBin = NotFound("the recycle bin has no item with this id")

// ErrParentGone is the error of a restore whose folder, item, list or
// web is gone.
func ErrParentGone(what string) error {
	return NotFound("the %s the recycled item was deleted from is gone; restore or recreate it first", what)
}
