package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// ETag returns the etag of version n of an item as SharePoint writes it,
// in the ETag header, odata.etag and __metadata.etag: "n", quotes
// included.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch is a parsed If-Match header.
type IfMatch struct {
	// Any is true for "*" and for a missing header (PnPjs always sends
	// one; SharePoint's behaviour without one is unverified, and the
	// research recommends leniency).
	Any bool
	// Versions are the versions named, in order.
	Versions []int64
}

// MaxIfMatchLength bounds the If-Match header ParseIfMatch reads.
const MaxIfMatchLength = 1 << 10

// ParseIfMatch parses an If-Match header: empty or *, or a
// comma-separated list of etags, each "n", W/"n" or SharePoint
// Online's "<guid>,n" (with or without braces); only the version counts.
// Anything else (PnPjs sends IF-Match: null when a caller feeds it a
// missing etag) is a *SyntaxError; answering it with VersionConflict
// (412) is what a client expects.
func ParseIfMatch(h string) (IfMatch, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return IfMatch{Any: true}, nil
	}
	fail := func(off int, format string, args ...any) (IfMatch, error) {
		return IfMatch{}, &SyntaxError{Input: "If-Match", Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(h) > MaxIfMatchLength {
		return IfMatch{}, &LimitError{Input: "If-Match", Msg: fmt.Sprintf("longer than %d bytes", MaxIfMatchLength)}
	}
	var m IfMatch
	for i := 0; i < len(h); {
		start := i
		if strings.HasPrefix(h[i:], "W/") {
			i += 2
		}
		if i >= len(h) || h[i] != '"' {
			return fail(start, `expected an etag such as "3" or *`)
		}
		end := strings.IndexByte(h[i+1:], '"')
		if end < 0 {
			return fail(i, "the etag starting here has no closing quote")
		}
		tag := h[i+1 : i+1+end]
		if _, after, ok := strings.Cut(tag, ","); ok {
			tag = after // "<guid>,n"
		}
		n, err := strconv.ParseInt(tag, 10, 64)
		if err != nil || n < 0 || tag[0] == '+' {
			return fail(i, "the etag %q does not name a version", h[i:i+2+end])
		}
		m.Versions = append(m.Versions, n)
		i += end + 2
		for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
			i++
		}
		if i < len(h) {
			if h[i] != ',' {
				return fail(i, "expected ',' between etags")
			}
			for i++; i < len(h) && (h[i] == ' ' || h[i] == '\t'); i++ {
			}
			if i == len(h) {
				return fail(i, "expected an etag after ','")
			}
		}
	}
	return m, nil
}

// Matches reports whether an object at version passes the precondition.
func (m IfMatch) Matches(version int64) bool {
	if m.Any {
		return true
	}
	for _, v := range m.Versions {
		if v == version {
			return true
		}
	}
	return false
}
