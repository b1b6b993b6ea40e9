package odata

import (
	"errors"
	"reflect"
	"testing"
)

// checkSyntaxError fails unless err is one of the parsers' own errors,
// pointing inside (or just past) the input.
func checkSyntaxError(t *testing.T, in string, err error) {
	t.Helper()
	var se *SyntaxError
	var le *LimitError
	switch {
	case errors.As(err, &se):
		if se.Offset < 0 || se.Offset > len(in) || se.Msg == "" {
			t.Fatalf("%q: offset %d outside the input or empty message: %v", in, se.Offset, err)
		}
	case errors.As(err, &le):
	default:
		t.Fatalf("%q: error %T %v is neither *SyntaxError nor *LimitError", in, err, err)
	}
	if e := ErrorOf(err); e.Status != 400 {
		t.Fatalf("%q: ErrorOf gives %d", in, e.Status)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"Priority ge 2 and startswith(Title,'Task')",
		"Status eq 'Open' and Priority gt 1",
		"(A eq 1 or B ne 'x''y') and not (C lt 2.5)",
		"not substringof('a',Author/Title) or endswith(T,'z') eq false",
		"Modified gt datetime'2026-01-02T03:04:05Z' and UniqueId eq guid'0f8fad5b-d9cb-469f-a165-70867728950e'",
		"Body eq null", "Done eq true", "2 lt X", "X eq -1e3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseFilter(s)
		if err != nil {
			checkSyntaxError(t, s, err)
			return
		}
		_ = Fields(n)
		_, _ = Eval(n, func(string) (Value, bool) { return Null(), true })
		out := n.String()
		if len(out) > MaxFilterLength {
			return // a long decimal can print longer than it was written
		}
		again, err := ParseFilter(out)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, n) {
			t.Fatalf("%q printed as %q parses to another tree: %s", s, out, again)
		}
		if again.String() != out {
			t.Fatalf("%q: String is not stable: %q then %q", s, out, again.String())
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"web/lists/getbytitle('My%20''quoted''%20list')/items(3)",
		"web/getFolderByServerRelativePath(decodedUrl='/sites/a/Shared%20Documents/x%2Fy')/files/AddUsingPath(decodedurl='a.txt',Overwrite=true)",
		"web/getFileByServerRelativePath(decodedUrl='%2Fsites%2Fdev%2Fa.txt')/$value",
		"lists(guid'0f8fad5b-d9cb-469f-a165-70867728950e')/items",
		"web/siteusers/getByLoginName('i:0%23.f%7Cmembership%7Ca@b.c')",
		"f(null,-2,1.5,true)", "$batch", "web/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			checkSyntaxError(t, s, err)
			return
		}
		out := p.String()
		if len(out) > MaxPathLength {
			return // escaping can make a path longer than it was sent
		}
		again, err := ParsePath(out)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("%q printed as %q parses to another path: %#v", s, out, again)
		}
	})
}

func FuzzParseSkipToken(f *testing.F) {
	for _, s := range []string{
		"Paged=TRUE&p_ID=3", "Paged=TRUE&p_Title=abc&p_ID=5", "paged=true&P_id=7",
		"Paged=TRUE&p_Title=a%20%26%3Db&p_Modified=20260102%2003%3a04%3a05&p_ID=9", "Paged=TRUE&p_Due=&p_ID=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseSkipToken(s)
		if err != nil {
			checkSyntaxError(t, s, err)
			return
		}
		out := tok.String()
		if len(out) > MaxSkipTokenLength {
			return // escaping can make a token longer than it was sent
		}
		again, err := ParseSkipToken(out)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, tok) {
			t.Fatalf("%q printed as %q parses to another token: %+v", s, out, again)
		}
	})
}
