package caml

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// TestParseFieldReadsSharePointSchemas reads field schemas as clients
// send them (PnPjs createFieldAsXml, SharePoint's own SchemaXml copied
// from another list) and checks that storage creates each.
func TestParseFieldReadsSharePointSchemas(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want storage.FieldInput
	}{
		{"a text field",
			`<Field Type="Text" DisplayName="Project Code" Name="ProjectCode" Required="TRUE" MaxLength="50" Group="Custom"/>`,
			storage.FieldInput{Title: "Project Code", InternalName: "ProjectCode", Type: storage.TypeText, Required: true}},
		{"a note with rich text",
			`<Field Type="Note" DisplayName="Comments" Name="Comments" NumLines="6" RichText="TRUE" RichTextMode="FullHtml" Description="What was said"/>`,
			storage.FieldInput{Title: "Comments", InternalName: "Comments", Type: storage.TypeNote, Description: "What was said"}},
		{"an integer", `<Field Type="Integer" DisplayName="Seats" Name="Seats"><Default>4</Default></Field>`,
			storage.FieldInput{Title: "Seats", InternalName: "Seats", Type: storage.TypeInteger, DefaultValue: "4"}},
		{"a number with bounds", `<Field Type="Number" DisplayName="Score" Name="Score" Decimals="2" Min="0" Max="100" Indexed="TRUE"/>`,
			storage.FieldInput{Title: "Score", InternalName: "Score", Type: storage.TypeNumber, Indexed: true}},
		{"a currency", `<Field Type="Currency" DisplayName="Budget" Name="Budget" LCID="1033" Decimals="2"><Default> 100.50 </Default></Field>`,
			storage.FieldInput{Title: "Budget", InternalName: "Budget", Type: storage.TypeCurrency, DefaultValue: "100.50"}},
		{"a boolean defaulting to yes", `<Field Type="Boolean" DisplayName="Approved" Name="Approved"><Default>1</Default></Field>`,
			storage.FieldInput{Title: "Approved", InternalName: "Approved", Type: storage.TypeBoolean, DefaultValue: "1"}},
		{"a date-only datetime", `<Field Type="DateTime" DisplayName="Due Date" Name="DueDate" Format="DateOnly" FriendlyDisplayFormat="Disabled"><Default>2026-01-02T00:00:00Z</Default></Field>`,
			storage.FieldInput{Title: "Due Date", InternalName: "DueDate", Type: storage.TypeDateTime, DefaultValue: "2026-01-02T00:00:00Z"}},
		{"a choice with a default",
			`<Field Type="Choice" DisplayName="Status" Name="Status" Format="Dropdown" FillInChoice="FALSE"><Default>Not Started</Default><CHOICES><CHOICE>Not Started</CHOICE><CHOICE>In Progress</CHOICE><CHOICE>Completed</CHOICE></CHOICES></Field>`,
			storage.FieldInput{Title: "Status", InternalName: "Status", Type: storage.TypeChoice, DefaultValue: "Not Started", Choices: []string{"Not Started", "In Progress", "Completed"}}},
		{"a multi-choice, pretty-printed",
			"<Field Type=\"MultiChoice\" DisplayName=\"Tags\" Name=\"Tags\">\n  <CHOICES>\n    <CHOICE>Red</CHOICE>\n    <CHOICE> Blue &amp; Green </CHOICE>\n  </CHOICES>\n</Field>",
			storage.FieldInput{Title: "Tags", InternalName: "Tags", Type: storage.TypeMultiChoice, Choices: []string{"Red", "Blue & Green"}}},
		{"a hyperlink", `<Field Type="URL" DisplayName="Website" Name="Website" Format="Hyperlink"/>`,
			storage.FieldInput{Title: "Website", InternalName: "Website", Type: storage.TypeURL}},
		{"a person", `<Field Type="User" DisplayName="Owner" Name="Owner" List="UserInfo" ShowField="ImnName" UserSelectionMode="PeopleOnly" UserSelectionScope="0"/>`,
			storage.FieldInput{Title: "Owner", InternalName: "Owner", Type: storage.TypeUser}},
		{"a person with Mult FALSE", `<Field Type="User" DisplayName="Owner" Name="Owner" Mult="FALSE"/>`,
			storage.FieldInput{Title: "Owner", InternalName: "Owner", Type: storage.TypeUser}},
		{"a lookup", `<Field Type="Lookup" DisplayName="Project" Name="Project" List="{0F8FAD5B-D9CB-469F-A165-70867728950E}" ShowField="Title"/>`,
			storage.FieldInput{Title: "Project", InternalName: "Project", Type: storage.TypeLookup, LookupList: "0f8fad5b-d9cb-469f-a165-70867728950e", LookupField: "Title"}},
		{"a lookup of its own list", `<Field Type="Lookup" DisplayName="Parent" Name="ParentTask" List="Self" ShowField="ID"/>`,
			storage.FieldInput{Title: "Parent", InternalName: "ParentTask", Type: storage.TypeLookup, LookupList: LookupSelf, LookupField: "ID"}},
		{"a guid", `<Field Type="Guid" DisplayName="External Id" Name="ExternalId" Hidden="TRUE"/>`,
			storage.FieldInput{Title: "External Id", InternalName: "ExternalId", Type: storage.TypeGuid, Hidden: true}},
		{"SharePoint's own SchemaXml, copied from another list",
			`<Field Type="Choice" DisplayName="Priority" Required="FALSE" EnforceUniqueValues="FALSE" Indexed="FALSE" Format="Dropdown" FillInChoice="FALSE" ID="{a0f5e2c1-7b3d-4e8f-9a6b-1c2d3e4f5a6b}" SourceID="{b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e}" StaticName="TaskPriority" Name="TaskPriority" ColName="nvarchar4" RowOrdinal="0" Version="2" CustomFormatter=""><CHOICES><CHOICE>(1) High</CHOICE><CHOICE>(2) Normal</CHOICE></CHOICES><MAPPINGS><MAPPING Value="1">(1) High</MAPPING><MAPPING Value="2">(2) Normal</MAPPING></MAPPINGS><Default>(2) Normal</Default></Field>`,
			storage.FieldInput{Title: "Priority", InternalName: "TaskPriority", Type: storage.TypeChoice, Choices: []string{"(1) High", "(2) Normal"}, DefaultValue: "(2) Normal"}},
		{"StaticName when there is no Name", `<Field Type="Text" DisplayName="Code" StaticName="Code2"/>`,
			storage.FieldInput{Title: "Code", InternalName: "Code2", Type: storage.TypeText}},
		{"no name: storage derives it from the title", `<Field Type="Text" DisplayName="Cost Centre"/>`,
			storage.FieldInput{Title: "Cost Centre", Type: storage.TypeText}},
		{"no DisplayName: the name is the title", `<Field Type="Text" Name="Region"/>`,
			storage.FieldInput{Title: "Region", InternalName: "Region", Type: storage.TypeText}},
		{"a Name with spaces is encoded as SharePoint encodes it", `<Field Type="Text" DisplayName="Cost Centre" Name="Cost Centre"/>`,
			storage.FieldInput{Title: "Cost Centre", InternalName: "Cost_x0020_Centre", Type: storage.TypeText}},
		{"a text default keeps its spaces", `<Field Type="Text" Name="T"><Default> a b </Default></Field>`,
			storage.FieldInput{Title: "T", InternalName: "T", Type: storage.TypeText, DefaultValue: " a b "}},
		{"booleans read in any case", `<Field Type="Text" Name="T" Required="true" Indexed="True" Hidden="false"/>`,
			storage.FieldInput{Title: "T", InternalName: "T", Type: storage.TypeText, Required: true, Indexed: true}},
		{"the SharePoint namespace", `<Field xmlns="http://schemas.microsoft.com/sharepoint/" Type="Text" Name="T"/>`,
			storage.FieldInput{Title: "T", InternalName: "T", Type: storage.TypeText}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseField(tt.xml)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			if _, err := storage.NewField("list", got); err != nil {
				t.Fatalf("storage does not create it: %v", err)
			}
		})
	}
}

func TestParseFieldRefusesBadInput(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		msg   string
		limit bool
	}{
		{"no XML", ``, "holds no XML element", false},
		{"malformed XML", `<Field Type="Text"`, "malformed XML", false},
		{"a DTD", `<!DOCTYPE Field [<!ENTITY x "y">]><Field Type="Text" Name="T">&x;</Field>`, "DTDs", false},
		{"another root", `<Fields><Field Type="Text" Name="T"/></Fields>`, "the root element must be <Field>, not <Fields>", false},
		{"no Type", `<Field Name="T"/>`, "<Field> needs a Type attribute (Text, Note, Integer", false},
		{"an unknown Type", `<Field Type="Geolocation" Name="T"/>`, `unknown or unsupported field type "Geolocation" (supported: Text,`, false},
		{"a Type in the wrong case", `<Field Type="text" Name="T"/>`, "type names are case-sensitive, write Text", false},
		{"a calculated field", `<Field Type="Calculated" Name="T"><Formula>=1</Formula></Field>`, "calculated fields are not supported", false},
		{"UserMulti", `<Field Type="UserMulti" Name="T" Mult="TRUE"/>`, "multi-value user fields (UserMulti) are not supported", false},
		{"a User with Mult", `<Field Type="User" Name="T" Mult="TRUE"/>`, "UserMulti", false},
		{"a Lookup with Mult", `<Field Type="Lookup" Name="T" Mult="TRUE" List="{0f8fad5b-d9cb-469f-a165-70867728950e}"/>`, "LookupMulti", false},
		{"a Counter", `<Field Type="Counter" Name="T"/>`, "a Counter field cannot be created", false},
		{"no name at all", `<Field Type="Text"/>`, "needs DisplayName or Name", false},
		{"a Required that is not a boolean", `<Field Type="Text" Name="T" Required="yes"/>`, "the attribute Required of <Field> must be TRUE or FALSE", false},
		{"a Lookup without List", `<Field Type="Lookup" Name="T"/>`, "a Lookup field needs List", false},
		{"a Lookup by list URL", `<Field Type="Lookup" Name="T" List="Lists/Projects"/>`, "must be the id of the list it looks up (a guid) or Self", false},
		{"a computed default", `<Field Type="Text" Name="T"><DefaultFormula>=[Me]</DefaultFormula></Field>`, "computed defaults (<DefaultFormula>) are not supported", false},
		{"today as a default", `<Field Type="DateTime" Name="T"><Default>[today]</Default></Field>`, "the default [today] is computed", false},
		{"two defaults", `<Field Type="Text" Name="T"><Default>a</Default><Default>b</Default></Field>`, "more than one <Default>", false},
		{"a default with elements", `<Field Type="Text" Name="T"><Default><b/></Default></Field>`, "<Default> takes no elements", false},
		{"choices on a text field", `<Field Type="Text" Name="T"><CHOICES><CHOICE>a</CHOICE></CHOICES></Field>`, "<CHOICES> belongs to Choice and MultiChoice fields, not Text", false},
		{"an empty choice", `<Field Type="Choice" Name="T"><CHOICES><CHOICE> </CHOICE></CHOICES></Field>`, "a <CHOICE> is empty", false},
		{"a choice in the wrong case", `<Field Type="Choice" Name="T"><CHOICES><Choice>a</Choice></CHOICES></Field>`, "write <CHOICE>", false},
		{"something else in CHOICES", `<Field Type="Choice" Name="T"><CHOICES><Option>a</Option></CHOICES></Field>`, "<CHOICES> holds <CHOICE> elements only, not <Option>", false},
		{"too long", `<Field Type="Text" Name="T" Description="` + strings.Repeat("x", MaxFieldLength) + `"/>`, "longer than 65536 bytes", true},
		{"nested too deep", `<Field Type="Text" Name="T">` + strings.Repeat("<a>", maxFieldDepth) + strings.Repeat("</a>", maxFieldDepth) + `</Field>`, "nest more than 16 deep", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := ParseField(tt.xml)
			if err == nil {
				t.Fatalf("accepted, as %+v", in)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("the error %q does not say %q", err, tt.msg)
			}
			if e := odata.ErrorOf(err); e.Status != http.StatusBadRequest {
				t.Fatalf("ErrorOf gives %d", e.Status)
			}
			var se *odata.SyntaxError
			if tt.limit != isLimit(err) || !tt.limit && !errors.As(err, &se) {
				t.Fatalf("%T %v: want a limit error %v", err, err, tt.limit)
			}
			if se != nil && se.Input != "SchemaXml" {
				t.Fatalf("the error names %q", se.Input)
			}
		})
	}
}

// TestWithAddFieldOptions checks SharePoint's naming rule: the schema's
// Name counts only with AddFieldInternalNameHint.
func TestWithAddFieldOptions(t *testing.T) {
	in, err := ParseField(`<Field Type="Text" DisplayName="Project Code" Name="ProjCode"/>`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		options int
		want    string
	}{
		{0, "Project_x0020_Code"},
		{AddFieldToDefaultView, "Project_x0020_Code"},
		{AddFieldInternalNameHint, "ProjCode"},
		{AddFieldInternalNameHint | AddFieldToDefaultView | 1, "ProjCode"},
	} {
		f, err := storage.NewField("list", WithAddFieldOptions(in, tt.options))
		if err != nil {
			t.Fatal(err)
		}
		if f.InternalName != tt.want || f.Title != "Project Code" {
			t.Errorf("Options %d: internal name %q, title %q; want %q, Project Code", tt.options, f.InternalName, f.Title, tt.want)
		}
	}
	if in.InternalName != "ProjCode" {
		t.Errorf("WithAddFieldOptions changed its argument: %q", in.InternalName)
	}
}
