package sharepoint_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// security is everything the permissions API may change in the root
// site, written out, so a test can assert that a refused call changed
// nothing: levels, groups with their members, users, and the scope and
// assignments of the root web, each of its lists and the given items.
func (a *api) security(t *testing.T, items ...storage.ScopeRef) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	err := a.store.View(ctx, func(tx storage.Tx) error {
		b.Reset()
		site, err := tx.Sites().GetByURL(ctx, "/")
		if err != nil {
			return err
		}
		s := tx.Security()
		roles, err := s.RoleDefinitions(ctx, site.ID)
		if err != nil {
			return err
		}
		for _, r := range roles {
			fmt.Fprintf(&b, "level %d %q %#x\n", r.ID, r.Name, uint64(r.Mask))
		}
		groups, err := s.Groups(ctx, site.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			ms, err := s.Members(ctx, site.ID, g.ID)
			if err != nil {
				return err
			}
			var ids []int64
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			fmt.Fprintf(&b, "group %d %q %q owner %d members %v\n", g.ID, g.Title, g.Description, g.OwnerID, ids)
		}
		users, err := tx.Users().List(ctx, site.ID)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(&b, "user %d %s admin=%v\n", u.ID, u.LoginName, u.IsSiteAdmin)
		}
		refs := []storage.ScopeRef{{WebID: site.RootWebID}}
		lists, err := tx.Lists().List(ctx, site.RootWebID)
		if err != nil {
			return err
		}
		for _, l := range lists {
			refs = append(refs, storage.ScopeRef{WebID: site.RootWebID, ListID: l.ID})
		}
		for _, ref := range append(refs, items...) {
			scope, unique, err := s.Scope(ctx, ref)
			if err != nil {
				return err
			}
			as, err := s.Assignments(ctx, scope)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "scope of %v: %s unique=%v", ref, scope, unique)
			for _, ra := range as {
				fmt.Fprintf(&b, " %d:%v", ra.PrincipalID, ra.RoleIDs)
			}
			b.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// refused asserts a status and error code, and that nothing changed.
func (a *api) refused(t *testing.T, before string, r *result, status int, code, message string, items ...storage.ScopeRef) {
	t.Helper()
	if r.status != status || (code != "" && r.errorCode() != code) || !strings.Contains(r.errorMessage(), message) {
		t.Errorf("got %d %s, want %d %s %q", r.status, r.body, status, code, message)
	}
	if after := a.security(t, items...); after != before {
		t.Errorf("a refused call changed the site's permissions:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

const spException = "-2146232832, Microsoft.SharePoint.SPException"

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func TestSiteGroupsAsPnPjsSendsThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		var titles []string
		for _, g := range a.req("GET", "/_api/web/siteGroups", nil).must(t, 200).values(t) {
			titles = append(titles, g["Title"].(string))
			if g["PrincipalType"] != float64(8) || g["LoginName"] != g["Title"] {
				t.Errorf("SP.Group: %v", g)
			}
		}
		if strings.Join(titles, ",") != "Cesivi Members,Cesivi Owners,Cesivi Visitors" {
			t.Fatalf("site groups %v", titles)
		}
		for which, title := range map[string]string{"Owner": "Cesivi Owners", "Member": "Cesivi Members", "Visitor": "Cesivi Visitors"} {
			if g := a.req("GET", "/_api/web/associated"+which+"Group", nil).must(t, 200); g.json["Title"] != title || g.json["OwnerTitle"] != "Cesivi Owners" {
				t.Errorf("associated%sGroup: %s", which, g.body)
			}
		}

		// siteGroups.add, getByName, getById, siteGroups(n), update.
		g := a.req("POST", "/_api/web/siteGroups", map[string]any{"Title": "Editors", "Description": "They edit"}).must(t, 201)
		id := num(g.json["Id"])
		if id == 0 || g.json["OwnerTitle"] != "Alice" || g.json["Description"] != "They edit" {
			t.Fatalf("siteGroups.add: %s", g.body)
		}
		for _, p := range []string{"getByName('editors')", fmt.Sprintf("getById(%d)", id)} {
			if r := a.req("GET", "/_api/web/siteGroups/"+p, nil).must(t, 200); num(r.json["Id"]) != id {
				t.Errorf("%s: %s", p, r.body)
			}
		}
		a.req("MERGE", fmt.Sprintf("/_api/web/siteGroups(%d)", id), map[string]any{"Description": "Edited", "OnlyAllowMembersViewMembership": true}).must(t, 204)
		if r := a.req("GET", fmt.Sprintf("/_api/web/siteGroups(%d)?$expand=Owner", id), nil).must(t, 200); r.json["Description"] != "Edited" ||
			r.json["OnlyAllowMembersViewMembership"] != true || r.json["Owner"].(map[string]any)["Title"] != "Alice" {
			t.Errorf("after update: %s", r.body)
		}

		// users.add ensures the site user; the group lists it.
		users := fmt.Sprintf("/_api/web/siteGroups(%d)/users", id)
		bob := a.req("POST", users, map[string]any{"LoginName": "i:0#.f|membership|bob@example.com"}).must(t, 201)
		bobID := num(bob.json["Id"])
		if bob.json["LoginName"] != "i:0#.f|membership|bob@example.com" || bobID == 0 {
			t.Fatalf("users.add: %s", bob.body)
		}
		if us := a.req("GET", users, nil).must(t, 200).values(t); len(us) != 1 || num(us[0]["Id"]) != bobID {
			t.Errorf("group users: %v", us)
		}
		a.req("GET", users+"('!@v::i:0%23.f|membership|bob@example.com')", nil).must(t, 200)
		a.req("GET", users+"/getByLoginName(@v)?@v="+url.QueryEscape("'i:0#.f|membership|bob@example.com'"), nil).must(t, 200)
		a.req("GET", fmt.Sprintf("%s/getById(%d)", users, bobID), nil).must(t, 200)
		a.req("GET", users+"/getById(999)", nil).must(t, 404)
		// Bob's groups say so too.
		if gs := a.req("GET", fmt.Sprintf("/_api/web/getUserById(%d)/groups", bobID), nil).must(t, 200).values(t); len(gs) != 1 || gs[0]["Title"] != "Editors" {
			t.Errorf("bob's groups: %v", gs)
		}
		a.req("POST", fmt.Sprintf("%s/removeById(%d)", users, bobID), nil).must(t, 200)
		if us := a.req("GET", users, nil).must(t, 200).values(t); len(us) != 0 {
			t.Errorf("after removeById: %v", us)
		}
		a.req("POST", users, map[string]any{"LoginName": "bob@example.com"}).must(t, 201)
		a.req("POST", users+"/removeByLoginName(@v)?@v="+url.QueryEscape("'i:0#.f|membership|bob@example.com'"), nil).must(t, 200)

		// Bad input: a taken title (409, as the storage conflict maps),
		// an invalid one (400), unknown members; nothing is stored.
		before := a.security(t)
		a.refused(t, before, a.req("POST", "/_api/web/siteGroups", map[string]any{"Title": "EDITORS"}), 409, "-2130575214, Microsoft.SharePoint.SPException", "already in use")
		a.refused(t, before, a.req("POST", "/_api/web/siteGroups", map[string]any{"Title": "a/b"}), 400, odata.CodeInvalidQuery, "cannot hold")
		a.refused(t, before, a.req("POST", "/_api/web/siteGroups", map[string]any{"Description": "no title"}), 400, odata.CodeInvalidQuery, "Title")
		a.refused(t, before, a.req("POST", "/_api/web/siteGroups", map[string]any{"Title": "X", "Colour": "red"}), 400, odata.CodeInvalidQuery, "Colour")
		a.refused(t, before, a.req("MERGE", fmt.Sprintf("/_api/web/siteGroups(%d)", id), map[string]any{"Title": "Cesivi Owners"}), 409, "-2130575214, Microsoft.SharePoint.SPException", "already in use")
		a.refused(t, before, a.req("POST", users, map[string]any{"LoginName": "not a login"}), 400, spException, "could not be found")
		a.refused(t, before, a.req("POST", "/_api/web/siteGroups/removeById('x')", nil), 400, odata.CodeInvalidQuery, "")
		a.refused(t, before, a.req("POST", "/_api/web/siteGroups/removeById(999)", nil), 404, spException, "Group cannot be found")

		// A visitor reads groups but changes nothing.
		a.joinGroup(t, "bob@example.com", "Cesivi Visitors")
		before = a.security(t)
		a.as("bob-subject", "bob@example.com")
		a.req("GET", "/_api/web/siteGroups", nil).must(t, 200)
		for _, c := range []struct{ method, path string }{
			{"POST", "/_api/web/siteGroups"},
			{"MERGE", fmt.Sprintf("/_api/web/siteGroups(%d)", id)},
			{"POST", users},
			{"POST", fmt.Sprintf("/_api/web/siteGroups/removeById('%d')", id)},
			{"DELETE", fmt.Sprintf("/_api/web/siteGroups(%d)", id)},
			{"POST", "/_api/web/associatedMemberGroup/users"},
		} {
			a.refused(t, before, a.req(c.method, c.path, map[string]any{"Title": "Bob's", "LoginName": "bob@example.com"}), 403, odata.CodeAccessDenied, "ManagePermissions")
		}

		// removeById (with PnPjs's quoted id) and removeByLoginName.
		a.as("alice-subject", "alice@example.com")
		a.req("POST", fmt.Sprintf("/_api/web/siteGroups/removeById('%d')", id), nil).must(t, 200)
		a.req("GET", fmt.Sprintf("/_api/web/siteGroups(%d)", id), nil).must(t, 404)
		a.req("POST", "/_api/web/siteGroups", map[string]any{"Title": "Temp"}).must(t, 201)
		a.req("POST", "/_api/web/siteGroups/removeByLoginName('Temp')", nil).must(t, 200)
		a.req("GET", "/_api/web/siteGroups/getByName('Temp')", nil).must(t, 404)
	})
}

func TestRoleAssignmentsAndInheritanceAsPnPjsSendsThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		list := "/_api/web/lists/getByTitle('Tasks')"
		for i := 1; i <= 2; i++ {
			a.req("POST", list+"/items", map[string]any{"Title": fmt.Sprintf("Task %d", i)}).must(t, 201)
		}
		g := a.req("POST", "/_api/web/siteGroups", map[string]any{"Title": "Editors"}).must(t, 201)
		gid := num(g.json["Id"])
		bob := a.req("POST", fmt.Sprintf("/_api/web/siteGroups(%d)/users", gid), map[string]any{"LoginName": "bob@example.com"}).must(t, 201)
		bobID := num(bob.json["Id"])
		bobLogin := url.QueryEscape("'i:0#.f|membership|bob@example.com'")

		// The root web's assignments: the three site groups.
		ras := a.req("GET", "/_api/web/roleAssignments?$expand=Member,RoleDefinitionBindings", nil).must(t, 200).values(t)
		if len(ras) != 3 {
			t.Fatalf("root web assignments: %v", ras)
		}
		for _, ra := range ras {
			m := ra["Member"].(map[string]any)
			b := ra["RoleDefinitionBindings"].([]any)
			if num(ra["PrincipalId"]) != num(m["Id"]) || len(b) != 1 {
				t.Errorf("assignment %v", ra)
			}
			if m["Title"] == "Cesivi Owners" && b[0].(map[string]any)["Name"] != "Full Control" {
				t.Errorf("Owners: %v", ra)
			}
		}
		if r := a.req("GET", "/_api/web?$select=HasUniqueRoleAssignments", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != true {
			t.Errorf("root web: %s", r.body)
		}

		// A list that inherits: no own assignments to change.
		if r := a.req("GET", list+"?$select=HasUniqueRoleAssignments,Title", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != false {
			t.Errorf("list before: %s", r.body)
		}
		add := fmt.Sprintf("%s/roleAssignments/addRoleAssignment(principalid=%d, roledefid=%d)", list, gid, permissions.ContributeID)
		before := a.security(t)
		a.refused(t, before, a.req("POST", add, nil), 400, spException, "inherits")

		a.req("POST", list+"/breakRoleInheritance(copyRoleAssignments=true, clearSubscopes=true)", nil).must(t, 200)
		if r := a.req("GET", list+"?$select=HasUniqueRoleAssignments", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != true {
			t.Errorf("list after break: %s", r.body)
		}
		if ras := a.req("GET", list+"/roleAssignments", nil).must(t, 200).values(t); len(ras) != 3 {
			t.Errorf("copied assignments: %v", ras)
		}
		a.req("POST", add, nil).must(t, 200)
		a.req("POST", add, nil).must(t, 200) // idempotent
		one := a.req("GET", fmt.Sprintf("%s/roleAssignments/getByPrincipalId(%d)?$expand=Member,RoleDefinitionBindings", list, gid), nil).must(t, 200)
		if one.json["Member"].(map[string]any)["Title"] != "Editors" || one.json["RoleDefinitionBindings"].([]any)[0].(map[string]any)["Name"] != "Contribute" {
			t.Errorf("getByPrincipalId: %s", one.body)
		}
		if bs := a.req("GET", fmt.Sprintf("%s/roleAssignments(%d)/roleDefinitionBindings", list, gid), nil).must(t, 200).values(t); len(bs) != 1 || num(bs[0]["Id"]) != permissions.ContributeID {
			t.Errorf("bindings: %v", bs)
		}
		if m := a.req("GET", fmt.Sprintf("%s/roleAssignments(%d)/member", list, gid), nil).must(t, 200); m.json["Title"] != "Editors" {
			t.Errorf("member: %s", m.body)
		}
		a.req("GET", list+"/roleAssignments/getByPrincipalId(999)", nil).must(t, 404)

		// Bob, through the group, contributes to the list and nothing more.
		contribute := permissions.DefaultRoleMask(permissions.ContributeID)
		r := a.req("GET", list+"/getUserEffectivePermissions(@user)?@user="+bobLogin, nil).must(t, 200)
		if r.json["High"] != fmt.Sprint(contribute.High()) || r.json["Low"] != fmt.Sprint(contribute.Low()) {
			t.Errorf("bob's permissions on the list: %s", r.body)
		}
		a.as("bob-subject", "bob@example.com")
		a.req("POST", list+"/items", map[string]any{"Title": "Bob's"}).must(t, 201)
		if r := a.req("GET", list+"/effectiveBasePermissions", nil).must(t, 200); r.json["Low"] != fmt.Sprint(contribute.Low()) {
			t.Errorf("bob's effectiveBasePermissions: %s", r.body)
		}
		if r := a.req("GET", list+"?$select=EffectiveBasePermissions", nil).must(t, 200); r.json["EffectiveBasePermissions"].(map[string]any)["High"] != fmt.Sprint(contribute.High()) {
			t.Errorf("EffectiveBasePermissions selected: %s", r.body)
		}
		a.req("GET", list+"/getUserEffectivePermissions(@user)?@user="+bobLogin, nil).must(t, 200)
		if r := a.req("GET", list+"/getUserEffectivePermissions(@user)?@user="+url.QueryEscape("'i:0#.f|membership|alice@example.com'"), nil); r.status != 403 {
			t.Errorf("bob asking about alice: %d %s", r.status, r.body)
		}
		has := func(path string, k permissions.Kind) bool {
			t.Helper()
			m := permissions.Of(k)
			v := url.QueryEscape(fmt.Sprintf("{'High':'%d','Low':'%d'}", m.High(), m.Low()))
			return a.req("GET", path+"/doesUserHavePermissions(@v)?@v="+v, nil).must(t, 200).json["value"] == true
		}
		if !has(list, permissions.AddListItems) || has(list, permissions.ManageLists) {
			t.Error("doesUserHavePermissions on the list")
		}
		if r := a.req("GET", list+"/roleAssignments", nil); r.status != 403 || !strings.Contains(r.errorMessage(), "EnumeratePermissions") {
			t.Errorf("bob enumerating permissions: %d %s", r.status, r.body)
		}
		before = a.security(t)
		for _, p := range []string{
			add,
			fmt.Sprintf("%s/roleAssignments/removeRoleAssignment(principalid=%d,roledefid=%d)", list, gid, permissions.ContributeID),
			list + "/resetRoleInheritance",
			list + "/breakRoleInheritance(copyRoleAssignments=false,clearSubscopes=true)",
			list + "/items(1)/breakRoleInheritance(copyRoleAssignments=false,clearSubscopes=true)",
		} {
			a.refused(t, before, a.req("POST", p, nil), 403, odata.CodeAccessDenied, "ManagePermissions")
		}
		a.refused(t, before, a.req("DELETE", fmt.Sprintf("%s/roleAssignments/getByPrincipalId(%d)", list, gid), nil), 403, odata.CodeAccessDenied, "ManagePermissions")

		// Taken away again.
		a.as("alice-subject", "alice@example.com")
		a.req("POST", fmt.Sprintf("%s/roleAssignments/removeRoleAssignment(principalid=%d,roledefid=%d)", list, gid, permissions.ContributeID), nil).must(t, 200)
		a.as("bob-subject", "bob@example.com")
		if r := a.req("POST", list+"/items", map[string]any{"Title": "Bob's again"}); r.status != 404 && r.status != 403 {
			t.Errorf("bob adding after removal: %d", r.status)
		}

		// An item of its own: bob reads item 1 only.
		a.as("alice-subject", "alice@example.com")
		a.req("POST", list+"/resetRoleInheritance", nil).must(t, 200)
		if r := a.req("GET", list+"?$select=HasUniqueRoleAssignments", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != false {
			t.Errorf("list after reset: %s", r.body)
		}
		item1 := list + "/items(1)"
		a.req("POST", item1+"/breakRoleInheritance(copyRoleAssignments=false,clearSubscopes=false)", nil).must(t, 200)
		if r := a.req("GET", list+"/items?$select=Id,HasUniqueRoleAssignments&$orderby=Id", nil).must(t, 200).values(t); r[0]["HasUniqueRoleAssignments"] != true || r[1]["HasUniqueRoleAssignments"] != false {
			t.Errorf("items' HasUniqueRoleAssignments: %v", r)
		}
		if ras := a.req("GET", item1+"/roleAssignments", nil).must(t, 200).values(t); len(ras) != 0 {
			t.Errorf("item without copied assignments: %v", ras)
		}
		a.req("POST", fmt.Sprintf("%s/roleAssignments/addRoleAssignment(principalid=%d,roledefid=%d)", item1, bobID, permissions.ReadID), nil).must(t, 200)
		read := permissions.DefaultRoleMask(permissions.ReadID)
		if r := a.req("GET", item1+"/getUserEffectivePermissions(@user)?@user="+bobLogin, nil).must(t, 200); r.json["Low"] != fmt.Sprint(read.Low()) {
			t.Errorf("bob on item 1: %s", r.body)
		}
		if r := a.req("GET", list+"/items(2)/getUserEffectivePermissions(@user)?@user="+bobLogin, nil).must(t, 200); r.json["Low"] != "0" {
			t.Errorf("bob on item 2: %s", r.body)
		}
		a.as("bob-subject", "bob@example.com")
		a.req("GET", item1, nil).must(t, 200)
		if !has(item1, permissions.ViewListItems) || has(item1, permissions.EditListItems) {
			t.Error("doesUserHavePermissions on item 1")
		}
		a.req("GET", list+"/items(2)/roleAssignments", nil).must(t, 404)
		// getItemById is the same item: the same 404.
		a.req("GET", list+"/getItemById(2)", nil).must(t, 404)
		a.req("GET", list+"/getItemById(1)", nil).must(t, 200)
		a.req("GET", list+"/getItemById(2)/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)", nil).must(t, 404)
		before = a.security(t)
		a.refused(t, before, a.req("POST", item1+"/resetRoleInheritance", nil), 403, odata.CodeAccessDenied, "ManagePermissions")
		a.refused(t, before, a.req("POST", list+"/items(2)/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)", nil), 404, "", "")

		a.as("alice-subject", "alice@example.com")
		a.req("POST", item1+"/resetRoleInheritance", nil).must(t, 200)
		if r := a.req("GET", item1+"?$select=HasUniqueRoleAssignments", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != false {
			t.Errorf("item 1 after reset: %s", r.body)
		}

		// A subweb breaks and resets too; the root web cannot reset.
		a.req("POST", "/_api/web/webs/add", map[string]any{"parameters": map[string]any{"Title": "Team", "Url": "team"}}).must(t, 200)
		a.req("POST", "/team/_api/web/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=true)", nil).must(t, 200)
		if r := a.req("GET", "/team/_api/web?$select=HasUniqueRoleAssignments", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != true {
			t.Errorf("subweb after break: %s", r.body)
		}
		a.req("POST", "/team/_api/web/resetRoleInheritance", nil).must(t, 200)
		if r := a.req("GET", "/team/_api/web?$select=HasUniqueRoleAssignments", nil).must(t, 200); r.json["HasUniqueRoleAssignments"] != false {
			t.Errorf("subweb after reset: %s", r.body)
		}
		a.req("POST", "/_api/web/breakRoleInheritance(copyRoleAssignments=false,clearSubscopes=false)", nil).must(t, 200)
		if ras := a.req("GET", "/_api/web/roleAssignments", nil).must(t, 200).values(t); len(ras) != 3 {
			t.Errorf("breaking the root web changed its assignments: %v", ras)
		}
	})
}

func TestPermissionChangesRefusedWithNothingChanged(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		list := "/_api/web/lists/getByTitle('Tasks')"
		a.req("POST", list+"/items", map[string]any{"Title": "Task 1"}).must(t, 201)
		web := "/_api/web/roleAssignments/"
		const owners = 1 // the site's Owners group, its first principal

		before := a.security(t)
		for _, c := range []struct {
			path          string
			status        int
			code, message string
		}{
			{web + "addRoleAssignment(principalid=999,roledefid=1073741826)", 400, spException, "Cannot find principal with id: 999."},
			{web + "addRoleAssignment(principalid=1,roledefid=42)", 400, spException, "Cannot find role definition with id: 42."},
			{web + "addRoleAssignment(principalid='x',roledefid=1073741826)", 400, odata.CodeInvalidQuery, "principalid"},
			{web + "addRoleAssignment(principalid=-1,roledefid=1073741826)", 400, odata.CodeInvalidQuery, "principalid"},
			{web + "addRoleAssignment(principalid=1)", 400, odata.CodeInvalidQuery, "roledefid"},
			{web + "addRoleAssignment(principalid=1,roledefid=true)", 400, odata.CodeInvalidQuery, "roledefid"},
			{web + "removeRoleAssignment(principalid=999,roledefid=1073741826)", 400, spException, "Cannot find principal with id: 999."},
			{web + "removeRoleAssignment(principalid=1,roledefid=42)", 400, spException, "Cannot find role definition with id: 42."},
			// The Owners group is the site's only Full Control holder.
			{web + fmt.Sprintf("removeRoleAssignment(principalid=%d,roledefid=%d)", owners, permissions.FullControlID), 400, spException, "A site must keep someone with Full Control"},
			{fmt.Sprintf("/_api/web/siteGroups/removeById(%d)", owners), 400, spException, "A site must keep someone with Full Control"},
			{"/_api/web/resetRoleInheritance", 400, spException, "root web"},
			{"/_api/web/breakRoleInheritance(copyRoleAssignments='yes',clearSubscopes=false)", 400, odata.CodeInvalidQuery, "copyroleassignments"},
			{"/_api/web/breakRoleInheritance(clearSubscopes=false)", 400, odata.CodeInvalidQuery, "copyroleassignments"},
			{list + "/breakRoleInheritance(true,false)", 400, odata.CodeInvalidQuery, "by name"},
			{list + "/items(99)/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)", 404, "", ""},
		} {
			a.refused(t, before, a.req("POST", c.path, nil), c.status, c.code, c.message)
		}
		a.refused(t, before, a.req("DELETE", fmt.Sprintf("%sgetByPrincipalId(%d)", web, owners), nil), 400, spException, "A site must keep someone with Full Control")
		a.refused(t, before, a.req("DELETE", fmt.Sprintf("/_api/web/siteGroups(%d)", owners), nil), 400, spException, "A site must keep someone with Full Control")

		// Bob, without Manage Permissions (a member: Edit), changes nothing.
		a.joinGroup(t, "bob@example.com", "Cesivi Members")
		before = a.security(t)
		a.as("bob-subject", "bob@example.com")
		for _, p := range []string{
			web + "addRoleAssignment(principalid=4,roledefid=1073741829)",
			web + "removeRoleAssignment(principalid=1,roledefid=1073741829)",
			list + "/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)",
			list + "/items(1)/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)",
			"/_api/web/siteGroups",
			"/_api/web/roleDefinitions",
		} {
			a.refused(t, before, a.req("POST", p, map[string]any{"Title": "Bob's", "Name": "Bob's"}), 403, odata.CodeAccessDenied, "ManagePermissions")
		}
		a.refused(t, before, a.req("MERGE", "/_api/web/roleDefinitions(1073741826)", map[string]any{"Name": "Bob's"}), 403, odata.CodeAccessDenied, "ManagePermissions")

		// A second Full Control holder lets the Owners' go.
		a.as("alice-subject", "alice@example.com")
		me := a.req("GET", "/_api/web/siteUsers/getByEmail('bob@example.com')", nil).must(t, 200)
		bobID := num(me.json["Id"])
		a.req("POST", fmt.Sprintf("%saddRoleAssignment(principalid=%d,roledefid=%d)", web, bobID, permissions.FullControlID), nil).must(t, 200)
		a.req("POST", fmt.Sprintf("%sremoveRoleAssignment(principalid=%d,roledefid=%d)", web, owners, permissions.FullControlID), nil).must(t, 200)
		// Now bob is the last one: he cannot be removed, as an assignment
		// or as a user.
		before = a.security(t)
		a.refused(t, before, a.req("DELETE", fmt.Sprintf("%sgetByPrincipalId(%d)", web, bobID), nil), 400, spException, "Full Control")
		a.refused(t, before, a.req("POST", fmt.Sprintf("/_api/web/siteUsers/removeById(%d)", bobID), nil), 400, spException, "Full Control")

		// Full Control does not make bob a site collection administrator:
		// only one may set IsSiteAdmin.
		a.as("bob-subject", "bob@example.com")
		a.refused(t, before, a.req("MERGE", fmt.Sprintf("/_api/web/getUserById(%d)", bobID), map[string]any{"IsSiteAdmin": true}), 403, odata.CodeAccessDenied, "FullMask")
		a.as("alice-subject", "alice@example.com")
		a.req("MERGE", fmt.Sprintf("/_api/web/getUserById(%d)", bobID), map[string]any{"IsSiteAdmin": true}).must(t, 204)
	})
}

func TestRoleDefinitionsChangeAsPnPjsSendsThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		r := a.req("POST", "/_api/web/roleDefinitions", map[string]any{"Name": "Approver", "Description": "Approves",
			"Order": 70, "BasePermissions": map[string]any{"High": "0", "Low": "17"}}).must(t, 201)
		id := num(r.json["Id"])
		if id < permissions.FirstCustomRoleID || r.json["RoleTypeKind"] != float64(0) {
			t.Fatalf("roleDefinitions.add: %s", r.body)
		}
		a.req("MERGE", fmt.Sprintf("/_api/web/roleDefinitions/getById(%d)", id), map[string]any{"BasePermissions": map[string]any{"High": 0, "Low": 19}}).must(t, 204)
		if r := a.req("GET", "/_api/web/roleDefinitions/getByName('approver')", nil).must(t, 200); r.json["BasePermissions"].(map[string]any)["Low"] != "19" {
			t.Errorf("after update: %s", r.body)
		}
		before := a.security(t)
		a.refused(t, before, a.req("POST", "/_api/web/roleDefinitions", map[string]any{"Name": "read"}), 409, "-2130575214, Microsoft.SharePoint.SPException", "already in use")
		a.refused(t, before, a.req("POST", "/_api/web/roleDefinitions", map[string]any{"Name": "X", "BasePermissions": map[string]any{"High": "x", "Low": "0"}}), 400, odata.CodeInvalidQuery, "High")
		a.refused(t, before, a.req("MERGE", "/_api/web/roleDefinitions(1073741829)", map[string]any{"BasePermissions": map[string]any{"High": "0", "Low": "1"}}), 400, spException, "cannot be changed")
		a.refused(t, before, a.req("DELETE", "/_api/web/roleDefinitions(1073741826)", nil), 400, spException, "cannot be deleted")
		a.req("DELETE", fmt.Sprintf("/_api/web/roleDefinitions(%d)", id), nil).must(t, 200)
		a.req("GET", fmt.Sprintf("/_api/web/roleDefinitions(%d)", id), nil).must(t, 404)
	})
}
