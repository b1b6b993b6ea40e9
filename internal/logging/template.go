package logging

import (
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Template is a parsed Serilog output template:
// "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}".
// Tokens are {Name[,alignment][:format]}; "{{" and "}}" are literal braces.
//
// Known names: Timestamp (a .NET date format), Level (u3, w3, t3… or the
// full name), SourceContext (the category), Message (the text, then the
// record's attributes as key=value, since slog messages have no holes to
// put them in; with :l strings are written unquoted), Properties (the
// attributes no other token shows, as {key=value, …}; then Message is the
// text alone), NewLine, Exception (the "error" attribute, and a new line).
// Any other name is an attribute of the record when it has one by that
// name, else the token is written literally so that a typo shows.
type Template struct {
	parts []tmplPart
	named map[string]bool // attribute names that tokens show
	props bool            // a {Properties} token is present
}

type tokenKind int

const (
	tokLiteral tokenKind = iota
	tokTimestamp
	tokLevel
	tokSource
	tokMessage
	tokNewLine
	tokException
	tokProperties
	tokAttr
)

type tmplPart struct {
	kind   tokenKind
	text   string // literal text, or the token's own text for tokAttr (written when the attribute is missing)
	name   string
	format string
	align  int // >0 right-aligned in that width, <0 left-aligned
	date   []dateItem
}

// Serilog's sink defaults.
const (
	DefaultConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}"
	DefaultFileTemplate    = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}"
)

// ParseTemplate parses an output template. It never fails: what is not a
// well-formed token is literal text, as Serilog treats it.
func ParseTemplate(s string) *Template {
	t := &Template{named: map[string]bool{}}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{kind: tokLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if (c == '{' || c == '}') && i+1 < len(s) && s[i+1] == c {
			lit.WriteByte(c)
			i += 2
			continue
		}
		if c == '{' {
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				if p, ok := parseToken(s[i+1 : i+end]); ok {
					flush()
					p.text = s[i : i+end+1]
					if p.kind == tokAttr {
						t.named[p.name] = true
					}
					if p.kind == tokProperties {
						t.props = true
					}
					t.parts = append(t.parts, p)
					i += end + 1
					continue
				}
			}
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	return t
}

func parseToken(body string) (tmplPart, bool) {
	var p tmplPart
	name := body
	if j := strings.IndexByte(name, ':'); j >= 0 {
		name, p.format = name[:j], name[j+1:]
	}
	if j := strings.IndexByte(name, ','); j >= 0 {
		n, err := strconv.Atoi(strings.TrimSpace(name[j+1:]))
		if err != nil {
			return p, false
		}
		name, p.align = name[:j], n
	}
	if name == "" {
		return p, false
	}
	for _, r := range name {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return p, false
		}
	}
	p.name = name
	switch name {
	case "Timestamp":
		p.kind = tokTimestamp
		f := p.format
		if f == "" {
			f = "yyyy-MM-dd HH:mm:ss.fff zzz"
		}
		p.date = parseDateFormat(f)
	case "Level":
		p.kind = tokLevel
	case "SourceContext":
		p.kind = tokSource
	case "Message":
		p.kind = tokMessage
	case "NewLine":
		p.kind = tokNewLine
	case "Exception":
		p.kind = tokException
	case "Properties":
		p.kind = tokProperties
	default:
		p.kind = tokAttr
	}
	return p, true
}

// render appends the event's line to buf.
func (t *Template) render(buf []byte, e *event) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		start := len(buf)
		switch p.kind {
		case tokLiteral:
			buf = append(buf, p.text...)
			continue
		case tokTimestamp:
			buf = formatDate(buf, p.date, e.t)
		case tokLevel:
			buf = append(buf, levelText(e.level, p.format)...)
		case tokSource:
			buf = append(buf, e.category...)
		case tokMessage:
			buf = append(buf, e.msg...)
			if !t.props {
				literal := strings.Contains(p.format, "l")
				for _, f := range e.attrs {
					if !t.named[f.key] {
						buf = append(buf, ' ')
						buf = appendField(buf, f, literal)
					}
				}
			}
		case tokNewLine:
			buf = append(buf, '\n')
			continue
		case tokException:
			if e.exc != "" {
				buf = append(buf, e.exc...)
				buf = append(buf, '\n')
			}
		case tokProperties:
			buf = append(buf, '{')
			first := true
			for _, f := range e.attrs {
				if t.named[f.key] {
					continue
				}
				if !first {
					buf = append(buf, ", "...)
				}
				first = false
				buf = appendField(buf, f, strings.Contains(p.format, "l"))
			}
			buf = append(buf, '}')
		case tokAttr:
			found := false
			for _, f := range e.attrs {
				if f.key == p.name {
					buf = appendValue(buf, f.val, strings.Contains(p.format, "l"))
					found = true
					break
				}
			}
			if !found {
				buf = append(buf, p.text...)
				continue
			}
		}
		buf = pad(buf, start, p.align)
	}
	return buf
}

// pad aligns buf[start:] in |align| columns, as Serilog's ",N" does.
func pad(buf []byte, start, align int) []byte {
	width := align
	if width < 0 {
		width = -width
	}
	n := len([]rune(string(buf[start:])))
	if width <= n {
		return buf
	}
	spaces := strings.Repeat(" ", width-n)
	if align < 0 {
		return append(buf, spaces...)
	}
	tail := string(buf[start:])
	return append(append(buf[:start], spaces...), tail...)
}

func appendField(buf []byte, f field, literal bool) []byte {
	buf = append(buf, f.key...)
	buf = append(buf, '=')
	return appendValue(buf, f.val, literal)
}

// appendValue writes a value as Serilog renders a property: strings in
// quotes, or with the l format as they are (still quoted when they would
// be ambiguous: empty, or holding spaces, quotes, '=' or control characters).
func appendValue(buf []byte, v slog.Value, literal bool) []byte {
	if v.Kind() != slog.KindString {
		return append(buf, valueText(v)...)
	}
	s := v.String()
	if literal && s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '=' || r == 0x7f }) {
		return append(buf, s...)
	}
	return strconv.AppendQuote(buf, s)
}

func valueText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.String()
}

// levelIndex maps a slog level onto Serilog's six.
func levelIndex(l slog.Level) int {
	switch {
	case l < slog.LevelDebug:
		return 0
	case l < slog.LevelInfo:
		return 1
	case l < slog.LevelWarn:
		return 2
	case l < slog.LevelError:
		return 3
	case l < LevelCritical:
		return 4
	}
	return 5
}

var (
	serilogLevelNames = [6]string{"Verbose", "Debug", "Information", "Warning", "Error", "Fatal"}
	// Serilog's abbreviations, by width.
	levelAbbrev = map[int][6]string{
		1: {"V", "D", "I", "W", "E", "F"},
		2: {"VB", "DE", "IN", "WN", "ER", "FA"},
		3: {"VRB", "DBG", "INF", "WRN", "ERR", "FTL"},
		4: {"VERB", "DBUG", "INFO", "WARN", "EROR", "FATL"},
	}
)

// levelText renders a level as Serilog's {Level:format}: "" the full name,
// u/w/t upper, lower or title case, followed by a width for Serilog's
// abbreviations (u3 = "INF").
func levelText(l slog.Level, format string) string {
	i := levelIndex(l)
	name := serilogLevelNames[i]
	if format == "" {
		return name
	}
	if n, err := strconv.Atoi(format[1:]); err == nil {
		if a, ok := levelAbbrev[n]; ok {
			name = a[i]
		}
	}
	switch format[0] {
	case 'u':
		return strings.ToUpper(name)
	case 'w':
		return strings.ToLower(name)
	case 't':
		return strings.ToUpper(name[:1]) + strings.ToLower(name[1:])
	}
	return name
}
