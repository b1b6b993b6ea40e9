package connstr

import (
	"fmt"
	"strings"
)

// kv is one Key=Value item of an Npgsql or libpq connection string.
type kv struct {
	key  string // as written, outer spaces removed
	val  string // quotes removed and escapes resolved
	item int    // 1-based position, for errors that must not show the text
	raw  span   // where the value, quotes included, sits in the source
	// quoted is set when the value was written in quotes.
	quoted bool
	// hidden is set when the item follows a secret (or a value that
	// contains one): an unquoted secret ends at the first separator, so
	// this item may be its tail, and neither its key nor its value may
	// appear in a message.
	hidden bool
}

// part names the item in an error: by its key when that is safe to show.
// A key holding '=' (written "==" in Npgsql) is not: "Password==secret"
// reads as the key "Password=secret".
func (p kv) part() string {
	if p.hidden || p.key == "" || !printable(p.key) || strings.Contains(p.key, "=") {
		return fmt.Sprintf("item %d", p.item)
	}
	return p.key
}

// syntaxError is a tokenizer failure, turned into a ParseError by the caller
// that knows the format.
type syntaxError struct {
	at     kv // item, key and hidden are set
	reason string
}

func (e *syntaxError) parseError(format string) *ParseError {
	reason := e.reason
	if e.at.hidden {
		reason += hiddenNote
	}
	return &ParseError{Format: format, Part: e.at.part(), Reason: reason}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

const spaces = " \t\n\r\v\f"

// splitNpgsql tokenizes an ADO.NET connection string as
// DbConnectionStringBuilder does: items are separated by ';' (empty items
// are skipped); "==" in a key stands for '='; a value may be quoted with "
// or ', a doubled quote standing for itself, and only then may it contain
// ';'; unquoted values lose their outer spaces. secret tells which keys
// hold secrets.
func splitNpgsql(s string, secret func(key string) bool) ([]kv, *syntaxError) {
	var out []kv
	hidden := false
	i, item := 0, 0
	for {
		for i < len(s) && (isSpace(s[i]) || s[i] == ';') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		item++
		at := kv{item: item, hidden: hidden}
		var key strings.Builder
		for {
			if i >= len(s) || s[i] == ';' {
				return nil, &syntaxError{at, "has no '='; write Key=Value and separate items with ';'"}
			}
			if s[i] == '=' {
				if i+1 < len(s) && s[i+1] == '=' {
					key.WriteByte('=')
					i += 2
					continue
				}
				i++
				break
			}
			key.WriteByte(s[i])
			i++
		}
		at.key = strings.Trim(key.String(), spaces)
		if at.key == "" {
			return nil, &syntaxError{at, "has no keyword before '='"}
		}
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		start := i
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			var val strings.Builder
			for i++; ; i++ {
				if i >= len(s) {
					return nil, &syntaxError{at, "has a quoted value without its closing quote"}
				}
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q {
						val.WriteByte(q)
						i++
						continue
					}
					i++
					break
				}
				val.WriteByte(s[i])
			}
			at.val, at.raw, at.quoted = val.String(), span{start, i}, true
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && s[i] != ';' {
				return nil, &syntaxError{at, "has text after the closing quote"}
			}
		} else {
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				end = len(s)
			} else {
				end += i
			}
			at.val = strings.TrimRight(s[i:end], spaces)
			at.raw = span{start, start + len(at.val)}
			i = end
		}
		out = append(out, at)
		// A value that itself reads like "… Password=…" means a separator
		// was forgotten, and a password is inside it: hide what follows.
		if secret(at.key) || looksSecret(at.key) || looksSecret(at.val) {
			hidden = true
		}
	}
}

// splitLibpq tokenizes a libpq keyword/value string exactly as pgx does:
// items are separated by whitespace; a value is either unquoted, ending at
// whitespace, or single-quoted; in both a backslash takes the next
// character literally.
func splitLibpq(s string, secret func(key string) bool) ([]kv, *syntaxError) {
	var out []kv
	hidden := false
	i, item := 0, 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		item++
		at := kv{item: item, hidden: hidden}
		ks := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' {
			i++
		}
		at.key = s[ks:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			// The text is not shown: "password secret" lands here.
			at.key = ""
			return nil, &syntaxError{at, "has no '=' after the keyword"}
		}
		if at.key == "" {
			return nil, &syntaxError{at, "has no keyword before '='"}
		}
		for i++; i < len(s) && isSpace(s[i]); i++ {
		}
		start := i
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			at.quoted = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, &syntaxError{at, "has a quoted value without its closing quote"}
				}
				if s[i] == '\\' {
					if i++; i >= len(s) {
						return nil, &syntaxError{at, "has a quoted value without its closing quote"}
					}
				} else if s[i] == '\'' {
					i++
					break
				}
				val.WriteByte(s[i])
			}
		} else {
			for ; i < len(s) && !isSpace(s[i]); i++ {
				if s[i] == '\\' {
					if i++; i >= len(s) {
						break // a trailing backslash escapes the end: dropped
					}
				}
				val.WriteByte(s[i])
			}
		}
		at.val, at.raw = val.String(), span{start, i}
		out = append(out, at)
		// A value that itself reads like "… Password=…" means a separator
		// was forgotten, and a password is inside it: hide what follows.
		if secret(at.key) || looksSecret(at.key) || looksSecret(at.val) {
			hidden = true
		}
	}
}

// secretSpans returns where the non-empty secret values of pairs sit.
func secretSpans(pairs []kv, secret func(key string) bool) []span {
	var out []span
	for _, p := range pairs {
		if p.val != "" && secret(p.key) {
			out = append(out, p.raw)
		}
	}
	return out
}

// dsn builds a libpq keyword/value string in which every value is quoted,
// so that spaces, quotes, backslashes, '=' and ';' survive pgx's parser.
type dsn struct{ b strings.Builder }

func (d *dsn) add(key, val string) {
	if d.b.Len() > 0 {
		d.b.WriteByte(' ')
	}
	d.b.WriteString(key)
	d.b.WriteString("='")
	for i := 0; i < len(val); i++ {
		if val[i] == '\\' || val[i] == '\'' {
			d.b.WriteByte('\\')
		}
		d.b.WriteByte(val[i])
	}
	d.b.WriteByte('\'')
}

func (d *dsn) String() string { return d.b.String() }

// uriDecode percent-decodes one URI component with libpq's rules: outer
// spaces are dropped, inner spaces and %00 are refused.
func uriDecode(raw string) (string, bool) {
	raw = strings.Trim(raw, " ")
	if strings.Contains(raw, " ") {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			b.WriteByte(raw[i])
			continue
		}
		if i+2 >= len(raw) {
			return "", false
		}
		hi, ok1 := unhex(raw[i+1])
		lo, ok2 := unhex(raw[i+2])
		if !ok1 || !ok2 || hi == 0 && lo == 0 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
