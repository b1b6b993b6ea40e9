package caml

import (
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Limits of ParseField.
const (
	// MaxFieldLength is the longest SchemaXml, in bytes: a field with a
	// few hundred choices.
	MaxFieldLength = 64 << 10
	// maxFieldDepth bounds nesting; SharePoint's field schemas are two or
	// three levels deep (Field, CHOICES, CHOICE).
	maxFieldDepth = 16
)

// inputField names SchemaXml in errors, as the createFieldAsXml body does.
const inputField = "SchemaXml"

// The bits of SP.AddFieldOptions (createFieldAsXml's Options) that
// concern the REST layer.
const (
	// AddFieldInternalNameHint makes SharePoint take the internal name
	// from the schema's Name; without it the internal name is derived
	// from DisplayName. See WithAddFieldOptions.
	AddFieldInternalNameHint = 8
	// AddFieldToDefaultView adds the new field to the list's default
	// view.
	AddFieldToDefaultView = 16
)

// LookupSelf is the List of a lookup field that refers to its own list
// (List="Self"). ParseField passes it through: the caller, which knows
// the list, replaces it with the list's id.
const LookupSelf = "Self"

// creatableTypes are the field types ParseField accepts: those
// storage.NewField creates.
var creatableTypes = []storage.FieldType{storage.TypeText, storage.TypeNote, storage.TypeInteger, storage.TypeNumber,
	storage.TypeCurrency, storage.TypeBoolean, storage.TypeDateTime, storage.TypeChoice, storage.TypeMultiChoice,
	storage.TypeURL, storage.TypeUser, storage.TypeLookup, storage.TypeGuid}

// fieldRefusals explain the SharePoint types Cesivi knows but does not
// create.
var fieldRefusals = map[string]string{
	"UserMulti":     "multi-value user fields (UserMulti) are not supported; use Type=\"User\"",
	"LookupMulti":   "multi-value lookup fields (LookupMulti) are not supported; use Type=\"Lookup\"",
	"Counter":       "a Counter field cannot be created: every list has one, ID",
	"Computed":      "a Computed field cannot be created",
	"Attachments":   "an Attachments field cannot be created: every list has one",
	"ContentTypeId": "a ContentTypeId field cannot be created: every list has one",
	"Calculated":    "calculated fields are not supported",
}

// ParseField reads the field schema XML that createFieldAsXml sends
// (the SchemaXml of its SP.XmlSchemaFieldCreationInformation, which the
// REST layer extracts from the JSON body): a <Field> element with Type,
// DisplayName, Name or StaticName, Description, Required, Indexed,
// Hidden, List and ShowField (lookups), and the children <CHOICES> and
// <Default>. The internal name comes from Name (or StaticName), written
// as SharePoint writes internal names (storage.XMLName: "My Field" is
// My_x0020_Field); the title from DisplayName, or else the name.
//
// What storage.FieldInput has no room for is ignored: ID (the field gets
// a new id), Format, MaxLength, Decimals, Min, Max, Group, RichText,
// NumLines, EnforceUniqueValues, and children other than CHOICES and
// Default (MAPPINGS, Validation…). Types storage cannot create are
// refused with the reason, as are multi-value user and lookup fields,
// computed defaults (<DefaultFormula>, <Default>[today]</Default>) and a
// lookup without a List. Errors are *odata.SyntaxError or
// *odata.LimitError (400 through odata.ErrorOf); storage.NewField checks
// the rest (the name's form, the default value's type).
func ParseField(schemaXML string) (storage.FieldInput, error) {
	d := &document{input: inputField, src: schemaXML}
	var in storage.FieldInput
	if len(schemaXML) > MaxFieldLength {
		return in, d.limit("longer than %d bytes", MaxFieldLength)
	}
	root, err := d.parse(maxFieldDepth)
	if err != nil {
		return in, err
	}
	if root.name != "Field" {
		return in, d.errAt(root.off, "the root element must be <Field>, not <%s>", root.name)
	}
	if in.Type, err = d.fieldType(root); err != nil {
		return in, err
	}
	name, ok := root.attr("Name")
	if !ok || name == "" {
		name, _ = root.attr("StaticName")
	}
	title, _ := root.attr("DisplayName")
	if title == "" {
		title = name
	}
	if title == "" {
		return in, d.errAt(root.off, "<Field> needs DisplayName or Name")
	}
	if name != "" {
		in.InternalName = storage.XMLName(name)
	}
	in.Title = title
	in.Description, _ = root.attr("Description")
	for _, b := range []struct {
		attr string
		dst  *bool
	}{{"Required", &in.Required}, {"Indexed", &in.Indexed}, {"Hidden", &in.Hidden}} {
		if *b.dst, err = d.boolAttr(root, b.attr, false); err != nil {
			return in, err
		}
	}
	if in.Type == storage.TypeLookup {
		if in.LookupList, err = d.lookupList(root); err != nil {
			return in, err
		}
		in.LookupField, _ = root.attr("ShowField")
	}
	return in, d.fieldChildren(root, &in)
}

// fieldType reads Type (with Mult="TRUE" making User and Lookup
// multi-valued, as SharePoint writes UserMulti and LookupMulti).
func (d *document) fieldType(e *element) (storage.FieldType, error) {
	t, ok := e.attr("Type")
	if !ok {
		return "", d.errAt(e.off, "<Field> needs a Type attribute (%s)", typeList())
	}
	mult, err := d.boolAttr(e, "Mult", false)
	if err != nil {
		return "", err
	}
	if mult && (t == "User" || t == "Lookup") {
		t += "Multi"
	}
	if why, ok := fieldRefusals[t]; ok {
		return "", d.errAt(e.off, "field type %s: %s", t, why)
	}
	for _, c := range creatableTypes {
		if string(c) == t {
			return c, nil
		}
		if strings.EqualFold(string(c), t) {
			return "", d.errAt(e.off, "unknown field type %q: type names are case-sensitive, write %s", t, c)
		}
	}
	return "", d.errAt(e.off, "unknown or unsupported field type %q (supported: %s)", t, typeList())
}

func typeList() string {
	names := make([]string, len(creatableTypes))
	for i, t := range creatableTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// lookupList reads a lookup's List: the target list's id, with or
// without braces, or Self.
func (d *document) lookupList(e *element) (string, error) {
	l, ok := e.attr("List")
	if !ok || strings.TrimSpace(l) == "" {
		return "", d.errAt(e.off, "a Lookup field needs List, the id of the list it looks up")
	}
	if l == LookupSelf {
		return LookupSelf, nil
	}
	g, ok := odata.Guid(strings.TrimSpace(l))
	if !ok {
		return "", d.errAt(e.off, "a Lookup field's List must be the id of the list it looks up (a guid) or Self, not %s", excerpt(l))
	}
	return g.Str, nil
}

// fieldChildren reads <CHOICES> and <Default>, ignoring the rest.
func (d *document) fieldChildren(root *element, in *storage.FieldInput) error {
	seen := map[string]bool{}
	for _, c := range root.children {
		switch c.name {
		case "CHOICES", "Default", "DefaultFormula":
		default:
			continue // MAPPINGS, Validation…: nothing FieldInput holds
		}
		if seen[c.name] {
			return d.errAt(c.off, "<Field> holds more than one <%s>", c.name)
		}
		seen[c.name] = true
		switch c.name {
		case "DefaultFormula":
			return d.errAt(c.off, "computed defaults (<DefaultFormula>) are not supported; give a <Default> value")
		case "Default":
			if err := d.noChildren(c); err != nil {
				return err
			}
			in.DefaultValue = c.text.String()
			if in.Type != storage.TypeText && in.Type != storage.TypeNote {
				in.DefaultValue = strings.TrimSpace(in.DefaultValue)
			}
			if strings.HasPrefix(in.DefaultValue, "[") && strings.HasSuffix(in.DefaultValue, "]") && in.Type == storage.TypeDateTime {
				return d.errAt(c.off, "the default %s is computed, which is not supported; give a date such as 2026-01-02, or no default", in.DefaultValue)
			}
		case "CHOICES":
			if in.Type != storage.TypeChoice && in.Type != storage.TypeMultiChoice {
				return d.errAt(c.off, "<CHOICES> belongs to Choice and MultiChoice fields, not %s", in.Type)
			}
			choices, err := d.choices(c)
			if err != nil {
				return err
			}
			in.Choices = choices
		}
	}
	return nil
}

func (d *document) choices(e *element) ([]string, error) {
	if err := d.onlyElements(e); err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range e.children {
		if c.name != "CHOICE" {
			if strings.EqualFold(c.name, "CHOICE") {
				return nil, d.errAt(c.off, "unknown element <%s> in <CHOICES>: CAML names are case-sensitive, write <CHOICE>", c.name)
			}
			return nil, d.errAt(c.off, "<CHOICES> holds <CHOICE> elements only, not <%s>", c.name)
		}
		if err := d.noChildren(c); err != nil {
			return nil, err
		}
		s := strings.TrimSpace(c.text.String())
		if s == "" {
			return nil, d.errAt(c.off, "a <CHOICE> is empty")
		}
		out = append(out, s)
	}
	return out, nil
}

// WithAddFieldOptions returns in as SharePoint creates a field under
// createFieldAsXml's Options: unless they hold AddFieldInternalNameHint,
// SharePoint ignores Name and derives the internal name from
// DisplayName (a long-standing quirk clients work around by sending
// Options 8, or by creating the field with DisplayName set to the wanted
// name and renaming it after). Clearing InternalName makes
// storage.NewField derive it from the title the same way.
// AddFieldToDefaultView is the caller's to honour.
func WithAddFieldOptions(in storage.FieldInput, options int) storage.FieldInput {
	if options&AddFieldInternalNameHint == 0 {
		in.InternalName = ""
	}
	return in
}
