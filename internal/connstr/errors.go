package connstr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Formats reported in ParseError.Format.
const (
	FormatRedis         = "Redis"               // empty or unrecognisable Redis input
	FormatStackExchange = "StackExchange.Redis" // host:port,key=value,...
	FormatRedisURL      = "Redis URL"           // redis:// and rediss://
	FormatPostgres      = "PostgreSQL"          // empty PostgreSQL input
	FormatNpgsql        = "Npgsql"              // Key=Value;Key=Value
	FormatLibpq         = "libpq"               // key=value key=value
	FormatPostgresURL   = "PostgreSQL URL"      // postgres:// and postgresql://
)

// ParseError reports a connection string that could not be parsed. Its
// message fits on one line, names the offending part and never contains a
// password or any piece of one (see the package documentation). It
// deliberately wraps nothing: the errors of the libraries underneath may
// quote the connection string.
type ParseError struct {
	// Format is the connection string format that was being parsed, one of
	// the Format constants.
	Format string
	// Part names what is wrong: an option key such as "connectTimeout", an
	// endpoint such as `endpoint "redis-a"`, or "item 4" when the text
	// itself must not be shown. Empty when the whole string is at fault.
	Part string
	// Reason says what is wrong with Part.
	Reason string
}

// Error returns "<Format> connection string: <Part>: <Reason>".
func (e *ParseError) Error() string {
	if e.Part == "" {
		return e.Format + " connection string " + e.Reason
	}
	return e.Format + " connection string: " + e.Part + ": " + e.Reason
}

// hiddenNote ends the reason of an error about text that follows a password:
// a separator inside an unquoted password splits it, so that text may be the
// password's tail and is never shown.
const hiddenNote = " (not shown because it follows the password; is there a separator inside the password?)"

// describe renders a value as the subject of an "is not …" reason, with
// the note to append. The value is not shown when it follows a password
// (hidden), nor when it seems to contain a password assignment, which is
// what a forgotten separator produces: "Host=h Password=secret".
func describe(val string, hidden bool) (subject, note string) {
	switch {
	case hidden:
		return "value", hiddenNote
	case looksSecret(val):
		return "value", " (not shown because it seems to contain a password)"
	}
	return quote(val), ""
}

// shown is describe for text that cannot follow a password.
func shown(val, what string) string {
	subject, note := describe(val, false)
	return subject + " " + what + note
}

// looksSecret reports whether v mentions a password at all; such text is
// never quoted in messages.
func looksSecret(v string) bool {
	l := strings.ToLower(strings.ReplaceAll(v, " ", ""))
	return strings.Contains(l, "password") || strings.Contains(l, "pwd=") || strings.Contains(l, "psw=")
}

// assignsSecret reports whether v contains a password assignment, which in
// the value of another key means a separator was forgotten. Such a value is
// refused: accepted, it would show the password in redacted output.
func assignsSecret(v string) bool {
	l := strings.ToLower(strings.ReplaceAll(v, " ", ""))
	return strings.Contains(l, "password=") || strings.Contains(l, "pwd=") || strings.Contains(l, "psw=")
}

const missingSeparator = "seems to contain a password assignment; is a separator missing before it?"

// hiddenIf returns hiddenNote when hidden is set.
func hiddenIf(hidden bool) string {
	if hidden {
		return hiddenNote
	}
	return ""
}

// quote renders user text for an error message: Go-quoted so that control
// characters stay visible and the message stays on one line, and shortened
// so that a pasted blob does not swamp the log line.
func quote(v string) string {
	const max = 48
	if utf8.RuneCountInString(v) > max {
		n := 0
		for i := range v {
			if n == max {
				v = v[:i] + "…"
				break
			}
			n++
		}
	}
	return strconv.Quote(v)
}

// span is a byte range of a connection string that holds a secret.
type span struct{ start, end int }

// redact replaces every span of s with "*****". Spans must be sorted and
// must not overlap, which is how the parsers produce them.
func redact(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	last := 0
	for _, sp := range spans {
		out = append(out, s[last:sp.start]...)
		out = append(out, "*****"...)
		last = sp.end
	}
	return string(append(out, s[last:]...))
}
