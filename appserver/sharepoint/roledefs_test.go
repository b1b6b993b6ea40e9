package sharepoint_test

import (
	"testing"
)

// PnPjs's roleDefinitions.getById / getByName / getByType, and the
// collection, give SharePoint's built-in levels with its ids and masks.
func TestRoleDefinitionsAsPnPjsAsksForThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		all := a.req("GET", "/_api/web/roleDefinitions", nil).must(t, 200).values(t)
		names := map[string]bool{}
		for _, r := range all {
			names[r["Name"].(string)] = true
		}
		for _, n := range []string{"Full Control", "Design", "Edit", "Contribute", "Read", "Limited Access"} {
			if !names[n] {
				t.Errorf("level %q missing: %v", n, names)
			}
		}
		byName := a.req("GET", "/_api/web/roledefinitions/getbyname('contribute')", nil).must(t, 200)
		bp, _ := byName.json["BasePermissions"].(map[string]any)
		if byName.json["Id"] != float64(1073741827) || bp["High"] != "432" || bp["Low"] != "1011028719" {
			t.Fatalf("Contribute: %s", byName.body)
		}
		if r := a.req("GET", "/_api/web/roledefinitions/getbytype(2)", nil).must(t, 200); r.json["Name"] != "Read" {
			t.Fatalf("getByType(2): %s", r.body)
		}
		if r := a.req("GET", "/_api/web/roledefinitions/getById(1073741829)", nil).must(t, 200); r.json["Name"] != "Full Control" || r.json["RoleTypeKind"] != float64(5) {
			t.Fatalf("getById: %s", r.body)
		}
		if r := a.req("GET", "/_api/web/roledefinitions(1073741830)?$select=Name", nil).must(t, 200); r.json["Name"] != "Edit" {
			t.Fatalf("roledefinitions(id): %s", r.body)
		}
		a.req("GET", "/_api/web/roledefinitions/getbyname('Owner')", nil).must(t, 404)
		a.req("GET", "/_api/web/roledefinitions/getbyid('x')", nil).must(t, 400)
		a.req("GET", "/_api/web/roledefinitions/getbytype(9)", nil).must(t, 404)
		a.req("PUT", "/_api/web/roledefinitions", map[string]any{"Name": "x"}).must(t, 405)
	})
}
