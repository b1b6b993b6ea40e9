package odata

import (
	"errors"
	"reflect"
	"strings"
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

// The fuzz targets' seed corpora are in testdata/fuzz/<target>; the
// f.Add seeds keep each target meaningful without them.

// roundTrip checks that what parse accepts, print writes back in a form
// parse reads to an equal value (unless printing made it longer than
// max, as escaping or a long decimal can).
func roundTrip[T any](t *testing.T, in string, parse func(string) (T, error), print func(T) string, max int) {
	t.Helper()
	v, err := parse(in)
	if err != nil {
		checkSyntaxError(t, in, err)
		return
	}
	out := print(v)
	if len(out) > max {
		return
	}
	again, err := parse(out)
	if err != nil {
		t.Fatalf("%q printed as %q, which does not parse: %v", in, out, err)
	}
	if !reflect.DeepEqual(again, v) {
		t.Fatalf("%q printed as %q parses to something else: %#v", in, out, again)
	}
	if print(again) != out {
		t.Fatalf("%q: printing is not stable: %q then %q", in, out, print(again))
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"Priority ge 2 and startswith(Title,'Task')", "not (A eq 1 or B ne 'x''y')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseFilter(s); err == nil {
			_ = Fields(n)
			_, _ = Eval(n, func(string) (Value, bool) { return Null(), true })
		}
		roundTrip(t, s, ParseFilter, Node.String, MaxFilterLength)
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"web/lists/getbytitle('My%20''quoted''%20list')/items(3)", "web/getFileByServerRelativePath(decodedUrl='%2Fa%2Fb')/$value"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, s, ParsePath, Path.String, MaxPathLength)
	})
}

func FuzzParseSkipToken(f *testing.F) {
	for _, s := range []string{"Paged=TRUE&p_ID=3", "Paged=TRUE&p_Title=a%20b&p_ID=5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		roundTrip(t, s, ParseSkipToken, SkipToken.String, MaxSkipTokenLength)
	})
}

// FuzzParseQuery feeds the same text to the header parsers too: none may
// panic, and a parsed query's NextLink must parse back to the same query.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"%24select=Id%2CTitle&%24filter=Priority+ge+2&%24top=2", `application/json;odata=verbose, */*;q=0.1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Negotiate(s, "")
		_, _ = Negotiate("", s)
		if _, err := ParseIfMatch(s); err != nil {
			checkSyntaxError(t, s, err)
		}
		q, err := ParseQuery(s)
		if err != nil {
			checkSyntaxError(t, s, err)
			return
		}
		next := SkipToken{Keys: []SkipKey{{Field: "Title", Value: s}}, ID: 7}
		link := q.NextLink("https://host/_api/items", next)
		_, raw, _ := strings.Cut(link, "?")
		again, err := ParseQuery(raw)
		if err != nil {
			if len(s) > MaxSkipTokenLength/4 {
				return // the token holds s, escaped, and may exceed its limit
			}
			t.Fatalf("%q: NextLink %q does not parse: %v", s, link, err)
		}
		if again.SkipToken == nil || !reflect.DeepEqual(*again.SkipToken, next) {
			t.Fatalf("%q: NextLink %q carries the token %+v", s, link, again.SkipToken)
		}
		q.SkipToken, again.SkipToken, q.Skip, q.raw, again.raw = nil, nil, 0, nil, nil
		if !reflect.DeepEqual(again, q) {
			t.Fatalf("%q: NextLink %q parses to %+v, want %+v", s, link, again, q)
		}
	})
}
