package sharepoint_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// as makes the harness's requests come from another person of the
// identity provider (a fresh digest each time, as a browser would).
func (a *api) as(subject, email string, groups ...string) {
	a.t.Helper()
	a.user, a.email, a.groups, a.digest = subject, email, groups, ""
	a.signIn("")
}

// grant runs fn on the root site's security, as the permissions API
// will (the test reaches storage directly to set the scene).
func (a *api) grant(t *testing.T, fn func(s storage.Security, site *storage.Site, root *storage.Web) error) {
	t.Helper()
	ctx := context.Background()
	err := a.store.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().GetByURL(ctx, "/")
		if err != nil {
			return err
		}
		root, err := tx.Webs().Get(ctx, site.RootWebID)
		if err != nil {
			return err
		}
		return fn(tx.Security(), site, root)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// joinGroup puts the person with this e-mail into a group of the root site.
func (a *api) joinGroup(t *testing.T, email, group string) {
	t.Helper()
	ctx := context.Background()
	err := a.store.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().GetByURL(ctx, "/")
		if err != nil {
			return err
		}
		u, err := tx.Users().Ensure(ctx, site.ID, email, email, email)
		if err != nil {
			return err
		}
		g, err := tx.Security().GetGroupByTitle(ctx, site.ID, group)
		if err != nil {
			return err
		}
		return tx.Security().AddMember(ctx, site.ID, g.ID, u.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func itemIDs(t *testing.T, r *result) []int64 {
	t.Helper()
	var ids []int64
	for _, v := range r.values(t) {
		ids = append(ids, int64(v["Id"].(float64)))
	}
	return ids
}

func TestPermissionsAreEnforcedOnEveryRequest(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		items := "/_api/web/lists/getByTitle('Tasks')/items"
		for i := 1; i <= 3; i++ {
			a.req("POST", items, map[string]any{"Title": fmt.Sprintf("Task %d", i)}).must(t, 201)
		}

		// Bob, signed in, has no permission on the site: 403 with
		// SharePoint's access-denied error, for reads and writes alike.
		a.as("bob-subject", "bob@example.com")
		for _, c := range []struct{ method, path string }{
			{"GET", "/_api/web"}, {"GET", "/_api/web/lists"}, {"GET", items}, {"POST", items},
			{"GET", "/_api/web/lists/getByTitle('Tasks')"}, {"POST", "/_api/web/lists"},
		} {
			r := a.req(c.method, c.path, map[string]any{"Title": "x"})
			if r.status != 403 || r.errorCode() != odata.CodeAccessDenied {
				t.Errorf("bob %s %s: %d %s, want 403 access denied", c.method, c.path, r.status, r.body)
			}
		}

		// As a visitor (Read) bob reads, and every write is refused with
		// nothing stored.
		a.joinGroup(t, "bob@example.com", "Cesivi Visitors")
		a.req("GET", "/_api/web", nil).must(t, 200)
		// POSTs that only read are reads: CAML getItems.
		if r := a.req("POST", "/_api/web/lists/getByTitle('Tasks')/getItems", map[string]any{"query": map[string]any{"ViewXml": "<View><RowLimit>10</RowLimit></View>"}}); r.status != 200 || len(r.values(t)) != 3 {
			t.Errorf("a visitor's CAML getItems: %d %s", r.status, r.body)
		}
		if ids := itemIDs(t, a.req("GET", items+"?$select=Id", nil).must(t, 200)); !slices.Equal(ids, []int64{1, 2, 3}) {
			t.Errorf("bob reads %v", ids)
		}
		for _, c := range []struct{ method, path string }{
			{"POST", items}, {"MERGE", items + "(1)"}, {"DELETE", items + "(1)"},
			{"POST", "/_api/web/lists"}, {"MERGE", "/_api/web/lists/getByTitle('Tasks')"},
		} {
			r := a.req(c.method, c.path, map[string]any{"Title": "changed"}, "IF-MATCH", "*")
			if r.status != 403 || r.errorCode() != odata.CodeAccessDenied {
				t.Errorf("visitor %s %s: %d %s, want 403", c.method, c.path, r.status, r.body)
			}
		}
		a.as("alice-subject", "alice@example.com")
		all := a.req("GET", items+"?$select=Id,Title", nil).must(t, 200).values(t)
		if len(all) != 3 || all[0]["Title"] != "Task 1" {
			t.Errorf("after refused writes the list holds %v", all)
		}
		tasksID := a.req("GET", "/_api/web/lists/getByTitle('Tasks')", nil).must(t, 200).json["Id"].(string)

		// Item 2 gets permissions of its own that leave bob out: it is
		// absent from his queries, and by id it is a 404 like a missing
		// item.
		a.grant(t, func(s storage.Security, site *storage.Site, root *storage.Web) error {
			// The list's id is in its collection, read through the API.
			_, err := s.BreakInheritance(context.Background(), storage.ScopeRef{WebID: root.ID, ListID: tasksID, ItemID: 2}, false, false)
			return err
		})
		a.as("bob-subject", "bob@example.com")
		if ids := itemIDs(t, a.req("GET", items+"?$select=Id", nil).must(t, 200)); !slices.Equal(ids, []int64{1, 3}) {
			t.Errorf("bob reads %v, want [1 3] (2 has unique permissions without him)", ids)
		}
		if ids := itemIDs(t, a.req("GET", items+"?$select=Id&$top=1&$skiptoken=Paged%3DTRUE%26p_ID%3D1", nil).must(t, 200)); !slices.Equal(ids, []int64{3}) {
			t.Errorf("bob's second page %v, want [3]", ids)
		}
		for _, p := range []string{items + "(2)", items + "/getById(2)", items + "(99)"} {
			if r := a.req("GET", p, nil); r.status != 404 {
				t.Errorf("bob GET %s: %d %s, want 404", p, r.status, r.body)
			}
		}
		// Nor is it counted in the ItemCount he is shown.
		if n := a.req("GET", "/_api/web/lists/getByTitle('Tasks')?$select=ItemCount", nil).must(t, 200).json["ItemCount"]; n != float64(2) {
			t.Errorf("bob sees ItemCount %v, want 2", n)
		}
		for _, l := range a.req("GET", "/_api/web/lists?$select=Title,ItemCount", nil).must(t, 200).values(t) {
			if l["Title"] == "Tasks" && l["ItemCount"] != float64(2) {
				t.Errorf("bob's lists() shows Tasks with ItemCount %v, want 2", l["ItemCount"])
			}
		}
		// Alice, an administrator, still sees it.
		a.as("alice-subject", "alice@example.com")
		a.req("GET", items+"(2)", nil).must(t, 200)
		if n := a.req("GET", "/_api/web/lists/getByTitle('Tasks')?$select=ItemCount", nil).must(t, 200).json["ItemCount"]; n != float64(3) {
			t.Errorf("alice sees ItemCount %v, want 3", n)
		}
		if me := a.req("GET", "/_api/web/currentUser", nil).must(t, 200); me.json["IsSiteAdmin"] != true {
			t.Errorf("a configured administrator's IsSiteAdmin: %s", me.body)
		}

		// As a member (Edit) bob writes.
		a.joinGroup(t, "bob@example.com", "Cesivi Members")
		a.as("bob-subject", "bob@example.com")
		a.req("POST", items, map[string]any{"Title": "Bob's"}).must(t, 201)
		a.req("MERGE", items+"(1)", map[string]any{"Title": "Edited by Bob"}, "IF-MATCH", "*").must(t, 204)
		me := a.req("GET", "/_api/web/currentUser", nil).must(t, 200)
		if me.json["IsSiteAdmin"] != false {
			t.Errorf("bob's IsSiteAdmin: %s", me.body)
		}
		var groups []string
		for _, g := range a.req("GET", "/_api/web/currentUser/groups", nil).must(t, 200).values(t) {
			groups = append(groups, g["Title"].(string))
		}
		if !slices.Equal(groups, []string{"Cesivi Visitors", "Cesivi Members"}) && !slices.Equal(groups, []string{"Cesivi Members", "Cesivi Visitors"}) {
			t.Errorf("bob's groups %v", groups)
		}
		// A member cannot change the site's users (ManagePermissions).
		if r := a.req("DELETE", fmt.Sprintf("/_api/web/siteUsers/getById(%v)", me.json["Id"]), nil); r.status != 403 {
			t.Errorf("a member deleting a user: %d %s", r.status, r.body)
		}
		if r := a.req("MERGE", items+"(2)", map[string]any{"Title": "x"}, "IF-MATCH", "*"); r.status != 404 {
			t.Errorf("bob MERGE on an item he cannot see: %d, want 404", r.status)
		}
	})
}

func TestIdentityProviderGroupsAndSiteAdminsAsPrincipals(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		// Carol's provider group "Sales" reads the site; she has no row
		// of her own in it.
		ctx := context.Background()
		err := a.store.Update(ctx, func(tx storage.Tx) error {
			site, err := tx.Sites().GetByURL(ctx, "/")
			if err != nil {
				return err
			}
			claim, err := tx.Users().Ensure(ctx, site.ID, permissions.GroupClaimLogin("Sales"), "Sales", "")
			if err != nil {
				return err
			}
			return tx.Security().AddAssignment(ctx, site.RootWebID, claim.ID, permissions.ReadID)
		})
		if err != nil {
			t.Fatal(err)
		}
		a.as("carol-subject", "carol@example.com", "sales")
		a.req("GET", "/_api/web", nil).must(t, 200)
		if r := a.req("POST", "/_api/web/lists", map[string]any{"Title": "Carol's", "BaseTemplate": 100}); r.status != 403 {
			t.Errorf("a reader creating a list: %d", r.status)
		}
		a.as("carol-subject", "carol@example.com", "marketing")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Errorf("without the group carol reads the web: %d", r.status)
		}

		// A user row marked IsSiteAdmin (cesivi-server sites admins add)
		// may do everything.
		err = a.store.Update(ctx, func(tx storage.Tx) error {
			site, err := tx.Sites().GetByURL(ctx, "/")
			if err != nil {
				return err
			}
			u, err := tx.Users().Ensure(ctx, site.ID, "dave@example.com", "Dave", "dave@example.com")
			if err != nil {
				return err
			}
			yes := true
			_, err = tx.Users().Update(ctx, site.ID, u.ID, storage.UserUpdate{IsSiteAdmin: &yes})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		a.as("dave-subject", "dave@example.com")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Dave's", "BaseTemplate": 100}).must(t, 201)
	})
}

func TestFilesAreCheckedOnTheirLibraryAndItem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Private", "BaseTemplate": 101}).must(t, 201)
		a.upload("/Shared Documents", "open.txt", []byte("open"), false).must(t, 200)
		a.upload("/Private", "hidden.txt", []byte("hidden"), false).must(t, 200)
		a.req("POST", "/_api/web/folders/addUsingPath(decodedurl='Shared Documents/Secret')", nil).must(t, 200)
		a.upload("/Shared Documents/Secret", "s.txt", []byte("secret"), false).must(t, 200)
		a.req("POST", "/_api/web/lists/getByTitle('Private')/breakroleinheritance(copyRoleAssignments=false,clearSubscopes=true)", nil).must(t, 200)
		secret := a.req("GET", folderPath("/Shared Documents/Secret")+"/listItemAllFields?$select=Id", nil).must(t, 200).json["Id"]
		a.req("POST", fmt.Sprintf("/_api/web/lists/getByTitle('Documents')/items(%v)/breakroleinheritance(copyRoleAssignments=false,clearSubscopes=true)", secret), nil).must(t, 200)
		a.joinGroup(t, "bob@example.com", "Cesivi Visitors")
		bob := a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "bob@example.com"}).must(t, 200).json["Id"]

		// A visitor reads what the site shares; a library or folder with
		// permissions of its own that leave him out is missing, by path and
		// by id.
		a.as("bob-subject", "bob@example.com")
		a.req("GET", filePath("/Shared Documents/open.txt")+"/$value", nil).must(t, 200)
		for _, p := range []string{filePath("/Private/hidden.txt") + "/$value", filePath("/Shared Documents/Secret/s.txt"),
			folderPath("/Shared Documents/Secret"), folderPath("/Private")} {
			if r := a.req("GET", p, nil); r.status != 404 {
				t.Errorf("bob GET %s: %d %s, want 404", p, r.status, r.body)
			}
		}
		// Listings leave the folder out, and a path below a folder he
		// sees to it is missing too.
		for _, p := range []string{folderPath("/Shared Documents") + "/folders", "/_api/web/lists/getByTitle('Documents')/rootFolder/folders"} {
			for _, f := range a.req("GET", p, nil).must(t, 200).values(t) {
				if f["Name"] == "Secret" {
					t.Errorf("bob's %s lists the folder he cannot see", p)
				}
			}
		}
		for _, p := range []string{folderPath("/Shared Documents") + "/folders('Secret')",
			"/_api/web/lists/getByTitle('Documents')/rootFolder/folders('Secret')/files('s.txt')"} {
			if r := a.req("GET", p, nil); r.status != 404 {
				t.Errorf("bob GET %s: %d, want 404", p, r.status)
			}
		}
		// Nor may he write, by path or through the library's root folder:
		// 403, nothing stored.
		for _, r := range []*result{
			a.upload("/Shared Documents", "bob.txt", []byte("x"), false),
			a.req("POST", "/_api/web/lists/getByTitle('Documents')/rootFolder/files/addUsingPath(decodedurl='bob2.txt')", []byte("x")),
			a.req("POST", filePath("/Shared Documents/open.txt")+"/recycle", nil),
		} {
			if r.status != 403 || r.errorCode() != odata.CodeAccessDenied {
				t.Errorf("a visitor's file write: %d %s, want 403", r.status, r.body)
			}
		}
		if r := a.upload("/Private", "bob.txt", []byte("x"), false); r.status != 404 {
			t.Errorf("an upload into a library bob cannot see: %d, want 404", r.status)
		}

		// Contribute on the private library alone lets him add there, by
		// path and through the root folder, and nowhere else.
		a.as("alice-subject", "alice@example.com")
		a.req("POST", fmt.Sprintf("/_api/web/lists/getByTitle('Private')/roleassignments/addroleassignment(principalid=%v,roledefid=%d)", bob, permissions.ContributeID), nil).must(t, 200)
		a.as("bob-subject", "bob@example.com")
		a.upload("/Private", "bob.txt", []byte("mine"), false).must(t, 200)
		a.req("POST", "/_api/web/lists/getByTitle('Private')/rootFolder/files/addUsingPath(decodedurl='bob2.txt')", []byte("mine")).must(t, 200)
		a.req("GET", filePath("/Private/hidden.txt")+"/$value", nil).must(t, 200)
		if r := a.upload("/Shared Documents", "bob.txt", []byte("x"), false); r.status != 403 {
			t.Errorf("bob adds to Documents: %d, want 403", r.status)
		}
		a.as("alice-subject", "alice@example.com")
		for _, p := range []string{filePath("/Shared Documents/bob.txt"), filePath("/Shared Documents/bob2.txt")} {
			if r := a.req("GET", p, nil); r.status != 404 {
				t.Errorf("a refused upload was stored: GET %s %d", p, r.status)
			}
		}
		if r := a.req("GET", filePath("/Shared Documents/open.txt"), nil).must(t, 200); r.json["Name"] != "open.txt" {
			t.Errorf("the refused recycle changed the file: %s", r.body)
		}
	})
}
