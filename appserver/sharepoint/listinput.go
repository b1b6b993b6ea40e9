package sharepoint

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// checkIgnored type-checks the SP.List properties Cesivi accepts but does
// not store: they must still be of their type.
func checkIgnored(m map[string]json.RawMessage, typ string) error {
	for _, name := range []string{"AllowContentTypes", "ContentTypesEnabled", "EnableVersioning", "EnableMinorVersions",
		"EnableModeration", "EnableAttachments", "EnableFolderCreation", "OnQuickLaunch", "NoCrawl", "ForceCheckout", "IrmEnabled"} {
		if _, err := propBool(m, name, typ); err != nil {
			return err
		}
	}
	for _, name := range []string{"DocumentTemplateType", "QuickLaunchOption", "DraftVersionVisibility", "MajorVersionLimit"} {
		if _, err := propInt(m, name, typ); err != nil {
			return err
		}
	}
	return nil
}

// listKnownProps are the SP.List properties a body may carry; those
// Cesivi does not store are accepted and ignored when they ask for
// SharePoint's behaviour anyway (a client sends what its SharePoint
// needed), and listed here so that a misspelt name is refused.
var listKnownProps = []string{"Title", "Description", "BaseTemplate", "Hidden", "AllowContentTypes", "ContentTypesEnabled",
	"EnableVersioning", "EnableMinorVersions", "EnableModeration", "EnableAttachments", "EnableFolderCreation",
	"OnQuickLaunch", "NoCrawl", "ForceCheckout", "Direction", "DocumentTemplateType", "TemplateFeatureId",
	"QuickLaunchOption", "Url", "DraftVersionVisibility", "MajorVersionLimit", "IrmEnabled"}

// addList is POST web/lists with an SP.List body (PnPjs's lists.add):
// 201 with the new list.
func (c *call) addList(w *storage.Web) (*response, error) {
	const typ = "SP.List"
	m, err := c.object(typ)
	if err != nil {
		return nil, err
	}
	if m, err = parameters(m, "SP.ListCreationInformation"); err != nil {
		return nil, err
	}
	if err := onlyKnown(m, typ, listKnownProps...); err != nil {
		return nil, err
	}
	var in storage.ListInput
	title, err := propString(m, "Title", typ)
	if err != nil {
		return nil, err
	}
	if title == nil || strings.TrimSpace(*title) == "" {
		return nil, odata.InvalidQuery("A new list needs a Title.")
	}
	in.Title = *title
	if d, err := propString(m, "Description", typ); err != nil {
		return nil, err
	} else if d != nil {
		in.Description = *d
	}
	if t, err := propInt(m, "BaseTemplate", typ); err != nil {
		return nil, err
	} else if t != nil {
		in.BaseTemplate = *t
	}
	if h, err := propBool(m, "Hidden", typ); err != nil {
		return nil, err
	} else if h != nil {
		in.Hidden = *h
	}
	if u, err := propString(m, "Url", typ); err != nil {
		return nil, err
	} else if u != nil {
		in.URLName = *u
	}
	if err := checkIgnored(m, typ); err != nil {
		return nil, err
	}
	l, err := c.tx.Lists().Create(c.ctx, w.ID, in)
	if errors.Is(err, storage.ErrConflict) {
		return nil, odata.ListExists()
	}
	if err != nil {
		return nil, err
	}
	ent := c.listEntity(l)
	resp := &response{status: http.StatusCreated, header: http.Header{}, body: c.enc.Entity(ent, "SP.ApiData.Lists/@Element"), format: c.format}
	resp.header.Set("ETag", ent.ETag)
	return resp, nil
}

// updateList is MERGE on a list: Title, Description, Hidden change; a
// title over 255 characters or an unknown property is refused.
func (c *call) updateList(w *storage.Web, l *storage.List) (*response, error) {
	const typ = "SP.List"
	m, err := c.object(typ)
	if err != nil {
		return nil, err
	}
	if err := onlyKnown(m, typ, listKnownProps...); err != nil {
		return nil, err
	}
	for _, fixed := range []string{"BaseTemplate", "Url"} {
		if _, ok := lookup(m, fixed); ok {
			return nil, odata.InvalidQuery("The property '" + fixed + "' of a list is set when the list is created and cannot change.")
		}
	}
	var upd storage.ListUpdate
	if upd.Title, err = propString(m, "Title", typ); err != nil {
		return nil, err
	}
	if upd.Description, err = propString(m, "Description", typ); err != nil {
		return nil, err
	}
	if upd.Hidden, err = propBool(m, "Hidden", typ); err != nil {
		return nil, err
	}
	if upd.EnableVersioning, err = propBool(m, "EnableVersioning", typ); err != nil {
		return nil, err
	}
	if upd.MajorVersionLimit, err = propInt(m, "MajorVersionLimit", typ); err != nil {
		return nil, err
	}
	if err := checkIgnored(m, typ); err != nil {
		return nil, err
	}
	if _, err := c.tx.Lists().Update(c.ctx, w.ID, l.ID, upd); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, odata.ListExists()
		}
		return nil, err
	}
	return noContent(`"1"`), nil
}
