package caml

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
)

// The elements a condition may be, and those SharePoint knows that
// Cesivi refuses (with the reason the client reads).
var (
	conditionNames = []string{"And", "Or", "Eq", "Neq", "Gt", "Geq", "Lt", "Leq",
		"Contains", "BeginsWith", "IsNull", "IsNotNull", "In"}
	conditionUnsupported = map[string]string{
		"DateRangesOverlap": "Cesivi has no recurring events",
		"Membership":        "Cesivi has no group membership conditions; compare the field with <UserID/> instead",
		"Includes":          "Cesivi has no multi-value lookups",
		"NotIncludes":       "Cesivi has no multi-value lookups",
		"Not":               "CAML has no <Not>; use the opposite comparison (Neq, IsNotNull…)",
	}
	compareOps = map[string]odata.Op{"Eq": odata.OpEq, "Neq": odata.OpNe, "Gt": odata.OpGt,
		"Geq": odata.OpGe, "Lt": odata.OpLt, "Leq": odata.OpLe}
)

// where reads <Where>: one condition, or none (every item).
func (p *viewParser) where(e *element) (odata.Node, error) {
	if err := p.onlyElements(e); err != nil {
		return nil, err
	}
	switch len(e.children) {
	case 0:
		return nil, nil
	case 1:
		return p.condition(e.children[0], "Where")
	}
	return nil, p.errAt(e.children[1].off, "<Where> holds one condition, not %d; join them with <And> or <Or>", len(e.children))
}

func (p *viewParser) condition(e *element, parent string) (odata.Node, error) {
	switch e.name {
	case "And", "Or":
		return p.logical(e)
	case "Eq", "Neq", "Gt", "Geq", "Lt", "Leq":
		return p.compare(e, compareOps[e.name])
	case "Contains":
		return p.search(e, odata.FuncSubstringOf)
	case "BeginsWith":
		return p.search(e, odata.FuncStartsWith)
	case "IsNull", "IsNotNull":
		return p.null(e)
	case "In":
		return p.in(e)
	}
	return nil, p.unknown(e, parent, conditionNames, conditionUnsupported)
}

// logical reads <And> or <Or>. SharePoint requires exactly two
// conditions in each (more need nesting) and so does Cesivi, so that a
// query that works here works there.
func (p *viewParser) logical(e *element) (odata.Node, error) {
	if err := p.onlyElements(e); err != nil {
		return nil, err
	}
	if len(e.children) != 2 {
		return nil, p.errAt(e.off, "<%s> takes exactly two conditions, not %d; nest <%s> elements to join more", e.name, len(e.children), e.name)
	}
	l, err := p.condition(e.children[0], e.name)
	if err != nil {
		return nil, err
	}
	r, err := p.condition(e.children[1], e.name)
	if err != nil {
		return nil, err
	}
	op := odata.OpAnd
	if e.name == "Or" {
		op = odata.OpOr
	}
	return join(op, l, r), nil
}

// join returns l op r with chains of one operator associated to the
// left, the tree odata.ParseFilter builds for "a or b or c": CAML's
// right-nested chains (<Or>a<Or>b c</Or></Or>) then print without
// parentheses and compare equal to the $filter they mean.
func join(op odata.Op, l, r odata.Node) odata.Node {
	if rl, ok := r.(*odata.Logical); ok && rl.Op == op {
		return &odata.Logical{Op: op, Left: join(op, l, rl.Left), Right: rl.Right}
	}
	return &odata.Logical{Op: op, Left: l, Right: r}
}

// term counts one comparison against odata.MaxFilterTerms, the bound
// $filter has too (each becomes at least one SQL condition).
func (p *viewParser) term() error {
	p.terms++
	if p.terms > odata.MaxFilterTerms {
		return p.limit("more than %d comparisons in one query", odata.MaxFilterTerms)
	}
	return nil
}

// operands reads a comparison's <FieldRef> and, when wantValue, its
// <Value> (or <Values> for In).
func (p *viewParser) operands(e *element, valueName string) (fieldRef, *element, error) {
	if err := p.onlyElements(e); err != nil {
		return fieldRef{}, nil, err
	}
	allowed := []string{"FieldRef"}
	if valueName != "" {
		allowed = append(allowed, valueName)
	}
	var ref *element
	var val *element
	for _, c := range e.children {
		switch {
		case c.name == "FieldRef":
			if ref != nil {
				return fieldRef{}, nil, p.errAt(c.off, "<%s> compares one field; it holds a second <FieldRef>", e.name)
			}
			ref = c
		case c.name == valueName && valueName != "":
			if val != nil {
				return fieldRef{}, nil, p.errAt(c.off, "<%s> holds a second <%s>", e.name, valueName)
			}
			val = c
		default:
			return fieldRef{}, nil, p.unknown(c, e.name, allowed, map[string]string{"XML": "Cesivi compares with <Value> only"})
		}
	}
	if ref == nil {
		return fieldRef{}, nil, p.errAt(e.off, "<%s> needs a <FieldRef Name=\"…\"/> naming the field", e.name)
	}
	if valueName != "" && val == nil {
		return fieldRef{}, nil, p.errAt(e.off, "<%s> needs a <%s> to compare <FieldRef Name=%q/> with", e.name, valueName, attrOr(ref, "Name"))
	}
	f, err := p.fieldRef(ref)
	return f, val, err
}

func attrOr(e *element, name string) string {
	v, _ := e.attr(name)
	return v
}

func (p *viewParser) compare(e *element, op odata.Op) (odata.Node, error) {
	ref, ve, err := p.operands(e, "Value")
	if err != nil {
		return nil, err
	}
	v, err := p.value(ve)
	if err != nil {
		return nil, err
	}
	if err := p.term(); err != nil {
		return nil, err
	}
	return p.comparison(e, op, ref, v)
}

// comparison builds ref op v.
func (p *viewParser) comparison(e *element, op odata.Op, ref fieldRef, v value) (odata.Node, error) {
	path := ref.path()
	kind := valueTypes[v.typ]
	if ref.lookupID && kind != kindInteger && kind != kindLookup {
		return nil, p.errAt(v.off, "LookupId=\"TRUE\" compares the lookup's id: write <Value Type=\"Integer\">, not Type=%q", v.typ)
	}
	switch kind {
	case kindDateTime:
		if v.special == "UserID" {
			break // literal explains
		}
		t, err := p.instant(v)
		if err != nil {
			return nil, err
		}
		if v.includeTime {
			return cmp(op, path, odata.DateTime(t)), nil
		}
		return p.day(op, path, t, v)
	case kindMultiChoice:
		if v.special == "" && (op == odata.OpEq || op == odata.OpNe) {
			n := includes(ref.name, v.text)
			if op == odata.OpNe {
				return &odata.Not{X: n}, nil
			}
			return n, nil
		}
		if v.special == "" {
			return nil, p.errAt(e.off, "<%s> cannot order MultiChoice values; compare them with <Eq>, <Neq> or <Contains>", e.name)
		}
	}
	lit, err := p.literal(e, ref, v)
	if err != nil {
		return nil, err
	}
	return cmp(op, path, lit), nil
}

func cmp(op odata.Op, path string, v odata.Value) *odata.Compare {
	return &odata.Compare{Op: op, Left: &odata.Field{Path: path}, Right: v}
}

// includes is "the MultiChoice field's choices include choice": Cesivi
// stores them as ";#a;#b;#" (storage.MultiChoiceValue), so one choice
// is a substring with its delimiters.
func includes(field, choice string) odata.Node {
	return &odata.Func{Name: odata.FuncSubstringOf, Field: field, Arg: ";#" + choice + ";#"}
}

// day compares a field with the day of t in the site's time zone, as
// SharePoint compares datetimes without IncludeTimeValue: the time of
// day is ignored, so Eq means "on that day" and Gt "after that day".
// Neq, like ne, holds for a null field.
func (p *viewParser) day(op odata.Op, path string, t time.Time, v value) (odata.Node, error) {
	loc := p.opts.Location
	y, m, d := t.In(loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	next := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	for _, t := range []time.Time{start, next} {
		if err := p.inRange(v, t); err != nil {
			return nil, err
		}
	}
	ge := func(t time.Time) odata.Node { return cmp(odata.OpGe, path, odata.DateTime(t)) }
	lt := func(t time.Time) odata.Node { return cmp(odata.OpLt, path, odata.DateTime(t)) }
	switch op {
	case odata.OpEq:
		return join(odata.OpAnd, ge(start), lt(next)), nil
	case odata.OpNe:
		return join(odata.OpOr, join(odata.OpOr, lt(start), ge(next)), cmp(odata.OpEq, path, odata.Null())), nil
	case odata.OpGt:
		return ge(next), nil
	case odata.OpGe:
		return ge(start), nil
	case odata.OpLt:
		return lt(start), nil
	}
	return lt(next), nil // OpLe
}

// search reads <Contains> and <BeginsWith>, which compare text.
func (p *viewParser) search(e *element, fn odata.FuncName) (odata.Node, error) {
	ref, ve, err := p.operands(e, "Value")
	if err != nil {
		return nil, err
	}
	v, err := p.value(ve)
	if err != nil {
		return nil, err
	}
	if err := p.term(); err != nil {
		return nil, err
	}
	if v.special != "" {
		return nil, p.errAt(v.off, "<%s> searches text; <%s/> is not text", e.name, v.special)
	}
	if ref.lookupID {
		return nil, p.errAt(ref.off, "<%s> searches text; LookupId=\"TRUE\" makes the field an id", e.name)
	}
	switch valueTypes[v.typ] {
	case kindText:
		return &odata.Func{Name: fn, Field: ref.name, Arg: v.text}, nil
	case kindMultiChoice:
		if fn == odata.FuncSubstringOf {
			return includes(ref.name, v.text), nil
		}
	case kindLookup:
		return nil, p.lookupText(v, ref)
	}
	return nil, p.errAt(v.off, "<%s> searches text, and a Type=%q value is not text (use Text, Note, Choice, URL…)", e.name, v.typ)
}

func (p *viewParser) null(e *element) (odata.Node, error) {
	ref, _, err := p.operands(e, "")
	if err != nil {
		return nil, err
	}
	if err := p.term(); err != nil {
		return nil, err
	}
	op := odata.OpEq
	if e.name == "IsNotNull" {
		op = odata.OpNe
	}
	return cmp(op, ref.path(), odata.Null()), nil
}

// in reads <In><FieldRef/><Values><Value/>…</Values></In>: the field
// equals one of the values, an Or chain of comparisons (the AST has no
// In node; a provider may turn the chain back into IN (…)).
func (p *viewParser) in(e *element) (odata.Node, error) {
	ref, vs, err := p.operands(e, "Values")
	if err != nil {
		return nil, err
	}
	if err := p.onlyElements(vs); err != nil {
		return nil, err
	}
	if len(vs.children) == 0 {
		return nil, p.errAt(vs.off, "<Values> needs at least one <Value>")
	}
	var out odata.Node
	for _, c := range vs.children {
		if c.name != "Value" {
			return nil, p.unknown(c, "Values", []string{"Value"}, nil)
		}
		v, err := p.value(c)
		if err != nil {
			return nil, err
		}
		if err := p.term(); err != nil {
			return nil, err
		}
		n, err := p.comparison(e, odata.OpEq, ref, v)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = n
		} else {
			out = join(odata.OpOr, out, n)
		}
	}
	return out, nil
}

// valueKind groups the Value Types by the literal they become.
type valueKind uint8

const (
	kindUnknown valueKind = iota
	kindText
	kindMultiChoice
	kindInteger
	kindNumber
	kindBoolean
	kindDateTime
	kindGuid
	kindLookup
)

// valueTypes are the <Value Type="…"> Cesivi reads. Computed, File and
// ContentTypeId are how SharePoint's own views compare ContentType,
// FileLeafRef and ContentTypeId: as text.
var valueTypes = map[string]valueKind{
	"Text": kindText, "Note": kindText, "Choice": kindText, "URL": kindText,
	"Computed": kindText, "File": kindText, "ContentTypeId": kindText,
	"MultiChoice": kindMultiChoice,
	"Integer":     kindInteger, "Counter": kindInteger,
	"Number": kindNumber, "Currency": kindNumber,
	"Boolean":  kindBoolean,
	"DateTime": kindDateTime,
	"Guid":     kindGuid,
	"Lookup":   kindLookup, "User": kindLookup,
}

const valueTypeList = "Text, Note, Choice, MultiChoice, URL, Computed, File, ContentTypeId, Integer, Counter, Number, Currency, Boolean, DateTime, Guid, Lookup, User"

// value is a parsed <Value>.
type value struct {
	typ         string
	text        string // the character data, untrimmed
	special     string // "Today", "Now", "UserID", or "" for a literal
	offsetDays  int    // <Today OffsetDays="n"/>
	includeTime bool   // IncludeTimeValue="TRUE"
	utc         bool   // StorageTZ="TRUE": a zone-less datetime is UTC
	off         int
}

var valueUnsupported = map[string]string{
	"ListProperty":    "Cesivi compares with literals, <Today/>, <Now/> and <UserID/> only",
	"ProjectProperty": "Cesivi compares with literals, <Today/>, <Now/> and <UserID/> only",
	"Month":           "Cesivi has no calendar views",
	"XML":             "Cesivi compares with literals, <Today/>, <Now/> and <UserID/> only",
}

func (p *viewParser) value(e *element) (value, error) {
	v := value{text: e.text.String(), off: e.off}
	typ, ok := e.attr("Type")
	if !ok {
		return v, p.errAt(e.off, "<Value> needs a Type attribute (%s)", valueTypeList)
	}
	if valueTypes[typ] == kindUnknown {
		return v, p.errAt(e.off, "unknown or unsupported <Value Type=%q> (supported: %s)", typ, valueTypeList)
	}
	v.typ = typ
	var err error
	if v.includeTime, err = p.boolAttr(e, "IncludeTimeValue", false); err != nil {
		return v, err
	}
	if v.utc, err = p.boolAttr(e, "StorageTZ", false); err != nil {
		return v, err
	}
	switch len(e.children) {
	case 0:
		return v, nil
	case 1:
	default:
		return v, p.errAt(e.children[1].off, "<Value> holds one value, not %d", len(e.children))
	}
	c := e.children[0]
	switch c.name {
	case "Today", "Now", "UserID":
	default:
		return v, p.unknown(c, "Value", []string{"Today", "Now", "UserID"}, valueUnsupported)
	}
	if s := strings.TrimSpace(v.text); s != "" {
		return v, p.errAt(e.off, "<Value> holds both <%s/> and the text %s", c.name, excerpt(s))
	}
	if err := p.noChildren(c); err != nil {
		return v, err
	}
	v.special, v.off = c.name, c.off
	if c.name == "Today" {
		if v.offsetDays, err = p.offsetDays(c); err != nil {
			return v, err
		}
	}
	return v, nil
}

// maxOffsetDays keeps <Today OffsetDays> within the years a datetime
// can have.
const maxOffsetDays = 10000 * 366

// offsetDays reads OffsetDays, or Offset as SharePoint 2010 wrote it.
func (p *viewParser) offsetDays(e *element) (int, error) {
	s, ok := e.attr("OffsetDays")
	if old, ok2 := e.attr("Offset"); ok2 {
		if ok {
			return 0, p.errAt(e.off, "<Today> has both OffsetDays and Offset; give one")
		}
		s, ok = old, true
	}
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n > maxOffsetDays || n < -maxOffsetDays {
		return 0, p.errAt(e.off, "<Today> OffsetDays must be a whole number of days, not %s", excerpt(s))
	}
	return n, nil
}

// literal converts a value that is not a datetime into the literal ref
// is compared with.
func (p *viewParser) literal(e *element, ref fieldRef, v value) (odata.Value, error) {
	kind := valueTypes[v.typ]
	switch v.special {
	case "UserID":
		if kind != kindInteger && kind != kindLookup {
			return odata.Value{}, p.errAt(v.off, "<UserID/> is a user id: write <Value Type=\"Integer\"><UserID/></Value>, not Type=%q", v.typ)
		}
		return odata.Int(p.opts.CurrentUserID), nil
	case "Today", "Now":
		return odata.Value{}, p.errAt(v.off, "<%s/> is a date: write <Value Type=\"DateTime\"><%s/></Value>, not Type=%q", v.special, v.special, v.typ)
	}
	s := strings.TrimSpace(v.text)
	bad := func(what string) (odata.Value, error) {
		return odata.Value{}, p.errAt(v.off, "<Value Type=%q> must hold %s, not %s", v.typ, what, excerpt(s))
	}
	switch kind {
	case kindText:
		return odata.String(v.text), nil
	case kindInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad("an integer")
		}
		return odata.Int(n), nil
	case kindNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !isDecimal(s) || math.IsInf(f, 0) {
			return bad("a number such as 2.5")
		}
		return odata.Decimal(f), nil
	case kindBoolean:
		switch strings.ToUpper(s) {
		case "1", "TRUE":
			return odata.Bool(true), nil
		case "0", "FALSE":
			return odata.Bool(false), nil
		}
		return bad("1, 0, TRUE or FALSE")
	case kindGuid:
		g, ok := odata.Guid(s)
		if !ok {
			return bad("a guid such as 0f8fad5b-d9cb-469f-a165-70867728950e")
		}
		return g, nil
	case kindLookup:
		if !ref.lookupID {
			return odata.Value{}, p.lookupText(v, ref)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad("the id of the item it refers to")
		}
		return odata.Int(n), nil
	}
	return odata.Value{}, p.errAt(e.off, "<%s> cannot compare a Type=%q value", e.name, v.typ)
}

// lookupText refuses comparing a lookup or user field with display
// text, which SharePoint does without LookupId: Cesivi stores the id
// only.
func (p *viewParser) lookupText(v value, ref fieldRef) error {
	return p.errAt(v.off, "a Type=%q value without LookupId compares the display text of <FieldRef Name=%q/>, which Cesivi does not support: write <FieldRef Name=%q LookupId=\"TRUE\"/> and compare the id", v.typ, ref.name, ref.name)
}

// isDecimal accepts the characters of a decimal number in invariant
// culture, refusing what ParseFloat also reads (Inf, NaN, hex, '_').
func isDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return s != ""
}

// zoned and local are the datetime forms read: ISO 8601 with or without
// fractional seconds, to the minute, or a bare date; a zone-less one is
// in the site's time zone (UTC with StorageTZ="TRUE").
var (
	zoned = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"}
	local = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}
)

// instant is the moment a datetime value names.
func (p *viewParser) instant(v value) (time.Time, error) {
	loc := p.opts.Location
	var t time.Time
	switch v.special {
	case "Today":
		y, m, d := p.opts.Now.In(loc).Date()
		t = time.Date(y, m, d+v.offsetDays, 0, 0, 0, 0, loc)
	case "Now":
		t = p.opts.Now
	default:
		s := strings.TrimSpace(v.text)
		ok := false
		if len(s) <= 64 {
			t, ok = parseTime(s, zoneOf(v, loc))
		}
		if !ok {
			return time.Time{}, p.errAt(v.off, "<Value Type=\"DateTime\"> must hold an ISO 8601 date such as 2026-01-02 or 2026-01-02T03:04:05Z, not %s", excerpt(s))
		}
	}
	return t, p.inRange(v, t)
}

func zoneOf(v value, site *time.Location) *time.Location {
	if v.utc {
		return time.UTC
	}
	return site
}

func parseTime(s string, loc *time.Location) (time.Time, bool) {
	for _, l := range zoned {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	for _, l := range local {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// inRange refuses instants outside the years a datetime literal can
// hold (1 to 9999, in UTC).
func (p *viewParser) inRange(v value, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return p.errAt(v.off, "the date is outside the years 1 to 9999")
	}
	return nil
}
