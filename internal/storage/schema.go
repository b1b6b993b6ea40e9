package storage

import (
	"fmt"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
)

// Schema is a list's fields, indexed by name as clients write them.
type Schema struct {
	Fields []*Field
	byName map[string]*Field
}

// NewSchema indexes fields by lower-cased internal name.
func NewSchema(fields []*Field) *Schema {
	s := &Schema{Fields: fields, byName: make(map[string]*Field, len(fields))}
	for _, f := range fields {
		s.byName[strings.ToLower(f.InternalName)] = f
	}
	return s
}

// Resolve finds the field a client means by name, ignoring case: an
// internal name (Title, ID or Id), or a lookup or user field written as
// "<Name>Id" or "<Name>/Id" (AuthorId, Author/Id), which stand for the
// target's id the field holds.
func (s *Schema) Resolve(name string) (*Field, bool) {
	key := strings.ToLower(name)
	if f, ok := s.byName[key]; ok {
		return f, true
	}
	for _, suffix := range []string{"/id", "id"} {
		if base, ok := strings.CutSuffix(key, suffix); ok {
			if f, ok := s.byName[base]; ok && (f.Type == TypeLookup || f.Type == TypeUser) {
				return f, true
			}
		}
	}
	return nil, false
}

// IsLibrary reports whether the schema is a document library's: its
// items carry files and folders (it has the system field FileRef).
func (s *Schema) IsLibrary() bool {
	f, ok := s.byName[strings.ToLower(FieldFileRef)]
	return ok && f.System
}

// The internal names of the fields whose values live in Item's own
// fields rather than in Item.Values.
const (
	FieldID        = "ID"
	FieldTitle     = "Title"
	FieldCreated   = "Created"
	FieldModified  = "Modified"
	FieldAuthor    = "Author"
	FieldEditor    = "Editor"
	FieldGUID      = "GUID"
	FieldUIVersion = "_UIVersionString"
)

// ItemValue is the item's value of field f, system fields included.
func ItemValue(it *Item, f *Field) odata.Value {
	if f.System {
		switch f.InternalName {
		case FieldID:
			return odata.Int(it.ID)
		case FieldCreated:
			return odata.DateTime(it.Created)
		case FieldModified:
			return odata.DateTime(it.Modified)
		case FieldAuthor:
			return odata.Int(it.AuthorID)
		case FieldEditor:
			return odata.Int(it.EditorID)
		case FieldGUID:
			g, _ := odata.Guid(it.GUID)
			return g
		case FieldUIVersion:
			return odata.String(fmt.Sprintf("%d.0", it.Version))
		}
	}
	return it.Values[f.InternalName]
}

// Computed reports whether f's value lives in Item's own fields.
func Computed(f *Field) bool {
	if !f.System {
		return false
	}
	switch f.InternalName {
	case FieldID, FieldCreated, FieldModified, FieldAuthor, FieldEditor, FieldGUID, FieldUIVersion:
		return true
	}
	return false
}

// Getter returns an odata.Getter over one item, for odata.Eval.
func (s *Schema) Getter(it *Item) odata.Getter {
	return func(path string) (odata.Value, bool) {
		f, ok := s.Resolve(path)
		if !ok {
			return odata.Value{}, false
		}
		return ItemValue(it, f), true
	}
}

// Prepare resolves and type-checks the values of a write, keyed by
// internal name; a null value clears the field. On create the fields the
// input omits get their default values and nulls are dropped.
func (s *Schema) Prepare(in map[string]odata.Value, create bool) (map[string]odata.Value, error) {
	out := make(map[string]odata.Value, len(in))
	for name, v := range in {
		f, ok := s.Resolve(name)
		if !ok {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, odata.FieldNotFound(name))
		}
		if f.ReadOnly {
			return nil, Invalid("field %s is read-only", f.InternalName)
		}
		v, err := Coerce(f, v)
		if err != nil {
			return nil, err
		}
		out[f.InternalName] = v
	}
	if !create {
		return out, nil
	}
	for _, f := range s.Fields {
		if _, ok := out[f.InternalName]; ok || f.DefaultValue == "" || Computed(f) {
			continue
		}
		v, err := ParseText(f, f.DefaultValue)
		if err != nil {
			return nil, Invalid("the default value of field %s is not a %s value", f.InternalName, f.Type.Kind())
		}
		out[f.InternalName] = v
	}
	for k, v := range out {
		if v.IsNull() {
			delete(out, k)
		}
	}
	return out, nil
}

// Merge applies prepared values to a copy of old.
func Merge(old, set map[string]odata.Value) map[string]odata.Value {
	out := make(map[string]odata.Value, len(old)+len(set))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range set {
		if v.IsNull() {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// probe is a non-null value of each kind, for CheckFilter.
var probe = map[odata.Kind]odata.Value{
	odata.KindString:   odata.String("x"),
	odata.KindInt:      odata.Int(1),
	odata.KindDecimal:  odata.Decimal(1.5),
	odata.KindBool:     odata.Bool(true),
	odata.KindDateTime: odata.DateTime(odata.Value{}.Time.AddDate(2000, 0, 0)),
	odata.KindGuid:     {Kind: odata.KindGuid, Str: "00000000-0000-0000-0000-000000000000"},
}

// CheckFilter reports what is wrong with a filter for this list: an
// unknown field, or a literal of the wrong kind for its field. It does not
// depend on the data, so both providers refuse the same filters; the
// error wraps ErrInvalid and the *odata.Error to send.
func (s *Schema) CheckFilter(n odata.Node) error {
	if n == nil {
		return nil
	}
	_, err := odata.Eval(n, func(path string) (odata.Value, bool) {
		f, ok := s.Resolve(path)
		if !ok {
			return odata.Value{}, false
		}
		return probe[f.Type.Kind()], true
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// OrderKey is a resolved $orderby key.
type OrderKey struct {
	Field *Field
	Desc  bool
}

// Plan is an ItemQuery checked against a list's schema.
type Plan struct {
	Filter odata.Node
	// Order ends with the ID key (ascending unless $orderby said
	// otherwise); keys after an ID key are dropped, as they never decide.
	Order []OrderKey
	// After holds the token's values, one per Order key (the ID last);
	// nil without a token.
	After []odata.Value
	Top   int
	// Select is nil for every field.
	Select []*Field
}

// Plan checks q against the schema.
func (s *Schema) Plan(q ItemQuery) (*Plan, error) {
	if err := s.CheckFilter(q.Filter); err != nil {
		return nil, err
	}
	p := &Plan{Filter: q.Filter, Top: q.Top}
	if p.Top <= 0 {
		p.Top = odata.DefaultTop
	}
	if p.Top > odata.MaxTop {
		return nil, Invalid("$top may be at most %d", odata.MaxTop)
	}
	idField, _ := s.Resolve(FieldID)
	hasID := false
	for _, k := range q.OrderBy {
		f, ok := s.Resolve(k.Field)
		if !ok {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, odata.FieldNotFound(k.Field))
		}
		p.Order = append(p.Order, OrderKey{Field: f, Desc: k.Desc})
		if f == idField {
			hasID = true
			break
		}
	}
	if !hasID {
		p.Order = append(p.Order, OrderKey{Field: idField})
	}
	for _, name := range q.Select {
		if name == "*" {
			p.Select = nil
			break
		}
		f, ok := s.Resolve(name)
		if !ok {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, odata.FieldNotFound(name))
		}
		p.Select = append(p.Select, f)
	}
	if q.After != nil {
		if err := p.after(q.After); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// after reads the token's values by the order keys' types.
func (p *Plan) after(tok *odata.SkipToken) error {
	keys := p.Order[:len(p.Order)-1]
	if len(tok.Keys) != len(keys) {
		return Invalid("the $skiptoken names %d ordered fields but $orderby has %d", len(tok.Keys), len(keys))
	}
	for i, k := range keys {
		if !strings.EqualFold(tok.Keys[i].Field, k.Field.InternalName) {
			return Invalid("the $skiptoken's field %d is not the $orderby field %s", i+1, k.Field.InternalName)
		}
		v, err := ParseText(k.Field, tok.Keys[i].Value)
		if err != nil {
			return Invalid("the $skiptoken's value for %s is not a %s value", k.Field.InternalName, k.Field.Type.Kind())
		}
		p.After = append(p.After, v)
	}
	p.After = append(p.After, odata.Int(tok.ID))
	return nil
}

// Less reports whether a comes before b in the plan's order.
func (p *Plan) Less(a, b *Item) bool { return p.compareItem(a, b) < 0 }

func (p *Plan) compareItem(a, b *Item) int {
	for _, k := range p.Order {
		c := CompareValues(ItemValue(a, k.Field), ItemValue(b, k.Field))
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// IsAfter reports whether it comes after the plan's token (true without
// a token).
func (p *Plan) IsAfter(it *Item) bool {
	if p.After == nil {
		return true
	}
	for i, k := range p.Order {
		c := CompareValues(ItemValue(it, k.Field), p.After[i])
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c > 0
		}
	}
	return false
}

// Next is the token that resumes after it.
func (p *Plan) Next(it *Item) *odata.SkipToken {
	tok := &odata.SkipToken{ID: it.ID}
	for _, k := range p.Order[:len(p.Order)-1] {
		tok.Keys = append(tok.Keys, odata.SkipKey{Field: k.Field.InternalName, Value: FormatText(ItemValue(it, k.Field))})
	}
	return tok
}

// Project restricts it.Values to the plan's selected fields.
func (p *Plan) Project(it *Item) {
	if p.Select == nil {
		return
	}
	vals := make(map[string]odata.Value, len(p.Select))
	for _, f := range p.Select {
		if v, ok := it.Values[f.InternalName]; ok {
			vals[f.InternalName] = v
		}
	}
	it.Values = vals
}

// FieldByName finds a field by internal name, then by title, ignoring
// case (getByInternalNameOrTitle).
func FieldByName(fields []*Field, name string) (*Field, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.InternalName, name) {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.Title, name) {
			return f, true
		}
	}
	return nil, false
}

// CheckVersion refuses a write naming a version (If-Match) that is not
// the item's; want 0 is "*".
func CheckVersion(it *Item, want int) error {
	if want != 0 && want != it.Version {
		return Conflict("item %d is at version %d, not %d", it.ID, it.Version, want)
	}
	return nil
}

// CheckTx is the providers' guard on a Tx method: a Tx used after its
// function returned, or a write in a View, is refused.
func CheckTx(done, readOnly, write bool) error {
	switch {
	case done:
		return Invalid("the transaction has ended")
	case write && readOnly:
		return Invalid("a read-only transaction cannot write")
	}
	return nil
}
