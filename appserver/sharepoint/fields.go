package sharepoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/caml"
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
			return c.addField(l, false)
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
		return c.addField(l, true)
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

// fieldKnownProps are the SP.Field (and subtypes') properties a create
// or update body may carry. Those Cesivi keeps are read; the others are
// formatting SharePoint's forms use, accepted and not stored.
var fieldKnownProps = []string{"Title", "FieldTypeKind", "TypeAsString", "StaticName", "InternalName", "Description",
	"Required", "Indexed", "Hidden", "EnforceUniqueValues", "MaxLength", "Choices", "DefaultValue", "LookupList",
	"LookupListId", "LookupField", "LookupFieldName", "LookupWebId", "SelectionMode", "SelectionGroup", "AllowMultipleValues",
	"DisplayFormat", "DateTimeCalendarType", "FriendlyDisplayFormat", "MinimumValue", "MaximumValue", "NumberOfLines",
	"RichText", "AllowHyperlink", "AppendOnly", "EditFormat", "FillInChoice", "CurrencyLocaleId", "Group", "ShowAsPercentage",
	"IsRelationship", "RelationshipDeleteBehavior", "UnlimitedLengthInDocumentLibrary", "RestrictedMode", "ShowInEditForm",
	"ShowInNewForm", "ShowInDisplayForm", "Format", "DefaultFormula", "ValidationFormula", "ValidationMessage", "ClientSideComponentId"}

// addField is POST fields (an SP.Field body, PnPjs's fields.add*
// helpers) and fields/AddField ({"parameters": SP.FieldCreationInformation}):
// 201 with the new field.
func (c *call) addField(l *storage.List, creationInfo bool) (*response, error) {
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	if m, err = parameters(m, ""); err != nil {
		return nil, err
	}
	const typ = "SP.Field"
	if err := onlyKnown(m, typ, fieldKnownProps...); err != nil {
		return nil, err
	}
	in, err := fieldInput(m, c.r, creationInfo)
	if err != nil {
		return nil, err
	}
	return c.createField(l, in)
}

// createField stores a new field and answers 201.
func (c *call) createField(l *storage.List, in storage.FieldInput) (*response, error) {
	if in.Type == storage.TypeLookup {
		if in.LookupList == "" {
			return nil, odata.InvalidQuery("A lookup field needs LookupList (the target list's id).")
		}
		id, ok := canonicalID(odata.String(in.LookupList))
		if !ok {
			return nil, odata.InvalidQuery("LookupList must be the target list's id, a GUID.")
		}
		if _, err := c.tx.Lists().Get(c.ctx, c.web.ID, id); err != nil {
			return nil, c.listMissing(err, id)
		}
		in.LookupList = id
		if in.LookupField == "" {
			in.LookupField = storage.FieldTitle
		}
	}
	if in.Type == storage.TypeUser {
		in.LookupList, in.LookupField = "UserInfo", storage.FieldTitle
	}
	f, err := c.tx.Fields().Create(c.ctx, l.ID, in)
	if errors.Is(err, storage.ErrConflict) {
		return nil, odata.NewError(http.StatusBadRequest, "-2130575340, Microsoft.SharePoint.SPException",
			"A duplicate field name \""+in.InternalName+in.Title+"\" was found.")
	}
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusCreated, header: http.Header{}, body: c.enc.Entity(c.fieldEntity(l, f), "SP.ApiData.Fields/@Element"), format: c.format}, nil
}

// fieldInput reads a field body. The type comes from FieldTypeKind,
// TypeAsString or the verbose __metadata.type, in that order.
func fieldInput(m map[string]json.RawMessage, r *http.Request, creationInfo bool) (storage.FieldInput, error) {
	const typ = "SP.Field"
	var in storage.FieldInput
	title, err := propString(m, "Title", typ)
	if err != nil {
		return in, err
	}
	if title == nil || strings.TrimSpace(*title) == "" {
		return in, odata.InvalidQuery("A new field needs a Title.")
	}
	in.Title = *title
	kind, err := propInt(m, "FieldTypeKind", typ)
	if err != nil {
		return in, err
	}
	asString, err := propString(m, "TypeAsString", typ)
	if err != nil {
		return in, err
	}
	switch {
	case kind != nil:
		t, ok := fieldTypeByKind[*kind]
		if !ok {
			return in, odata.InvalidQuery(fmt.Sprintf("FieldTypeKind %d is not a field type Cesivi can create (Text 2, Note 3, DateTime 4, Choice 6, Lookup 7, Boolean 8, Number 9, Currency 10, URL 11, MultiChoice 15, User 20).", *kind))
		}
		in.Type = t
	case asString != nil:
		in.Type = storage.FieldType(*asString)
	default:
		return in, odata.InvalidQuery("A new field needs its type: FieldTypeKind or TypeAsString.")
	}
	if multi, err := propBool(m, "AllowMultipleValues", typ); err != nil {
		return in, err
	} else if multi != nil && *multi {
		return in, odata.InvalidQuery("Fields with multiple values (UserMulti, LookupMulti) are not supported yet.")
	}
	for name, dst := range map[string]*string{"StaticName": &in.InternalName, "InternalName": &in.InternalName, "Description": &in.Description,
		"DefaultValue": &in.DefaultValue, "LookupList": &in.LookupList, "LookupListId": &in.LookupList,
		"LookupField": &in.LookupField, "LookupFieldName": &in.LookupField} {
		v, err := propString(m, name, typ)
		if err != nil {
			return in, err
		}
		if v != nil && *v != "" {
			*dst = *v
		}
	}
	for name, dst := range map[string]*bool{"Required": &in.Required, "Indexed": &in.Indexed, "Hidden": &in.Hidden} {
		v, err := propBool(m, name, typ)
		if err != nil {
			return in, err
		}
		if v != nil {
			*dst = *v
		}
	}
	if ml, err := propInt(m, "MaxLength", typ); err != nil {
		return in, err
	} else if ml != nil && in.Type == storage.TypeText {
		// Only Text fields keep it; clients send it for others too.
		in.MaxLength = *ml
	}
	choices, err := propStrings(m, "Choices", typ)
	if err != nil {
		return in, err
	}
	if choices != nil {
		in.Choices = *choices
	}
	_ = r
	_ = creationInfo
	return in, nil
}

// addFieldAsXML is fields/CreateFieldAsXml: {"parameters":{"SchemaXml":…,
// "Options":n}}.
func (c *call) addFieldAsXML(l *storage.List) (*response, error) {
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	if m, err = parameters(m, "SP.XmlSchemaFieldCreationInformation"); err != nil {
		return nil, err
	}
	if err := onlyKnown(m, "SP.XmlSchemaFieldCreationInformation", "SchemaXml", "Options"); err != nil {
		return nil, err
	}
	x, err := propString(m, "SchemaXml", "SP.XmlSchemaFieldCreationInformation")
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, odata.InvalidQuery("CreateFieldAsXml needs SchemaXml.")
	}
	opts, err := propInt(m, "Options", "SP.XmlSchemaFieldCreationInformation")
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = new(int)
	}
	in, err := parseFieldXML(*x, *opts)
	if err != nil {
		return nil, err
	}
	if in.Type == storage.TypeLookup && strings.EqualFold(in.LookupList, caml.LookupSelf) {
		in.LookupList = l.ID
	}
	resp, err := c.createField(l, in)
	if err != nil || *opts&caml.AddFieldToDefaultView == 0 {
		return resp, err
	}
	// AddFieldToDefaultView: the new column shows in the default view.
	v, err := c.defaultView(l)
	if err != nil {
		return nil, err
	}
	name := in.InternalName
	if name == "" {
		name = storage.XMLName(in.Title)
	}
	fields := append(append([]string(nil), v.ViewFields...), name)
	if _, err := c.tx.Views().Update(c.ctx, l.ID, v.ID, storage.ViewUpdate{ViewFields: &fields}); err != nil {
		return nil, err
	}
	return resp, nil
}

// updateField is MERGE on a field.
func (c *call) updateField(l *storage.List, f *storage.Field) (*response, error) {
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	const typ = "SP.Field"
	if err := onlyKnown(m, typ, fieldKnownProps...); err != nil {
		return nil, err
	}
	for _, fixed := range []string{"FieldTypeKind", "TypeAsString", "StaticName", "InternalName"} {
		if raw, ok := lookup(m, fixed); ok && string(raw) != "null" {
			return nil, odata.InvalidQuery("The property '" + fixed + "' of a field is set when the field is created and cannot change.")
		}
	}
	var upd storage.FieldUpdate
	if upd.Title, err = propString(m, "Title", typ); err != nil {
		return nil, err
	}
	if upd.Description, err = propString(m, "Description", typ); err != nil {
		return nil, err
	}
	if upd.DefaultValue, err = propString(m, "DefaultValue", typ); err != nil {
		return nil, err
	}
	if upd.Required, err = propBool(m, "Required", typ); err != nil {
		return nil, err
	}
	if upd.Indexed, err = propBool(m, "Indexed", typ); err != nil {
		return nil, err
	}
	if upd.Hidden, err = propBool(m, "Hidden", typ); err != nil {
		return nil, err
	}
	if upd.Choices, err = propStrings(m, "Choices", typ); err != nil {
		return nil, err
	}
	if f.Type == storage.TypeText {
		if upd.MaxLength, err = propInt(m, "MaxLength", typ); err != nil {
			return nil, err
		}
	}
	if _, err := c.tx.Fields().Update(c.ctx, l.ID, f.ID, upd); err != nil {
		return nil, err
	}
	return noContent(""), nil
}

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

// filteredCollection applies $filter and $top to entities the API holds
// in memory (fields, users, views): their properties are the columns.
func (c *call) filteredCollection(ents []*odata.Entity, metadata string) (*response, error) {
	if c.query.Filter != nil {
		kept := ents[:0:0]
		for _, e := range ents {
			ok, err := odata.Eval(c.query.Filter, entityGetter(e))
			if err != nil {
				return nil, odata.InvalidQuery("The $filter cannot be applied here: " + err.Error())
			}
			if ok {
				kept = append(kept, e)
			}
		}
		ents = kept
	}
	if c.query.HasTop && c.query.Top < len(ents) {
		ents = ents[:c.query.Top]
	}
	return c.collection(ents, metadata, ""), nil
}

// entityGetter reads an entity's primitive properties as filter values.
func entityGetter(e *odata.Entity) odata.Getter {
	return func(path string) (odata.Value, bool) {
		for _, p := range e.Props {
			if !strings.EqualFold(p.Name, path) {
				continue
			}
			switch v := p.Value.(type) {
			case string:
				return odata.String(v), true
			case bool:
				return odata.Bool(v), true
			case int:
				return odata.Int(int64(v)), true
			case int64:
				return odata.Int(v), true
			case nil:
				return odata.Null(), true
			case odata.Value:
				return v, true
			}
			return odata.Value{}, false
		}
		return odata.Value{}, false
	}
}
