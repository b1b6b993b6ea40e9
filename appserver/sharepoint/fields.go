package sharepoint

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// fieldsResource is list/fields: the collection, add (SP.Field bodies,
// AddField, CreateFieldAsXml) and the ways to name one field.
func (c *call) fieldsResource(l *storage.List, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call {
		f, err := c.fieldByID(l, seg)
		if err != nil {
			return nil, err
		}
		return c.fieldResource(l, f, rest)
	}
	if len(rest) == 0 {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			fields, err := c.tx.Fields().List(c.ctx, l.ID)
			if err != nil {
				return nil, err
			}
			ents := make([]*odata.Entity, len(fields))
			for i, f := range fields {
				ents[i] = c.fieldEntity(l, f)
			}
			return c.filteredCollection(ents, "SP.ApiData.Fields")
		case http.MethodPost:
			return c.addField(l)
		}
		return nil, c.notAllowed()
	}
	seg, rest = rest[0], rest[1:]
	switch {
	case seg.Is("getbytitle") && seg.Call, seg.Is("getbyinternalnameortitle") && seg.Call:
		v, ok := seg.Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery(seg.Name + " takes the field's name as a string.")
		}
		var f *storage.Field
		var err error
		if seg.Is("getbytitle") {
			f, err = c.fieldByTitle(l, v.Str)
		} else {
			f, err = c.tx.Fields().GetByName(c.ctx, l.ID, v.Str)
		}
		if err != nil {
			return nil, fieldMissing(err, v.Str)
		}
		return c.fieldResource(l, f, rest)
	case seg.Is("getbyid") && seg.Call:
		f, err := c.fieldByID(l, seg)
		if err != nil {
			return nil, err
		}
		return c.fieldResource(l, f, rest)
	case seg.Is("addfield") && len(rest) == 0, seg.Is("add") && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.addField(l)
	case seg.Is("createfieldasxml") && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.addFieldAsXML(l)
	}
	return nil, notFound(seg)
}

func fieldMissing(err error, name string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return odata.NewError(http.StatusNotFound, odata.CodeArgument,
			fmt.Sprintf("Column '%s' does not exist. It may have been deleted by another user.", name))
	}
	return err
}

func (c *call) fieldByTitle(l *storage.List, title string) (*storage.Field, error) {
	fields, err := c.tx.Fields().List(c.ctx, l.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if strings.EqualFold(f.Title, title) {
			return f, nil
		}
	}
	return nil, storage.NotFound("no field titled so")
}

func (c *call) fieldByID(l *storage.List, seg odata.Segment) (*storage.Field, error) {
	v, ok := seg.Single()
	id, okID := canonicalID(v)
	if !ok || !okID {
		return nil, odata.InvalidQuery(seg.Name + " takes the field's id, a GUID.")
	}
	f, err := c.tx.Fields().Get(c.ctx, l.ID, id)
	if err != nil {
		return nil, fieldMissing(err, id)
	}
	return f, nil
}

// fieldResource serves one field.
func (c *call) fieldResource(l *storage.List, f *storage.Field, rest []odata.Segment) (*response, error) {
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	return c.serveLeaf(leaf{
		get:    func() (*response, error) { return c.entity(c.fieldEntity(l, f), "SP.ApiData.Fields/@Element"), nil },
		update: func() (*response, error) { return c.updateField(l, f) },
		del: func() (*response, error) {
			if err := c.tx.Fields().Delete(c.ctx, l.ID, f.ID); err != nil {
				return nil, err
			}
			return deleted(), nil
		},
	})
}

// fieldEntityTypes are the SP.Field subtypes by field type.
var fieldEntityTypes = map[storage.FieldType]string{
	storage.TypeText: "SP.FieldText", storage.TypeNote: "SP.FieldMultiLineText", storage.TypeNumber: "SP.FieldNumber",
	storage.TypeCurrency: "SP.FieldCurrency", storage.TypeDateTime: "SP.FieldDateTime", storage.TypeChoice: "SP.FieldChoice",
	storage.TypeMultiChoice: "SP.FieldMultiChoice", storage.TypeURL: "SP.FieldUrl", storage.TypeUser: "SP.FieldUser",
	storage.TypeLookup: "SP.FieldLookup", storage.TypeGuid: "SP.FieldGuid", storage.TypeComputed: "SP.FieldComputed",
	storage.TypeInteger: "SP.FieldNumber", storage.TypeCounter: "SP.Field",
}

// fieldTypeByKind maps FieldTypeKind numbers to types.
var fieldTypeByKind = map[int]storage.FieldType{
	1: storage.TypeInteger, 2: storage.TypeText, 3: storage.TypeNote, 4: storage.TypeDateTime, 6: storage.TypeChoice,
	7: storage.TypeLookup, 8: storage.TypeBoolean, 9: storage.TypeNumber, 10: storage.TypeCurrency, 11: storage.TypeURL,
	14: storage.TypeGuid, 15: storage.TypeMultiChoice, 20: storage.TypeUser,
}

// fieldEntity is SP.Field (or its subtype).
func (c *call) fieldEntity(l *storage.List, f *storage.Field) *odata.Entity {
	typ := fieldEntityTypes[f.Type]
	if typ == "" {
		typ = "SP.Field"
	}
	link := "Web/Lists(guid'" + l.ID + "')/Fields(guid'" + f.ID + "')"
	if l.ID == "" {
		link = "Web/Fields(guid'" + f.ID + "')"
	}
	group := "Custom Columns"
	if f.System {
		group = "_Hidden"
	}
	var def any
	if f.DefaultValue != "" {
		def = f.DefaultValue
	}
	ent := &odata.Entity{Type: typ, ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "CanBeDeleted", Value: !f.System},
		{Name: "DefaultValue", Value: def},
		{Name: "Description", Value: f.Description},
		{Name: "Direction", Value: "none"},
		{Name: "EnforceUniqueValues", Value: false},
		{Name: "EntityPropertyName", Value: entityPropertyName(f)},
		{Name: "Filterable", Value: true},
		{Name: "FromBaseType", Value: f.System},
		{Name: "Group", Value: group},
		{Name: "Hidden", Value: f.Hidden},
		{Name: "Id", Value: f.ID},
		{Name: "Indexed", Value: f.Indexed || f.InternalName == storage.FieldID},
		{Name: "InternalName", Value: f.InternalName},
		{Name: "ReadOnlyField", Value: f.ReadOnly},
		{Name: "Required", Value: f.Required},
		{Name: "SchemaXml", Value: fieldSchemaXML(f)},
		{Name: "Sealed", Value: f.System},
		{Name: "Sortable", Value: f.Type != storage.TypeMultiChoice && f.Type != storage.TypeNote},
		{Name: "StaticName", Value: f.InternalName},
		{Name: "Title", Value: f.Title},
		{Name: "FieldTypeKind", Value: f.TypeKind()},
		{Name: "TypeAsString", Value: string(f.Type)},
		{Name: "TypeDisplayName", Value: typeDisplayName(f.Type)},
	}}
	switch f.Type {
	case storage.TypeText:
		ml := f.MaxLength
		if ml == 0 {
			ml = storage.MaxTextLength
		}
		ent.Props = append(ent.Props, odata.Prop{Name: "MaxLength", Value: ml})
	case storage.TypeChoice, storage.TypeMultiChoice:
		items := make([]any, len(f.Choices))
		for i, ch := range f.Choices {
			items[i] = ch
		}
		ent.Props = append(ent.Props, odata.Prop{Name: "Choices", Value: odata.Values{Type: "Collection(Edm.String)", Items: items}},
			odata.Prop{Name: "FillInChoice", Value: false})
	case storage.TypeLookup, storage.TypeUser:
		list := f.LookupList
		if f.Type == storage.TypeLookup && list != "" {
			list = "{" + list + "}"
		}
		ent.Props = append(ent.Props, odata.Prop{Name: "AllowMultipleValues", Value: false},
			odata.Prop{Name: "LookupField", Value: f.LookupField}, odata.Prop{Name: "LookupList", Value: list})
	}
	return ent
}

// entityPropertyName is what items call the field on the wire.
func entityPropertyName(f *storage.Field) string {
	if isRef(f) {
		return f.InternalName
	}
	return propertyName(f)
}

func typeDisplayName(t storage.FieldType) string {
	switch t {
	case storage.TypeText:
		return "Single line of text"
	case storage.TypeNote:
		return "Multiple lines of text"
	case storage.TypeChoice, storage.TypeMultiChoice:
		return "Choice"
	case storage.TypeUser:
		return "Person or Group"
	case storage.TypeURL:
		return "Hyperlink or Picture"
	case storage.TypeBoolean:
		return "Yes/No"
	case storage.TypeDateTime:
		return "Date and Time"
	}
	return string(t)
}

// fieldSchemaXML is the field's SchemaXml.
func fieldSchemaXML(f *storage.Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<Field Type="%s" DisplayName="%s" Name="%s" StaticName="%s" ID="{%s}"`,
		xmlAttr(string(f.Type)), xmlAttr(f.Title), xmlAttr(f.InternalName), xmlAttr(f.InternalName), f.ID)
	if f.Required {
		b.WriteString(` Required="TRUE"`)
	}
	if f.Indexed {
		b.WriteString(` Indexed="TRUE"`)
	}
	if f.Type == storage.TypeLookup && f.LookupList != "" {
		fmt.Fprintf(&b, ` List="{%s}" ShowField="%s"`, f.LookupList, xmlAttr(f.LookupField))
	}
	if len(f.Choices) == 0 && f.DefaultValue == "" {
		b.WriteString(" />")
		return b.String()
	}
	b.WriteString(">")
	if f.DefaultValue != "" {
		fmt.Fprintf(&b, "<Default>%s</Default>", xmlAttr(f.DefaultValue))
	}
	if len(f.Choices) > 0 {
		b.WriteString("<CHOICES>")
		for _, ch := range f.Choices {
			fmt.Fprintf(&b, "<CHOICE>%s</CHOICE>", xmlAttr(ch))
		}
		b.WriteString("</CHOICES>")
	}
	b.WriteString("</Field>")
	return b.String()
}

func xmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
