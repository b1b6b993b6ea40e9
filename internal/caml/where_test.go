package caml

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
)

// testNow is the clock every test reads: a Wednesday afternoon, UTC.
var testNow = time.Date(2026, 3, 18, 15, 30, 0, 0, time.UTC)

// where wraps a condition in the ViewXml a client sends.
func where(cond string) string {
	return `<View><Query><Where>` + cond + `</Where></Query></View>`
}

// eq writes <Eq> (or another comparison) of a field and a typed value.
func eq(op, field, typ, text string) string {
	return `<` + op + `><FieldRef Name="` + field + `"/><Value Type="` + typ + `">` + text + `</Value></` + op + `>`
}

// TestConditionsMatchFilters checks each CAML condition against the
// $filter it means: the trees must be equal, so CAML and $filter share
// one semantics (odata.Eval, the SQL translation) by construction.
func TestConditionsMatchFilters(t *testing.T) {
	plus2 := time.FixedZone("UTC+2", 2*3600)
	tests := []struct {
		name   string
		cond   string
		opts   Options
		filter string
	}{
		{"Eq compares equal", eq("Eq", "Priority", "Integer", "2"), Options{}, "Priority eq 2"},
		{"Neq compares unequal", eq("Neq", "Priority", "Integer", "2"), Options{}, "Priority ne 2"},
		{"Gt compares greater", eq("Gt", "Priority", "Integer", "2"), Options{}, "Priority gt 2"},
		{"Geq compares greater or equal", eq("Geq", "Priority", "Integer", "2"), Options{}, "Priority ge 2"},
		{"Lt compares less", eq("Lt", "Priority", "Integer", "-2"), Options{}, "Priority lt -2"},
		{"Leq compares less or equal", eq("Leq", "Priority", "Integer", " 2 "), Options{}, "Priority le 2"},
		{"Counter values are integers", eq("Lt", "ID", "Counter", "10"), Options{}, "ID lt 10"},
		{"Text values are kept exactly", eq("Eq", "Title", "Text", " Two  spaces "), Options{}, "Title eq ' Two  spaces '"},
		{"entities and CDATA are text", eq("Eq", "Title", "Text", "Tom &amp; <![CDATA[Jerry's <b>]]>"), Options{}, "Title eq 'Tom & Jerry''s <b>'"},
		{"Note values are text", eq("Eq", "Body", "Note", "x"), Options{}, "Body eq 'x'"},
		{"Choice values are text", eq("Eq", "Status", "Choice", "Open"), Options{}, "Status eq 'Open'"},
		{"URL values are text", eq("Eq", "Link", "URL", "https://a.example/"), Options{}, "Link eq 'https://a.example/'"},
		{"Computed values are text", eq("Eq", "ContentType", "Computed", "Item"), Options{}, "ContentType eq 'Item'"},
		{"File values are text", eq("Eq", "FileLeafRef", "File", "a.docx"), Options{}, "FileLeafRef eq 'a.docx'"},
		{"ContentTypeId values are text", eq("BeginsWith", "ContentTypeId", "ContentTypeId", "0x0120"), Options{}, "startswith(ContentTypeId,'0x0120')"},
		{"Number values are decimals", eq("Geq", "Price", "Number", "2.5"), Options{}, "Price ge 2.5"},
		{"a whole Number is still a decimal", eq("Eq", "Price", "Number", "3"), Options{}, "Price eq 3.0"},
		{"Currency values are decimals", eq("Lt", "Cost", "Currency", "-1e3"), Options{}, "Cost lt -1000.0"},
		{"Boolean 1 is true", eq("Eq", "Done", "Boolean", "1"), Options{}, "Done eq true"},
		{"Boolean 0 is false", eq("Eq", "Done", "Boolean", "0"), Options{}, "Done eq false"},
		{"Boolean TRUE is true in any case", eq("Neq", "Done", "Boolean", "True"), Options{}, "Done ne true"},
		{"Boolean FALSE is false", eq("Eq", "Done", "Boolean", "FALSE"), Options{}, "Done eq false"},
		{"Guid values take braces", eq("Eq", "UniqueId", "Guid", "{0F8FAD5B-D9CB-469F-A165-70867728950E}"), Options{}, "UniqueId eq guid'0f8fad5b-d9cb-469f-a165-70867728950e'"},
		{"LookupId compares the lookup's id as <Name>Id",
			`<Eq><FieldRef Name="Category" LookupId="TRUE"/><Value Type="Lookup">3</Value></Eq>`, Options{}, "CategoryId eq 3"},
		{"LookupId takes an Integer value",
			`<Eq><FieldRef Name="Owner" LookupId="TRUE"/><Value Type="Integer">12</Value></Eq>`, Options{}, "OwnerId eq 12"},
		{"LookupId on a User value",
			`<Neq><FieldRef Name="Editor" LookupId="TRUE"/><Value Type="User">5</Value></Neq>`, Options{}, "EditorId ne 5"},
		{"UserID is the current user's id",
			`<Eq><FieldRef Name="Author"/><Value Type="Integer"><UserID Type="Integer"/></Value></Eq>`, Options{CurrentUserID: 7}, "Author eq 7"},
		{"UserID with LookupId",
			`<Eq><FieldRef Name="AssignedTo" LookupId="TRUE"/><Value Type="User"><UserID/></Value></Eq>`, Options{CurrentUserID: 7}, "AssignedToId eq 7"},
		{"UserID without a user is 0", `<Eq><FieldRef Name="Author"/><Value Type="Integer"><UserID/></Value></Eq>`, Options{}, "Author eq 0"},
		{"Contains is substringof", eq("Contains", "Title", "Text", "urgent"), Options{}, "substringof('urgent',Title)"},
		{"BeginsWith is startswith", eq("BeginsWith", "Title", "Note", "Re: "), Options{}, "startswith(Title,'Re: ')"},
		{"IsNull is eq null", `<IsNull><FieldRef Name="Body"/></IsNull>`, Options{}, "Body eq null"},
		{"IsNotNull is ne null", `<IsNotNull><FieldRef Name="Body"></FieldRef></IsNotNull>`, Options{}, "Body ne null"},
		{"IsNull with LookupId names the id", `<IsNull><FieldRef Name="Category" LookupId="TRUE"/></IsNull>`, Options{}, "CategoryId eq null"},
		{"In is an or of eq",
			`<In><FieldRef Name="ID"/><Values><Value Type="Integer">1</Value><Value Type="Integer">5</Value><Value Type="Integer">9</Value></Values></In>`,
			Options{}, "ID eq 1 or ID eq 5 or ID eq 9"},
		{"In with one value is eq", `<In><FieldRef Name="Status"/><Values><Value Type="Choice">Open</Value></Values></In>`, Options{}, "Status eq 'Open'"},
		{"In with LookupId", `<In><FieldRef Name="Category" LookupId="TRUE"/><Values><Value Type="Lookup">1</Value><Value Type="Lookup">2</Value></Values></In>`,
			Options{}, "CategoryId eq 1 or CategoryId eq 2"},
		{"And joins two conditions", `<And>` + eq("Eq", "A", "Integer", "1") + eq("Eq", "B", "Text", "x") + `</And>`, Options{}, "A eq 1 and B eq 'x'"},
		{"Or joins two conditions", `<Or>` + eq("Eq", "A", "Integer", "1") + eq("Eq", "B", "Text", "x") + `</Or>`, Options{}, "A eq 1 or B eq 'x'"},
		{"a right-nested Or chain is the flat $filter chain",
			`<Or>` + eq("Eq", "A", "Integer", "1") + `<Or>` + eq("Eq", "A", "Integer", "2") + `<Or>` + eq("Eq", "A", "Integer", "3") + eq("Eq", "A", "Integer", "4") + `</Or></Or></Or>`,
			Options{}, "A eq 1 or A eq 2 or A eq 3 or A eq 4"},
		{"a left-nested And chain is the flat chain too",
			`<And><And>` + eq("Eq", "A", "Integer", "1") + eq("Eq", "B", "Integer", "2") + `</And>` + eq("Eq", "C", "Integer", "3") + `</And>`,
			Options{}, "A eq 1 and B eq 2 and C eq 3"},
		{"Or inside And keeps its grouping",
			`<And>` + eq("Eq", "A", "Integer", "1") + `<Or>` + eq("Eq", "B", "Integer", "2") + eq("Eq", "C", "Integer", "3") + `</Or></And>`,
			Options{}, "A eq 1 and (B eq 2 or C eq 3)"},
		{"And inside Or keeps its grouping",
			`<Or><And>` + eq("Eq", "A", "Integer", "1") + eq("Eq", "B", "Integer", "2") + `</And><And>` + eq("Eq", "C", "Integer", "3") + eq("Eq", "D", "Integer", "4") + `</And></Or>`,
			Options{}, "A eq 1 and B eq 2 or C eq 3 and D eq 4"},
		{"an In inside And stays one group",
			`<And>` + eq("Eq", "A", "Integer", "1") + `<In><FieldRef Name="B"/><Values><Value Type="Integer">2</Value><Value Type="Integer">3</Value></Values></In></And>`,
			Options{}, "A eq 1 and (B eq 2 or B eq 3)"},
		{"MultiChoice Eq means the choices include the value", eq("Eq", "Tags", "MultiChoice", "Red"), Options{}, "substringof(';#Red;#',Tags)"},
		{"MultiChoice Neq means they do not", eq("Neq", "Tags", "MultiChoice", "Red"), Options{}, "not substringof(';#Red;#',Tags)"},
		{"MultiChoice Contains means they include it", eq("Contains", "Tags", "MultiChoice", "Red"), Options{}, "substringof(';#Red;#',Tags)"},
		{"IncludeTimeValue compares the instant",
			`<Gt><FieldRef Name="Modified"/><Value Type="DateTime" IncludeTimeValue="TRUE">2026-01-02T03:04:05Z</Value></Gt>`,
			Options{}, "Modified gt datetime'2026-01-02T03:04:05Z'"},
		{"an offset is honoured",
			`<Lt><FieldRef Name="Modified"/><Value Type="DateTime" IncludeTimeValue="TRUE">2026-01-02T03:04:05.250+02:00</Value></Lt>`,
			Options{}, "Modified lt datetime'2026-01-02T01:04:05.25Z'"},
		{"a zone-less datetime is in the site's zone",
			`<Eq><FieldRef Name="Modified"/><Value Type="DateTime" IncludeTimeValue="TRUE">2026-01-02T03:04:05</Value></Eq>`,
			Options{Location: plus2}, "Modified eq datetime'2026-01-02T01:04:05Z'"},
		{"StorageTZ makes a zone-less datetime UTC",
			`<Eq><FieldRef Name="Modified"/><Value Type="DateTime" IncludeTimeValue="TRUE" StorageTZ="TRUE">2026-01-02T03:04</Value></Eq>`,
			Options{Location: plus2}, "Modified eq datetime'2026-01-02T03:04:00Z'"},
		{"without IncludeTimeValue Eq is the whole day",
			eq("Eq", "Due", "DateTime", "2026-01-02T03:04:05Z"), Options{},
			"Due ge datetime'2026-01-02T00:00:00Z' and Due lt datetime'2026-01-03T00:00:00Z'"},
		{"IncludeTimeValue FALSE is the whole day too",
			`<Eq><FieldRef Name="Due"/><Value Type="DateTime" IncludeTimeValue="FALSE">2026-01-02</Value></Eq>`, Options{},
			"Due ge datetime'2026-01-02T00:00:00Z' and Due lt datetime'2026-01-03T00:00:00Z'"},
		{"the day is the site's day",
			eq("Eq", "Due", "DateTime", "2026-01-02T23:30:00Z"), Options{Location: plus2},
			"Due ge datetime'2026-01-02T22:00:00Z' and Due lt datetime'2026-01-03T22:00:00Z'"},
		{"Neq of a day is outside it, or null",
			eq("Neq", "Due", "DateTime", "2026-01-02"), Options{},
			"Due lt datetime'2026-01-02T00:00:00Z' or Due ge datetime'2026-01-03T00:00:00Z' or Due eq null"},
		{"Gt a day is from the next day on", eq("Gt", "Due", "DateTime", "2026-01-02T12:00:00Z"), Options{}, "Due ge datetime'2026-01-03T00:00:00Z'"},
		{"Geq a day is from its start on", eq("Geq", "Due", "DateTime", "2026-01-02T12:00:00Z"), Options{}, "Due ge datetime'2026-01-02T00:00:00Z'"},
		{"Lt a day is before its start", eq("Lt", "Due", "DateTime", "2026-01-02T12:00:00Z"), Options{}, "Due lt datetime'2026-01-02T00:00:00Z'"},
		{"Leq a day is before the next day", eq("Leq", "Due", "DateTime", "2026-01-02T12:00:00Z"), Options{}, "Due lt datetime'2026-01-03T00:00:00Z'"},
		{"Today is the current day",
			eq("Eq", "Due", "DateTime", "<Today/>"), Options{},
			"Due ge datetime'2026-03-18T00:00:00Z' and Due lt datetime'2026-03-19T00:00:00Z'"},
		{"Today OffsetDays moves it",
			eq("Lt", "Due", "DateTime", `<Today OffsetDays="-7"/>`), Options{}, "Due lt datetime'2026-03-11T00:00:00Z'"},
		{"Today Offset is SharePoint 2010's OffsetDays",
			eq("Geq", "Due", "DateTime", `<Today Offset="14"/>`), Options{}, "Due ge datetime'2026-04-01T00:00:00Z'"},
		{"Today is the site's current day",
			eq("Geq", "Due", "DateTime", `<Today/>`), Options{Now: time.Date(2026, 3, 18, 22, 30, 0, 0, time.UTC), Location: plus2},
			"Due ge datetime'2026-03-18T22:00:00Z'"},
		{"Today with IncludeTimeValue is its midnight",
			`<Lt><FieldRef Name="Due"/><Value Type="DateTime" IncludeTimeValue="TRUE"><Today OffsetDays="1"/></Value></Lt>`, Options{},
			"Due lt datetime'2026-03-19T00:00:00Z'"},
		{"Now with IncludeTimeValue is the instant",
			`<Lt><FieldRef Name="Modified"/><Value Type="DateTime" IncludeTimeValue="TRUE"><Now/></Value></Lt>`, Options{},
			"Modified lt datetime'2026-03-18T15:30:00Z'"},
		{"In with datetimes compares days",
			`<In><FieldRef Name="Due"/><Values><Value Type="DateTime">2026-01-02</Value><Value Type="DateTime" IncludeTimeValue="TRUE">2026-02-03T04:05:06Z</Value></Values></In>`,
			Options{}, "Due ge datetime'2026-01-02T00:00:00Z' and Due lt datetime'2026-01-03T00:00:00Z' or Due eq datetime'2026-02-03T04:05:06Z'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Now.IsZero() {
				tt.opts.Now = testNow
			}
			v, err := ParseView(where(tt.cond), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := odata.ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("the test's filter: %v", err)
			}
			if !reflect.DeepEqual(v.Filter, want) {
				t.Fatalf("got  %v\nwant %v", v.Filter, want)
			}
		})
	}
}

// TestDefaultsOfOptions checks that zero Options mean now, in UTC.
func TestDefaultsOfOptions(t *testing.T) {
	before := time.Now().UTC()
	v, err := ParseView(where(`<Lt><FieldRef Name="M"/><Value Type="DateTime" IncludeTimeValue="TRUE"><Now/></Value></Lt>`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC()
	got := v.Filter.(*odata.Compare).Right.Time
	if got.Before(before.Truncate(time.Second)) || got.After(after) || got.Location() != time.UTC {
		t.Fatalf("<Now/> with zero Options is %v, not between %v and %v in UTC", got, before, after)
	}
}

// TestLongestChainFits checks that MaxDepth leaves room for the longest
// chain the term limit allows, nested the way CAML must nest it.
func TestLongestChainFits(t *testing.T) {
	chain := func(n int) string {
		var b strings.Builder
		for i := 1; i < n; i++ {
			b.WriteString("<Or>" + eq("Eq", "ID", "Integer", "1"))
		}
		b.WriteString(eq("Eq", "ID", "Integer", "1"))
		for i := 1; i < n; i++ {
			b.WriteString("</Or>")
		}
		return where(b.String())
	}
	v, err := ParseView(chain(odata.MaxFilterTerms), Options{})
	if err != nil {
		t.Fatalf("a chain of %d conditions: %v", odata.MaxFilterTerms, err)
	}
	if got := strings.Count(v.Filter.String(), " or "); got != odata.MaxFilterTerms-1 {
		t.Fatalf("the chain has %d or, want %d", got, odata.MaxFilterTerms-1)
	}
	if _, err := ParseView(chain(odata.MaxFilterTerms+1), Options{}); !isLimit(err) {
		t.Fatalf("a chain of %d conditions: %v, want a limit error", odata.MaxFilterTerms+1, err)
	}
}
