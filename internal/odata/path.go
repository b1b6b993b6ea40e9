package odata

import (
	"fmt"
	"strings"
)

// Limits of ParsePath.
const (
	// MaxPathLength is the longest escaped path after /_api/, in bytes.
	MaxPathLength = 8 << 10
	// MaxPathSegments is the most segments a path may have.
	MaxPathSegments = 64
	// MaxArgs is the most arguments one segment's call may have.
	MaxArgs = 16
)

// Path is a parsed resource path: the part of a URL after /_api/.
type Path []Segment

// Segment is one step of a Path: a name such as web, lists, items,
// $value or $batch, or a call such as getByTitle('Tasks'), items(3),
// lists(guid'…') or getFolderByServerRelativePath(decodedUrl='/a/b').
// SharePoint matches names case-insensitively, so compare them with Is.
type Segment struct {
	// Name is as sent (getByTitle, GetByTitle or getbytitle).
	Name string
	// Call is true when the name was followed by parentheses, even empty
	// ones (items() is a call with no arguments; items is not a call).
	Call bool
	// Args are the call's arguments in order.
	Args []Arg
}

// Arg is one argument of a call: positional (Name empty), as in
// getById(5), or named, as in AddUsingPath(decodedurl='a.txt',Overwrite=true).
type Arg struct {
	Name  string
	Value Value
}

// Is reports whether the segment's name is name, ignoring case.
func (s Segment) Is(name string) bool { return strings.EqualFold(s.Name, name) }

// Named returns the value of the named argument name (case-insensitive).
func (s Segment) Named(name string) (Value, bool) {
	for _, a := range s.Args {
		if a.Name != "" && strings.EqualFold(a.Name, name) {
			return a.Value, true
		}
	}
	return Value{}, false
}

// Single returns the only argument of a one-argument call such as
// getByTitle('x') or items(3), positional or named; ok is false for any
// other shape.
func (s Segment) Single() (v Value, ok bool) {
	if len(s.Args) != 1 {
		return Value{}, false
	}
	return s.Args[0].Value, true
}

// SplitAPIPath splits an escaped request path (url.URL.EscapedPath) at
// its first /_api/ segment, matched case-insensitively: web is the site's
// path before it (/sites/dev, or "" for the root site) and rest the part
// after it, for ParsePath. ok is false when the path has no /_api
// segment. A path ending in /_api gives an empty rest.
func SplitAPIPath(escaped string) (web, rest string, ok bool) {
	const api = "/_api"
	// Byte by byte rather than strings.ToLower: lower-casing can change
	// the length of non-ASCII text, and the offsets must stay escaped's.
	for i := 0; i+len(api) <= len(escaped); i++ {
		if !strings.EqualFold(escaped[i:i+len(api)], api) {
			continue
		}
		end := i + len(api)
		switch {
		case end == len(escaped):
			return escaped[:i], "", true
		case escaped[end] == '/':
			return escaped[:i], escaped[end+1:], true
		}
	}
	return "", "", false
}

// ParsePath parses escaped, the escaped path after /_api/ (as
// url.URL.EscapedPath gives it, without the query), into segments.
// Segments are separated by '/' outside string literals; percent-escapes
// are decoded after splitting, so %2F inside decodedUrl='…' is part of the
// value, and %27 is a quote like '. A single trailing '/' is allowed; the
// empty path has no segments. Errors are *SyntaxError or *LimitError.
func ParsePath(escaped string) (Path, error) {
	if len(escaped) > MaxPathLength {
		return nil, &LimitError{Input: "path", Msg: fmt.Sprintf("longer than %d bytes", MaxPathLength)}
	}
	dec, offs, err := unescapePath(escaped)
	if err != nil {
		return nil, err
	}
	var path Path
	inQuote, depth, start := false, 0, 0
	for i := 0; i <= len(dec); i++ {
		if i < len(dec) {
			switch c := dec[i]; {
			case c == '\'':
				inQuote = !inQuote
				continue
			case inQuote:
				continue
			case c == '(':
				depth++
				continue
			case c == ')':
				depth--
				continue
			case c != '/' || depth > 0 || escaped[offs[i]] == '%':
				continue
			}
		} else if start == len(dec) && len(path) > 0 {
			break // one trailing slash
		}
		if len(path) == MaxPathSegments {
			return nil, &LimitError{Input: "path", Msg: fmt.Sprintf("more than %d segments", MaxPathSegments)}
		}
		if i == len(dec) && i == 0 {
			break // the empty path
		}
		seg, err := parseSegment(dec[start:i], offs[start:i], offs, i)
		if err != nil {
			return nil, err
		}
		path = append(path, seg)
		start = i + 1
	}
	return path, nil
}

// unescapePath decodes percent-escapes and returns, for each decoded byte,
// the offset of its first byte in s.
func unescapePath(s string) (string, []int, error) {
	var b strings.Builder
	offs := make([]int, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return "", nil, &SyntaxError{Input: "path", Offset: i, Msg: "'%' must be followed by two hexadecimal digits"}
			}
			b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
			offs = append(offs, i)
			i += 2
			continue
		}
		b.WriteByte(c)
		offs = append(offs, i)
	}
	return b.String(), offs, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isNameStart(c byte) bool { return isIdentStart(c) || c == '$' }

func isNameChar(c byte) bool { return isIdentChar(c) || c == '$' || c == '.' }

// parseSegment parses one decoded segment; offs maps its bytes to the
// escaped path, all and end locate the segment's end for errors.
func parseSegment(seg string, offs, all []int, end int) (Segment, error) {
	at := func(i int) int {
		if i < len(offs) {
			return offs[i]
		}
		if end < len(all) {
			return all[end]
		}
		if len(all) > 0 {
			return all[len(all)-1] + 1
		}
		return 0
	}
	fail := func(i int, msg string) (Segment, error) {
		return Segment{}, &SyntaxError{Input: "path", Offset: at(i), Msg: msg}
	}
	if seg == "" {
		return fail(0, "empty path segment (two '/' in a row?)")
	}
	n := 0
	if !isNameStart(seg[0]) {
		return fail(0, "a path segment must start with a name such as web, lists or getByTitle")
	}
	for n < len(seg) && isNameChar(seg[n]) {
		n++
	}
	s := Segment{Name: seg[:n]}
	if n == len(seg) {
		return s, nil
	}
	if seg[n] != '(' {
		return fail(n, fmt.Sprintf("unexpected %q after the name %s", rune(seg[n]), s.Name))
	}
	s.Call = true
	l := &lexer{input: "path", src: seg, offs: offs, pos: n + 1}
	tok, err := l.next()
	if err != nil {
		return Segment{}, err
	}
	if tok.kind != tokRParen {
		for {
			if len(s.Args) == MaxArgs {
				return Segment{}, &LimitError{Input: "path", Msg: fmt.Sprintf("more than %d arguments to %s", MaxArgs, s.Name)}
			}
			var a Arg
			if tok.kind == tokIdent {
				save := l.pos
				eq, err := l.next()
				if err != nil {
					return Segment{}, err
				}
				if eq.kind == tokEquals {
					a.Name = tok.text
					if tok, err = l.next(); err != nil {
						return Segment{}, err
					}
				} else {
					l.pos = save
				}
			}
			v, ok := literalOf(tok)
			if !ok {
				return fail(tok.off, fmt.Sprintf("expected a literal argument to %s ('text', a number, guid'…', true, false or null)", s.Name))
			}
			a.Value = v
			s.Args = append(s.Args, a)
			if tok, err = l.next(); err != nil {
				return Segment{}, err
			}
			if tok.kind == tokRParen {
				break
			}
			if tok.kind != tokComma {
				return fail(tok.off, fmt.Sprintf("expected ',' or ')' in the arguments to %s", s.Name))
			}
			if tok, err = l.next(); err != nil {
				return Segment{}, err
			}
		}
	}
	if l.pos != len(seg) {
		return fail(l.pos, fmt.Sprintf("unexpected text after %s(…); a '/' must separate segments", s.Name))
	}
	return s, nil
}

// literalOf returns the Value a literal token stands for.
func literalOf(t token) (Value, bool) {
	switch t.kind {
	case tokString:
		return String(t.text), true
	case tokTyped, tokNumber:
		return t.val, true
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "null":
			return Null(), true
		case "true":
			return Bool(true), true
		case "false":
			return Bool(false), true
		}
	}
	return Value{}, false
}

// String returns the path escaped, so that ParsePath reads it back to an
// equal Path: segments joined by '/', string arguments with quotes
// doubled and percent-escapes for '/', '%' and everything outside RFC
// 3986's pchar.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// String returns the segment escaped, as in Path.String.
func (s Segment) String() string {
	if !s.Call {
		return s.Name
	}
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('(')
	for i, a := range s.Args {
		if i > 0 {
			b.WriteByte(',')
		}
		if a.Name != "" {
			b.WriteString(a.Name)
			b.WriteByte('=')
		}
		escapePchar(&b, a.Value.String())
	}
	b.WriteByte(')')
	return b.String()
}

// escapePchar writes s percent-encoding every byte outside RFC 3986's
// pchar set (which keeps ' ( ) , = : @ $ readable) and '/'.
func escapePchar(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isIdentChar(c) || strings.IndexByte("-.~!$&'()*+,;=:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
