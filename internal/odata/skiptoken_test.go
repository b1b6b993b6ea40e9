package odata

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSkipToken(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want SkipToken
		str  string
	}{
		{"PnPjs's skip sends the last ID", "Paged=TRUE&p_ID=3", SkipToken{ID: 3}, ""},
		{"names and TRUE ignore case", "paged=true&P_id=7", SkipToken{ID: 7}, "Paged=TRUE&p_ID=7"},
		{"ordered fields come before the ID", "Paged=TRUE&p_Title=abc&p_ID=5", SkipToken{Keys: []SkipKey{{"Title", "abc"}}, ID: 5}, ""},
		{"the ID may come first", "Paged=TRUE&p_ID=5&p_Title=abc", SkipToken{Keys: []SkipKey{{"Title", "abc"}}, ID: 5}, "Paged=TRUE&p_Title=abc&p_ID=5"},
		{"field values are percent-decoded", "Paged=TRUE&p_Title=a%20%26%3Db&p_Modified=20260102%2003%3a04%3a05&p_ID=9",
			SkipToken{Keys: []SkipKey{{"Title", "a &=b"}, {"Modified", "20260102 03:04:05"}}, ID: 9},
			"Paged=TRUE&p_Title=a+%26%3Db&p_Modified=20260102+03%3A04%3A05&p_ID=9"},
		{"an empty value stands for null", "Paged=TRUE&p_Due=&p_ID=1", SkipToken{Keys: []SkipKey{{"Due", ""}}, ID: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSkipToken(tt.in)
			if err != nil {
				t.Fatalf("ParseSkipToken(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got.String() != want {
				t.Fatalf("String() = %q, want %q", got.String(), want)
			}
		})
	}
}

func TestParseSkipTokenRefusesBadTokens(t *testing.T) {
	tests := []struct {
		name, in, says string
	}{
		{"a token without Paged is refused", "p_ID=3", "Paged=TRUE is missing"},
		{"a token without an ID is refused", "Paged=TRUE", "p_ID is missing"},
		{"Paged must be TRUE", "Paged=FALSE&p_ID=1", "Paged must be TRUE"},
		{"a negative ID is refused", "Paged=TRUE&p_ID=-1", "non-negative integer"},
		{"a word for an ID is refused", "Paged=TRUE&p_ID=x", "non-negative integer"},
		{"backward paging is refused", "Paged=TRUE&PagedPrev=TRUE&p_ID=1", "PagedPrev"},
		{"unknown parts are refused", "Paged=TRUE&p_ID=1&x=2", "unknown part"},
		{"a part without '=' is refused", "Paged=TRUE&p_ID", "name=value"},
		{"a repeated part is refused", "Paged=TRUE&p_ID=1&p_id=2", "given twice"},
		{"a bad field name is refused", "Paged=TRUE&p_a-b=1&p_ID=1", "not a field name"},
		{"bad percent-encoding is refused", "Paged=TRUE&p_T=%zz&p_ID=1", "percent-encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSkipToken(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, tt.says) {
				t.Fatalf("ParseSkipToken(%q) = %v, want a *SyntaxError saying %q", tt.in, err, tt.says)
			}
		})
	}
	var le *LimitError
	if _, err := ParseSkipToken(strings.Repeat("a", MaxSkipTokenLength+1)); !errors.As(err, &le) {
		t.Fatalf("an overlong token gives %v", err)
	}
}
