package odata

import (
	"fmt"
	"strings"
)

// Limits of ParseFilter.
const (
	// MaxFilterLength is the longest $filter, in bytes (after URL
	// decoding). SharePoint's own URL limit is lower; 16 KiB leaves room
	// for generated "Id eq 1 or Id eq 2 or …" filters.
	MaxFilterLength = 16 << 10
	// MaxFilterDepth is how deeply parentheses and not may nest.
	MaxFilterDepth = 32
	// MaxFilterTerms is the most field references and function calls one
	// $filter may hold (each becomes at least one SQL condition).
	MaxFilterTerms = 500
)

// Node is a $filter expression: *Logical, *Not, *Compare, *Func or
// *Field. Every Node that ParseFilter returns at the top, or under a
// Logical or Not, is a condition (*Logical, *Not, *Compare or *Func);
// a *Field occurs only as a Compare's Left. String returns the node in
// $filter syntax; ParseFilter reads it back to an equal tree.
type Node interface {
	String() string
	node()
}

// Op is a logical or comparison operator.
type Op uint8

// The operators, by OData name.
const (
	OpEq Op = iota + 1
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
	OpAnd
	OpOr
)

var opNames = [...]string{OpEq: "eq", OpNe: "ne", OpGt: "gt", OpGe: "ge", OpLt: "lt", OpLe: "le", OpAnd: "and", OpOr: "or"}

// String returns the operator's OData name ("eq", "and").
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// mirror returns the operator with its operands swapped: 1 lt X is X gt 1.
func (o Op) mirror() Op {
	switch o {
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	}
	return o
}

// Logical is Left and Right, or Left or Right.
type Logical struct {
	Op          Op // OpAnd or OpOr
	Left, Right Node
}

// Not is not X.
type Not struct{ X Node }

// Compare compares a field (or a boolean function) with a literal. The
// parser puts the field on the left whichever way it was written
// ('x' eq Title becomes Title eq 'x', 1 lt Id becomes Id gt 1); SharePoint
// compares neither two fields nor two literals.
type Compare struct {
	Op Op // OpEq … OpLe
	// Left is a *Field, or a *Func compared with a boolean
	// (startswith(Title,'a') eq false).
	Left  Node
	Right Value
}

// FuncName is one of the string functions SharePoint supports in $filter.
type FuncName string

// The supported functions, in lower case (names match case-insensitively).
const (
	// FuncStartsWith is startswith(Field,'prefix').
	FuncStartsWith FuncName = "startswith"
	// FuncEndsWith is endswith(Field,'suffix').
	FuncEndsWith FuncName = "endswith"
	// FuncSubstringOf is substringof('part',Field): Field contains part.
	FuncSubstringOf FuncName = "substringof"
)

// Func is a string function of a field and a string literal; it is a
// condition.
type Func struct {
	Name  FuncName
	Field string // a field path, as in Field.Path
	Arg   string
}

// Field is a field reference: an internal name (Title, AuthorId) or, for
// an expanded lookup, a path (Author/Title).
type Field struct{ Path string }

func (*Logical) node() {}
func (*Not) node()     {}
func (*Compare) node() {}
func (*Func) node()    {}
func (*Field) node()   {}

// precedence orders conditions for printing: or < and < everything else.
func precedence(n Node) int {
	if l, ok := n.(*Logical); ok {
		if l.Op == OpOr {
			return 1
		}
		return 2
	}
	return 3
}

func (n *Logical) String() string {
	p := precedence(n)
	left, right := n.Left.String(), n.Right.String()
	if precedence(n.Left) < p {
		left = "(" + left + ")"
	}
	if precedence(n.Right) <= p {
		right = "(" + right + ")"
	}
	return left + " " + n.Op.String() + " " + right
}

func (n *Not) String() string {
	switch n.X.(type) {
	case *Func, *Not:
		return "not " + n.X.String()
	}
	return "not (" + n.X.String() + ")"
}

func (n *Compare) String() string {
	return n.Left.String() + " " + n.Op.String() + " " + n.Right.String()
}

func (n *Func) String() string {
	if n.Name == FuncSubstringOf {
		return string(n.Name) + "(" + quote(n.Arg) + "," + n.Field + ")"
	}
	return string(n.Name) + "(" + n.Field + "," + quote(n.Arg) + ")"
}

func (n *Field) String() string { return n.Path }

// Walk calls fn for n and, while fn returns true, for its descendants,
// parents before children, left before right.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	switch n := n.(type) {
	case *Logical:
		Walk(n.Left, fn)
		Walk(n.Right, fn)
	case *Not:
		Walk(n.X, fn)
	case *Compare:
		Walk(n.Left, fn)
	}
}

// Fields lists the field paths n refers to, each once, in the order they
// first appear, for checking them against a list's schema.
func Fields(n Node) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	Walk(n, func(n Node) bool {
		switch n := n.(type) {
		case *Field:
			add(n.Path)
		case *Func:
			add(n.Field)
		}
		return true
	})
	return out
}

// ParseFilter parses a $filter value (already URL-decoded) into a
// condition. Errors are *SyntaxError (with the offset of the problem) or
// *LimitError; ErrorOf turns them into SharePoint's 400.
func ParseFilter(s string) (Node, error) {
	return parseFilter("$filter", s)
}

func parseFilter(input, s string) (Node, error) {
	if len(s) > MaxFilterLength {
		return nil, &LimitError{Input: input, Msg: fmt.Sprintf("longer than %d bytes", MaxFilterLength)}
	}
	p := &parser{lex: lexer{input: input, src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, p.errAt(p.tok.off, "the filter is empty")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errAt(p.tok.off, "expected 'and', 'or' or the end of the filter, found %s", p.describe())
	}
	return p.condition(e, "the filter")
}

// parser is a recursive-descent parser over the lexer's tokens, one
// function per precedence level: or < and < comparison < not < primary.
type parser struct {
	lex   lexer
	tok   token
	depth int
	terms int
}

// operand is what a level returns: a node, or a literal that only a
// comparison may use.
type operand struct {
	node  Node
	lit   Value
	isLit bool
	off   int
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errAt(off int, format string, args ...any) *SyntaxError {
	return p.lex.errAt(off, format, args...)
}

// describe names the current token for error messages.
func (p *parser) describe() string {
	t := p.tok
	switch t.kind {
	case tokEOF:
		return "the end of the filter"
	case tokIdent:
		return "'" + t.text + "'"
	case tokString:
		return "the string " + quote(t.text)
	case tokTyped, tokNumber:
		return t.val.String()
	}
	if t.off < len(p.lex.src) {
		return "'" + p.lex.src[t.off:t.off+1] + "'"
	}
	return "?"
}

// keyword reports whether the current token is the word w, in any case.
func (p *parser) keyword(w string) bool {
	return p.tok.kind == tokIdent && strings.EqualFold(p.tok.text, w)
}

// condition checks that e is a condition (not a bare field or literal).
func (p *parser) condition(e operand, where string) (Node, error) {
	if e.isLit {
		return nil, p.errAt(e.off, "%s must be a condition, not the literal %s", where, e.lit)
	}
	if f, ok := e.node.(*Field); ok {
		return nil, p.errAt(e.off, "%s must be a condition, not the field %s alone: compare it, e.g. %s eq 1", where, f.Path, f.Path)
	}
	return e.node, nil
}

func (p *parser) or() (operand, error) {
	return p.logical(OpOr, p.and)
}

func (p *parser) and() (operand, error) {
	return p.logical(OpAnd, p.comparison)
}

// logical parses next (op next)*, left-associative.
func (p *parser) logical(op Op, next func() (operand, error)) (operand, error) {
	left, err := next()
	if err != nil {
		return operand{}, err
	}
	for p.keyword(op.String()) {
		opOff := p.tok.off
		if err := p.advance(); err != nil {
			return operand{}, err
		}
		right, err := next()
		if err != nil {
			return operand{}, err
		}
		l, err := p.condition(left, "the left side of '"+op.String()+"'")
		if err != nil {
			return operand{}, err
		}
		r, err := p.condition(right, "the right side of '"+op.String()+"'")
		if err != nil {
			return operand{}, err
		}
		left = operand{node: &Logical{Op: op, Left: l, Right: r}, off: opOff}
	}
	return left, nil
}

// comparisonOp returns the comparison operator the current token names.
func (p *parser) comparisonOp() (Op, bool) {
	if p.tok.kind != tokIdent {
		return 0, false
	}
	for op := OpEq; op <= OpLe; op++ {
		if strings.EqualFold(p.tok.text, op.String()) {
			return op, true
		}
	}
	return 0, false
}

func (p *parser) comparison() (operand, error) {
	left, err := p.unary()
	if err != nil {
		return operand{}, err
	}
	op, ok := p.comparisonOp()
	if !ok {
		if p.tok.kind == tokIdent && !p.keyword("and") && !p.keyword("or") {
			return operand{}, p.errAt(p.tok.off, "unknown operator %s (supported: eq, ne, gt, ge, lt, le, and, or, not)", p.describe())
		}
		return left, nil
	}
	opOff := p.tok.off
	if err := p.advance(); err != nil {
		return operand{}, err
	}
	right, err := p.unary()
	if err != nil {
		return operand{}, err
	}
	if _, again := p.comparisonOp(); again {
		return operand{}, p.errAt(p.tok.off, "comparisons cannot be chained; combine them with 'and'")
	}
	if left.isLit && !right.isLit {
		left, right, op = right, left, op.mirror()
	}
	switch {
	case left.isLit:
		return operand{}, p.errAt(opOff, "'%s' compares two literals; one side must be a field", op)
	case !right.isLit:
		return operand{}, p.errAt(opOff, "'%s' compares %s with %s; SharePoint compares a field with a literal only", op, left.node, right.node)
	}
	if right.lit.Kind == KindNull && op != OpEq && op != OpNe {
		return operand{}, p.errAt(opOff, "null can only be compared with eq or ne, not '%s'", op)
	}
	switch l := left.node.(type) {
	case *Field:
	case *Func:
		if right.lit.Kind != KindBool || op != OpEq && op != OpNe {
			return operand{}, p.errAt(opOff, "%s can only be compared with true or false, using eq or ne", l.Name)
		}
	default:
		return operand{}, p.errAt(opOff, "a condition cannot be compared with '%s'; use parentheses, e.g. not (Title eq 'x')", op)
	}
	return operand{node: &Compare{Op: op, Left: left.node, Right: right.lit}, off: left.off}, nil
}

func (p *parser) unary() (operand, error) {
	if !p.keyword("not") {
		return p.primary()
	}
	off := p.tok.off
	if err := p.enter(); err != nil {
		return operand{}, err
	}
	x, err := p.unary()
	if err != nil {
		return operand{}, err
	}
	p.depth--
	if f, ok := x.node.(*Field); ok {
		return operand{}, p.errAt(x.off, "'not' applies to a condition and binds tighter than comparisons: write not (%s eq …)", f.Path)
	}
	n, err := p.condition(x, "the operand of 'not'")
	if err != nil {
		return operand{}, err
	}
	return operand{node: &Not{X: n}, off: off}, nil
}

// enter consumes a '(' or 'not', counting one level of nesting.
func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxFilterDepth {
		return p.errAt(p.tok.off, "parentheses and 'not' nest more than %d deep", MaxFilterDepth)
	}
	return p.advance()
}

// term counts one field reference or function call.
func (p *parser) term(off int) error {
	p.terms++
	if p.terms > MaxFilterTerms {
		return p.errAt(off, "more than %d fields and function calls in one filter", MaxFilterTerms)
	}
	return nil
}

// literal consumes the current token when it is a literal ('text', a
// number, datetime'…', guid'…', true, false or null).
func (p *parser) literal() (operand, bool, error) {
	v, ok := literalOf(p.tok)
	if !ok {
		return operand{}, false, nil
	}
	lit := operand{lit: v, isLit: true, off: p.tok.off}
	return lit, true, p.advance()
}

func (p *parser) primary() (operand, error) {
	t := p.tok
	if lit, ok, err := p.literal(); ok || err != nil {
		return lit, err
	}
	switch t.kind {
	case tokLParen:
		if err := p.enter(); err != nil {
			return operand{}, err
		}
		e, err := p.or()
		if err != nil {
			return operand{}, err
		}
		if p.tok.kind != tokRParen {
			return operand{}, p.errAt(p.tok.off, "expected ')' to close the '(' at character %d, found %s", t.off+1, p.describe())
		}
		p.depth--
		return e, p.advance()
	case tokIdent:
		if err := p.term(t.off); err != nil {
			return operand{}, err
		}
		if err := p.advance(); err != nil {
			return operand{}, err
		}
		if p.tok.kind == tokLParen {
			return p.call(t)
		}
		return p.field(t)
	case tokEOF:
		return operand{}, p.errAt(t.off, "the filter ends where a field, a literal or '(' was expected")
	}
	return operand{}, p.errAt(t.off, "expected a field, a literal or '(', found %s", p.describe())
}

// field returns the field whose first name, first, has been consumed.
func (p *parser) field(first token) (operand, error) {
	path, err := p.fieldPath(first)
	if err != nil {
		return operand{}, err
	}
	return operand{node: &Field{Path: path}, off: first.off}, nil
}

// fieldPath reads the rest of Name(/Name)* after first, which has been
// consumed.
func (p *parser) fieldPath(first token) (string, error) {
	path := first.text
	for p.tok.kind == tokSlash {
		slash := p.tok.off
		if err := p.advance(); err != nil {
			return "", err
		}
		if p.tok.kind != tokIdent || p.tok.off != slash+1 {
			return "", p.errAt(p.tok.off, "expected a field name after '/' in %s/, found %s", path, p.describe())
		}
		path += "/" + p.tok.text
		if err := p.advance(); err != nil {
			return "", err
		}
	}
	return path, nil
}

// call parses the arguments of the function name, whose '(' is the
// current token.
func (p *parser) call(name token) (operand, error) {
	fn := FuncName(strings.ToLower(name.text))
	switch fn {
	case FuncStartsWith, FuncEndsWith, FuncSubstringOf:
	default:
		return operand{}, p.errAt(name.off, "unknown or unsupported function '%s' (supported: startswith, endswith, substringof)", name.text)
	}
	open := p.tok.off
	if err := p.advance(); err != nil {
		return operand{}, err
	}
	var args []operand
	for len(args) < 2 {
		if len(args) == 1 {
			if p.tok.kind != tokComma {
				return operand{}, p.errAt(p.tok.off, "%s takes two arguments; expected ',' but found %s", fn, p.describe())
			}
			if err := p.advance(); err != nil {
				return operand{}, err
			}
		}
		a, err := p.argument()
		if err != nil {
			return operand{}, err
		}
		args = append(args, a)
	}
	if p.tok.kind != tokRParen {
		return operand{}, p.errAt(p.tok.off, "expected ')' to close %s( at character %d, found %s", fn, open+1, p.describe())
	}
	fieldAt := 0
	if fn == FuncSubstringOf {
		fieldAt = 1
	}
	out := &Func{Name: fn}
	for i, a := range args {
		if i == fieldAt {
			f, ok := a.node.(*Field)
			if a.isLit || !ok {
				return operand{}, p.errAt(a.off, "%s needs a field here", fn)
			}
			out.Field = f.Path
			continue
		}
		if !a.isLit || a.lit.Kind != KindString {
			return operand{}, p.errAt(a.off, "%s needs a string literal such as 'text' here", fn)
		}
		out.Arg = a.lit.Str
	}
	return operand{node: out, off: name.off}, p.advance()
}

// argument reads one function argument: a field path or a literal.
func (p *parser) argument() (operand, error) {
	t := p.tok
	if lit, ok, err := p.literal(); ok || err != nil {
		return lit, err
	}
	if t.kind != tokIdent {
		return operand{}, p.errAt(t.off, "expected a field or a literal as a function argument, found %s", p.describe())
	}
	if err := p.advance(); err != nil {
		return operand{}, err
	}
	return p.field(t)
}
