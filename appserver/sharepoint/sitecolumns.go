package sharepoint

import (
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// webFields is web/fields and web/availableFields: the site columns every
// list has, with SharePoint's well-known ids.
func (c *call) webFields(seg odata.Segment, rest []odata.Segment) (*response, error) {
	sys := storage.SystemFields("", storage.TemplateGenericList)
	for _, f := range sys {
		if id, ok := builtinFieldIDs[f.InternalName]; ok {
			f.ID = id
		}
	}
	l := &storage.List{}
	if len(rest) == 0 && !seg.Call {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(sys))
		for i, f := range sys {
			ents[i] = c.fieldEntity(l, f)
		}
		return c.filteredCollection(ents, "SP.ApiData.Fields")
	}
	name := ""
	if seg.Call {
		v, _ := seg.Single()
		name = v.Str
	} else if len(rest) == 1 && rest[0].Call {
		v, _ := rest[0].Single()
		name = v.Str
	} else {
		return nil, notFound(rest[0])
	}
	for _, f := range sys {
		if strings.EqualFold(f.ID, strings.Trim(name, "{}")) || strings.EqualFold(f.InternalName, name) || strings.EqualFold(f.Title, name) {
			if err := c.allow(http.MethodGet); err != nil {
				return nil, err
			}
			return c.entity(c.fieldEntity(l, f), "SP.ApiData.Fields/@Element"), nil
		}
	}
	return nil, fieldMissing(storage.ErrNotFound, name)
}

// builtinFieldIDs are SharePoint's ids of its built-in fields.
var builtinFieldIDs = map[string]string{
	storage.FieldID:        "1d22ea11-1e32-424e-89ab-9fedbadb6ce1",
	storage.FieldTitle:     "fa564e0f-0c70-4ab9-b863-0177e6ddd247",
	storage.FieldCreated:   "8c06beca-0777-48f7-91c7-6da68bc07b69",
	storage.FieldModified:  "28cf69c5-fa48-462a-b5cd-27b6f9d2bd5f",
	storage.FieldAuthor:    "1df5e554-ec7e-46a6-901d-d85a3881cb18",
	storage.FieldEditor:    "d31655d1-1d5b-4511-95a1-7a09e9b75bf2",
	storage.FieldGUID:      "ae069f25-3ac2-4256-b9c3-15dbc15da0e0",
	"ContentTypeId":        "03e45e84-1992-4d42-9116-26f756012634",
	"Attachments":          "67df98f4-9dec-48ff-a553-29bece9c5bf4",
	"FileSystemObjectType": "30bb605f-5bae-48fe-b4e3-1f81d9772af9",
	storage.FieldUIVersion: "dce8262a-3ae9-45aa-aab4-83bd75fb738a",
}
