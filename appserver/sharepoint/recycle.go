package sharepoint

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// The recycle bin: recycle() of files, folders, items, lists and
// attachments answers the bin item's id (an Edm.Guid, which PnPjs
// unwraps); web/recycleBin and site/recycleBin list what was deleted,
// and each bin item can be restored (Restore) or deleted for good
// (DeleteObject).

// recycled answers a recycle() call.
func (c *call) recycled(it *storage.RecycleBinItem, err error) (*response, error) {
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, odata.VersionConflict(c.r.Header.Get("If-Match"), "")
	case errors.Is(err, storage.ErrNotFound):
		return nil, odata.ItemNotFound()
	case err != nil:
		return nil, err
	}
	return c.primitiveOf("Recycle", it.ID, "Edm.Guid"), nil
}

// recycleFile is file/recycle and folder/recycle.
func (c *call) recycleFile(l *storage.List, f *storage.File) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	if f.ItemID == 0 {
		return nil, odata.InvalidQuery("A library's root folder cannot be recycled; recycle the library.")
	}
	ifVersion, err := c.fileIfMatch(f)
	if err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	if err := c.checkWritable(f, u); err != nil {
		return nil, err
	}
	return c.recycled(c.tx.RecycleBin().RecycleFile(c.ctx, l.ID, f.URL, u.ID, ifVersion))
}

// recycleItem is item/recycle.
func (c *call) recycleItem(l *storage.List, id int64) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	return c.recycled(c.tx.RecycleBin().RecycleItem(c.ctx, l.ID, id, u.ID, 0))
}

// recycleList is list/recycle.
func (c *call) recycleList(w *storage.Web, l *storage.List) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	return c.recycled(c.tx.RecycleBin().RecycleList(c.ctx, w.ID, l.ID, u.ID))
}

// recycleBinEntity is SP.RecycleBinItem.
func (c *call) recycleBinEntity(it *storage.RecycleBinItem, users map[int64]*storage.User) *odata.Entity {
	by := users[it.DeletedBy]
	name, email := "", ""
	if by != nil {
		name, email = by.Title, by.Email
	}
	link := "Site/RecycleBin('" + it.ID + "')"
	return &odata.Entity{Type: "SP.RecycleBinItem", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "AuthorEmail", Value: email},
		{Name: "AuthorName", Value: name},
		{Name: "DeletedByEmail", Value: email},
		{Name: "DeletedByName", Value: name},
		{Name: "DeletedDate", Value: it.DeletedDate},
		{Name: "DeletedDateLocalFormatted", Value: it.DeletedDate.Format("1/2/2006 3:04 PM")},
		{Name: "DirName", Value: it.DirName},
		{Name: "DirNamePath", Value: resourcePath(it.DirName)},
		{Name: "Id", Value: it.ID},
		{Name: "ItemState", Value: 1},
		{Name: "ItemType", Value: it.ItemType},
		{Name: "LeafName", Value: it.LeafName},
		{Name: "LeafNamePath", Value: resourcePath(it.LeafName)},
		{Name: "Size", Value: strconv.FormatInt(it.Size, 10)},
		{Name: "Title", Value: it.Title},
	}}
}

// resourcePath is SP.ResourcePath.
func resourcePath(decoded string) *odata.Entity {
	return &odata.Entity{Type: "SP.ResourcePath", Props: []odata.Prop{{Name: "DecodedUrl", Value: decoded}}}
}

// recycleBinResource serves web/recycleBin (webID set) and
// site/recycleBin (webID "").
func (c *call) recycleBinResource(webID string, seg odata.Segment, rest []odata.Segment) (*response, error) {
	bin := c.tx.RecycleBin()
	if seg.Call { // recycleBin('guid')
		v, ok := seg.Single()
		id, okID := canonicalID(v)
		if !ok || !okID {
			return nil, odata.InvalidQuery("A recycle bin item is named by its id, a guid.")
		}
		return c.recycleBinItem(webID, id, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		items, err := bin.List(c.ctx, c.web.SiteID, webID)
		if err != nil {
			return nil, err
		}
		users, err := c.usersOf(items)
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(items))
		for i, it := range items {
			ents[i] = c.recycleBinEntity(it, users)
		}
		return c.filteredCollection(ents, "SP.ApiData.RecycleBinItems")
	}
	next := rest[0]
	switch {
	case next.Is("getbyid") && next.Call:
		v, ok := next.Single()
		id, okID := canonicalID(v)
		if !ok || !okID {
			return nil, odata.InvalidQuery("A recycle bin item is named by its id, a guid.")
		}
		return c.recycleBinItem(webID, id, rest[1:])
	case (next.Is("deleteall") || next.Is("deleteallsecondstageitems")) && len(rest) == 1:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		if next.Is("deleteallsecondstageitems") {
			return noContent(""), nil // there is no second stage
		}
		if err := bin.Empty(c.ctx, c.web.SiteID, webID); err != nil {
			return nil, err
		}
		return noContent(""), nil
	case next.Is("restoreall") && len(rest) == 1:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		items, err := bin.List(c.ctx, c.web.SiteID, webID)
		if err != nil {
			return nil, err
		}
		for i := len(items) - 1; i >= 0; i-- { // oldest first: parents before children
			if err := bin.Restore(c.ctx, c.web.SiteID, items[i].ID); err != nil {
				return nil, c.restoreError(err)
			}
		}
		return noContent(""), nil
	}
	return nil, notFound(next)
}

// recycleBinItem serves one bin item: GET, Restore, DeleteObject.
func (c *call) recycleBinItem(webID, id string, rest []odata.Segment) (*response, error) {
	bin := c.tx.RecycleBin()
	it, err := bin.Get(c.ctx, c.web.SiteID, id)
	if err == nil && webID != "" && it.WebID != webID && !c.webHolds(webID, it.WebID) {
		err = storage.ErrNotFound
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, odata.NewError(http.StatusNotFound, "-2147024809, System.ArgumentException", "The recycle bin item does not exist.")
	}
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) {
				users, err := c.usersOf([]*storage.RecycleBinItem{it})
				if err != nil {
					return nil, err
				}
				return c.entity(c.recycleBinEntity(it, users), "SP.ApiData.RecycleBinItems/@Element"), nil
			},
			del: func() (*response, error) { return c.purge(id) },
		})
	}
	if len(rest) > 1 {
		return nil, notFound(rest[1])
	}
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	switch {
	case rest[0].Is("restore"):
		if err := bin.Restore(c.ctx, c.web.SiteID, id); err != nil {
			return nil, c.restoreError(err)
		}
		return noContent(""), nil
	case rest[0].Is("deleteobject"):
		return c.purge(id)
	}
	return nil, notFound(rest[0])
}

func (c *call) purge(id string) (*response, error) {
	if err := c.tx.RecycleBin().Delete(c.ctx, c.web.SiteID, id); err != nil {
		return nil, err
	}
	return noContent(""), nil
}

// restoreError says why a restore could not put something back.
func (c *call) restoreError(err error) error {
	switch {
	case errors.Is(err, storage.ErrConflict):
		return odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
			"Something with this name exists where the item was; rename or move it, then restore.")
	case errors.Is(err, storage.ErrNotFound):
		return odata.NewError(http.StatusBadRequest, "-2147024809, System.ArgumentException",
			"The folder, list or web the item was deleted from is gone; restore that first.")
	}
	return err
}

// webHolds reports whether web id (the request's web) is child's web or
// one of its parents.
func (c *call) webHolds(id, child string) bool {
	for child != "" {
		if child == id {
			return true
		}
		w, err := c.tx.Webs().Get(c.ctx, child)
		if err != nil {
			return false
		}
		child = w.ParentID
	}
	return false
}

// usersOf reads the users who deleted the items.
func (c *call) usersOf(items []*storage.RecycleBinItem) (map[int64]*storage.User, error) {
	out := map[int64]*storage.User{}
	for _, it := range items {
		if _, ok := out[it.DeletedBy]; ok || it.DeletedBy == 0 {
			continue
		}
		u, err := c.tx.Users().Get(c.ctx, c.web.SiteID, it.DeletedBy)
		if errors.Is(err, storage.ErrNotFound) {
			out[it.DeletedBy] = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		out[it.DeletedBy] = u
	}
	return out, nil
}
