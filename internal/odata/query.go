package odata

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Limits and defaults of ParseQuery.
const (
	// DefaultTop is the page size when $top is absent, as SharePoint's.
	DefaultTop = 100
	// MaxTop is the largest $top, as SharePoint's (its list view
	// threshold).
	MaxTop = 5000
	// MaxOptionLength is the longest value of any one query option, in
	// bytes after decoding ($filter has its own MaxFilterLength, equal).
	MaxOptionLength = 16 << 10
	// MaxSelectFields is the most fields $select may name.
	MaxSelectFields = 256
	// MaxExpand is the most lookups $expand may name: SharePoint's
	// default list view lookup threshold.
	MaxExpand = 12
	// MaxOrderKeys is the most keys $orderby (and a $skiptoken) may have.
	MaxOrderKeys = 16
)

// Query is the parsed system query options of a request.
type Query struct {
	// Select lists field paths (Title, Author/Title, *) in order; nil
	// without $select.
	Select []string
	// Expand lists the lookups to expand (Author); every Select path
	// with a '/' starts with one of them.
	Expand []string
	// Filter is the $filter condition; nil without $filter.
	Filter Node
	// OrderBy lists the sort keys in order.
	OrderBy []OrderKey
	// Top is $top; HasTop is false, and Top 0, when it is absent (see
	// PageSize).
	Top    int
	HasTop bool
	// Skip is $skip, parsed and exposed only: SharePoint ignores it for
	// list items (they page by $skiptoken), and so should the API.
	Skip int
	// SkipToken is the paging position; nil without $skiptoken.
	SkipToken *SkipToken
	// Format is $format as sent, for Negotiate; empty when absent.
	Format string

	// raw keeps each option's decoded value by canonical name, for
	// NextLink.
	raw map[string]string
}

// OrderKey is one $orderby key.
type OrderKey struct {
	Field string
	Desc  bool
}

// PageSize is the number of rows a page holds: $top, or DefaultTop.
func (q *Query) PageSize() int {
	if q.HasTop {
		return q.Top
	}
	return DefaultTop
}

// options are the system query options Cesivi knows, by canonical name.
var options = []string{"$select", "$expand", "$filter", "$orderby", "$top", "$skip", "$skiptoken", "$format"}

// ParseQuery parses the raw query string of a request (r.URL.RawQuery).
// Option names are matched case-insensitively and may arrive as %24select
// (URLSearchParams) or $select; values are decoded with form rules ('+'
// is a space). Unknown $-options are refused, as is an option given
// twice; parameters without '$' are left to the caller (so are ';' and
// anything else url.ParseQuery would refuse in them). Errors are
// *SyntaxError or *LimitError.
func ParseQuery(rawQuery string) (*Query, error) {
	q := &Query{raw: map[string]string{}}
	off := 0
	for _, pair := range strings.Split(rawQuery, "&") {
		at := off
		off += len(pair) + 1
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil || !strings.HasPrefix(name, "$") {
			continue // not a system query option: the caller's business
		}
		canon := strings.ToLower(name)
		if !known(canon) {
			return nil, &SyntaxError{Input: "query", Offset: at, Msg: fmt.Sprintf("unknown query option %s (supported: %s)", name, strings.Join(options, ", "))}
		}
		if _, dup := q.raw[canon]; dup {
			return nil, &SyntaxError{Input: "query", Offset: at, Msg: fmt.Sprintf("the query option %s is given more than once", canon)}
		}
		if len(rawValue) > 3*MaxOptionLength {
			return nil, &LimitError{Input: canon, Msg: fmt.Sprintf("longer than %d bytes", MaxOptionLength)}
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, &SyntaxError{Input: "query", Offset: at + len(rawName) + 1, Msg: fmt.Sprintf("the value of %s is not properly percent-encoded", name)}
		}
		if len(value) > MaxOptionLength {
			return nil, &LimitError{Input: canon, Msg: fmt.Sprintf("longer than %d bytes", MaxOptionLength)}
		}
		q.raw[canon] = value
	}
	for _, step := range []struct {
		name  string
		parse func(string) error
	}{
		{"$expand", q.parseExpand},
		{"$select", q.parseSelect},
		{"$filter", q.parseFilter},
		{"$orderby", q.parseOrderBy},
		{"$top", q.parseTop},
		{"$skip", q.parseSkip},
		{"$skiptoken", q.parseSkipToken},
	} {
		if v, ok := q.raw[step.name]; ok {
			if err := step.parse(v); err != nil {
				return nil, err
			}
		}
	}
	q.Format = q.raw["$format"]
	return q, nil
}

func known(canon string) bool {
	for _, o := range options {
		if o == canon {
			return true
		}
	}
	return false
}

// list splits a comma-separated option into trimmed items with their
// offsets; an empty option is no items, an empty item an error.
func list(input, s string, max int) ([]string, []int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil, nil
	}
	var items []string
	var offs []int
	off := 0
	for _, part := range strings.Split(s, ",") {
		at := off
		off += len(part) + 1
		item := strings.TrimSpace(part)
		if item == "" {
			return nil, nil, &SyntaxError{Input: input, Offset: at, Msg: "empty item in the comma-separated list"}
		}
		if len(items) == max {
			return nil, nil, &LimitError{Input: input, Msg: fmt.Sprintf("more than %d items", max)}
		}
		items = append(items, item)
		offs = append(offs, at+strings.Index(part, item))
	}
	return items, offs, nil
}

// checkPath refuses anything but Name(/Name)*.
func checkPath(input, p string, off int) error {
	for i, name := range strings.Split(p, "/") {
		if !isFieldName(name) {
			return &SyntaxError{Input: input, Offset: off, Msg: fmt.Sprintf("%q is not a field name or a lookup path such as Author/Title (part %d is %q)", p, i+1, name)}
		}
	}
	return nil
}

func (q *Query) parseExpand(s string) error {
	items, offs, err := list("$expand", s, MaxExpand)
	if err != nil {
		return err
	}
	for i, it := range items {
		if err := checkPath("$expand", it, offs[i]); err != nil {
			return err
		}
	}
	q.Expand = items
	return nil
}

// parseSelect runs after parseExpand: a lookup path must be expanded.
func (q *Query) parseSelect(s string) error {
	items, offs, err := list("$select", s, MaxSelectFields)
	if err != nil {
		return err
	}
	for i, it := range items {
		if it == "*" {
			continue
		}
		if err := checkPath("$select", it, offs[i]); err != nil {
			return err
		}
		if lookup, _, ok := strings.Cut(it, "/"); ok && !q.expands(lookup) {
			return &SyntaxError{Input: "$select", Offset: offs[i], Msg: fmt.Sprintf(
				"the query to field '%s' is not valid: the $select query string must specify the target fields and the $expand query string must contain %s", it, lookup)}
		}
	}
	q.Select = items
	return nil
}

// expands reports whether $expand names lookup (case-insensitively).
func (q *Query) expands(lookup string) bool {
	for _, e := range q.Expand {
		first, _, _ := strings.Cut(e, "/")
		if strings.EqualFold(first, lookup) {
			return true
		}
	}
	return false
}

func (q *Query) parseFilter(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	n, err := ParseFilter(s)
	q.Filter = n
	return err
}

func (q *Query) parseOrderBy(s string) error {
	items, offs, err := list("$orderby", s, MaxOrderKeys)
	if err != nil {
		return err
	}
	for i, it := range items {
		f := strings.Fields(it)
		k := OrderKey{Field: f[0]}
		if len(f) > 2 {
			return &SyntaxError{Input: "$orderby", Offset: offs[i], Msg: fmt.Sprintf("%q: expected a field and optionally asc or desc", it)}
		}
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				k.Desc = true
			default:
				return &SyntaxError{Input: "$orderby", Offset: offs[i] + strings.Index(it, f[1]), Msg: fmt.Sprintf("the direction must be asc or desc, not %q", f[1])}
			}
		}
		if err := checkPath("$orderby", k.Field, offs[i]); err != nil {
			return err
		}
		q.OrderBy = append(q.OrderBy, k)
	}
	return nil
}

// count parses a non-negative decimal integer option.
func count(input, s string) (int, error) {
	t := strings.TrimSpace(s)
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || t[0] == '+' {
		return 0, &SyntaxError{Input: input, Msg: fmt.Sprintf("%s must be a non-negative integer, not %q", input, s)}
	}
	return n, nil
}

func (q *Query) parseTop(s string) error {
	n, err := count("$top", s)
	if err != nil {
		return err
	}
	if n > MaxTop {
		return &LimitError{Input: "$top", Msg: fmt.Sprintf("%d is more than the largest page, %d", n, MaxTop)}
	}
	q.Top, q.HasTop = n, true
	return nil
}

func (q *Query) parseSkip(s string) error {
	n, err := count("$skip", s)
	q.Skip = n
	return err
}

func (q *Query) parseSkipToken(s string) error {
	t, err := ParseSkipToken(s)
	if err != nil {
		return err
	}
	q.SkipToken = &t
	return nil
}

// NextLink returns the absolute URL of the page after this one: apiURL
// (the absolute URL of the resource, e.g. Encoder.APIURL of the escaped
// path) with $skiptoken set to next and every other option of q carried
// over ($select, $filter, $orderby, $expand, $top, $format), since
// clients follow the link verbatim. $skip is dropped.
func (q *Query) NextLink(apiURL string, next SkipToken) string {
	var b strings.Builder
	b.WriteString(apiURL)
	b.WriteString("?%24skiptoken=")
	b.WriteString(url.QueryEscape(next.String()))
	for _, name := range options {
		v, ok := q.raw[name]
		if !ok || name == "$skiptoken" || name == "$skip" {
			continue
		}
		b.WriteString("&%24")
		b.WriteString(name[1:])
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	return b.String()
}
