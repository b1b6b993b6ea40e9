package odata

import (
	"errors"
	"reflect"
	"testing"
)

func guid(t *testing.T, s string) Value {
	t.Helper()
	v, ok := Guid(s)
	if !ok {
		t.Fatalf("bad guid %q", s)
	}
	return v
}

func TestParsePath(t *testing.T) {
	g := guid(t, "0F8FAD5B-D9CB-469F-A165-70867728950E")
	seg := func(name string, args ...Arg) Segment { return Segment{Name: name, Call: true, Args: args} }
	pos := func(v Value) Arg { return Arg{Value: v} }
	tests := []struct {
		name string
		in   string
		want Path
	}{
		{"the empty path has no segments", "", nil},
		{"plain names are segments", "web/lists", Path{{Name: "web"}, {Name: "lists"}}},
		{"one trailing slash is allowed", "web/", Path{{Name: "web"}}},
		{"dollar names are names", "$batch", Path{{Name: "$batch"}}},
		{"an escaped dollar is a dollar", "web/getFileByServerRelativePath(decodedUrl='a')/%24value",
			Path{{Name: "web"}, seg("getFileByServerRelativePath", Arg{Name: "decodedUrl", Value: String("a")}), {Name: "$value"}}},
		{"doubled quotes stand for one quote", "web/lists/getbytitle('My%20''quoted''%20list')",
			Path{{Name: "web"}, {Name: "lists"}, seg("getbytitle", pos(String("My 'quoted' list")))}},
		{"escaped quotes are quotes", "lists/GetByTitle(%27Bob%27%27s%27)", Path{{Name: "lists"}, seg("GetByTitle", pos(String("Bob's")))}},
		{"an integer argument is an integer", "items(3)", Path{seg("items", pos(Int(3)))}},
		{"empty parentheses make a call without arguments", "items()", Path{seg("items")}},
		{"a guid argument is a canonical guid", "lists(guid'0F8FAD5B-D9CB-469F-A165-70867728950E')", Path{seg("lists", pos(g))}},
		{"a quoted guid stays a string", "lists('0f8fad5b-d9cb-469f-a165-70867728950e')", Path{seg("lists", pos(String("0f8fad5b-d9cb-469f-a165-70867728950e")))}},
		{"getById takes an integer", "getById(5)", Path{seg("getById", pos(Int(5)))}},
		{"getByInternalNameOrTitle takes a string", "fields/getByInternalNameOrTitle('x')", Path{{Name: "fields"}, seg("getByInternalNameOrTitle", pos(String("x")))}},
		{"an escaped slash in decodedUrl stays in the value", "web/getFolderByServerRelativePath(decodedUrl='/sites/a/Shared%20Documents/x%2Fy')",
			Path{{Name: "web"}, seg("getFolderByServerRelativePath", Arg{Name: "decodedUrl", Value: String("/sites/a/Shared Documents/x/y")})}},
		{"an all-escaped decodedUrl is one value", "web/getFileByServerRelativePath(decodedUrl='%2Fsites%2Fdev%2FShared%20Documents%2Fhello.txt')/$value",
			Path{{Name: "web"}, seg("getFileByServerRelativePath", Arg{Name: "decodedUrl", Value: String("/sites/dev/Shared Documents/hello.txt")}), {Name: "$value"}}},
		{"named arguments keep their order and types", "files/AddUsingPath(decodedurl='a.txt',Overwrite=true,EnsureUniqueFileName=false)",
			Path{{Name: "files"}, seg("AddUsingPath", Arg{Name: "decodedurl", Value: String("a.txt")}, Arg{Name: "Overwrite", Value: Bool(true)}, Arg{Name: "EnsureUniqueFileName", Value: Bool(false)})}},
		{"getList takes a server-relative url", "web/getList('/sites/a/Lists/x')", Path{{Name: "web"}, seg("getList", pos(String("/sites/a/Lists/x")))}},
		{"getUserById takes an integer", "web/getUserById(6)", Path{{Name: "web"}, seg("getUserById", pos(Int(6)))}},
		{"getByEmail takes an address", "web/siteUsers/getByEmail('a@b.c')", Path{{Name: "web"}, {Name: "siteUsers"}, seg("getByEmail", pos(String("a@b.c")))}},
		{"a claims login name keeps its pipes", "siteusers/getByLoginName('i:0%23.f%7Cmembership%7Ca@b.c')",
			Path{{Name: "siteusers"}, seg("getByLoginName", pos(String("i:0#.f|membership|a@b.c")))}},
		{"null and negative numbers are literals", "f(null,-2,1.5)", Path{seg("f", pos(Null()), pos(Int(-2)), pos(Decimal(1.5)))}},
		{"spaces around arguments are ignored", "items(%203%20)", Path{seg("items", pos(Int(3)))}},
		{"dotted names are names", "SP.Utilities.Utility.SendEmail", Path{{Name: "SP.Utilities.Utility.SendEmail"}}},
		{"ensureUser and contextinfo are plain names", "web/ensureuser", Path{{Name: "web"}, {Name: "ensureuser"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePath(tt.in)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParsePath(%q) =\n %#v, want\n %#v", tt.in, got, tt.want)
			}
			again, err := ParsePath(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("String() %q does not parse back: %#v, %v", got.String(), again, err)
			}
		})
	}
}

func TestSegmentMatchesNamesIgnoringCase(t *testing.T) {
	p, err := ParsePath("Web/Lists/GETBYTITLE('T')/Items(1)")
	if err != nil {
		t.Fatal(err)
	}
	if !p[0].Is("web") || !p[2].Is("getByTitle") || p[2].Is("getById") {
		t.Fatalf("Is does not ignore case: %v", p)
	}
	if v, ok := p[3].Single(); !ok || v != Int(1) {
		t.Fatalf("Single = %v, %v", v, ok)
	}
	q, _ := ParsePath("AddUsingPath(decodedurl='a',Overwrite=true)")
	if v, ok := q[0].Named("DecodedUrl"); !ok || v != String("a") {
		t.Fatalf("Named(DecodedUrl) = %v, %v", v, ok)
	}
	if _, ok := q[0].Named("missing"); ok {
		t.Fatal("Named found a missing argument")
	}
}

func TestParsePathRefusesBadSyntax(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		offset int
	}{
		{"an unclosed string is refused where it starts", "lists/getbytitle('x", 17},
		{"an unclosed call is refused at its end", "items(3", 7},
		{"two slashes in a row are refused", "web//lists", 4},
		{"a leading slash is refused", "/web", 0},
		{"a bad percent escape is refused", "web%2", 3},
		{"a non-hex escape is refused", "web%zz", 3},
		{"text after a call is refused", "items(3)x", 8},
		{"an escaped slash outside a literal is not a separator", "web%2Flists", 3},
		{"a missing comma is refused", "f(1 2)", 4},
		{"an unknown literal type is refused", "f(binary'00')", 2},
		{"a bad guid is refused", "lists(guid'nope')", 6},
		{"a bare word argument is refused", "getbytitle(Tasks)", 11},
		{"a segment starting with a digit is refused", "3", 0},
		{"an integer out of range is refused", "items(99999999999999999999)", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePath(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParsePath(%q) = %v, want a *SyntaxError", tt.in, err)
			}
			if se.Input != "path" || se.Offset != tt.offset {
				t.Fatalf("ParsePath(%q): %v, want offset %d", tt.in, se, tt.offset)
			}
			if e := ErrorOf(err); e.Status != 400 || e.Code != CodeInvalidQuery {
				t.Fatalf("ErrorOf = %v, want 400 %s", e, CodeInvalidQuery)
			}
		})
	}
}

func TestParsePathRefusesTooMuch(t *testing.T) {
	long := make([]byte, MaxPathLength+1)
	for i := range long {
		long[i] = 'a'
	}
	many := "a"
	for range MaxPathSegments {
		many += "/a"
	}
	args := "f(1"
	for range MaxArgs {
		args += ",1"
	}
	for _, in := range []string{string(long), many, args + ")"} {
		var le *LimitError
		if _, err := ParsePath(in); !errors.As(err, &le) {
			t.Errorf("ParsePath(%.20q…) = %v, want a *LimitError", in, err)
		}
	}
}

func TestSplitAPIPath(t *testing.T) {
	tests := []struct {
		name, in, web, rest string
		ok                  bool
	}{
		{"a site's API path splits after _api", "/sites/dev/_api/web/lists", "/sites/dev", "web/lists", true},
		{"the root site has an empty web", "/_api/web", "", "web", true},
		{"_api matches in any case", "/sites/dev/_API/contextinfo", "/sites/dev", "contextinfo", true},
		{"a bare _api has an empty rest", "/sites/dev/_api", "/sites/dev", "", true},
		{"only a whole _api segment counts", "/sites/_apis/_api/web", "/sites/_apis", "web", true},
		{"the first _api wins over one in a literal", "/s/_api/web/getFileByServerRelativePath(decodedUrl='/s/_api/x')", "/s", "web/getFileByServerRelativePath(decodedUrl='/s/_api/x')", true},
		{"non-ASCII before _api keeps the offsets", "/sites/İİ/_API/web", "/sites/İİ", "web", true},
		{"a path without _api does not split", "/sites/dev/Shared%20Documents", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web, rest, ok := SplitAPIPath(tt.in)
			if web != tt.web || rest != tt.rest || ok != tt.ok {
				t.Fatalf("SplitAPIPath(%q) = %q, %q, %v", tt.in, web, rest, ok)
			}
		})
	}
}
