package sharepoint

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Item attachments (lists, not libraries, as in SharePoint):
// items(n)/attachmentFiles lists them, attachmentFiles/add(FileName='…')
// uploads one, attachmentFiles('name') reads, replaces ($value PUT),
// deletes or recycles (recycleObject) one.

// attachmentEntity is SP.Attachment.
func (c *call) attachmentEntity(l *storage.List, itemID int64, f *storage.File) *odata.Entity {
	link := "Web/Lists(guid'" + l.ID + "')/Items(" + strconv.FormatInt(itemID, 10) + ")/AttachmentFiles(" + quoteArg(f.Name) + ")"
	return &odata.Entity{Type: "SP.Attachment", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "FileName", Value: f.Name},
		{Name: "FileNameAsPath", Value: resourcePath(f.Name)},
		{Name: "ServerRelativePath", Value: resourcePath(f.URL)},
		{Name: "ServerRelativeUrl", Value: f.URL},
	}}
}

// attachmentsResource serves items(n)/attachmentFiles….
func (c *call) attachmentsResource(l *storage.List, itemID int64, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if isLibrary(l) {
		return nil, odata.InvalidQuery("Document libraries have no attachments; add files to the library.")
	}
	if _, err := c.tx.Items().Get(c.ctx, l.ID, itemID); err != nil {
		return nil, c.itemMissing(err)
	}
	if seg.Call { // attachmentFiles('name')
		return c.attachmentResource(l, itemID, seg, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		fs, err := c.tx.Attachments().List(c.ctx, l.ID, itemID)
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(fs))
		for i, f := range fs {
			ents[i] = c.attachmentEntity(l, itemID, f)
		}
		return c.filteredCollection(ents, "SP.ApiData.Attachments")
	}
	next, rest := rest[0], rest[1:]
	switch {
	case (next.Is("add") || next.Is("addusingpath")) && next.Call && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		name, err := pathArg(next, "filename", "decodedurl")
		if err != nil {
			return nil, err
		}
		if err := storage.CheckLeafName(name); err != nil {
			return nil, badName(err)
		}
		u, err := c.currentUser()
		if err != nil {
			return nil, err
		}
		f, err := c.tx.Attachments().Put(c.ctx, l.ID, itemID, storage.FileInput{Name: name, Blob: c.blob.Key, Length: c.blob.Size, By: u.ID})
		switch {
		case errors.Is(err, storage.ErrConflict):
			return nil, odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
				"The item has an attachment with this name already.")
		case errors.Is(err, storage.ErrInvalid):
			return nil, badName(err)
		case err != nil:
			return nil, err
		}
		return c.entity(c.attachmentEntity(l, itemID, f), "SP.ApiData.Attachments/@Element"), nil
	case (next.Is("getbyfilename") || next.Is("getbyfilenameaspath")) && next.Call:
		return c.attachmentResource(l, itemID, next, rest)
	}
	return nil, notFound(next)
}

// attachmentResource serves one attachment.
func (c *call) attachmentResource(l *storage.List, itemID int64, seg odata.Segment, rest []odata.Segment) (*response, error) {
	name, err := pathArg(seg, "filename", "decodedurl")
	if err != nil {
		return nil, err
	}
	f, err := c.tx.Attachments().Get(c.ctx, l.ID, itemID, name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fileNotFound()
	}
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) {
				return c.entity(c.attachmentEntity(l, itemID, f), "SP.ApiData.Attachments/@Element"), nil
			},
			del: func() (*response, error) {
				if err := c.tx.Attachments().Delete(c.ctx, l.ID, itemID, f.Name); err != nil {
					return nil, err
				}
				return deleted(), nil
			},
		})
	}
	next := rest[0]
	if len(rest) > 1 {
		return nil, notFound(rest[1])
	}
	switch {
	case next.Is("$value") || next.Is("openbinarystream"):
		switch c.method {
		case http.MethodGet, http.MethodHead:
			return c.download(f), nil
		case http.MethodPut:
			u, err := c.currentUser()
			if err != nil {
				return nil, err
			}
			nf, err := c.tx.Attachments().Put(c.ctx, l.ID, itemID, storage.FileInput{Name: f.Name, Overwrite: true,
				Blob: c.blob.Key, Length: c.blob.Size, By: u.ID})
			if err != nil {
				return nil, err
			}
			return noContent(fileETag(nf)), nil
		}
		return nil, c.notAllowed()
	case next.Is("recycleobject"):
		// PnPjs sends it as POST with X-HTTP-Method: DELETE.
		if c.method != http.MethodPost && c.method != http.MethodDelete {
			return nil, c.notAllowed()
		}
		u, err := c.currentUser()
		if err != nil {
			return nil, err
		}
		return c.recycled(c.tx.RecycleBin().RecycleAttachment(c.ctx, l.ID, itemID, f.Name, u.ID))
	}
	return nil, notFound(next)
}
