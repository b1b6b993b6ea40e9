package odata

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEval(t *testing.T) {
	row := map[string]Value{
		"Title":        String("Task One"),
		"Priority":     Int(3),
		"Price":        Decimal(2.5),
		"Done":         Bool(true),
		"Body":         Null(),
		"Modified":     DateTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		"UniqueId":     guid(t, "0f8fad5b-d9cb-469f-a165-70867728950e"),
		"Author/Title": String("Ann"),
	}
	get := func(p string) (Value, bool) { v, ok := row[p]; return v, ok }
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		{"string equality ignores case", "Title eq 'task one'", true},
		{"string inequality ignores case", "Title ne 'TASK ONE'", false},
		{"string ordering ignores case", "Title gt 'task a'", true},
		{"startswith ignores case", "startswith(Title,'TASK')", true},
		{"endswith matches the end", "endswith(Title,'one')", true},
		{"substringof finds a part", "substringof('k o',Title)", true},
		{"a function is false on a null field", "startswith(Body,'x')", false},
		{"a function compares with a boolean", "startswith(Title,'x') eq false", true},
		{"integers compare", "Priority ge 3 and Priority lt 4", true},
		{"integers compare with decimals", "Priority gt 2.5", true},
		{"decimals compare with integers", "Price lt 3", true},
		{"booleans compare with true", "Done eq true", true},
		{"booleans compare with 1 and 0", "Done eq 1 and Done ne 0", true},
		{"null equals null", "Body eq null", true},
		{"a null field is not equal to a value", "Body eq 'x'", false},
		{"a null field is unequal to a value", "Body ne 'x'", true},
		{"a null field is not ordered", "Body gt 'a' or Body lt 'a'", false},
		{"not inverts an ordering of null", "not (Body gt 'a')", true},
		{"a value is not null", "Title eq null", false},
		{"datetimes compare as instants", "Modified eq datetime'2026-01-02T05:04:05+02:00'", true},
		{"datetimes compare with quoted ISO strings", "Modified gt '2026-01-01T00:00:00.000Z'", true},
		{"guids compare with guid literals", "UniqueId eq guid'0F8FAD5B-D9CB-469F-A165-70867728950E'", true},
		{"guids compare with quoted guids", "UniqueId ne '0F8FAD5B-D9CB-469F-A165-70867728950E'", false},
		{"lookup paths go through the getter", "Author/Title eq 'ann'", true},
		{"or is true when one side is", "Priority eq 1 or Done eq true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Eval(n, get)
			if err != nil || got != tt.want {
				t.Fatalf("Eval(%s) = %v, %v; want %v", tt.filter, got, err, tt.want)
			}
		})
	}
}

func TestEvalRefusesMismatches(t *testing.T) {
	row := map[string]Value{"Title": String("a"), "Priority": Int(1), "Done": Bool(false), "Modified": DateTime(time.Now())}
	get := func(p string) (Value, bool) { v, ok := row[p]; return v, ok }
	tests := []struct {
		name   string
		filter string
		code   string
		says   string
	}{
		{"a number field is not compared with a string", "Priority eq '1'", CodeInvalidQuery, "holds integer values"},
		{"a text field is not compared with a number", "Title eq 1", CodeInvalidQuery, "holds string values"},
		{"booleans are not ordered", "Done gt false", CodeInvalidQuery, "only be compared with eq or ne"},
		{"booleans compare with 0 and 1 only", "Done eq 2", CodeInvalidQuery, "cannot be compared with 2"},
		{"a datetime needs a date", "Modified gt 'soon'", CodeInvalidQuery, "cannot be compared with 'soon'"},
		{"functions need text fields", "startswith(Priority,'1')", CodeInvalidQuery, "needs a text field"},
		{"an unknown field is SharePoint's missing column", "Nope eq 1", CodeFieldNotFound, "Column 'Nope' does not exist"},
		{"an error on the right of or is not hidden by the left", "Title eq 'a' or Priority eq 'x'", CodeInvalidQuery, "holds integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Eval(n, get)
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Code != tt.code || !strings.Contains(e.Message, tt.says) {
				t.Fatalf("Eval(%s) error = %v, want 400 %s saying %q", tt.filter, err, tt.code, tt.says)
			}
		})
	}
}
