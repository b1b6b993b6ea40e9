package sharepoint

import (
	"errors"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// How list items look on the wire, both ways.

// propertyName is a field's entity property name: its internal name,
// with SharePoint's OData_ prefix for names that start with '_'
// (OData__UIVersionString).
func propertyName(f *storage.Field) string {
	if strings.HasPrefix(f.InternalName, "_") {
		return "OData_" + f.InternalName
	}
	return f.InternalName
}

// isRef reports whether a field holds another row's id (a user or a
// lookup), which the wire shows as <Name>Id.
func isRef(f *storage.Field) bool { return f.Type == storage.TypeUser || f.Type == storage.TypeLookup }

// projection says which properties an item entity has, in order.
type projection struct {
	props []projected
}

type projected struct {
	// name is the property as written: Title, Id or ID, AuthorId.
	name  string
	field *storage.Field
	// expand is set for an expanded user or lookup (Author): the nested
	// properties asked for ("*" or nil for the defaults).
	expand []string
	// asID writes a reference field's id (AuthorId); asString its id as
	// a string (AuthorStringId).
	asID, asString bool
	// fixed is a constant property SharePoint has on every item
	// (ServerRedirectedEmbedUri); field is nil then.
	fixed    any
	fixedSet bool
	// unique is HasUniqueRoleAssignments (only when selected); field is
	// nil then.
	unique bool
}

// newProjection builds the properties of $select and $expand (every
// field when $select is absent or "*").
func newProjection(s *storage.Schema, sel, expand []string) (*projection, error) {
	p := &projection{}
	expanded := map[string]bool{}
	for _, e := range expand {
		f, ok := s.Resolve(e)
		if !ok {
			return nil, odata.FieldNotFound(e)
		}
		if !isRef(f) {
			return nil, odata.InvalidQuery("The field '" + e + "' is not a lookup or user field and cannot be expanded.")
		}
		expanded[strings.ToLower(f.InternalName)] = true
	}
	all := len(sel) == 0
	for _, name := range sel {
		if name == "*" {
			all = true
		}
	}
	if all {
		p.defaults(s, expanded)
		// With "*", nested selections still apply to expansions.
		for _, name := range sel {
			if head, tail, ok := strings.Cut(name, "/"); ok {
				p.addNested(s, head, tail)
			}
		}
		return p, nil
	}
	for _, name := range sel {
		head, tail, nested := strings.Cut(name, "/")
		f, ok := s.Resolve(head)
		if !ok && !nested && strings.EqualFold(head, "HasUniqueRoleAssignments") {
			p.add(projected{name: "HasUniqueRoleAssignments", unique: true})
			continue
		}
		if !ok {
			return nil, odata.FieldNotFound(name)
		}
		switch {
		case nested || (isRef(f) && expanded[strings.ToLower(f.InternalName)] && strings.EqualFold(head, f.InternalName)):
			if !p.addNested(s, head, tail) {
				p.props = append(p.props, projected{name: f.InternalName, field: f, expand: nonEmpty(tail)})
			}
		case isRef(f):
			p.add(projected{name: f.InternalName + "Id", field: f, asID: true})
		case f.InternalName == storage.FieldID:
			p.add(projected{name: canonicalIDName(head), field: f})
		default:
			p.add(projected{name: propertyName(f), field: f})
		}
	}
	return p, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func canonicalIDName(asked string) string {
	if asked == "ID" {
		return "ID"
	}
	return "Id"
}

func (p *projection) add(x projected) {
	for _, q := range p.props {
		if q.name == x.name {
			return
		}
	}
	p.props = append(p.props, x)
}

// addNested adds tail to the expansion of head when head is already
// projected as one; false when it is not.
func (p *projection) addNested(s *storage.Schema, head, tail string) bool {
	f, ok := s.Resolve(head)
	if !ok {
		return false
	}
	for i := range p.props {
		if p.props[i].field == f && p.props[i].name == f.InternalName && !p.props[i].asID {
			if tail != "" {
				p.props[i].expand = append(p.props[i].expand, tail)
			}
			return true
		}
	}
	return false
}

// defaults are SharePoint's properties of an item, in its order.
func (p *projection) defaults(s *storage.Schema, expanded map[string]bool) {
	byName := func(n string) *storage.Field { f, _ := s.Resolve(n); return f }
	fixed := func(name string, v any) { p.props = append(p.props, projected{name: name, fixed: v, fixedSet: true}) }
	field := func(name string) {
		if f := byName(name); f != nil {
			p.props = append(p.props, projected{name: propertyName(f), field: f})
		}
	}
	ref := func(f *storage.Field) {
		if expanded[strings.ToLower(f.InternalName)] {
			p.props = append(p.props, projected{name: f.InternalName, field: f})
		}
		p.props = append(p.props, projected{name: f.InternalName + "Id", field: f, asID: true})
		if f.Type == storage.TypeUser {
			p.props = append(p.props, projected{name: f.InternalName + "StringId", field: f, asID: true, asString: true})
		}
	}
	field("FileSystemObjectType")
	if f := byName(storage.FieldID); f != nil {
		p.props = append(p.props, projected{name: "Id", field: f})
	}
	fixed("ServerRedirectedEmbedUri", nil)
	fixed("ServerRedirectedEmbedUrl", "")
	field("ContentTypeId")
	field(storage.FieldTitle)
	for _, f := range s.Fields {
		if f.System {
			continue
		}
		if isRef(f) {
			ref(f)
			continue
		}
		p.props = append(p.props, projected{name: propertyName(f), field: f})
	}
	if f := byName(storage.FieldID); f != nil {
		p.props = append(p.props, projected{name: "ID", field: f})
	}
	field(storage.FieldModified)
	field(storage.FieldCreated)
	for _, n := range []string{storage.FieldAuthor, storage.FieldEditor} {
		if f := byName(n); f != nil {
			if expanded[strings.ToLower(f.InternalName)] {
				p.props = append(p.props, projected{name: f.InternalName, field: f})
			}
			p.props = append(p.props, projected{name: f.InternalName + "Id", field: f, asID: true})
		}
	}
	field(storage.FieldUIVersion)
	field("Attachments")
	field(storage.FieldGUID)
}

// storageSelect is the field list storage restricts values to (nil: all).
func (p *projection) storageSelect() []string {
	out := make([]string, 0, len(p.props))
	for _, x := range p.props {
		if x.field != nil {
			out = append(out, x.field.InternalName)
		}
	}
	return out
}

// itemEntities writes items as entities of list l.
func (c *call) itemEntities(l *storage.List, s *storage.Schema, p *projection, items []*storage.Item) ([]*odata.Entity, error) {
	ex := newExpander(c)
	ents := make([]*odata.Entity, len(items))
	for i, it := range items {
		link := "Web/Lists(guid'" + l.ID + "')/Items(" + strconv.FormatInt(it.ID, 10) + ")"
		ent := &odata.Entity{Type: l.ListItemEntityTypeFullName, ID: it.GUID, EditLink: link,
			ETag: odata.ETag(int64(it.Version)), Props: make([]odata.Prop, 0, len(p.props))}
		for _, x := range p.props {
			if x.fixedSet {
				ent.Props = append(ent.Props, odata.Prop{Name: x.name, Value: x.fixed})
				continue
			}
			if x.unique {
				ent.Props = append(ent.Props, odata.Prop{Name: x.name, Value: it.ScopeID == storage.ItemScopeID(l.ID, it.ID)})
				continue
			}
			v := storage.ItemValue(it, x.field)
			switch {
			case isRef(x.field) && x.asID:
				ent.Props = append(ent.Props, odata.Prop{Name: x.name, Value: refID(v, x.asString)})
			case isRef(x.field):
				sub, err := ex.expand(x.field, v, x.expand)
				if err != nil {
					return nil, err
				}
				ent.Props = append(ent.Props, odata.Prop{Name: x.name, Value: sub})
			default:
				ent.Props = append(ent.Props, odata.Prop{Name: x.name, Value: wireValue(x.field, v)})
			}
		}
		ents[i] = ent
	}
	return ents, nil
}

func refID(v odata.Value, asString bool) any {
	if v.IsNull() {
		return nil
	}
	if asString {
		return strconv.FormatInt(v.Int, 10)
	}
	return v.Int
}

// wireValue is a field value as JSON: MultiChoice a collection of
// strings, URL an SP.FieldUrlValue, the rest as the value's kind.
func wireValue(f *storage.Field, v odata.Value) any {
	if v.IsNull() {
		if f.Type == storage.TypeMultiChoice {
			return odata.Values{Type: "Collection(Edm.String)", Items: []any{}}
		}
		return nil
	}
	switch f.Type {
	case storage.TypeMultiChoice:
		cs := storage.MultiChoices(v)
		items := make([]any, len(cs))
		for i, s := range cs {
			items[i] = s
		}
		return odata.Values{Type: "Collection(Edm.String)", Items: items}
	case storage.TypeURL:
		u, d, _ := strings.Cut(v.Str, ", ")
		return &odata.Entity{Type: "SP.FieldUrlValue", Props: []odata.Prop{{Name: "Description", Value: d}, {Name: "Url", Value: u}}}
	}
	return v
}

// expander fetches the targets of expanded user and lookup fields, each
// once per call.
type expander struct {
	c       *call
	users   map[int64]*storage.User
	lists   map[string]*storage.List
	schemas map[string]*storage.Schema
	items   map[string]map[int64]*storage.Item
}

func newExpander(c *call) *expander {
	return &expander{c: c, users: map[int64]*storage.User{}, lists: map[string]*storage.List{},
		schemas: map[string]*storage.Schema{}, items: map[string]map[int64]*storage.Item{}}
}

func (e *expander) user(id int64) (*storage.User, error) {
	if u, ok := e.users[id]; ok {
		return u, nil
	}
	u, err := e.c.tx.Users().Get(e.c.ctx, e.c.web.SiteID, id)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.users[id] = u
	return u, nil
}

// expand is the nested entity of an expanded reference, with the
// properties asked for (all when none are named).
func (e *expander) expand(f *storage.Field, v odata.Value, names []string) (*odata.Entity, error) {
	if v.IsNull() {
		return nil, nil
	}
	var ent *odata.Entity
	if f.Type == storage.TypeUser {
		u, err := e.user(v.Int)
		if err != nil || u == nil {
			return nil, err
		}
		ent = e.c.userInfoEntity(u)
	} else {
		it, l, s, err := e.lookupItem(f, v.Int)
		if err != nil || it == nil {
			return nil, err
		}
		p, _ := newProjection(s, nil, nil)
		ents, err := e.c.itemEntities(l, s, p, []*storage.Item{it})
		if err != nil {
			return nil, err
		}
		ent = ents[0]
	}
	if len(names) == 0 {
		return ent, nil
	}
	return pick(ent, names), nil
}

// lookupItem is the target row of a lookup field.
func (e *expander) lookupItem(f *storage.Field, id int64) (*storage.Item, *storage.List, *storage.Schema, error) {
	l, ok := e.lists[f.LookupList]
	if !ok {
		var err error
		l, err = e.c.tx.Lists().Get(e.c.ctx, e.c.web.ID, f.LookupList)
		if errors.Is(err, storage.ErrNotFound) {
			l, err = nil, nil
		}
		if err != nil {
			return nil, nil, nil, err
		}
		e.lists[f.LookupList] = l
		if l != nil {
			fields, err := e.c.tx.Fields().List(e.c.ctx, l.ID)
			if err != nil {
				return nil, nil, nil, err
			}
			e.schemas[l.ID] = storage.NewSchema(fields)
			e.items[l.ID] = map[int64]*storage.Item{}
		}
	}
	if l == nil {
		return nil, nil, nil, nil
	}
	if it, ok := e.items[l.ID][id]; ok {
		return it, l, e.schemas[l.ID], nil
	}
	it, err := e.c.tx.Items().Get(e.c.ctx, l.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		it, err = nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	e.items[l.ID][id] = it
	return it, l, e.schemas[l.ID], nil
}

// lookupTitle is the text a lookup shows: the target's LookupField.
func (e *expander) lookupTitle(f *storage.Field, id int64) (string, error) {
	it, _, s, err := e.lookupItem(f, id)
	if err != nil || it == nil {
		return "", err
	}
	show := f.LookupField
	if show == "" {
		show = storage.FieldTitle
	}
	tf, ok := s.Resolve(show)
	if !ok {
		return "", nil
	}
	return storage.FormatText(storage.ItemValue(it, tf)), nil
}
