package odata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// tokKind is the kind of a lexical token of $filter, $orderby and path
// arguments.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokIdent          // Title, and, startswith, OData__UIVersionString
	tokString         // 'it''s' (text unquoted)
	tokTyped          // datetime'…', guid'…' (val set)
	tokNumber         // 42, -1.5 (val set)
	tokLParen
	tokRParen
	tokComma
	tokSlash
	tokEquals
)

type token struct {
	kind tokKind
	text string // identifier or unquoted string text
	val  Value  // literal value for tokTyped and tokNumber
	off  int    // byte offset in the lexer's source
}

// lexer splits an already percent-decoded text into tokens. offs, when
// set, maps each byte of src to its offset in the text the user sent (a
// path is decoded before it is lexed), so errors point at what was sent.
type lexer struct {
	input string // names the text in errors: "$filter", "path"
	src   string
	offs  []int
	pos   int
}

func (l *lexer) errAt(off int, format string, args ...any) *SyntaxError {
	if l.offs != nil {
		if off < len(l.offs) {
			off = l.offs[off]
		} else if len(l.offs) > 0 {
			off = l.offs[len(l.offs)-1] + 1
		}
	}
	return &SyntaxError{Input: l.input, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token, skipping white space.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, off: start}, nil
	}
	c := l.src[start]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tokLParen, off: start}, nil
	case c == ')':
		l.pos++
		return token{kind: tokRParen, off: start}, nil
	case c == ',':
		l.pos++
		return token{kind: tokComma, off: start}, nil
	case c == '/':
		l.pos++
		return token{kind: tokSlash, off: start}, nil
	case c == '=':
		l.pos++
		return token{kind: tokEquals, off: start}, nil
	case c == '\'':
		s, err := l.quoted()
		return token{kind: tokString, text: s, off: start}, err
	case isDigit(c) || (c == '-' || c == '+') && start+1 < len(l.src) && isDigit(l.src[start+1]):
		return l.number()
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		word := l.src[start:l.pos]
		if l.pos < len(l.src) && l.src[l.pos] == '\'' {
			return l.typed(word, start)
		}
		return token{kind: tokIdent, text: word, off: start}, nil
	}
	return token{}, l.errAt(start, "unexpected character %q", rune(c))
}

// quoted reads a '…' literal at l.pos, where a doubled quote stands for one.
func (l *lexer) quoted() (string, error) {
	start := l.pos
	l.pos++ // opening quote
	var b strings.Builder
	for {
		i := strings.IndexByte(l.src[l.pos:], '\'')
		if i < 0 {
			l.pos = len(l.src)
			return "", l.errAt(start, "the string literal starting here has no closing quote")
		}
		b.WriteString(l.src[l.pos : l.pos+i])
		l.pos += i + 1
		if l.pos < len(l.src) && l.src[l.pos] == '\'' {
			b.WriteByte('\'')
			l.pos++
			continue
		}
		return b.String(), nil
	}
}

// typed reads prefix'…': datetime, datetimeoffset and guid literals.
func (l *lexer) typed(prefix string, start int) (token, error) {
	s, err := l.quoted()
	if err != nil {
		return token{}, err
	}
	switch strings.ToLower(prefix) {
	case "datetime", "datetimeoffset":
		t, ok := parseDateTime(s)
		if !ok {
			return token{}, l.errAt(start, "%s literal %s is not a date and time such as 2026-01-02T03:04:05Z", prefix, quote(s))
		}
		v := DateTime(t)
		v.Offset = len(prefix) > len("datetime")
		return token{kind: tokTyped, val: v, off: start}, nil
	case "guid":
		v, ok := Guid(s)
		if !ok {
			return token{}, l.errAt(start, "guid literal %s is not a guid such as 0f8fad5b-d9cb-469f-a165-70867728950e", quote(s))
		}
		return token{kind: tokTyped, val: v, off: start}, nil
	}
	return token{}, l.errAt(start, "unknown literal type %q (known: datetime, datetimeoffset, guid)", prefix)
}

// number reads an integer or a decimal, with an optional sign and
// exponent; a decimal point or an exponent makes it a decimal.
func (l *lexer) number() (token, error) {
	start := l.pos
	if c := l.src[l.pos]; c == '-' || c == '+' {
		l.pos++
	}
	digits := func() {
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	digits()
	decimal := false
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		decimal = true
		l.pos++
		if l.pos >= len(l.src) || !isDigit(l.src[l.pos]) {
			return token{}, l.errAt(start, "number %q needs digits after the decimal point", l.src[start:l.pos])
		}
		digits()
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		decimal = true
		l.pos++
		if l.pos < len(l.src) && (l.src[l.pos] == '-' || l.src[l.pos] == '+') {
			l.pos++
		}
		if l.pos >= len(l.src) || !isDigit(l.src[l.pos]) {
			return token{}, l.errAt(start, "number %q needs digits in its exponent", l.src[start:l.pos])
		}
		digits()
	}
	if l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
		return token{}, l.errAt(start, "number %q runs into letters; OData type suffixes (L, M, d) are not supported", l.src[start:l.pos+1])
	}
	text := l.src[start:l.pos]
	if !decimal {
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return token{}, l.errAt(start, "integer %s is out of range", text)
		}
		return token{kind: tokNumber, val: Int(i), off: start}, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return token{}, l.errAt(start, "decimal %s is out of range", text)
	}
	return token{kind: tokNumber, val: Decimal(f), off: start}, nil
}
