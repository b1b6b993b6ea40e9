package odata

import (
	"encoding/json"
	"testing"
	"time"
)

const web = "https://host/sites/dev"

func item() *Entity {
	return &Entity{
		Type:     "SP.Data.TasksListItem",
		ID:       "55080851-c9a1-4dcb-8962-4bcaf97ebc2b",
		EditLink: "Web/Lists(guid'22fdaaa4-0000-0000-0000-000000000000')/Items(1)",
		ETag:     `"1"`,
		Props: []Prop{
			{"Id", 1}, {"Title", "Task <1> & co"}, {"Tags", Values{Type: "Collection(Edm.String)", Items: []any{"a"}}},
			{"Author", &Entity{Type: "SP.Data.UserInfoItem", ID: "u", Props: []Prop{{"Title", "Ann"}}}},
		},
	}
}

func TestEncoderWritesEachFormatsShape(t *testing.T) {
	link := "https://host/sites/dev/_api/web/lists/GetByTitle('Tasks')/items?%24skiptoken=Paged%3DTRUE%26p_ID%3D1"
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"a minimal entity carries its annotations first", Encoder{Format: Minimal, Web: web}.Entity(item(), "SP.ListData.TasksListItems/@Element"),
			`{"odata.metadata":"https://host/sites/dev/_api/$metadata#SP.ListData.TasksListItems/@Element","odata.type":"SP.Data.TasksListItem","odata.id":"55080851-c9a1-4dcb-8962-4bcaf97ebc2b","odata.etag":"\"1\"","odata.editLink":"Web/Lists(guid'22fdaaa4-0000-0000-0000-000000000000')/Items(1)","Id":1,"Title":"Task <1> & co","Tags":["a"],"Author":{"odata.type":"SP.Data.UserInfoItem","odata.id":"u","Title":"Ann"}}`},
		{"a nometadata entity has only its properties", Encoder{Format: NoMetadata, Web: web}.Entity(item(), "SP.ListData.TasksListItems/@Element"),
			`{"Id":1,"Title":"Task <1> & co","Tags":["a"],"Author":{"Title":"Ann"}}`},
		{"a verbose entity is wrapped in d with __metadata", Encoder{Format: Verbose, Web: web}.Entity(item(), "ignored"),
			`{"d":{"__metadata":{"id":"Web/Lists(guid'22fdaaa4-0000-0000-0000-000000000000')/Items(1)","uri":"https://host/sites/dev/_api/Web/Lists(guid'22fdaaa4-0000-0000-0000-000000000000')/Items(1)","etag":"\"1\"","type":"SP.Data.TasksListItem"},"Id":1,"Title":"Task <1> & co","Tags":{"__metadata":{"type":"Collection(Edm.String)"},"results":["a"]},"Author":{"__metadata":{"id":"u","type":"SP.Data.UserInfoItem"},"Title":"Ann"}}}`},
		{"a verbose web keeps its absolute id", Encoder{Format: Verbose, Web: web}.Entity(&Entity{Type: "SP.Web", ID: web + "/_api/Web", EditLink: "Web"}, ""),
			`{"d":{"__metadata":{"id":"https://host/sites/dev/_api/Web","uri":"https://host/sites/dev/_api/Web","type":"SP.Web"}}}`},
		{"a minimal collection has value and an absolute nextLink", Encoder{Format: Minimal, Web: web}.Collection([]*Entity{{Type: "SP.List", Props: []Prop{{"Title", "A"}}}, {Type: "SP.List"}}, "SP.ApiData.Lists", link),
			`{"odata.metadata":"https://host/sites/dev/_api/$metadata#SP.ApiData.Lists","value":[{"odata.type":"SP.List","Title":"A"},{"odata.type":"SP.List"}],"odata.nextLink":"` + link + `"}`},
		{"a nometadata collection keeps its nextLink", Encoder{Format: NoMetadata, Web: web}.Collection([]*Entity{{Props: []Prop{{"Id", 1}}}}, "SP.ApiData.Lists", link),
			`{"value":[{"Id":1}],"odata.nextLink":"` + link + `"}`},
		{"a verbose collection has results and __next", Encoder{Format: Verbose, Web: web}.Collection([]*Entity{{Type: "SP.List"}}, "", link),
			`{"d":{"results":[{"__metadata":{"type":"SP.List"}}],"__next":"` + link + `"}}`},
		{"an empty collection is an empty array", Encoder{Format: NoMetadata, Web: web}.Collection(nil, "", ""), `{"value":[]}`},
		{"a verbose function result is wrapped in its name", Encoder{Format: Verbose, Web: web}.Result("GetContextWebInformation", &Entity{Type: "SP.ContextWebInformation", Props: []Prop{{"FormDigestTimeoutSeconds", 1800}}}, "SP.ContextWebInformation"),
			`{"d":{"GetContextWebInformation":{"__metadata":{"type":"SP.ContextWebInformation"},"FormDigestTimeoutSeconds":1800}}}`},
		{"a light function result is at the top level", Encoder{Format: Minimal, Web: web}.Result("GetContextWebInformation", &Entity{Type: "SP.ContextWebInformation", Props: []Prop{{"FormDigestTimeoutSeconds", 1800}}}, "SP.ContextWebInformation"),
			`{"odata.metadata":"https://host/sites/dev/_api/$metadata#SP.ContextWebInformation","odata.type":"SP.ContextWebInformation","FormDigestTimeoutSeconds":1800}`},
		{"nested collections are arrays in light", Encoder{Format: NoMetadata}.Entity(&Entity{Props: []Prop{{"L", []*Entity{{Props: []Prop{{"Id", 1}}}}}, {"N", (*Entity)(nil)}}}, ""),
			`{"L":[{"Id":1}],"N":null}`},
		{"values and times are written as SharePoint writes them", Encoder{Format: NoMetadata}.Entity(&Entity{Props: []Prop{
			{"S", String("a")}, {"I", Int(-2)}, {"D", Decimal(1.5)}, {"B", Bool(true)}, {"N", Null()},
			{"T", DateTime(time.Date(2026, 11, 23, 20, 35, 9, 5e8, time.FixedZone("", 3600)))},
			{"G", guid(t, "0F8FAD5B-D9CB-469F-A165-70867728950E")}, {"Modified", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		}}, ""), `{"S":"a","I":-2,"D":1.5,"B":true,"N":null,"T":"2026-11-23T19:35:09Z","G":"0f8fad5b-d9cb-469f-a165-70867728950e","Modified":"2026-01-02T03:04:05Z"}`},
		{"nested collections have results in verbose", Encoder{Format: Verbose}.Entity(&Entity{Props: []Prop{{"L", []*Entity{{Props: []Prop{{"Id", 1}}}}}}}, ""),
			`{"d":{"__metadata":{},"L":{"results":[{"__metadata":{},"Id":1}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Fatalf("got\n %s\nwant\n %s", tt.got, tt.want)
			}
			if !json.Valid(tt.got) {
				t.Fatal("not valid JSON")
			}
		})
	}
}

func TestEncoderWritesSharePointsErrorShapes(t *testing.T) {
	e := ItemNotFound()
	light := Encoder{Format: Minimal}.Error(e)
	if want := `{"odata.error":{"code":"-2147024809, System.ArgumentException","message":{"lang":"en-US","value":"Item does not exist. It may have been deleted by another user."}}}`; string(light) != want {
		t.Fatalf("light error %s, want %s", light, want)
	}
	if got := (Encoder{Format: NoMetadata}).Error(e); string(got) != string(light) {
		t.Fatalf("nometadata error %s, want the light shape", got)
	}
	verbose := Encoder{Format: Verbose}.Error(VersionConflict(`"2"`, `"3"`))
	if want := `{"error":{"code":"-1, Microsoft.SharePoint.Client.ClientServiceException","message":{"lang":"en-US","value":"The request ETag value '\"2\"' does not match the object's ETag value '\"3\"'."}}}`; string(verbose) != want {
		t.Fatalf("verbose error %s, want %s", verbose, want)
	}
}

func TestErrorsCarrySharePointsStatusesAndCodes(t *testing.T) {
	tests := []struct {
		name   string
		err    *Error
		status int
		code   string
	}{
		{"a missing list is a 404 argument exception", ListNotFound("Nope", web), 404, "-1, System.ArgumentException"},
		{"a missing item is a 404 with its own HRESULT", ItemNotFound(), 404, "-2147024809, System.ArgumentException"},
		{"a missing file is a 404 SPException", FileNotFound("/sites/dev/a.txt"), 404, "-2130575338, Microsoft.SharePoint.SPException"},
		{"a stale etag is a 412", VersionConflict(`"1"`, `"2"`), 412, "-1, Microsoft.SharePoint.Client.ClientServiceException"},
		{"a bad digest is a 403 security validation", SecurityValidation(), 403, "-2130575252, Microsoft.SharePoint.SPException"},
		{"a bad query is a 400 InvalidClientQueryException", InvalidQuery("x"), 400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"},
		{"a wrong __metadata.type is a bad query", TypeNotResolved("SP.Data.X"), 400, CodeInvalidQuery},
		{"throttling is a 429 with Retry-After", Throttled(2e9), 429, CodeThrottled},
		{"a duplicate list title is SharePoint's 500", ListExists(), 500, "-2130575342, Microsoft.SharePoint.SPException"},
		{"an existing file is a 400", FileExists("/a"), 400, "-2130575257, Microsoft.SharePoint.SPException"},
		{"an unknown segment is a 404", ResourceNotFound("nope"), 404, CodeResourceNotFound},
		{"a permission refusal is a 403", AccessDenied(), 403, CodeAccessDenied},
		{"an unknown column is a 400", FieldNotFound("X"), 400, CodeFieldNotFound},
		{"anything else is a 500 that hides its cause", ErrorOf(errTest{}), 500, "-1, System.InvalidOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err.Status != tt.status || tt.err.Code != tt.code || tt.err.Message == "" {
				t.Fatalf("got %v, want %d %s", tt.err, tt.status, tt.code)
			}
		})
	}
	if ErrorOf(errTest{}).Message == (errTest{}).Error() {
		t.Fatal("a 500 repeats its cause")
	}
	if Throttled(2e9).RetryAfter != 2e9 {
		t.Fatal("Throttled drops Retry-After")
	}
}

type errTest struct{}

func (errTest) Error() string { return "dial tcp 10.0.0.1:5432: secret" }
