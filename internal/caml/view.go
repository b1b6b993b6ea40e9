package caml

import (
	"strconv"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
)

// Limits of ParseView.
const (
	// MaxViewLength is the longest ViewXml, in bytes. CAML spells a
	// condition in about four times the bytes $filter does, so this is
	// four times odata.MaxFilterLength: room for the same number of
	// conditions.
	MaxViewLength = 4 * odata.MaxFilterLength
	// MaxDepth is how deeply elements may nest. And and Or take two
	// conditions each, so n conditions chained need n-1 levels: this
	// leaves room for a chain of odata.MaxFilterTerms conditions inside
	// <View><Query><Where>, and refuses anything deeper before reading it.
	MaxDepth = 512
)

// inputView names ViewXml in errors, as the getItems body does.
const inputView = "ViewXml"

// View is a parsed CAML <View> (CamlQuery.ViewXml) in the terms of
// Cesivi's query engine: the filter and order keys go into
// storage.ItemQuery as a $filter and $orderby would.
type View struct {
	// Filter is the <Where> condition; nil when there is none.
	Filter odata.Node
	// OrderBy lists the <OrderBy> keys in order.
	OrderBy []odata.OrderKey
	// RowLimit is <RowLimit>; 0 when absent (or written as 0).
	RowLimit int
	// ViewFields lists the internal names <ViewFields> names, in order;
	// nil when absent or empty (every field, as SharePoint returns).
	ViewFields []string
	// Scope is the View's Scope attribute as given ("RecursiveAll"), ""
	// when absent.
	Scope string
}

// Options is the context a view is read in: what <Today/>, <Now/> and
// <UserID/> stand for.
type Options struct {
	// Now is the instant <Now/> names and whose day <Today/> names; the
	// zero time means time.Now().
	Now time.Time
	// Location is the site's time zone: it decides which day <Today/> is
	// and where the days of date-only comparisons begin, and zone-less
	// datetimes are read in it. Nil means UTC.
	Location *time.Location
	// CurrentUserID is the site user id <UserID/> stands for; 0 (no
	// user) matches no item.
	CurrentUserID int64
}

// scopes are the values of SharePoint's ViewScope.
var scopes = []string{"Default", "Recursive", "RecursiveAll", "FilesOnly"}

// ParseView parses a CamlQuery's ViewXml: a <View> (or a bare <Query>)
// with <Query> holding <Where> and <OrderBy>, <ViewFields> and
// <RowLimit>. Empty text is a view of every item, as SharePoint treats
// an empty ViewXml. Errors are *odata.SyntaxError (with the byte offset
// of the element at fault) or *odata.LimitError; odata.ErrorOf turns
// them into SharePoint's 400.
func ParseView(xmlText string, opts Options) (*View, error) {
	d := &document{input: inputView, src: xmlText}
	if len(xmlText) > MaxViewLength {
		return nil, d.limit("longer than %d bytes", MaxViewLength)
	}
	if strings.TrimSpace(strings.TrimPrefix(xmlText, "\ufeff")) == "" {
		return &View{}, nil
	}
	root, err := d.parse(MaxDepth)
	if err != nil {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	p := &viewParser{document: d, opts: opts}
	v := &View{}
	switch root.name {
	case "View":
		err = p.view(root, v)
	case "Query":
		err = p.query(root, v)
	default:
		return nil, d.errAt(root.off, "the root element must be <View> (or <Query>), not <%s>; wrap it: <View><Query><Where>…</Where></Query></View>", root.name)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// viewParser reads one view.
type viewParser struct {
	*document
	opts  Options
	terms int // comparisons read so far, each In value counting as one
}

// once refuses a second element of a kind that may occur once.
func (p *viewParser) once(seen map[string]bool, e *element, parent string) error {
	if seen[e.name] {
		return p.errAt(e.off, "<%s> holds more than one <%s>", parent, e.name)
	}
	seen[e.name] = true
	return nil
}

var (
	viewChildren = []string{"Query", "ViewFields", "RowLimit"}
	// viewUnsupported are <View> children SharePoint knows that would
	// change the result if ignored.
	viewUnsupported = map[string]string{
		"Joins":           "Cesivi queries one list at a time",
		"ProjectedFields": "Cesivi queries one list at a time",
		"Aggregations":    "Cesivi does not compute totals (only Value=\"Off\" is accepted)",
	}
	queryChildren    = []string{"Where", "OrderBy"}
	queryUnsupported = map[string]string{
		"GroupBy": "Cesivi does not group items; order them with <OrderBy>",
	}
)

func (p *viewParser) view(e *element, v *View) error {
	if err := p.onlyElements(e); err != nil {
		return err
	}
	if s, ok := e.attr("Scope"); ok {
		if !knownScope(s) {
			return p.errAt(e.off, "Scope %s is not one of %s", excerpt(s), strings.Join(scopes, ", "))
		}
		v.Scope = s
	}
	seen := map[string]bool{}
	for _, c := range e.children {
		if aggregationsOff(c) {
			continue // what views saved with SharePoint's UI hold: no totals
		}
		if !contains(viewChildren, c.name) {
			return p.unknown(c, "View", viewChildren, viewUnsupported)
		}
		if err := p.once(seen, c, "View"); err != nil {
			return err
		}
		var err error
		switch c.name {
		case "Query":
			err = p.query(c, v)
		case "ViewFields":
			v.ViewFields, err = p.viewFields(c)
		case "RowLimit":
			v.RowLimit, err = p.rowLimit(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// aggregationsOff reports whether e is <Aggregations Value="Off"/>.
func aggregationsOff(e *element) bool {
	v, _ := e.attr("Value")
	return e.name == "Aggregations" && strings.EqualFold(v, "Off") && len(e.children) == 0
}

func knownScope(s string) bool {
	for _, k := range scopes {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *viewParser) query(e *element, v *View) error {
	if err := p.onlyElements(e); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range e.children {
		if !contains(queryChildren, c.name) {
			return p.unknown(c, "Query", queryChildren, queryUnsupported)
		}
		if err := p.once(seen, c, "Query"); err != nil {
			return err
		}
		var err error
		switch c.name {
		case "Where":
			v.Filter, err = p.where(c)
		case "OrderBy":
			v.OrderBy, err = p.orderBy(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fieldRefs reads the <FieldRef> children of e (ViewFields, OrderBy),
// refusing anything else and more than max of them.
func (p *viewParser) fieldRefs(e *element, max int) ([]fieldRef, error) {
	if err := p.onlyElements(e); err != nil {
		return nil, err
	}
	var out []fieldRef
	for _, c := range e.children {
		if c.name != "FieldRef" {
			return nil, p.unknown(c, e.name, []string{"FieldRef"}, nil)
		}
		if len(out) == max {
			return nil, p.limit("<%s> names more than %d fields", e.name, max)
		}
		f, err := p.fieldRef(c)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (p *viewParser) viewFields(e *element) ([]string, error) {
	refs, err := p.fieldRefs(e, odata.MaxSelectFields)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range refs {
		out = append(out, r.name)
	}
	return out, nil
}

func (p *viewParser) orderBy(e *element) ([]odata.OrderKey, error) {
	refs, err := p.fieldRefs(e, odata.MaxOrderKeys)
	if err != nil {
		return nil, err
	}
	var out []odata.OrderKey
	for i, r := range refs {
		asc, err := p.boolAttr(e.children[i], "Ascending", true)
		if err != nil {
			return nil, err
		}
		out = append(out, odata.OrderKey{Field: r.path(), Desc: !asc})
	}
	return out, nil
}

func (p *viewParser) rowLimit(e *element) (int, error) {
	if err := p.noChildren(e); err != nil {
		return 0, err
	}
	s := strings.TrimSpace(e.text.String())
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || s[0] == '+' {
		return 0, p.errAt(e.off, "<RowLimit> must hold a non-negative integer, not %s", excerpt(s))
	}
	if n > odata.MaxTop {
		return 0, p.limit("<RowLimit> %d is more than the largest page, %d", n, odata.MaxTop)
	}
	return n, nil
}

// fieldRef is a parsed <FieldRef>.
type fieldRef struct {
	name     string
	lookupID bool // LookupId="TRUE": the lookup's (or user's) id is meant
	off      int
}

// path is the field path a filter or order key uses. A lookup's id is
// written as SharePoint REST writes it, "<Name>Id" (AuthorId), which
// storage.Schema.Resolve maps to the lookup field, whose value is the id.
func (f fieldRef) path() string {
	if f.lookupID {
		return f.name + "Id"
	}
	return f.name
}

func (p *viewParser) fieldRef(e *element) (fieldRef, error) {
	if err := p.noChildren(e); err != nil {
		return fieldRef{}, err
	}
	if err := p.onlyElements(e); err != nil {
		return fieldRef{}, err
	}
	name, ok := e.attr("Name")
	if !ok {
		if _, byID := e.attr("ID"); byID {
			return fieldRef{}, p.errAt(e.off, "<FieldRef> needs Name, the field's internal name; Cesivi does not resolve fields by ID")
		}
		return fieldRef{}, p.errAt(e.off, "<FieldRef> needs Name, the field's internal name")
	}
	if !isName(name) {
		return fieldRef{}, p.errAt(e.off, "<FieldRef Name=%s> is not an internal field name (a letter or '_', then letters, digits or '_'; SharePoint writes other characters as _xHHHH_)", excerpt(name))
	}
	lookupID, err := p.boolAttr(e, "LookupId", false)
	if err != nil {
		return fieldRef{}, err
	}
	return fieldRef{name: name, lookupID: lookupID, off: e.off}, nil
}
