package odata

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of literal OData and SharePoint know, and the kinds a getter
// hands to Eval.
const (
	KindNull Kind = iota
	KindString
	KindInt
	KindDecimal
	KindBool
	KindDateTime
	KindGuid
)

var kindNames = [...]string{"null", "string", "integer", "decimal", "boolean", "datetime", "guid"}

// String names the kind for error messages ("integer", "datetime").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a typed literal: a path argument, a $filter operand, or a field
// value handed to Eval. Only the field its Kind names is meaningful; the
// zero Value is null. Values are comparable with ==.
type Value struct {
	Kind Kind
	// Str is the text of a string, or the lower-case 36-character form of
	// a guid.
	Str  string
	Int  int64
	Num  float64
	Bool bool
	// Time is a datetime in UTC, without a monotonic reading.
	Time time.Time
	// Offset records that a datetime was written datetimeoffset'…'
	// rather than datetime'…'; the instant is the same.
	Offset bool
}

// Null is the null Value.
func Null() Value { return Value{} }

// String returns a string Value.
func String(s string) Value { return Value{Kind: KindString, Str: s} }

// Int returns an integer Value.
func Int(i int64) Value { return Value{Kind: KindInt, Int: i} }

// Decimal returns a decimal Value; NaN and infinities are not literals and
// become null.
func Decimal(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}
	}
	return Value{Kind: KindDecimal, Num: f}
}

// Bool returns a boolean Value.
func Bool(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// DateTime returns a datetime Value at t's instant, in UTC.
func DateTime(t time.Time) Value { return Value{Kind: KindDateTime, Time: t.UTC().Round(0)} }

// Guid returns a guid Value from its 36-character form (any case, braces
// allowed); ok is false when s is not a guid.
func Guid(s string) (v Value, ok bool) {
	g, ok := canonicalGuid(s)
	if !ok {
		return Value{}, false
	}
	return Value{Kind: KindGuid, Str: g}, true
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// String returns v as an OData literal, the way ParseFilter and ParsePath
// read it back: 'text' (quotes inside doubled), 42, 1.5, true, null,
// datetime'2026-01-02T03:04:05Z', guid'0f…'. Strings are not
// percent-encoded (see Path.String for that).
func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return quote(v.Str)
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindDecimal:
		s := strconv.FormatFloat(v.Num, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindDateTime:
		prefix := "datetime"
		if v.Offset {
			prefix = "datetimeoffset"
		}
		return prefix + "'" + v.Time.UTC().Format(time.RFC3339Nano) + "'"
	case KindGuid:
		return "guid'" + v.Str + "'"
	}
	return "null"
}

// quote writes s as an OData string literal, doubling single quotes.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// canonicalGuid accepts 8-4-4-4-12 hex digits, optionally in braces, and
// returns them in lower case.
func canonicalGuid(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
			continue
		}
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			b[i] = c + ('a' - 'A')
		default:
			return "", false
		}
	}
	return string(b), true
}

// dateLayouts are the datetime forms SharePoint clients send: RFC 3339
// with or without fractional seconds and zone (no zone means UTC), to the
// minute, or a bare date.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseDateTime reads a datetime literal's text.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			// An offset can push year 0 or 9999 out of the range
			// String can write back.
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// TimeLayout is how SharePoint writes datetimes in JSON: UTC, to the
// second (2026-11-23T19:35:09Z).
const TimeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON writes v as a JSON value the way SharePoint does: null,
// a string, a number, a boolean, a datetime as TimeLayout, a guid as its
// string.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case KindString, KindGuid:
		return json.Marshal(v.Str)
	case KindInt:
		return strconv.AppendInt(nil, v.Int, 10), nil
	case KindDecimal:
		return strconv.AppendFloat(nil, v.Num, 'g', -1, 64), nil
	case KindBool:
		return strconv.AppendBool(nil, v.Bool), nil
	case KindDateTime:
		return json.Marshal(v.Time.UTC().Format(TimeLayout))
	}
	return []byte("null"), nil
}
