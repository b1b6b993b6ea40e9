package pgstorage

import (
	"strconv"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// The SQL below reproduces odata.Eval and storage.CompareValues:
//
//   - Text is compared as lower(text) COLLATE "C": case-insensitive, then
//     by bytes, as Go compares strings.ToLower.
//   - Two-valued logic without COALESCE around every comparison (which
//     would hide it from indexes): the condition is first put in negation
//     normal form, so a comparison that yields NULL for a null field
//     only ever sits where NULL means false; where two-valued logic says
//     a null field makes the comparison true (ne, a negated gt…), the
//     condition adds "expr IS NULL OR".
//   - Literals are parameters, converted to the field's column type;
//     field names come from the list's schema and appear only as
//     quoted string literals in jsonb lookups (internal names are letters,
//     digits and '_' only, so quoting cannot be escaped either way).

// query accumulates SQL text and its parameters.
type query struct {
	sql  strings.Builder
	args []any
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// columns maps computed system fields to ListItems columns.
var columns = map[string]string{
	storage.FieldID:        `"Id"`,
	storage.FieldCreated:   `"Created"`,
	storage.FieldModified:  `"Modified"`,
	storage.FieldAuthor:    `"AuthorId"`,
	storage.FieldEditor:    `"EditorId"`,
	storage.FieldGUID:      `"Guid"::text COLLATE "C"`,
	storage.FieldUIVersion: `lower("Version"::text || '.0') COLLATE "C"`,
}

// expr is the SQL expression for a field's value, typed by its kind. The
// same expression is what an Indexed field's index is built on.
func expr(f *storage.Field) string {
	if storage.Computed(f) {
		return "(" + columns[f.InternalName] + ")"
	}
	v := `("Data"->>'` + strings.ReplaceAll(f.InternalName, "'", "''") + `')`
	switch f.Type.Kind() {
	case odata.KindString:
		return "(lower(" + v + `) COLLATE "C")`
	case odata.KindInt, odata.KindDateTime:
		return "(" + v + "::bigint)"
	case odata.KindDecimal:
		return "(" + v + "::float8)"
	case odata.KindBool:
		return "(" + v + "::boolean)"
	}
	return "(" + v + ` COLLATE "C")`
}

// param converts a non-null literal for comparison with field f, and
// says whether the field's expression must be compared as float8 (an
// integer field against a decimal literal).
func param(f *storage.Field, v odata.Value) (any, bool) {
	switch f.Type.Kind() {
	case odata.KindString:
		return strings.ToLower(v.Str), false
	case odata.KindInt:
		if v.Kind == odata.KindDecimal {
			return v.Num, true
		}
		return v.Int, false
	case odata.KindDecimal:
		if v.Kind == odata.KindInt {
			return float64(v.Int), false
		}
		return v.Num, false
	case odata.KindBool:
		if v.Kind == odata.KindInt {
			return v.Int == 1, false
		}
		return v.Bool, false
	case odata.KindDateTime:
		t := v.Time
		if v.Kind == odata.KindString {
			c, _ := storage.Coerce(f, v)
			t = c.Time
		}
		if storage.Computed(f) {
			return t, false
		}
		return t.Truncate(time.Microsecond).UnixMicro(), false
	}
	g, _ := odata.Guid(v.Str)
	return g.Str, false
}

var sqlOps = map[odata.Op]string{odata.OpEq: "=", odata.OpNe: "<>", odata.OpGt: ">", odata.OpGe: ">=", odata.OpLt: "<", odata.OpLe: "<="}

// complement is the operator of not (x op v) for a non-null x.
var complement = map[odata.Op]odata.Op{odata.OpEq: odata.OpNe, odata.OpNe: odata.OpEq, odata.OpGt: odata.OpLe,
	odata.OpGe: odata.OpLt, odata.OpLt: odata.OpGe, odata.OpLe: odata.OpGt}

// cond writes n (negated when neg) as SQL. The filter has passed
// Schema.CheckFilter, so every field resolves and every literal fits.
func (q *query) cond(s *storage.Schema, n odata.Node, neg bool) error {
	switch n := n.(type) {
	case *odata.Logical:
		op := " AND "
		if (n.Op == odata.OpOr) != neg {
			op = " OR "
		}
		q.sql.WriteString("(")
		if err := q.cond(s, n.Left, neg); err != nil {
			return err
		}
		q.sql.WriteString(op)
		if err := q.cond(s, n.Right, neg); err != nil {
			return err
		}
		q.sql.WriteString(")")
		return nil
	case *odata.Not:
		return q.cond(s, n.X, !neg)
	case *odata.Func:
		f, _ := s.Resolve(n.Field)
		arg := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(n.Arg))
		switch n.Name {
		case odata.FuncStartsWith:
			arg += "%"
		case odata.FuncEndsWith:
			arg = "%" + arg
		default:
			arg = "%" + arg + "%"
		}
		like := expr(f) + " LIKE " + q.arg(arg)
		if neg {
			like = "NOT COALESCE(" + like + ", false)"
		}
		q.sql.WriteString(like)
		return nil
	case *odata.Compare:
		if fn, ok := n.Left.(*odata.Func); ok {
			// func eq true is func; eq false is not func; ne the reverse.
			if n.Right.IsNull() {
				q.sql.WriteString(strconv.FormatBool((n.Op == odata.OpNe) != neg))
				return nil
			}
			b := n.Right.Bool || n.Right.Kind == odata.KindInt && n.Right.Int == 1
			positive := (n.Op == odata.OpEq) == b
			return q.cond(s, fn, positive == neg)
		}
		fl, ok := n.Left.(*odata.Field)
		if !ok {
			return storage.Invalid("the expression %v is not a condition", n)
		}
		f, _ := s.Resolve(fl.Path)
		e := expr(f)
		if n.Right.IsNull() {
			switch isNull := n.Op == odata.OpEq; {
			case n.Op != odata.OpEq && n.Op != odata.OpNe:
				q.sql.WriteString(strconv.FormatBool(neg))
			case isNull != neg:
				q.sql.WriteString(e + " IS NULL")
			default:
				q.sql.WriteString(e + " IS NOT NULL")
			}
			return nil
		}
		op := n.Op
		if neg {
			op = complement[op]
		}
		p, asFloat := param(f, n.Right)
		if asFloat {
			e = "(" + e + "::float8)"
		}
		c := e + " " + sqlOps[op] + " " + q.arg(p)
		// A null field satisfies ne, and any negated comparison but ne.
		if (n.Op == odata.OpNe) != neg {
			c = "(" + e + " IS NULL OR " + c + ")"
		}
		q.sql.WriteString(c)
		return nil
	}
	return storage.Invalid("the expression %v is not a condition", n)
}

// after writes the keyset condition "the row comes after the token":
// for keys k1…kn and token values v1…vn, the rows equal on k1…k(i-1) and
// after vi on ki, for some i. Nulls come first ascending, last
// descending.
func (q *query) after(p *storage.Plan) {
	q.sql.WriteString("(")
	for i, k := range p.Order {
		if i > 0 {
			q.sql.WriteString(" OR ")
		}
		q.sql.WriteString("(")
		for j := range i {
			q.sql.WriteString(q.equal(p.Order[j].Field, p.After[j]) + " AND ")
		}
		q.sql.WriteString(q.beyond(k, p.After[i]))
		q.sql.WriteString(")")
	}
	q.sql.WriteString(")")
}

func (q *query) equal(f *storage.Field, v odata.Value) string {
	if v.IsNull() {
		return expr(f) + " IS NULL"
	}
	a, _ := param(f, v)
	return expr(f) + " = " + q.arg(a)
}

func (q *query) beyond(k storage.OrderKey, v odata.Value) string {
	e := expr(k.Field)
	switch {
	case v.IsNull() && k.Desc:
		return "false"
	case v.IsNull():
		return e + " IS NOT NULL"
	}
	a, _ := param(k.Field, v)
	switch {
	case k.Desc && storage.Computed(k.Field):
		// A column that is never null: a bare comparison, which an index
		// on it can bound (with "OR … IS NULL" it cannot).
		return e + " < " + q.arg(a)
	case k.Desc:
		return "(" + e + " < " + q.arg(a) + " OR " + e + " IS NULL)"
	}
	return e + " > " + q.arg(a)
}

// orderBy writes the ORDER BY list.
func orderBy(p *storage.Plan) string {
	var parts []string
	for _, k := range p.Order {
		dir := " ASC NULLS FIRST"
		if k.Desc {
			dir = " DESC NULLS LAST"
		}
		if storage.Computed(k.Field) {
			// The system columns are never null. PostgreSQL does not
			// know NULLS FIRST makes no difference there: written, it
			// keeps the primary key ("ListId", "Id") from serving the
			// order, and every page sorts the whole list.
			dir = " ASC"
			if k.Desc {
				dir = " DESC"
			}
		}
		parts = append(parts, expr(k.Field)+dir)
	}
	return strings.Join(parts, ", ")
}

// indexName names the expression index of an Indexed field.
func indexName(fieldID string) string {
	return "IX_ListItems_F_" + strings.ReplaceAll(fieldID, "-", "")
}
