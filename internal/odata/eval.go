package odata

import (
	"cmp"
	"fmt"
	"strings"
)

// Getter returns the value of the field at path for the row being
// evaluated, and false when the row's list has no such field.
type Getter func(path string) (Value, bool)

// Eval evaluates the condition n against one row, with SharePoint's
// semantics as the in-memory provider needs them:
//
//   - Two-valued logic. eq and ne treat null as a value (X eq null is true
//     for a null X, X ne 'a' is true for a null X); an ordering comparison
//     (gt, ge, lt, le) with a null field is false, so not (X gt 1) is true
//     for a null X. SQL translations must match (IS NOT DISTINCT FROM,
//     COALESCE(…, false)).
//   - Text compares case-insensitively, as SharePoint's collation does:
//     Title eq 'task' matches "Task", and startswith, endswith and
//     substringof ignore case too.
//   - Numbers compare across integer and decimal. A boolean field compares
//     with true/false and with 1/0 (PnPjs's isTrue() sends 1), with eq
//     and ne only. A datetime field compares with datetime'…' and with a
//     quoted ISO string ('2026-01-01T00:00:00.000Z', what PnPjs's date
//     filters send). A guid field compares with guid'…' or a quoted guid.
//   - Any other pairing (a number field with a string, a text field with a
//     number) is an error, as is a field the getter does not know: the
//     errors are *Error values (400) that the API can send as they are.
//
// Both sides of and/or are always evaluated, so an error does not depend
// on the data.
func Eval(n Node, get Getter) (bool, error) {
	switch n := n.(type) {
	case *Logical:
		l, err := Eval(n.Left, get)
		if err != nil {
			return false, err
		}
		r, err := Eval(n.Right, get)
		if err != nil {
			return false, err
		}
		if n.Op == OpAnd {
			return l && r, nil
		}
		return l || r, nil
	case *Not:
		x, err := Eval(n.X, get)
		return !x, err
	case *Func:
		v, err := field(get, n.Field)
		if err != nil || v.IsNull() {
			return false, err
		}
		if v.Kind != KindString {
			return false, InvalidQuery(fmt.Sprintf("%s needs a text field, but %s holds %s values.", n.Name, n.Field, v.Kind))
		}
		s, arg := strings.ToLower(v.Str), strings.ToLower(n.Arg)
		switch n.Name {
		case FuncStartsWith:
			return strings.HasPrefix(s, arg), nil
		case FuncEndsWith:
			return strings.HasSuffix(s, arg), nil
		}
		return strings.Contains(s, arg), nil
	case *Compare:
		var v Value
		var name string
		switch l := n.Left.(type) {
		case *Field:
			var err error
			if v, err = field(get, l.Path); err != nil {
				return false, err
			}
			name = l.Path
		default:
			b, err := Eval(l, get)
			if err != nil {
				return false, err
			}
			v, name = Bool(b), l.String()
		}
		return compare(name, v, n.Op, n.Right)
	}
	return false, InvalidQuery(fmt.Sprintf("The expression %v is not a condition.", n))
}

func field(get Getter, path string) (Value, error) {
	v, ok := get(path)
	if !ok {
		return Value{}, FieldNotFound(path)
	}
	return v, nil
}

// compare applies op to a field's value v and a literal.
func compare(name string, v Value, op Op, lit Value) (bool, error) {
	if v.IsNull() || lit.IsNull() {
		switch op {
		case OpEq:
			return v.IsNull() == lit.IsNull(), nil
		case OpNe:
			return v.IsNull() != lit.IsNull(), nil
		}
		return false, nil
	}
	c, err := order(name, v, op, lit)
	if err != nil {
		return false, err
	}
	switch op {
	case OpEq:
		return c == 0, nil
	case OpNe:
		return c != 0, nil
	case OpGt:
		return c > 0, nil
	case OpGe:
		return c >= 0, nil
	case OpLt:
		return c < 0, nil
	}
	return c <= 0, nil
}

// order compares two non-null values of compatible kinds: -1, 0 or 1.
func order(name string, v Value, op Op, lit Value) (int, error) {
	mismatch := func() (int, error) {
		return 0, InvalidQuery(fmt.Sprintf("The field %s holds %s values and cannot be compared with %s.", name, v.Kind, lit))
	}
	switch v.Kind {
	case KindString:
		if lit.Kind != KindString {
			return mismatch()
		}
		return strings.Compare(strings.ToLower(v.Str), strings.ToLower(lit.Str)), nil
	case KindInt, KindDecimal:
		switch {
		case v.Kind == KindInt && lit.Kind == KindInt:
			return cmp.Compare(v.Int, lit.Int), nil
		case lit.Kind == KindInt || lit.Kind == KindDecimal:
			return cmp.Compare(number(v), number(lit)), nil
		}
		return mismatch()
	case KindBool:
		b, ok := lit.Bool, lit.Kind == KindBool
		if lit.Kind == KindInt && (lit.Int == 0 || lit.Int == 1) {
			b, ok = lit.Int == 1, true
		}
		if !ok {
			return mismatch()
		}
		if op != OpEq && op != OpNe {
			return 0, InvalidQuery(fmt.Sprintf("The boolean field %s can only be compared with eq or ne.", name))
		}
		if v.Bool == b {
			return 0, nil
		}
		return 1, nil
	case KindDateTime:
		t, ok := lit.Time, lit.Kind == KindDateTime
		if lit.Kind == KindString {
			t, ok = parseDateTime(lit.Str)
		}
		if !ok {
			return mismatch()
		}
		return v.Time.Compare(t), nil
	case KindGuid:
		g, ok := lit.Str, lit.Kind == KindGuid
		if lit.Kind == KindString {
			g, ok = canonicalGuid(lit.Str)
		}
		if !ok {
			return mismatch()
		}
		return strings.Compare(v.Str, g), nil
	}
	return mismatch()
}

func number(v Value) float64 {
	if v.Kind == KindInt {
		return float64(v.Int)
	}
	return v.Num
}
