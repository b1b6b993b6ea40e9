package caml

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// taskList is a list as storage holds it, with rows that tell the
// conditions below apart: the getters are storage.Schema's own, so the
// field paths CAML produces (CategoryId, Author) resolve as they will in
// a real query.
func taskList(t *testing.T) (*storage.Schema, []*storage.Item) {
	t.Helper()
	fields := storage.SystemFields("tasks", storage.TemplateGenericList)
	for _, in := range []storage.FieldInput{
		{Title: "Priority", Type: storage.TypeInteger},
		{Title: "Price", Type: storage.TypeNumber},
		{Title: "Done", Type: storage.TypeBoolean},
		{Title: "Due", Type: storage.TypeDateTime},
		{Title: "Notes", Type: storage.TypeNote},
		{Title: "Category", Type: storage.TypeLookup, LookupList: "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{Title: "Tags", Type: storage.TypeMultiChoice, Choices: []string{"Red", "Green", "Redish"}},
	} {
		f, err := storage.NewField("tasks", in)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, f)
	}
	day := func(d, h int) odata.Value { return odata.DateTime(time.Date(2026, 3, d, h, 0, 0, 0, time.UTC)) }
	items := []*storage.Item{
		{ID: 1, AuthorID: 7, Values: map[string]odata.Value{"Title": odata.String("Task One"), "Priority": odata.Int(1),
			"Price": odata.Decimal(2.5), "Done": odata.Bool(true), "Due": day(18, 9), "Category": odata.Int(2),
			"Tags": storage.MultiChoiceValue([]string{"Red", "Green"})}},
		{ID: 2, AuthorID: 8, Values: map[string]odata.Value{"Title": odata.String("urgent: two"), "Priority": odata.Int(3),
			"Price": odata.Decimal(10), "Done": odata.Bool(false), "Due": day(18, 23), "Notes": odata.String("call back"),
			"Tags": storage.MultiChoiceValue([]string{"Redish"})}},
		{ID: 3, AuthorID: 7, Values: map[string]odata.Value{"Title": odata.String("three"), "Priority": odata.Int(2),
			"Due": day(11, 12), "Category": odata.Int(5)}},
		{ID: 4, AuthorID: 9, Values: map[string]odata.Value{"Priority": odata.Int(5), "Price": odata.Decimal(2),
			"Done": odata.Bool(true), "Due": day(25, 0), "Notes": odata.String("Urgent")}},
		{ID: 5, AuthorID: 8, Values: map[string]odata.Value{"Title": odata.String("TASK ONE")}},
	}
	return storage.NewSchema(fields), items
}

// TestCAMLMeansWhatItsFilterMeans evaluates CAML conditions and the
// $filter a client would write for the same question against the same
// rows: they must select the same rows, and each must select some rows
// but not all, so that a wrong mapping shows.
func TestCAMLMeansWhatItsFilterMeans(t *testing.T) {
	schema, items := taskList(t)
	tests := []struct {
		name   string
		cond   string
		filter string
	}{
		{"text equality ignores case", eq("Eq", "Title", "Text", "task one"), "Title eq 'Task One'"},
		{"Neq holds for a null text", eq("Neq", "Title", "Text", "three"), "Title ne 'three'"},
		{"Contains", eq("Contains", "Notes", "Note", "URGENT"), "substringof('urgent',Notes)"},
		{"BeginsWith", eq("BeginsWith", "Title", "Text", "Task"), "startswith(Title,'task')"},
		{"integers", eq("Geq", "Priority", "Integer", "2"), "Priority ge 2"},
		{"integers against a decimal field", eq("Gt", "Price", "Number", "2"), "Price gt 2"},
		{"Counter", eq("Lt", "ID", "Counter", "3"), "ID lt 3"},
		{"booleans", eq("Eq", "Done", "Boolean", "1"), "Done eq true"},
		{"IsNull", `<IsNull><FieldRef Name="Notes"/></IsNull>`, "Notes eq null"},
		{"IsNotNull", `<IsNotNull><FieldRef Name="Category" LookupId="TRUE"/></IsNotNull>`, "CategoryId ne null"},
		{"a lookup id", `<Eq><FieldRef Name="Category" LookupId="TRUE"/><Value Type="Lookup">2</Value></Eq>`, "CategoryId eq 2"},
		{"the current user", `<Eq><FieldRef Name="Author"/><Value Type="Integer"><UserID/></Value></Eq>`, "AuthorId eq 7"},
		{"In", `<In><FieldRef Name="Priority"/><Values><Value Type="Integer">1</Value><Value Type="Integer">5</Value></Values></In>`, "Priority eq 1 or Priority eq 5"},
		{"an And/Or tree",
			`<Or><And>` + eq("Eq", "Done", "Boolean", "TRUE") + eq("Lt", "Priority", "Integer", "3") + `</And>` + `<IsNotNull><FieldRef Name="Notes"/></IsNotNull></Or>`,
			"(Done eq true and Priority lt 3) or Notes ne null"},
		{"a MultiChoice choice, not a prefix of another", eq("Eq", "Tags", "MultiChoice", "Red"), "substringof(';#Red;#',Tags)"},
		{"a day ignores the time", eq("Eq", "Due", "DateTime", "2026-03-18T12:00:00Z"), "Due ge datetime'2026-03-18T00:00:00Z' and Due lt datetime'2026-03-19T00:00:00Z'"},
		{"after a day", eq("Gt", "Due", "DateTime", "2026-03-18"), "Due ge datetime'2026-03-19T00:00:00Z'"},
		{"not that day, or no date", eq("Neq", "Due", "DateTime", "2026-03-18"), "Due lt datetime'2026-03-18T00:00:00Z' or Due ge datetime'2026-03-19T00:00:00Z' or Due eq null"},
		{"a week ago or later", eq("Geq", "Due", "DateTime", `<Today OffsetDays="-7"/>`), "Due ge '2026-03-11T00:00:00Z'"},
		{"an instant", `<Gt><FieldRef Name="Due"/><Value Type="DateTime" IncludeTimeValue="TRUE">2026-03-18T12:00:00Z</Value></Gt>`, "Due gt datetime'2026-03-18T12:00:00Z'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseView(where(tt.cond), Options{Now: testNow, CurrentUserID: 7})
			if err != nil {
				t.Fatal(err)
			}
			f, err := odata.ParseFilter(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.CheckFilter(v.Filter); err != nil {
				t.Fatalf("storage refuses the CAML's filter %v: %v", v.Filter, err)
			}
			matched := 0
			for _, it := range items {
				get := schema.Getter(it)
				got, err := odata.Eval(v.Filter, get)
				if err != nil {
					t.Fatalf("item %d: %v", it.ID, err)
				}
				want, err := odata.Eval(f, get)
				if err != nil {
					t.Fatalf("item %d, $filter: %v", it.ID, err)
				}
				if got != want {
					t.Errorf("item %d: CAML %v says %v, $filter %v says %v", it.ID, v.Filter, got, f, want)
				}
				if got {
					matched++
				}
			}
			if matched == 0 || matched == len(items) {
				t.Errorf("the condition selects %d of %d items; the rows cannot tell a wrong mapping", matched, len(items))
			}
		})
	}
}
