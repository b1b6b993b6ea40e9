package odata

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxSkipTokenLength is the longest $skiptoken, in bytes (after the URL
// query is decoded).
const MaxSkipTokenLength = 4 << 10

// SkipToken is SharePoint's list-item paging token, the value of
// $skiptoken: Paged=TRUE&p_ID=5 ("the rows after ID 5"), and with
// $orderby also the ordered fields' values of the last row sent, in
// $orderby order: Paged=TRUE&p_Title=abc&p_ID=5. PnPjs's items.skip(n)
// sends Paged=TRUE&p_ID=n; otherwise clients only follow the nextLink the
// server built, so the token is the server's to define.
type SkipToken struct {
	// Keys are the ordered fields' values, in $orderby order. An empty
	// Value stands for null (SharePoint writes p_Field= for both).
	Keys []SkipKey
	// ID is the last row's ID.
	ID int64
}

// SkipKey is one ordered field's value in a SkipToken, as text: the
// storage layer converts it by the field's type.
type SkipKey struct {
	Field string
	Value string
}

// ParseSkipToken parses a $skiptoken value (already URL-decoded once, as
// the query gives it): '&'-separated pairs, Paged=TRUE and p_ID=<n>
// required, p_<Field>=<percent-encoded value> for ordered fields. Names
// are matched case-insensitively; PagedPrev (backward paging) is refused.
func ParseSkipToken(s string) (SkipToken, error) {
	var tok SkipToken
	fail := func(off int, format string, args ...any) (SkipToken, error) {
		return SkipToken{}, &SyntaxError{Input: "$skiptoken", Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(s) > MaxSkipTokenLength {
		return SkipToken{}, &LimitError{Input: "$skiptoken", Msg: fmt.Sprintf("longer than %d bytes", MaxSkipTokenLength)}
	}
	paged, hasID := false, false
	seen := map[string]bool{}
	off := 0
	for _, part := range strings.Split(s, "&") {
		at := off
		off += len(part) + 1
		name, raw, ok := strings.Cut(part, "=")
		if !ok {
			return fail(at, "expected name=value, found %q", part)
		}
		key := strings.ToLower(name)
		if seen[key] {
			return fail(at, "%s is given twice", name)
		}
		seen[key] = true
		value, err := url.QueryUnescape(raw)
		if err != nil {
			return fail(at+len(name)+1, "the value of %s is not properly percent-encoded", name)
		}
		switch {
		case key == "paged":
			if !strings.EqualFold(value, "TRUE") {
				return fail(at, "Paged must be TRUE, not %q", value)
			}
			paged = true
		case key == "pagedprev":
			return fail(at, "backward paging (PagedPrev) is not supported")
		case key == "p_id":
			id, err := strconv.ParseInt(value, 10, 64)
			if err != nil || id < 0 || value[0] == '+' {
				return fail(at+len(name)+1, "p_ID must be a non-negative integer, not %q", value)
			}
			tok.ID, hasID = id, true
		case strings.HasPrefix(key, "p_"):
			if len(tok.Keys) == MaxOrderKeys {
				return SkipToken{}, &LimitError{Input: "$skiptoken", Msg: fmt.Sprintf("more than %d ordered fields", MaxOrderKeys)}
			}
			field := name[2:]
			if !isFieldName(field) {
				return fail(at, "%q is not a field name", field)
			}
			tok.Keys = append(tok.Keys, SkipKey{Field: field, Value: value})
		default:
			return fail(at, "unknown part %q (expected Paged, p_ID or p_<Field>)", name)
		}
	}
	switch {
	case !paged:
		return fail(0, "Paged=TRUE is missing")
	case !hasID:
		return fail(0, "p_ID is missing")
	}
	return tok, nil
}

// String returns the token as SharePoint writes it, ordered fields first:
// Paged=TRUE&p_Title=abc&p_ID=5. ParseSkipToken reads it back.
func (t SkipToken) String() string {
	var b strings.Builder
	b.WriteString("Paged=TRUE")
	for _, k := range t.Keys {
		b.WriteString("&p_")
		b.WriteString(k.Field)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(k.Value))
	}
	b.WriteString("&p_ID=")
	b.WriteString(strconv.FormatInt(t.ID, 10))
	return b.String()
}

// isFieldName reports whether s is an internal field name: a letter or
// '_', then letters, digits and '_'.
func isFieldName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}
