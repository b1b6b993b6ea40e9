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
func (c *call) addField(l *storage.List) (*response, error) {
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
	in, err := fieldInput(m)
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
			"A duplicate field name \""+in.Name()+"\" was found.")
	}
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusCreated, header: http.Header{}, body: c.enc.Entity(c.fieldEntity(l, f), "SP.ApiData.Fields/@Element"), format: c.format}, nil
}

// fieldInput reads a field body. The type comes from FieldTypeKind,
// TypeAsString or the verbose __metadata.type, in that order.
func fieldInput(m map[string]json.RawMessage) (storage.FieldInput, error) {
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
