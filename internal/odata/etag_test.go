package odata

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseIfMatch(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want IfMatch
	}{
		{"a star matches anything", "*", IfMatch{Any: true}},
		{"a missing header matches anything", "", IfMatch{Any: true}},
		{"a quoted version names it", `"2"`, IfMatch{Versions: []int64{2}}},
		{"a weak etag names its version", `W/"3"`, IfMatch{Versions: []int64{3}}},
		{"SharePoint Online's guid form names its version", `"{5D2C4F3B-0000-0000-0000-000000000000},4"`, IfMatch{Versions: []int64{4}}},
		{"several etags are all kept", `"1", W/"2","0f8fad5b-d9cb-469f-a165-70867728950e,3"`, IfMatch{Versions: []int64{1, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIfMatch(tt.in)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseIfMatch(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
	if m, _ := ParseIfMatch(`"2"`); !m.Matches(2) || m.Matches(3) {
		t.Fatal(`"2" must match version 2 only`)
	}
	if m, _ := ParseIfMatch("*"); !m.Matches(7) {
		t.Fatal("* must match every version")
	}
	if ETag(3) != `"3"` {
		t.Fatalf("ETag(3) = %s", ETag(3))
	}
}

func TestParseIfMatchRefusesWhatNamesNoVersion(t *testing.T) {
	for _, in := range []string{"null", `"abc"`, `"1`, `"1" "2"`, `"-1"`, `"1",`, "W/", `"guid,x"`} {
		var se *SyntaxError
		if _, err := ParseIfMatch(in); !errors.As(err, &se) {
			t.Errorf("ParseIfMatch(%q) = %v, want a *SyntaxError", in, err)
		}
	}
}
