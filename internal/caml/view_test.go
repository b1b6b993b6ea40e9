package caml

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
)

func isLimit(err error) bool {
	var le *odata.LimitError
	return errors.As(err, &le)
}

func TestParseViewReadsTheWholeView(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want View
	}{
		{"an empty ViewXml is every item", "", View{}},
		{"white space is every item", " \n\t", View{}},
		{"an empty View is every item", "<View/>", View{}},
		{"an empty Where is every item", "<View><Query><Where></Where></Query></View>", View{}},
		{"a bare Query is accepted",
			`<Query><Where><Eq><FieldRef Name="ID"/><Value Type="Counter">1</Value></Eq></Where><OrderBy><FieldRef Name="Title"/></OrderBy></Query>`,
			View{Filter: mustFilter(t, "ID eq 1"), OrderBy: []odata.OrderKey{{Field: "Title"}}}},
		{"everything a getItems client sends",
			`<?xml version="1.0" encoding="utf-8"?>
<!-- built by hand -->
<View Scope="RecursiveAll">
  <Query>
    <Where>
      <And>
        <Eq><FieldRef Name="Status"/><Value Type="Choice">Open</Value></Eq>
        <Geq><FieldRef Name="Priority"/><Value Type="Integer">2</Value></Geq>
      </And>
    </Where>
    <OrderBy>
      <FieldRef Name="Priority" Ascending="FALSE"/>
      <FieldRef Name="Title" Ascending="TRUE"/>
      <FieldRef Name="Category" LookupId="TRUE" Ascending="false"/>
    </OrderBy>
  </Query>
  <ViewFields><FieldRef Name="Title"/><FieldRef Name="Priority" Nullable="TRUE"/><FieldRef Name="Status"/></ViewFields>
  <RowLimit Paged="TRUE">25</RowLimit>
</View>`,
			View{
				Filter:     mustFilter(t, "Status eq 'Open' and Priority ge 2"),
				OrderBy:    []odata.OrderKey{{Field: "Priority", Desc: true}, {Field: "Title"}, {Field: "CategoryId", Desc: true}},
				RowLimit:   25,
				ViewFields: []string{"Title", "Priority", "Status"},
				Scope:      "RecursiveAll",
			}},
		{"the parts may come in any order",
			`<View><RowLimit>5</RowLimit><ViewFields><FieldRef Name="Title"/></ViewFields><Query><OrderBy><FieldRef Name="ID"/></OrderBy><Where><IsNull><FieldRef Name="Body"/></IsNull></Where></Query></View>`,
			View{Filter: mustFilter(t, "Body eq null"), OrderBy: []odata.OrderKey{{Field: "ID"}}, RowLimit: 5, ViewFields: []string{"Title"}}},
		{"Scope is kept as given", `<View Scope="recursive"/>`, View{Scope: "recursive"}},
		{"RowLimit 0 is no limit", `<View><RowLimit>0</RowLimit></View>`, View{}},
		{"an empty ViewFields is every field", `<View><ViewFields/></View>`, View{}},
		{"Aggregations Off is no totals", `<View><Aggregations Value="Off"/><RowLimit>3</RowLimit></View>`, View{RowLimit: 3}},
		{"a default namespace is ignored", `<View xmlns="http://schemas.microsoft.com/sharepoint/"><RowLimit>3</RowLimit></View>`, View{RowLimit: 3}},
		{"a byte order mark is ignored", "\ufeff<View><RowLimit>3</RowLimit></View>", View{RowLimit: 3}},
		{"single-quoted attributes are XML too", `<View Scope='FilesOnly'><Query><Where><Eq><FieldRef Name='FSObjType'/><Value Type='Integer'>0</Value></Eq></Where></Query></View>`,
			View{Filter: mustFilter(t, "FSObjType eq 0"), Scope: "FilesOnly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseView(tt.xml, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*v, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", *v, tt.want)
			}
		})
	}
}

func mustFilter(t *testing.T, s string) odata.Node {
	t.Helper()
	n, err := odata.ParseFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestParseViewRefusesBadInput checks each refusal: the error is a 400
// through odata.ErrorOf, says what is wrong, and (for a syntax error)
// points at the element at fault.
func TestParseViewRefusesBadInput(t *testing.T) {
	deep := strings.Repeat("<And>", MaxDepth) + strings.Repeat("</And>", MaxDepth)
	manyValues := `<In><FieldRef Name="ID"/><Values>` + strings.Repeat(`<Value Type="Integer">1</Value>`, odata.MaxFilterTerms+1) + `</Values></In>`
	tests := []struct {
		name  string
		xml   string
		msg   string // a part of the message
		at    string // what the offset points at; "" for limit errors
		limit bool
	}{
		// Malformed XML.
		{"an unclosed element", `<View><Query>`, "malformed XML", "", false},
		{"mismatched tags", `<View><Query></View>`, "malformed XML", "", false},
		{"an attribute without quotes", `<View Scope=Default/>`, "malformed XML", "", false},
		{"text that is not XML", `Title eq 'x'`, "text \"Title eq 'x'\" outside the root element", "Title", false},
		{"a second root", `<View/><View/>`, "a second root element <View>", "<View/>", false},
		{"an attribute given twice", `<View><Query><Where><Eq><FieldRef Name="A" Name="B"/><Value Type="Text">x</Value></Eq></Where></Query></View>`, "the attribute Name twice", "<FieldRef", false},
		{"invalid UTF-8", "<View>\xff</View>", "not valid UTF-8", "\xff", false},
		{"no element at all", `<!-- nothing -->`, "holds no XML element", "", false},
		// Entities and DTDs.
		{"a DTD", `<!DOCTYPE View><View/>`, "DTDs", "<!DOCTYPE", false},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><View>&lol2;</View>`, "DTDs", "<!DOCTYPE", false},
		{"an external entity", `<!DOCTYPE View [<!ENTITY x SYSTEM "file:///etc/passwd">]><View>&x;</View>`, "DTDs", "<!DOCTYPE", false},
		{"an undeclared entity", where(eq("Eq", "Title", "Text", "&lol;")), "invalid character entity &lol;", "", false},
		{"a processing instruction", `<View><?php echo 1 ?></View>`, "processing instructions", "<?php", false},
		// Structure.
		{"a bare Where", `<Where><IsNull><FieldRef Name="A"/></IsNull></Where>`, "the root element must be <View> (or <Query>), not <Where>", "<Where>", false},
		{"an unknown root", `<Views/>`, "not <Views>", "<Views/>", false},
		{"an unknown View child", `<View><Filter/></View>`, "unknown element <Filter> in <View> (allowed there: Query, ViewFields, RowLimit)", "<Filter/>", false},
		{"a View child in the wrong case", `<View><query/></View>`, "case-sensitive, write <Query>", "<query/>", false},
		{"Joins", `<View><Joins><Join/></Joins></View>`, "<Joins> is not supported", "<Joins>", false},
		{"totals", `<View><Aggregations Value="On"><FieldRef Name="ID" Type="COUNT"/></Aggregations></View>`, "<Aggregations> is not supported", "<Aggregations", false},
		{"GroupBy", `<View><Query><GroupBy><FieldRef Name="Status"/></GroupBy></Query></View>`, "<GroupBy> is not supported", "<GroupBy>", false},
		{"two Queries", `<View><Query/><Query/></View>`, "<View> holds more than one <Query>", "<Query/><", false},
		{"two Wheres", `<View><Query><Where/><Where/></Query></View>`, "more than one <Where>", "<Where/></", false},
		{"text in Where", where(`Title eq 'x'`), "<Where> holds the text \"Title eq 'x'\"", "<Where>", false},
		{"two conditions in Where", where(eq("Eq", "A", "Integer", "1") + eq("Eq", "B", "Integer", "2")), "<Where> holds one condition, not 2", "<Eq><FieldRef Name=\"B\"", false},
		{"an unknown condition", where(`<Equals/>`), "unknown element <Equals> in <Where>", "<Equals/>", false},
		{"a condition in the wrong case", where(`<eq/>`), "case-sensitive, write <Eq>", "<eq/>", false},
		{"a logical join in the wrong case", where(`<and/>`), "write <And>", "<and/>", false},
		{"Not", where(`<Not/>`), "CAML has no <Not>", "<Not/>", false},
		{"Membership", where(`<Membership Type="CurrentUserGroups"><FieldRef Name="AssignedTo"/></Membership>`), "<Membership> is not supported", "<Membership", false},
		{"DateRangesOverlap", where(`<DateRangesOverlap/>`), "recurring events", "<DateRangesOverlap/>", false},
		{"And with one condition", where(`<And>` + eq("Eq", "A", "Integer", "1") + `</And>`), "<And> takes exactly two conditions, not 1", "<And>", false},
		{"Or with three conditions", where(`<Or>` + eq("Eq", "A", "Integer", "1") + eq("Eq", "A", "Integer", "2") + eq("Eq", "A", "Integer", "3") + `</Or>`), "<Or> takes exactly two conditions, not 3", "<Or>", false},
		{"an unknown element deep inside", where(`<And>` + eq("Eq", "A", "Integer", "1") + `<Or><Is/><IsNull><FieldRef Name="B"/></IsNull></Or></And>`), "unknown element <Is> in <Or>", "<Is/>", false},
		// Field references.
		{"a comparison without FieldRef", where(`<Eq><Value Type="Integer">1</Value></Eq>`), "<Eq> needs a <FieldRef Name=\"…\"/>", "<Eq>", false},
		{"a FieldRef without Name", where(`<IsNull><FieldRef/></IsNull>`), "<FieldRef> needs Name", "<FieldRef/>", false},
		{"a FieldRef by ID", where(`<IsNull><FieldRef ID="{0f8fad5b-d9cb-469f-a165-70867728950e}"/></IsNull>`), "does not resolve fields by ID", "<FieldRef", false},
		{"a display name as Name", where(`<IsNull><FieldRef Name="Due Date"/></IsNull>`), "is not an internal field name", "<FieldRef", false},
		{"a Name starting with a digit", where(`<IsNull><FieldRef Name="1st"/></IsNull>`), "is not an internal field name", "<FieldRef", false},
		{"two FieldRefs", where(`<Eq><FieldRef Name="A"/><FieldRef Name="B"/><Value Type="Integer">1</Value></Eq>`), "holds a second <FieldRef>", `<FieldRef Name="B"`, false},
		{"text in a FieldRef", where(`<IsNull><FieldRef Name="A">x</FieldRef></IsNull>`), "<FieldRef> holds the text \"x\"", "<FieldRef", false},
		{"LookupId that is not a boolean", where(`<IsNull><FieldRef Name="A" LookupId="yes"/></IsNull>`), "LookupId of <FieldRef> must be TRUE or FALSE", "<FieldRef", false},
		// Values.
		{"a comparison without Value", where(`<Eq><FieldRef Name="A"/></Eq>`), "<Eq> needs a <Value> to compare <FieldRef Name=\"A\"/> with", "<Eq>", false},
		{"two Values", where(`<Eq><FieldRef Name="A"/><Value Type="Integer">1</Value><Value Type="Integer">2</Value></Eq>`), "holds a second <Value>", `<Value Type="Integer">2`, false},
		{"a Value without Type", where(`<Eq><FieldRef Name="A"/><Value>1</Value></Eq>`), "<Value> needs a Type attribute", "<Value>", false},
		{"an unknown Value Type", where(eq("Eq", "A", "Date", "2026-01-02")), `unknown or unsupported <Value Type="Date">`, "<Value", false},
		{"an IsNull with a Value", where(`<IsNull><FieldRef Name="A"/><Value Type="Text">x</Value></IsNull>`), "unknown element <Value> in <IsNull> (allowed there: FieldRef)", "<Value", false},
		{"abc as an Integer", where(eq("Eq", "A", "Integer", "abc")), `<Value Type="Integer"> must hold an integer, not "abc"`, `<Value Type="Integer">abc`, false},
		{"a decimal as an Integer", where(eq("Eq", "A", "Integer", "1.5")), "must hold an integer", "<Value", false},
		{"an integer out of range", where(eq("Eq", "A", "Counter", "99999999999999999999")), "must hold an integer", "<Value", false},
		{"a malformed Number", where(eq("Eq", "A", "Number", "1.2.3")), "must hold a number such as 2.5", "<Value", false},
		{"Infinity as a Number", where(eq("Eq", "A", "Number", "Inf")), "must hold a number", "<Value", false},
		{"a Number out of range", where(eq("Eq", "A", "Currency", "1e999")), "must hold a number", "<Value", false},
		{"a hex Number", where(eq("Eq", "A", "Number", "0x10")), "must hold a number", "<Value", false},
		{"a comma decimal", where(eq("Eq", "A", "Number", "2,5")), "must hold a number", "<Value", false},
		{"yes as a Boolean", where(eq("Eq", "A", "Boolean", "yes")), "must hold 1, 0, TRUE or FALSE", "<Value", false},
		{"a malformed Guid", where(eq("Eq", "A", "Guid", "0f8fad5b")), "must hold a guid", "<Value", false},
		{"a malformed DateTime", where(eq("Eq", "A", "DateTime", "02/01/2026")), "must hold an ISO 8601 date", "<Value", false},
		{"a date past 9999", where(eq("Eq", "A", "DateTime", "9999-12-31")), "outside the years 1 to 9999", "<Value", false},
		{"a Lookup by display text", where(eq("Eq", "Category", "Lookup", "Books")), `without LookupId compares the display text of <FieldRef Name="Category"/>`, "<Value", false},
		{"a Lookup id without LookupId", where(eq("Eq", "Category", "Lookup", "3")), `write <FieldRef Name="Category" LookupId="TRUE"/>`, "<Value", false},
		{"a User by name", where(eq("Eq", "Author", "User", "Ann Smith")), "display text", "<Value", false},
		{"a Lookup id that is not an integer", where(`<Eq><FieldRef Name="Category" LookupId="TRUE"/><Value Type="Lookup">Books</Value></Eq>`), "must hold the id of the item", "<Value", false},
		{"LookupId with a Text value", where(`<Eq><FieldRef Name="Category" LookupId="TRUE"/><Value Type="Text">3</Value></Eq>`), `LookupId="TRUE" compares the lookup's id`, "<Value", false},
		{"UserID in a Text value", where(eq("Eq", "Author", "Text", "<UserID/>")), "<UserID/> is a user id", "<UserID/>", false},
		{"UserID in a DateTime value", where(eq("Eq", "Author", "DateTime", "<UserID/>")), "<UserID/> is a user id", "<UserID/>", false},
		{"Today in an Integer value", where(eq("Eq", "Due", "Integer", "<Today/>")), "<Today/> is a date", "<Today/>", false},
		{"Today and text", where(eq("Eq", "Due", "DateTime", "2026-01-01<Today/>")), "holds both <Today/> and the text", "<Value", false},
		{"two special values", where(eq("Eq", "Due", "DateTime", "<Today/><Now/>")), "<Value> holds one value, not 2", "<Now/>", false},
		{"an unsupported special value", where(eq("Eq", "Due", "DateTime", `<ListProperty Select="Title"/>`)), "<ListProperty> is not supported", "<ListProperty", false},
		{"OffsetDays that is not a number", where(eq("Eq", "Due", "DateTime", `<Today OffsetDays="week"/>`)), "OffsetDays must be a whole number of days", "<Today", false},
		{"both OffsetDays and Offset", where(eq("Eq", "Due", "DateTime", `<Today OffsetDays="1" Offset="2"/>`)), "both OffsetDays and Offset", "<Today", false},
		{"an OffsetDays beyond the calendar", where(eq("Eq", "Due", "DateTime", `<Today OffsetDays="99999999"/>`)), "OffsetDays must be", "<Today", false},
		{"an OffsetDays past 9999", where(eq("Eq", "Due", "DateTime", `<Today OffsetDays="3000000"/>`)), "outside the years 1 to 9999", "<Today", false},
		{"IncludeTimeValue that is not a boolean", where(`<Eq><FieldRef Name="Due"/><Value Type="DateTime" IncludeTimeValue="1">2026-01-01</Value></Eq>`), "IncludeTimeValue of <Value> must be TRUE or FALSE", "<Value", false},
		// Text searches.
		{"Contains on an Integer", where(eq("Contains", "A", "Integer", "1")), `<Contains> searches text, and a Type="Integer" value is not text`, "<Value", false},
		{"Contains on a Lookup", where(eq("Contains", "Category", "Lookup", "Bo")), "display text", "<Value", false},
		{"Contains with LookupId", where(`<Contains><FieldRef Name="Category" LookupId="TRUE"/><Value Type="Text">Bo</Value></Contains>`), "LookupId=\"TRUE\" makes the field an id", "<FieldRef", false},
		{"BeginsWith Today", where(eq("BeginsWith", "Title", "DateTime", "<Today/>")), "<Today/> is not text", "<Today/>", false},
		{"BeginsWith on MultiChoice", where(eq("BeginsWith", "Tags", "MultiChoice", "R")), "is not text", "<Value", false},
		{"Gt on MultiChoice", where(eq("Gt", "Tags", "MultiChoice", "R")), "cannot order MultiChoice values", "<Gt>", false},
		// In.
		{"In without Values", where(`<In><FieldRef Name="ID"/></In>`), "<In> needs a <Values>", "<In>", false},
		{"In with empty Values", where(`<In><FieldRef Name="ID"/><Values/></In>`), "<Values> needs at least one <Value>", "<Values/>", false},
		{"Values holding something else", where(`<In><FieldRef Name="ID"/><Values><FieldRef Name="X"/></Values></In>`), "unknown element <FieldRef> in <Values>", `<FieldRef Name="X"`, false},
		{"In with a bad value", where(`<In><FieldRef Name="ID"/><Values><Value Type="Integer">1</Value><Value Type="Integer">x</Value></Values></In>`), "must hold an integer", `<Value Type="Integer">x`, false},
		// OrderBy, ViewFields, RowLimit, Scope.
		{"OrderBy with something else", `<View><Query><OrderBy><Field Name="A"/></OrderBy></Query></View>`, "unknown element <Field> in <OrderBy>", "<Field ", false},
		{"Ascending that is not a boolean", `<View><Query><OrderBy><FieldRef Name="A" Ascending="desc"/></OrderBy></Query></View>`, "Ascending of <FieldRef> must be TRUE or FALSE", "<FieldRef", false},
		{"a ViewFields display name", `<View><ViewFields><FieldRef Name="Created By"/></ViewFields></View>`, "not an internal field name", "<FieldRef", false},
		{"a RowLimit that is not a number", `<View><RowLimit>ten</RowLimit></View>`, "<RowLimit> must hold a non-negative integer", "<RowLimit>", false},
		{"a negative RowLimit", `<View><RowLimit>-1</RowLimit></View>`, "non-negative integer", "<RowLimit>", false},
		{"an empty RowLimit", `<View><RowLimit/></View>`, "non-negative integer", "<RowLimit/>", false},
		{"an unknown Scope", `<View Scope="Everything"/>`, "Scope \"Everything\" is not one of Default, Recursive, RecursiveAll, FilesOnly", "<View", false},
		// Limits.
		{"a RowLimit over the largest page", `<View><RowLimit>5001</RowLimit></View>`, "more than the largest page, 5000", "", true},
		{"too long", where(eq("Eq", "Title", "Text", strings.Repeat("x", MaxViewLength))), "longer than 65536 bytes", "", true},
		{"nested too deep", where(deep), "nest more than 512 deep", "", true},
		{"too many comparisons", where(manyValues), "more than 500 comparisons", "", true},
		{"too many order keys", `<View><Query><OrderBy>` + strings.Repeat(`<FieldRef Name="A"/>`, odata.MaxOrderKeys+1) + `</OrderBy></Query></View>`, "<OrderBy> names more than 16 fields", "", true},
		{"too many view fields", `<View><ViewFields>` + strings.Repeat(`<FieldRef Name="A"/>`, odata.MaxSelectFields+1) + `</ViewFields></View>`, "more than 256 fields", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseView(tt.xml, Options{Now: testNow})
			if err == nil {
				t.Fatalf("accepted, as %+v", v)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("the error %q does not say %q", err, tt.msg)
			}
			if e := odata.ErrorOf(err); e.Status != http.StatusBadRequest || e.Code != odata.CodeInvalidQuery {
				t.Fatalf("ErrorOf gives %d %s", e.Status, e.Code)
			}
			var se *odata.SyntaxError
			switch {
			case tt.limit:
				if !isLimit(err) {
					t.Fatalf("%T %v is not a limit error", err, err)
				}
			case !errors.As(err, &se):
				t.Fatalf("%T %v is not a syntax error", err, err)
			case se.Input != "ViewXml" || se.Offset < 0 || se.Offset > len(tt.xml):
				t.Fatalf("the error names %q at %d", se.Input, se.Offset)
			case tt.at != "" && !strings.HasPrefix(tt.xml[se.Offset:], tt.at):
				t.Fatalf("the error points at %q, want %q", excerptAt(tt.xml, se.Offset), tt.at)
			}
		})
	}
}

func excerptAt(s string, off int) string {
	s = s[off:]
	if len(s) > 30 {
		s = s[:30]
	}
	return s
}
