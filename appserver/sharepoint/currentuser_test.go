package sharepoint_test

import (
	"fmt"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
)

// A person with Read on one list only, and nothing on the web, still
// learns who they are there (web/currentUser and its groups), as in
// SharePoint, while the web itself stays refused; someone with no grant
// anywhere in the site is refused currentUser too.
func TestCurrentUserNeedsOnlyAnObjectOfTheSite(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Shared")
		bob := a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "bob@example.com"}).must(t, 200).json["Id"]
		list := "/_api/web/lists/getByTitle('Shared')"

		// Before any grant: refused, as the web is.
		a.as("bob-subject", "bob@example.com")
		if r := a.req("GET", "/_api/web/currentUser", nil); r.status != 403 || r.errorCode() != odata.CodeAccessDenied {
			t.Fatalf("currentUser with no grant in the site: %d %s, want 403", r.status, r.body)
		}

		a.as("alice-subject", "alice@example.com")
		a.req("POST", list+"/breakroleinheritance(copyRoleAssignments=false,clearSubscopes=true)", nil).must(t, 200)
		a.req("POST", fmt.Sprintf("%s/roleassignments/addroleassignment(principalid=%v,roledefid=%d)", list, bob, permissions.ReadID), nil).must(t, 200)

		a.as("bob-subject", "bob@example.com")
		me := a.req("GET", "/_api/web/currentUser", nil).must(t, 200)
		if me.json["Id"] != bob || me.json["LoginName"] != "i:0#.f|membership|bob@example.com" || me.json["IsSiteAdmin"] != false {
			t.Errorf("bob's currentUser: %s", me.body)
		}
		if gs := a.req("GET", "/_api/web/currentUser/groups", nil).must(t, 200).values(t); len(gs) != 0 {
			t.Errorf("bob's groups: %v", gs)
		}
		// Only his own row: the web, its users and a write on currentUser
		// stay refused.
		for _, c := range []struct{ method, path string }{
			{"GET", "/_api/web"}, {"GET", "/_api/web/siteUsers"}, {"MERGE", "/_api/web/currentUser"},
		} {
			if r := a.req(c.method, c.path, map[string]any{"Title": "x"}, "IF-MATCH", "*"); r.status != 403 {
				t.Errorf("bob %s %s: %d %s, want 403", c.method, c.path, r.status, r.body)
			}
		}
		a.req("GET", list+"/items?$select=Id", nil).must(t, 200)
	})
}
