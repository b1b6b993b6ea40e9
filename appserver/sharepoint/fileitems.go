package sharepoint

import (
	"errors"
	"net/http"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// A library's items and their files: item/file and item/folder lead to
// the file or folder an item carries, and writing FileLeafRef renames it.

// itemFile is item/file and item/folder of a library's item.
func (c *call) itemFile(w *storage.Web, l *storage.List, id int64, seg odata.Segment, rest []odata.Segment) (*response, error) {
	f, err := c.tx.Files().GetByItem(c.ctx, l.ID, id)
	if err != nil {
		return nil, c.itemMissing(err)
	}
	switch {
	case f.IsFolder && seg.Is("folder"):
		return c.folderResource(w, l, f, rest)
	case !f.IsFolder && seg.Is("file"):
		return c.fileResource(w, l, f, rest)
	case f.IsFolder:
		return nil, fileNotFound()
	}
	return nil, folderNotFound()
}

// renameItemFile renames the file or folder item id of library l carries.
func (c *call) renameItemFile(l *storage.List, id int64, name odata.Value, u *storage.User) error {
	if name.Kind != odata.KindString {
		return odata.InvalidQuery("FileLeafRef must be a string: the file's or folder's new name.")
	}
	f, err := c.tx.Files().GetByItem(c.ctx, l.ID, id)
	if err != nil {
		return c.itemMissing(err)
	}
	if name.Str == f.Name {
		return nil
	}
	if err := storage.CheckLeafName(name.Str); err != nil {
		return badName(err)
	}
	if err := c.checkWritable(f, u); err != nil {
		return err
	}
	_, err = c.tx.Files().Move(c.ctx, storage.MoveInput{ListID: l.ID, From: f.URL, To: f.DirURL + "/" + name.Str, By: u.ID})
	if errors.Is(err, storage.ErrConflict) {
		return odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
			"A file or folder with this name already exists in the folder.")
	}
	return err
}
