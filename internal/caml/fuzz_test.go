package caml

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
)

// checkRefusal fails unless err is one of the errors the API turns into
// a 400: a syntax error pointing inside (or just past) the input, or a
// limit error.
func checkRefusal(t *testing.T, in string, err error) {
	t.Helper()
	var se *odata.SyntaxError
	switch {
	case errors.As(err, &se):
		if se.Offset < 0 || se.Offset > len(in) || se.Msg == "" {
			t.Fatalf("%q: offset %d outside the input or empty message: %v", in, se.Offset, err)
		}
	case isLimit(err):
	default:
		t.Fatalf("%q: error %T %v is neither a syntax nor a limit error", in, err, err)
	}
	if e := odata.ErrorOf(err); e.Status != http.StatusBadRequest {
		t.Fatalf("%q: ErrorOf gives %d", in, e.Status)
	}
}

// filterWords are names a field cannot have in $filter text: a filter
// naming such a field does not print back to itself, through no fault of
// this package.
var filterWords = map[string]bool{"and": true, "or": true, "not": true, "eq": true, "ne": true, "gt": true,
	"ge": true, "lt": true, "le": true, "true": true, "false": true, "null": true}

// FuzzParseView checks that no ViewXml makes ParseView panic or fail
// with anything but a 400, and that every filter it builds is one
// $filter could have written: it evaluates, and it prints as a $filter
// that parses back to the same tree (unless the printed form passes
// $filter's own nesting or length limits, which are stricter than
// CAML's). The seed corpus is in testdata/fuzz/FuzzParseView.
func FuzzParseView(f *testing.F) {
	for _, s := range []string{
		where(eq("Eq", "Title", "Text", "x")),
		`<View Scope="RecursiveAll"><Query><Where><And><Geq><FieldRef Name="Due"/><Value Type="DateTime"><Today OffsetDays="-7"/></Value></Geq><In><FieldRef Name="Cat" LookupId="TRUE"/><Values><Value Type="Lookup">1</Value><Value Type="Lookup">2</Value></Values></In></And></Where><OrderBy><FieldRef Name="ID" Ascending="FALSE"/></OrderBy></Query><RowLimit>10</RowLimit></View>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseView(s, Options{Now: testNow, CurrentUserID: 3})
		if err != nil {
			checkRefusal(t, s, err)
			return
		}
		if v.Filter == nil {
			return
		}
		_, _ = odata.Eval(v.Filter, func(string) (odata.Value, bool) { return odata.Null(), true })
		for _, name := range odata.Fields(v.Filter) {
			if filterWords[strings.ToLower(name)] {
				return
			}
		}
		printed := v.Filter.String()
		again, err := odata.ParseFilter(printed)
		if err != nil {
			if isLimit(err) || strings.Contains(err.Error(), "nest more than") || strings.Contains(err.Error(), "fields and function calls") {
				return
			}
			t.Fatalf("%q: the filter prints as %q, which does not parse: %v", s, printed, err)
		}
		if !reflect.DeepEqual(again, v.Filter) {
			t.Fatalf("%q: the filter prints as %q, which parses to something else", s, printed)
		}
	})
}

// FuzzParseField checks that no SchemaXml makes ParseField panic or fail
// with anything but a 400.
func FuzzParseField(f *testing.F) {
	f.Add(`<Field Type="Choice" DisplayName="Status" Name="Status"><Default>Open</Default><CHOICES><CHOICE>Open</CHOICE></CHOICES></Field>`)
	f.Add(`<Field Type="Lookup" DisplayName="Project" Name="Project" List="{0f8fad5b-d9cb-469f-a165-70867728950e}" ShowField="Title"/>`)
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseField(s); err != nil {
			checkRefusal(t, s, err)
		}
	})
}
