package sharepoint

import (
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// contentType is one of SharePoint's base content types.
type contentType struct {
	id, name, description, group string
	fields                       []string // internal names
}

// baseContentTypes are the content types every web has: Item, Document
// and Folder, with their fields.
var baseContentTypes = []contentType{
	{id: "0x01", name: "Item", description: "Create a new list item.", group: "List Content Types", fields: []string{"ContentType", storage.FieldTitle}},
	{id: "0x0101", name: "Document", description: "Create a new document.", group: "Document Content Types", fields: []string{"ContentType", "FileLeafRef", storage.FieldTitle}},
	{id: "0x0120", name: "Folder", description: "Create a new folder.", group: "Folder Content Types", fields: []string{"ContentType", "FileLeafRef"}},
}

// contentTypes is web/contentTypes and list/contentTypes: a list has
// the content type of its base type (Item for lists, Document and Folder
// for libraries), a web all three.
func (c *call) contentTypes(l *storage.List, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	var cts []contentType
	for _, ct := range baseContentTypes {
		if l == nil || (l.BaseType == storage.BaseTypeDocumentLibrary) == (ct.id != "0x01") {
			cts = append(cts, ct)
		}
	}
	id := ""
	switch {
	case seg.Call:
		v, _ := seg.Single()
		id = v.Str
	case len(rest) > 0 && rest[0].Is("getbyid") && rest[0].Call:
		v, _ := rest[0].Single()
		id, rest = v.Str, rest[1:]
	case len(rest) > 0:
		return nil, notFound(rest[0])
	default:
		ents := make([]*odata.Entity, len(cts))
		for i, ct := range cts {
			ents[i] = c.contentTypeEntity(l, ct)
		}
		return c.filteredCollection(ents, "SP.ApiData.ContentTypes")
	}
	for _, ct := range cts {
		if !strings.EqualFold(ct.id, id) && !(l != nil && strings.HasPrefix(strings.ToLower(id), strings.ToLower(ct.id)+"00")) {
			continue
		}
		if len(rest) == 0 {
			return c.entity(c.contentTypeEntity(l, ct), "SP.ApiData.ContentTypes/@Element"), nil
		}
		if len(rest) == 1 && rest[0].Is("fields") {
			return c.contentTypeFields(l, ct)
		}
		return nil, notFound(rest[0])
	}
	return nil, odata.ResourceNotFound(seg.Name)
}

func (c *call) contentTypeEntity(l *storage.List, ct contentType) *odata.Entity {
	id := ct.id
	link := "Web/ContentTypes('" + id + "')"
	if l != nil {
		// A list's copy of a content type has a longer id, as SharePoint's.
		id = ct.id + "00" + strings.ToUpper(strings.ReplaceAll(l.ID, "-", ""))
		link = "Web/Lists(guid'" + l.ID + "')/ContentTypes('" + id + "')"
	}
	return &odata.Entity{Type: "SP.ContentType", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "Description", Value: ct.description},
		{Name: "Group", Value: ct.group},
		{Name: "Hidden", Value: false},
		{Name: "Id", Value: &odata.Entity{Type: "SP.ContentTypeId", Props: []odata.Prop{{Name: "StringValue", Value: id}}}},
		{Name: "Name", Value: ct.name},
		{Name: "ReadOnly", Value: false},
		{Name: "Sealed", Value: false},
		{Name: "StringId", Value: id},
	}}
}

// contentTypeFields are a content type's fields: in a list, the list's
// fields it names plus the list's own columns (they are added to its
// content type, as SharePoint does).
func (c *call) contentTypeFields(l *storage.List, ct contentType) (*response, error) {
	var fields []*storage.Field
	if l != nil {
		all, err := c.tx.Fields().List(c.ctx, l.ID)
		if err != nil {
			return nil, err
		}
		for _, f := range all {
			if !f.System || containsFold(ct.fields, f.InternalName) {
				fields = append(fields, f)
			}
		}
	} else {
		for _, f := range storage.SystemFields("", storage.TemplateGenericList) {
			if containsFold(ct.fields, f.InternalName) {
				f.ID = builtinFieldIDs[f.InternalName]
				fields = append(fields, f)
			}
		}
		l = &storage.List{}
	}
	ents := make([]*odata.Entity, len(fields))
	for i, f := range fields {
		ents[i] = c.fieldEntity(l, f)
	}
	return c.filteredCollection(ents, "SP.ApiData.Fields")
}
