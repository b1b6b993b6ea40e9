package odata

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFilter(t *testing.T) {
	f := func(p string) *Field { return &Field{Path: p} }
	cmp := func(l Node, op Op, v Value) *Compare { return &Compare{Op: op, Left: l, Right: v} }
	and := func(l, r Node) *Logical { return &Logical{Op: OpAnd, Left: l, Right: r} }
	or := func(l, r Node) *Logical { return &Logical{Op: OpOr, Left: l, Right: r} }
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want Node
		str  string // String(), when it differs from in
	}{
		{"a comparison compares a field with a literal", "Priority ge 2", cmp(f("Priority"), OpGe, Int(2)), ""},
		{"strings double their quotes", "Title eq 'Bob''s'", cmp(f("Title"), OpEq, String("Bob's")), ""},
		{"and binds tighter than or", "A eq 1 or B eq 2 and C eq 3",
			or(cmp(f("A"), OpEq, Int(1)), and(cmp(f("B"), OpEq, Int(2)), cmp(f("C"), OpEq, Int(3)))), ""},
		{"parentheses override precedence", "(A eq 1 or B eq 2) and C eq 3",
			and(or(cmp(f("A"), OpEq, Int(1)), cmp(f("B"), OpEq, Int(2))), cmp(f("C"), OpEq, Int(3))), ""},
		{"and is left-associative", "A eq 1 and B eq 2 and C eq 3",
			and(and(cmp(f("A"), OpEq, Int(1)), cmp(f("B"), OpEq, Int(2))), cmp(f("C"), OpEq, Int(3))), ""},
		{"right-nested groups keep their parentheses", "A eq 1 and (B eq 2 and C eq 3)",
			and(cmp(f("A"), OpEq, Int(1)), and(cmp(f("B"), OpEq, Int(2)), cmp(f("C"), OpEq, Int(3)))), ""},
		{"not applies to a parenthesised condition", "not (Title eq 'x')", &Not{X: cmp(f("Title"), OpEq, String("x"))}, ""},
		{"not applies to a function", "not startswith(Title,'T')", &Not{X: &Func{Name: FuncStartsWith, Field: "Title", Arg: "T"}}, ""},
		{"function names ignore case", "StartsWith(Title, 'Task')", &Func{Name: FuncStartsWith, Field: "Title", Arg: "Task"}, "startswith(Title,'Task')"},
		{"substringof takes the text first", "substringof('ask',Title)", &Func{Name: FuncSubstringOf, Field: "Title", Arg: "ask"}, ""},
		{"endswith takes the field first", "endswith(Title,'1')", &Func{Name: FuncEndsWith, Field: "Title", Arg: "1"}, ""},
		{"a function compares with a boolean", "startswith(Title,'a') eq false",
			cmp(&Func{Name: FuncStartsWith, Field: "Title", Arg: "a"}, OpEq, Bool(false)), ""},
		{"null is a literal", "Title ne null", cmp(f("Title"), OpNe, Null()), ""},
		{"decimals are decimals", "Price lt 1.5", cmp(f("Price"), OpLt, Decimal(1.5)), ""},
		{"negative numbers are numbers", "Delta gt -3", cmp(f("Delta"), OpGt, Int(-3)), ""},
		{"exponents make decimals", "X eq 1e3", cmp(f("X"), OpEq, Decimal(1000)), "X eq 1000.0"},
		{"booleans are literals", "Done eq true", cmp(f("Done"), OpEq, Bool(true)), ""},
		{"datetime literals are UTC instants", "Modified gt datetime'2026-01-02T03:04:05Z'", cmp(f("Modified"), OpGt, DateTime(when)), ""},
		{"datetime offsets are converted to UTC", "Modified gt datetimeoffset'2026-01-02T05:04:05+02:00'",
			cmp(f("Modified"), OpGt, Value{Kind: KindDateTime, Time: when, Offset: true}), "Modified gt datetimeoffset'2026-01-02T03:04:05Z'"},
		{"guid literals are canonical", "UniqueId eq guid'0F8FAD5B-D9CB-469F-A165-70867728950E'",
			cmp(f("UniqueId"), OpEq, guid(t, "0f8fad5b-d9cb-469f-a165-70867728950e")), "UniqueId eq guid'0f8fad5b-d9cb-469f-a165-70867728950e'"},
		{"lookup paths are fields", "Author/Title eq 'Ann'", cmp(f("Author/Title"), OpEq, String("Ann")), ""},
		{"lookup ids are fields", "AuthorId eq 6", cmp(f("AuthorId"), OpEq, Int(6)), ""},
		{"a literal on the left moves right", "2 lt Priority", cmp(f("Priority"), OpGt, Int(2)), "Priority gt 2"},
		{"operators ignore case", "A EQ 1 AND B Ne 2", and(cmp(f("A"), OpEq, Int(1)), cmp(f("B"), OpNe, Int(2))), "A eq 1 and B ne 2"},
		{"PnPjs's fluent filter parses", "Priority ge 2 and startswith(Title,'Task')",
			and(cmp(f("Priority"), OpGe, Int(2)), &Func{Name: FuncStartsWith, Field: "Title", Arg: "Task"}), ""},
		{"redundant parentheses go", "((Id eq 1))", cmp(f("Id"), OpEq, Int(1)), "Id eq 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseFilter(%q) = %s, want %s", tt.in, got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got.String() != want {
				t.Fatalf("String() = %q, want %q", got.String(), want)
			}
			again, err := ParseFilter(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("String() %q does not parse back: %v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseFilterRefusesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		offset int
		says   string
	}{
		{"an empty filter is refused", "  ", 2, "empty"},
		{"an unclosed string is refused where it starts", "Title eq 'x", 9, "closing quote"},
		{"an unclosed parenthesis is refused at the end", "(A eq 1", 7, "expected ')'"},
		{"a bare field is not a condition", "Title", 0, "not the field Title alone"},
		{"a bare literal is not a condition", "true", 0, "not the literal true"},
		{"two fields are not compared", "Modified gt Created", 9, "compares Modified with Created"},
		{"two literals are not compared", "1 eq 1", 2, "two literals"},
		{"comparisons do not chain", "A eq 1 eq 2", 7, "chained"},
		{"not binds tighter than eq", "not Title eq 'x'", 4, "write not (Title eq"},
		{"unknown functions are named", "tolower(Title) eq 'x'", 0, "unsupported function 'tolower'"},
		{"unknown operators are named", "A add 1", 2, "unknown operator 'add'"},
		{"substringof wants its text first", "substringof(Title,'x')", 12, "needs a string literal"},
		{"startswith wants a string", "startswith(Title,1)", 17, "needs a string literal"},
		{"a function compares with booleans only", "startswith(Title,'a') eq 1", 22, "true or false"},
		{"null is not ordered", "A gt null", 2, "null can only be compared with eq or ne"},
		{"a bad datetime is refused", "M gt datetime'yesterday'", 5, "not a date"},
		{"a dangling operator is refused", "A eq", 4, "ends where"},
		{"a dangling and is refused", "A eq 1 and", 10, "ends where"},
		{"a stray character is refused", "A eq 1 ; B", 7, "unexpected character"},
		{"a trailing slash in a path is refused", "Author/ eq 1", 8, "after '/'"},
		{"a number running into letters is refused", "A eq 1L", 5, "suffixes"},
		{"a decimal without digits is refused", "A eq 1.", 5, "after the decimal point"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFilter(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilter(%q) = %v, want a *SyntaxError", tt.in, err)
			}
			if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.says) || se.Input != "$filter" {
				t.Fatalf("ParseFilter(%q): %v, want offset %d and %q", tt.in, err, tt.offset, tt.says)
			}
			e := ErrorOf(err)
			if e.Status != 400 || e.Code != CodeInvalidQuery || !strings.HasPrefix(e.Message, "$filter: at character") {
				t.Fatalf("ErrorOf = %v", e)
			}
		})
	}
}

func TestParseFilterEnforcesLimits(t *testing.T) {
	deep := strings.Repeat("(", MaxFilterDepth+1) + "A eq 1" + strings.Repeat(")", MaxFilterDepth+1)
	nots := strings.Repeat("not ", MaxFilterDepth+1) + "startswith(A,'x')"
	terms := "A eq 1" + strings.Repeat(" or A eq 1", MaxFilterTerms)
	for name, in := range map[string]string{"parentheses": deep, "nots": nots, "terms": terms} {
		if _, err := ParseFilter(in); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("%s: ParseFilter = %v, want a limit error", name, err)
		}
	}
	okDeep := strings.Repeat("(", MaxFilterDepth) + "A eq 1" + strings.Repeat(")", MaxFilterDepth)
	if _, err := ParseFilter(okDeep); err != nil {
		t.Errorf("nesting at the limit is refused: %v", err)
	}
	var le *LimitError
	if _, err := ParseFilter(strings.Repeat(" ", MaxFilterLength+1)); !errors.As(err, &le) {
		t.Errorf("an overlong filter gives %v, want a *LimitError", err)
	}
}

func TestFieldsListsEachReferencedFieldOnce(t *testing.T) {
	n, err := ParseFilter("Title eq 'a' or (startswith(Author/Title,'b') and Title ne null) or substringof('c',Body)")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Fields(n), []string{"Title", "Author/Title", "Body"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Fields = %v, want %v", got, want)
	}
}
