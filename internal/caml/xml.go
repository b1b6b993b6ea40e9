package caml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cesivi/cesivi/internal/odata"
)

// element is one XML element of a parsed document: CAML is small and
// every decision needs an element's children, so the parsers read the
// whole (length-limited) document into this tree first.
type element struct {
	name     string     // local name; any namespace is ignored
	attrs    []xml.Attr // unprefixed attributes, namespace declarations left out
	children []*element
	text     strings.Builder // the character data directly inside
	off      int             // byte offset of the '<' that starts it
}

// attr returns the attribute name (matched exactly: CAML is
// case-sensitive) and whether it is present.
func (e *element) attr(name string) (string, bool) {
	for _, a := range e.attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// document is the text being read and what to call it in errors.
type document struct {
	input string // "ViewXml" or "SchemaXml", as the client's JSON names it
	src   string
}

// errAt is a syntax error at byte offset off.
func (d *document) errAt(off int, format string, args ...any) error {
	if off < 0 || off > len(d.src) {
		off = len(d.src)
	}
	return &odata.SyntaxError{Input: d.input, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// limit is a limit error.
func (d *document) limit(format string, args ...any) error {
	return &odata.LimitError{Input: d.input, Msg: fmt.Sprintf(format, args...)}
}

// parse reads d.src into its root element. It refuses what XML allows
// but CAML never needs, so that nothing in a request can make the parser
// do more work than the text's length: DTDs (and with them entity
// declarations: encoding/xml in strict mode expands only the five
// predefined entities and character references), processing
// instructions other than the XML declaration, more than one root, text
// outside the root, and elements nested more than maxDepth deep.
func (d *document) parse(maxDepth int) (*element, error) {
	if !utf8.ValidString(d.src) {
		return nil, d.errAt(invalidUTF8(d.src), "the text is not valid UTF-8")
	}
	// A byte order mark is not an XML token; JSON strings can carry one.
	skip := len(d.src) - len(strings.TrimPrefix(d.src, "\ufeff"))
	dec := xml.NewDecoder(strings.NewReader(d.src[skip:]))
	dec.Strict = true
	var root *element
	var stack []*element
	for {
		off := skip + int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, d.xmlError(skip+int(dec.InputOffset()), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, d.errAt(off, "a second root element <%s> follows </%s>; the text must hold one element", t.Name.Local, root.name)
			}
			if len(stack) >= maxDepth {
				return nil, d.limit("elements nest more than %d deep (at character %d)", maxDepth, off+1)
			}
			e := &element{name: t.Name.Local, off: off}
			if err := d.attrs(e, t.Attr); err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if s := strings.TrimSpace(string(t)); s != "" {
				return nil, d.errAt(off, "text %s outside the root element", excerpt(s))
			}
		case xml.Comment:
		case xml.ProcInst:
			if t.Target != "xml" || root != nil {
				return nil, d.errAt(off, "processing instructions (<?%s …?>) are not accepted", t.Target)
			}
		case xml.Directive:
			return nil, d.errAt(off, "DTDs and other <!…> declarations are not accepted")
		}
	}
	if root == nil {
		return nil, d.errAt(len(d.src), "the text holds no XML element")
	}
	return root, nil
}

// attrs keeps e's unprefixed attributes, refusing one given twice
// (encoding/xml does not).
func (d *document) attrs(e *element, attrs []xml.Attr) error {
	for _, a := range attrs {
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			continue
		}
		if _, dup := e.attr(a.Name.Local); dup {
			return d.errAt(e.off, "<%s> has the attribute %s twice", e.name, a.Name.Local)
		}
		e.attrs = append(e.attrs, a)
	}
	return nil
}

// xmlError turns an encoding/xml error into a syntax error; its message
// names the problem, never more than a few characters of the input.
func (d *document) xmlError(off int, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return d.errAt(off, "malformed XML: %s", se.Msg)
	}
	return d.errAt(off, "malformed XML")
}

// invalidUTF8 is the offset of the first byte that is not UTF-8.
func invalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}

// excerpt quotes s for an error message, cut to a few dozen characters.
func excerpt(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// onlyElements refuses text directly inside e, which takes elements only.
func (d *document) onlyElements(e *element) error {
	if s := strings.TrimSpace(e.text.String()); s != "" {
		return d.errAt(e.off, "<%s> holds the text %s; it takes elements only", e.name, excerpt(s))
	}
	return nil
}

// noChildren refuses elements inside e.
func (d *document) noChildren(e *element) error {
	if len(e.children) > 0 {
		c := e.children[0]
		return d.errAt(c.off, "<%s> takes no elements, but holds <%s>", e.name, c.name)
	}
	return nil
}

// unknown is the error for an element CAML does not allow where it is,
// or that Cesivi does not support; known lists what is allowed there.
// CAML names are case-sensitive, so a near miss gets a hint.
func (d *document) unknown(e *element, parent string, known []string, unsupported map[string]string) error {
	if why, ok := unsupported[e.name]; ok {
		return d.errAt(e.off, "<%s> is not supported: %s", e.name, why)
	}
	for _, k := range known {
		if strings.EqualFold(k, e.name) {
			return d.errAt(e.off, "unknown element <%s> in <%s>: CAML names are case-sensitive, write <%s>", e.name, parent, k)
		}
	}
	return d.errAt(e.off, "unknown element <%s> in <%s> (allowed there: %s)", e.name, parent, strings.Join(known, ", "))
}

// boolAttr reads a TRUE/FALSE attribute (any case, as SharePoint reads
// them); absent is def.
func (d *document) boolAttr(e *element, name string, def bool) (bool, error) {
	v, ok := e.attr(name)
	if !ok {
		return def, nil
	}
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "TRUE":
		return true, nil
	case "FALSE":
		return false, nil
	}
	return false, d.errAt(e.off, "the attribute %s of <%s> must be TRUE or FALSE, not %s", name, e.name, excerpt(v))
}

// isName reports whether s can be an internal field name in a filter: a
// letter or '_', then letters, digits and '_' (what $filter can write,
// and every name SharePoint encodes with _xHHHH_).
func isName(s string) bool {
	if s == "" || len(s) > maxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// maxNameLength bounds a field name; SharePoint's own are far shorter,
// even with every character escaped.
const maxNameLength = 255
