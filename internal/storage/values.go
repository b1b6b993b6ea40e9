package storage

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cesivi/cesivi/internal/odata"
)

// typeKinds are the FieldTypeKind numbers (SP.FieldType).
var typeKinds = map[FieldType]int{
	TypeInteger: 1, TypeText: 2, TypeNote: 3, TypeDateTime: 4, TypeCounter: 5,
	TypeChoice: 6, TypeLookup: 7, TypeBoolean: 8, TypeNumber: 9, TypeCurrency: 10,
	TypeURL: 11, TypeComputed: 12, TypeGuid: 14, TypeMultiChoice: 15,
	TypeFile: 18, TypeAttachments: 19, TypeUser: 20, TypeContentTypeID: 25,
}

// Kind is the odata kind a field of this type holds.
func (t FieldType) Kind() odata.Kind {
	switch t {
	case TypeInteger, TypeCounter, TypeLookup, TypeUser:
		return odata.KindInt
	case TypeNumber, TypeCurrency:
		return odata.KindDecimal
	case TypeBoolean, TypeAttachments:
		return odata.KindBool
	case TypeDateTime:
		return odata.KindDateTime
	case TypeGuid:
		return odata.KindGuid
	}
	return odata.KindString
}

// known reports whether t is a type Cesivi stores.
func (t FieldType) known() bool { _, ok := typeKinds[t]; return ok }

// MultiChoiceValue encodes choices as SharePoint stores them (";#a;#b;#").
func MultiChoiceValue(choices []string) odata.Value {
	if len(choices) == 0 {
		return odata.Null()
	}
	return odata.String(";#" + strings.Join(choices, ";#") + ";#")
}

// MultiChoices decodes a MultiChoice value.
func MultiChoices(v odata.Value) []string {
	s := strings.Trim(v.Str, ";#")
	if v.Kind != odata.KindString || s == "" {
		return nil
	}
	return strings.Split(s, ";#")
}

// URLValue encodes a hyperlink as SharePoint stores it ("url, description").
func URLValue(url, description string) odata.Value {
	if url == "" {
		return odata.Null()
	}
	if description == "" {
		description = url
	}
	return odata.String(url + ", " + description)
}

// Coerce converts v to the kind f holds, or says why it cannot: JSON
// strings become datetimes and guids, integers decimals, 0 and 1 booleans,
// an empty text null. Datetimes are kept to the microsecond, as
// PostgreSQL does.
func Coerce(f *Field, v odata.Value) (odata.Value, error) {
	if v.IsNull() {
		return v, nil
	}
	want := f.Type.Kind()
	bad := func() (odata.Value, error) {
		return odata.Value{}, Invalid("field %s is of type %s and takes %s values, not %s", f.InternalName, f.Type, want, v.Kind)
	}
	switch want {
	case odata.KindString:
		if v.Kind != odata.KindString {
			return bad()
		}
		if v.Str == "" {
			return odata.Null(), nil
		}
		if f.Type == TypeText {
			limit := f.MaxLength
			if limit == 0 {
				limit = MaxTextLength
			}
			if utf8.RuneCountInString(v.Str) > limit {
				return odata.Value{}, Invalid("field %s holds at most %d characters", f.InternalName, limit)
			}
		}
		return v, nil
	case odata.KindInt:
		switch v.Kind {
		case odata.KindInt:
			return v, nil
		case odata.KindDecimal:
			if v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 1<<53 {
				return odata.Int(int64(v.Num)), nil
			}
		case odata.KindString:
			if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
				return odata.Int(n), nil
			}
		}
		return bad()
	case odata.KindDecimal:
		switch v.Kind {
		case odata.KindDecimal:
			return v, nil
		case odata.KindInt:
			return odata.Decimal(float64(v.Int)), nil
		case odata.KindString:
			if n, err := strconv.ParseFloat(v.Str, 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
				return odata.Decimal(n), nil
			}
		}
		return bad()
	case odata.KindBool:
		switch {
		case v.Kind == odata.KindBool:
			return v, nil
		case v.Kind == odata.KindInt && (v.Int == 0 || v.Int == 1):
			return odata.Bool(v.Int == 1), nil
		}
		return bad()
	case odata.KindDateTime:
		t, ok := v.Time, v.Kind == odata.KindDateTime
		if v.Kind == odata.KindString {
			t, ok = parseTime(v.Str)
		}
		if !ok {
			return bad()
		}
		return odata.DateTime(t.Truncate(time.Microsecond)), nil
	case odata.KindGuid:
		switch v.Kind {
		case odata.KindGuid:
			return v, nil
		case odata.KindString:
			if g, ok := odata.Guid(v.Str); ok {
				return g, nil
			}
		}
		return bad()
	}
	return bad()
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ParseText reads a value of f's kind from text (a default value, a
// $skiptoken key): "" is null.
func ParseText(f *Field, s string) (odata.Value, error) {
	if s == "" {
		return odata.Null(), nil
	}
	if f.Type.Kind() == odata.KindBool {
		switch strings.ToLower(s) {
		case "1", "true", "yes":
			return odata.Bool(true), nil
		case "0", "false", "no":
			return odata.Bool(false), nil
		}
	}
	return Coerce(f, odata.String(s))
}

// FormatText writes v so that ParseText reads it back exactly.
func FormatText(v odata.Value) string {
	switch v.Kind {
	case odata.KindString, odata.KindGuid:
		return v.Str
	case odata.KindInt:
		return strconv.FormatInt(v.Int, 10)
	case odata.KindDecimal:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case odata.KindBool:
		if v.Bool {
			return "1"
		}
		return "0"
	case odata.KindDateTime:
		return v.Time.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// CompareValues orders two values of one field as $orderby does: null
// first, text ignoring case (then by bytes of the lower-cased text),
// false before true. PostgreSQL's provider orders the same way.
func CompareValues(a, b odata.Value) int {
	switch {
	case a.IsNull() || b.IsNull():
		return cmp.Compare(boolInt(!a.IsNull()), boolInt(!b.IsNull()))
	case a.Kind == odata.KindInt && b.Kind == odata.KindInt:
		return cmp.Compare(a.Int, b.Int)
	case a.Kind == odata.KindDecimal || b.Kind == odata.KindDecimal:
		return cmp.Compare(number(a), number(b))
	case a.Kind == odata.KindString:
		return strings.Compare(strings.ToLower(a.Str), strings.ToLower(b.Str))
	case a.Kind == odata.KindBool:
		return cmp.Compare(boolInt(a.Bool), boolInt(b.Bool))
	case a.Kind == odata.KindDateTime:
		return a.Time.Compare(b.Time)
	}
	return strings.Compare(a.Str, b.Str)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func number(v odata.Value) float64 {
	if v.Kind == odata.KindInt {
		return float64(v.Int)
	}
	return v.Num
}
