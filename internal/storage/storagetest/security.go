package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

var securityTests = []test{
	{"a new site has SharePoint's levels, groups and root assignments", testSecuritySeed},
	{"groups share the site's principal ids and names", testGroups},
	{"group membership", testMembers},
	{"a deleted user leaves their groups and role assignments", testDeletedUserLeavesEverything},
	{"what is deleted for good leaves no role assignments; what is recycled keeps them", testDeletedScopesLeaveNoAssignments},
	{"custom permission levels", testRoleDefinitions},
	{"role assignments", testAssignments},
	{"a list breaks and resets its inheritance", testListInheritance},
	{"a subweb breaks and resets its inheritance", testWebInheritance},
	{"items with unique permissions are filtered in the query", testItemVisibility},
	{"a folder's unique permissions cover what is in it", testFolderInheritance},
	{"access: principals and grants in one read", testAccess},
	{"a failed transaction changes no permission", testSecurityRollback},
}

func (e *env) sec(fn func(s storage.Security) error) {
	e.t.Helper()
	e.do(func(tx storage.Tx) error { return fn(tx.Security()) })
}

func (e *env) secRead(fn func(s storage.Security) error) {
	e.t.Helper()
	e.read(func(tx storage.Tx) error { return fn(tx.Security()) })
}

func (e *env) secFails(want error, fn func(s storage.Security) error) {
	e.t.Helper()
	e.fails(want, func(tx storage.Tx) error { return fn(tx.Security()) })
}

func (e *env) user(login string) *storage.User {
	e.t.Helper()
	var u *storage.User
	e.do(func(tx storage.Tx) (err error) {
		u, err = tx.Users().Ensure(e.ctx, e.site.ID, login, login, "")
		return err
	})
	return u
}

func (e *env) group(title string) *storage.Group {
	e.t.Helper()
	var g *storage.Group
	e.secRead(func(s storage.Security) (err error) {
		g, err = s.GetGroupByTitle(e.ctx, e.site.ID, title)
		return err
	})
	return g
}

func (e *env) assignments(scope string) map[int64][]int64 {
	e.t.Helper()
	out := map[int64][]int64{}
	e.secRead(func(s storage.Security) error {
		ras, err := s.Assignments(e.ctx, scope)
		for _, ra := range ras {
			out[ra.PrincipalID] = ra.RoleIDs
		}
		return err
	})
	return out
}

func (e *env) scope(obj storage.ScopeRef) (string, bool) {
	e.t.Helper()
	var id string
	var unique bool
	e.secRead(func(s storage.Security) (err error) {
		id, unique, err = s.Scope(e.ctx, obj)
		return err
	})
	return id, unique
}

func testSecuritySeed(t *testing.T, e *env) {
	var roles []*storage.RoleDefinition
	e.secRead(func(s storage.Security) (err error) {
		roles, err = s.RoleDefinitions(e.ctx, e.site.ID)
		return err
	})
	byID := map[int64]*storage.RoleDefinition{}
	for _, r := range roles {
		byID[r.ID] = r
	}
	for _, want := range permissions.DefaultRoles() {
		got, ok := byID[want.ID]
		if !ok || got.Name != want.Name || got.Mask != want.Mask || got.Type != want.Type || got.Hidden != want.Hidden {
			t.Errorf("level %d = %+v, want %+v", want.ID, got, want)
		}
	}
	if len(roles) != len(permissions.DefaultRoles()) {
		t.Errorf("%d levels, want %d", len(roles), len(permissions.DefaultRoles()))
	}
	if e.web.ScopeID != e.web.ID {
		t.Errorf("root web scope %q, want its own id %q", e.web.ScopeID, e.web.ID)
	}
	if id, unique := e.scope(storage.ScopeRef{WebID: e.web.ID}); id != e.web.ID || !unique {
		t.Errorf("root web Scope = %q, %v", id, unique)
	}
	got := e.assignments(e.web.ScopeID)
	for _, dg := range permissions.DefaultGroups() {
		g := e.group("Dev" + dg.Suffix)
		if !slices.Equal(got[g.ID], []int64{dg.RoleID}) {
			t.Errorf("%s holds %v on the root web, want [%d]", g.Title, got[g.ID], dg.RoleID)
		}
		if owners := e.group("Dev Owners"); g.OwnerID != owners.ID {
			t.Errorf("%s is owned by %d, want the owners group %d", g.Title, g.OwnerID, owners.ID)
		}
	}
	if len(got) != 3 {
		t.Errorf("root web assignments %v, want the three groups'", got)
	}
	l := e.list("Tasks")
	if l.ScopeID != e.web.ScopeID {
		t.Errorf("new list scope %q, want the web's %q", l.ScopeID, e.web.ScopeID)
	}
	if id, unique := e.scope(storage.ScopeRef{WebID: e.web.ID, ListID: l.ID}); id != e.web.ScopeID || unique {
		t.Errorf("list Scope = %q, %v; want the web's, inherited", id, unique)
	}
}

func testGroups(t *testing.T, e *env) {
	u := e.user("i:0#.f|membership|ann@example.com")
	var g *storage.Group
	e.sec(func(s storage.Security) (err error) {
		g, err = s.CreateGroup(e.ctx, e.site.ID, storage.GroupInput{Title: "Reviewers", Description: "They review."})
		return err
	})
	if g.ID == u.ID || g.ID <= 0 {
		t.Fatalf("group id %d collides with user %d", g.ID, u.ID)
	}
	if g.OwnerID != g.ID {
		t.Errorf("a group made without an owner owns itself: owner %d, id %d", g.OwnerID, g.ID)
	}
	u2 := e.user("i:0#.f|membership|bob@example.com")
	if u2.ID == g.ID || u2.ID <= g.ID {
		t.Errorf("user after group got id %d (group %d): ids are one sequence", u2.ID, g.ID)
	}
	e.secFails(storage.ErrConflict, func(s storage.Security) error {
		_, err := s.CreateGroup(e.ctx, e.site.ID, storage.GroupInput{Title: "reviewers"})
		return err
	})
	e.secFails(storage.ErrConflict, func(s storage.Security) error {
		_, err := s.CreateGroup(e.ctx, e.site.ID, storage.GroupInput{Title: "DEV OWNERS"})
		return err
	})
	for _, bad := range []string{"", "   ", "a|b", "x@y"} {
		e.secFails(storage.ErrInvalid, func(s storage.Security) error {
			_, err := s.CreateGroup(e.ctx, e.site.ID, storage.GroupInput{Title: bad})
			return err
		})
	}
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		_, err := s.CreateGroup(e.ctx, e.site.ID, storage.GroupInput{Title: "Orphans", OwnerID: 9999})
		return err
	})
	title, allow := "Editors", true
	e.sec(func(s storage.Security) (err error) {
		g, err = s.UpdateGroup(e.ctx, e.site.ID, g.ID, storage.GroupUpdate{Title: &title, AllowMembersEditMembership: &allow})
		return err
	})
	if g.Title != "Editors" || !g.AllowMembersEditMembership || g.Description != "They review." {
		t.Errorf("updated group %+v", g)
	}
	if got := e.group("editors"); got.ID != g.ID {
		t.Errorf("GetGroupByTitle ignoring case found %d", got.ID)
	}
	e.sec(func(s storage.Security) error {
		if err := s.AddMember(e.ctx, e.site.ID, g.ID, u.ID); err != nil {
			return err
		}
		return s.AddAssignment(e.ctx, e.web.ScopeID, g.ID, permissions.ContributeID)
	})
	e.sec(func(s storage.Security) error { return s.DeleteGroup(e.ctx, e.site.ID, g.ID) })
	if _, ok := e.assignments(e.web.ScopeID)[g.ID]; ok {
		t.Error("a deleted group keeps its role assignment")
	}
	e.secRead(func(s storage.Security) error {
		if _, err := s.GetGroup(e.ctx, e.site.ID, g.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetGroup of a deleted group: %v", err)
		}
		ids, err := s.GroupsOf(e.ctx, e.site.ID, []int64{u.ID})
		if len(ids) != 0 {
			t.Errorf("a deleted group keeps its members: %v", ids)
		}
		return err
	})
	var groups []*storage.Group
	e.secRead(func(s storage.Security) (err error) {
		groups, err = s.Groups(e.ctx, e.site.ID)
		return err
	})
	var titles []string
	for _, g := range groups {
		titles = append(titles, g.Title)
	}
	if !slices.Equal(titles, []string{"Dev Members", "Dev Owners", "Dev Visitors"}) {
		t.Errorf("groups %v", titles)
	}
}

func testMembers(t *testing.T, e *env) {
	ann := e.user("i:0#.f|membership|ann@example.com")
	claim := e.user(permissions.GroupClaimLogin("engineering"))
	members, visitors := e.group("Dev Members"), e.group("Dev Visitors")
	e.sec(func(s storage.Security) error {
		for _, p := range []int64{ann.ID, ann.ID, claim.ID} {
			if err := s.AddMember(e.ctx, e.site.ID, members.ID, p); err != nil {
				return err
			}
		}
		return s.AddMember(e.ctx, e.site.ID, visitors.ID, claim.ID)
	})
	e.secRead(func(s storage.Security) error {
		us, err := s.Members(e.ctx, e.site.ID, members.ID)
		if err != nil {
			return err
		}
		if len(us) != 2 || us[0].ID != ann.ID || us[1].ID != claim.ID {
			t.Errorf("members %+v, want ann and the claim, once each", us)
		}
		ids, err := s.GroupsOf(e.ctx, e.site.ID, []int64{ann.ID, claim.ID})
		want := []int64{members.ID, visitors.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("GroupsOf = %v, want %v", ids, want)
		}
		return err
	})
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		return s.AddMember(e.ctx, e.site.ID, members.ID, 4242)
	})
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		return s.AddMember(e.ctx, e.site.ID, 4242, ann.ID)
	})
	e.sec(func(s storage.Security) error {
		if err := s.RemoveMember(e.ctx, e.site.ID, members.ID, ann.ID); err != nil {
			return err
		}
		return s.RemoveMember(e.ctx, e.site.ID, members.ID, ann.ID) // a no-op
	})
	e.secRead(func(s storage.Security) error {
		ids, err := s.GroupsOf(e.ctx, e.site.ID, []int64{ann.ID})
		if len(ids) != 0 {
			t.Errorf("ann is still in %v", ids)
		}
		return err
	})
}

func testDeletedUserLeavesEverything(t *testing.T, e *env) {
	ann := e.user("i:0#.f|membership|ann@example.com")
	members := e.group("Dev Members")
	e.sec(func(s storage.Security) error {
		if err := s.AddMember(e.ctx, e.site.ID, members.ID, ann.ID); err != nil {
			return err
		}
		return s.AddAssignment(e.ctx, e.web.ScopeID, ann.ID, permissions.ContributeID)
	})
	e.do(func(tx storage.Tx) error { return tx.Users().Delete(e.ctx, e.site.ID, ann.ID) })
	e.secRead(func(s storage.Security) error {
		ids, err := s.GroupsOf(e.ctx, e.site.ID, []int64{ann.ID})
		if len(ids) != 0 {
			t.Errorf("the deleted user is still in groups %v", ids)
		}
		return err
	})
	if got, ok := e.assignments(e.web.ScopeID)[ann.ID]; ok {
		t.Errorf("the deleted user still holds %v on the web", got)
	}
	e.secRead(func(s storage.Security) error {
		m, err := s.EffectiveMask(e.ctx, e.web.ScopeID, []int64{ann.ID})
		if m != 0 {
			t.Errorf("the deleted user's id still grants %x", m)
		}
		return err
	})
}

func testRoleDefinitions(t *testing.T, e *env) {
	var r *storage.RoleDefinition
	e.sec(func(s storage.Security) (err error) {
		r, err = s.CreateRoleDefinition(e.ctx, e.site.ID, permissions.Role{Name: "Approvers", Order: 300,
			Mask: permissions.Of(permissions.ViewListItems, permissions.ApproveItems)})
		return err
	})
	if r.ID < permissions.FirstCustomRoleID || r.Type != permissions.RoleNone {
		t.Errorf("custom level %+v", r)
	}
	e.secFails(storage.ErrConflict, func(s storage.Security) error {
		_, err := s.CreateRoleDefinition(e.ctx, e.site.ID, permissions.Role{Name: "full control"})
		return err
	})
	e.secFails(storage.ErrInvalid, func(s storage.Security) error {
		_, err := s.CreateRoleDefinition(e.ctx, e.site.ID, permissions.Role{Name: " "})
		return err
	})
	e.secFails(storage.ErrInvalid, func(s storage.Security) error {
		return s.DeleteRoleDefinition(e.ctx, e.site.ID, permissions.ReadID)
	})
	mask := permissions.Of(permissions.ViewListItems)
	e.sec(func(s storage.Security) (err error) {
		r, err = s.UpdateRoleDefinition(e.ctx, e.site.ID, r.ID, storage.RoleDefinitionUpdate{Mask: &mask})
		return err
	})
	if r.Mask != mask || r.Name != "Approvers" {
		t.Errorf("updated level %+v", r)
	}
	visitors := e.group("Dev Visitors")
	e.sec(func(s storage.Security) error { return s.AddAssignment(e.ctx, e.web.ScopeID, visitors.ID, r.ID) })
	e.sec(func(s storage.Security) error { return s.DeleteRoleDefinition(e.ctx, e.site.ID, r.ID) })
	if got := e.assignments(e.web.ScopeID)[visitors.ID]; !slices.Equal(got, []int64{permissions.ReadID}) {
		t.Errorf("after deleting a level the visitors hold %v", got)
	}
}

func testAssignments(t *testing.T, e *env) {
	ann := e.user("i:0#.f|membership|ann@example.com")
	e.sec(func(s storage.Security) error {
		for _, id := range []int64{permissions.ReadID, permissions.ContributeID, permissions.ReadID} {
			if err := s.AddAssignment(e.ctx, e.web.ScopeID, ann.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if got := e.assignments(e.web.ScopeID)[ann.ID]; !slices.Equal(got, []int64{permissions.ReadID, permissions.ContributeID}) {
		t.Errorf("ann holds %v", got)
	}
	e.secRead(func(s storage.Security) error {
		m, err := s.EffectiveMask(e.ctx, e.web.ScopeID, []int64{ann.ID})
		if want := permissions.DefaultRoleMask(permissions.ContributeID) | permissions.DefaultRoleMask(permissions.ReadID); m != want {
			t.Errorf("EffectiveMask = %x, want %x", m, want)
		}
		return err
	})
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		return s.AddAssignment(e.ctx, e.web.ScopeID, 4242, permissions.ReadID)
	})
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		return s.AddAssignment(e.ctx, e.web.ScopeID, ann.ID, 4242)
	})
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		return s.AddAssignment(e.ctx, "no-such-scope", ann.ID, permissions.ReadID)
	})
	e.sec(func(s storage.Security) error {
		return s.RemoveAssignment(e.ctx, e.web.ScopeID, ann.ID, permissions.ReadID)
	})
	if got := e.assignments(e.web.ScopeID)[ann.ID]; !slices.Equal(got, []int64{permissions.ContributeID}) {
		t.Errorf("after removing Read ann holds %v", got)
	}
	e.sec(func(s storage.Security) error { return s.RemoveAssignment(e.ctx, e.web.ScopeID, ann.ID, 0) })
	if got, ok := e.assignments(e.web.ScopeID)[ann.ID]; ok {
		t.Errorf("after removing every level ann holds %v", got)
	}
}

func testListInheritance(t *testing.T, e *env) {
	l := e.list("Tasks")
	ann := e.user("i:0#.f|membership|ann@example.com")
	obj := storage.ScopeRef{WebID: e.web.ID, ListID: l.ID}
	var id string
	e.sec(func(s storage.Security) (err error) {
		id, err = s.BreakInheritance(e.ctx, obj, true, false)
		if err != nil {
			return err
		}
		return s.AddAssignment(e.ctx, id, ann.ID, permissions.ReadID)
	})
	if id != l.ID {
		t.Errorf("list scope id %q, want the list's id", id)
	}
	if got, unique := e.scope(obj); got != l.ID || !unique {
		t.Errorf("after break Scope = %q, %v", got, unique)
	}
	if got := e.assignments(l.ID); len(got) != 4 || !slices.Equal(got[ann.ID], []int64{permissions.ReadID}) {
		t.Errorf("copied assignments plus ann's: %v", got)
	}
	if _, ok := e.assignments(e.web.ScopeID)[ann.ID]; ok {
		t.Error("an assignment on the list landed on the web")
	}
	e.read(func(tx storage.Tx) error {
		got, err := tx.Lists().Get(e.ctx, e.web.ID, l.ID)
		if err == nil && got.ScopeID != l.ID {
			t.Errorf("List.ScopeID = %q after break", got.ScopeID)
		}
		return err
	})
	e.sec(func(s storage.Security) error {
		if _, err := s.BreakInheritance(e.ctx, obj, false, false); err != nil { // a no-op now
			return err
		}
		return s.ResetInheritance(e.ctx, obj)
	})
	if got, unique := e.scope(obj); got != e.web.ScopeID || unique {
		t.Errorf("after reset Scope = %q, %v", got, unique)
	}
	if got := e.assignments(l.ID); len(got) != 0 {
		t.Errorf("a reset scope keeps assignments %v", got)
	}
	e.sec(func(s storage.Security) error {
		_, err := s.BreakInheritance(e.ctx, obj, false, false)
		return err
	})
	if got := e.assignments(l.ID); len(got) != 0 {
		t.Errorf("break without copy has assignments %v", got)
	}
	e.secFails(storage.ErrInvalid, func(s storage.Security) error {
		return s.ResetInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID})
	})
	e.secFails(storage.ErrNotFound, func(s storage.Security) error {
		_, err := s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: storage.NewGUID()}, true, false)
		return err
	})
}

func testWebInheritance(t *testing.T, e *env) {
	var sub *storage.Web
	var l *storage.List
	e.do(func(tx storage.Tx) (err error) {
		if sub, err = tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "team", Title: "Team"}); err != nil {
			return err
		}
		l, err = tx.Lists().Create(e.ctx, sub.ID, storage.ListInput{Title: "Notes"})
		return err
	})
	if sub.ScopeID != e.web.ScopeID || l.ScopeID != e.web.ScopeID {
		t.Fatalf("subweb %q and its list %q do not inherit %q", sub.ScopeID, l.ScopeID, e.web.ScopeID)
	}
	obj := storage.ScopeRef{WebID: sub.ID}
	e.sec(func(s storage.Security) error {
		_, err := s.BreakInheritance(e.ctx, obj, true, false)
		return err
	})
	e.read(func(tx storage.Tx) error {
		w, err := tx.Webs().Get(e.ctx, sub.ID)
		if err != nil {
			return err
		}
		gl, err := tx.Lists().Get(e.ctx, sub.ID, l.ID)
		if err != nil {
			return err
		}
		if w.ScopeID != sub.ID || gl.ScopeID != sub.ID {
			t.Errorf("after break: web %q, list %q; want %q", w.ScopeID, gl.ScopeID, sub.ID)
		}
		loc, err := tx.Webs().Locate(e.ctx, sub.ServerRelativeURL, storage.ListRef{ID: l.ID}, storage.Prefetch{})
		if err == nil && (loc.Web.ScopeID != sub.ID || loc.List.ScopeID != sub.ID) {
			t.Errorf("Locate: web %q, list %q", loc.Web.ScopeID, loc.List.ScopeID)
		}
		return err
	})
	if got := e.assignments(sub.ID); len(got) != 3 {
		t.Errorf("subweb's copied assignments %v", got)
	}
	e.sec(func(s storage.Security) error { return s.ResetInheritance(e.ctx, obj) })
	e.read(func(tx storage.Tx) error {
		gl, err := tx.Lists().Get(e.ctx, sub.ID, l.ID)
		if err == nil && gl.ScopeID != e.web.ScopeID {
			t.Errorf("after reset the subweb's list has scope %q", gl.ScopeID)
		}
		return err
	})
}

// visibleIDs is what viewer v sees of list l, page by page (page size 3).
func (e *env) visibleIDs(l *storage.List, v *storage.Viewer) []int64 {
	e.t.Helper()
	var ids []int64
	var after *odata.SkipToken
	for pages := 0; pages < 100; pages++ {
		var page *storage.ItemPage
		e.read(func(tx storage.Tx) (err error) {
			page, err = tx.Items().Query(e.ctx, l.ID, storage.ItemQuery{Top: 3, After: after, Viewer: v})
			return err
		})
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.Next == nil {
			return ids
		}
		after = page.Next
	}
	e.t.Fatal("paging does not end")
	return nil
}

func testItemVisibility(t *testing.T, e *env) {
	l := e.list("Tasks")
	ann := e.user("i:0#.f|membership|ann@example.com")
	bob := e.user("i:0#.f|membership|bob@example.com")
	for i := 0; i < 10; i++ {
		e.add(l.ID, ann.ID, map[string]odata.Value{"Title": odata.String("t")})
	}
	// Items 2, 5 and 8 get their own scopes: ann may read 2 and 5, bob 8.
	e.sec(func(s storage.Security) error {
		for _, n := range []int64{2, 5, 8} {
			id, err := s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: n}, false, false)
			if err != nil {
				return err
			}
			if id != storage.ItemScopeID(l.ID, n) {
				t.Errorf("item scope id %q", id)
			}
			who := ann.ID
			if n == 8 {
				who = bob.ID
			}
			if err := s.AddAssignment(e.ctx, id, who, permissions.ReadID); err != nil {
				return err
			}
		}
		// Limited Access does not let bob read item 5.
		return s.AddAssignment(e.ctx, storage.ItemScopeID(l.ID, 5), bob.ID, permissions.LimitedAccessID)
	})
	e.read(func(tx storage.Tx) error {
		it, err := tx.Items().Get(e.ctx, l.ID, 5)
		if err == nil && it.ScopeID != storage.ItemScopeID(l.ID, 5) {
			t.Errorf("Item.ScopeID = %q", it.ScopeID)
		}
		it, err = tx.Items().Get(e.ctx, l.ID, 4)
		if err == nil && it.ScopeID != "" {
			t.Errorf("an inheriting item has ScopeID %q", it.ScopeID)
		}
		return err
	})
	cases := []struct {
		name string
		v    *storage.Viewer
		want []int64
	}{
		{"everything", nil, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"ann, who sees the list", &storage.Viewer{Principals: []int64{ann.ID}, ListVisible: true}, []int64{1, 2, 3, 4, 5, 6, 7, 9, 10}},
		{"bob, who does not see the list", &storage.Viewer{Principals: []int64{bob.ID}}, []int64{8}},
		{"nobody", &storage.Viewer{Principals: []int64{}}, nil},
	}
	for _, c := range cases {
		if got := e.visibleIDs(l, c.v); !slices.Equal(got, c.want) {
			t.Errorf("%s sees %v, want %v", c.name, got, c.want)
		}
		e.secRead(func(s storage.Security) error {
			n, err := s.VisibleItemCount(e.ctx, l.ID, c.v)
			if n != int64(len(c.want)) {
				t.Errorf("%s: VisibleItemCount = %d, want %d", c.name, n, len(c.want))
			}
			return err
		})
	}
	e.sec(func(s storage.Security) error {
		return s.ResetInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: 8})
	})
	if got := e.visibleIDs(l, &storage.Viewer{Principals: []int64{bob.ID}}); len(got) != 0 {
		t.Errorf("after reset bob still sees %v", got)
	}
	// clearSubscopes on the list: every item inherits again.
	e.sec(func(s storage.Security) error {
		_, err := s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID}, true, true)
		return err
	})
	if got := e.assignments(storage.ItemScopeID(l.ID, 2)); len(got) != 0 {
		t.Errorf("a cleared item scope keeps %v", got)
	}
	if got := e.visibleIDs(l, &storage.Viewer{Principals: []int64{ann.ID}}); len(got) != 0 {
		t.Errorf("after clearSubscopes ann (list hidden) sees %v", got)
	}
}

func testFolderInheritance(t *testing.T, e *env) {
	l := e.docs()
	ann := e.user("i:0#.f|membership|ann@example.com")
	folder := e.mkdir(l, "", "secret")
	before := e.upload(l, "secret", "a.txt", "a")
	outside := e.upload(l, "", "b.txt", "b")
	var scope string
	e.sec(func(s storage.Security) (err error) {
		scope, err = s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: folder.ItemID}, false, false)
		if err != nil {
			return err
		}
		return s.AddAssignment(e.ctx, scope, ann.ID, permissions.ReadID)
	})
	inner := e.mkdir(l, "secret", "deeper")
	after := e.upload(l, "secret/deeper", "c.txt", "c")
	scopeOf := func(f *storage.File) string {
		var it *storage.Item
		e.read(func(tx storage.Tx) (err error) {
			it, err = tx.Items().Get(e.ctx, l.ID, f.ItemID)
			return err
		})
		return it.ScopeID
	}
	for _, f := range []*storage.File{folder, before, inner, after} {
		if got := scopeOf(f); got != scope {
			t.Errorf("%s has scope %q, want the folder's %q", f.URL, got, scope)
		}
	}
	if got := scopeOf(outside); got != "" {
		t.Errorf("a file outside the folder has scope %q", got)
	}
	want := []int64{folder.ItemID, before.ItemID, inner.ItemID, after.ItemID}
	slices.Sort(want)
	if got := e.visibleIDs(l, &storage.Viewer{Principals: []int64{ann.ID}}); !slices.Equal(got, want) {
		t.Errorf("ann sees %v, want the folder's tree %v", got, want)
	}
	e.sec(func(s storage.Security) error {
		return s.ResetInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: folder.ItemID})
	})
	for _, f := range []*storage.File{folder, before, inner, after} {
		if got := scopeOf(f); got != "" {
			t.Errorf("after reset %s has scope %q", f.URL, got)
		}
	}
}

func testAccess(t *testing.T, e *env) {
	ann := e.user("i:0#.f|membership|ann@example.com")
	claim := e.user(permissions.GroupClaimLogin("engineering"))
	members, visitors := e.group("Dev Members"), e.group("Dev Visitors")
	l := e.list("Tasks")
	item := e.add(l.ID, 0, map[string]odata.Value{"Title": odata.String("x")})
	e.sec(func(s storage.Security) error {
		if err := s.AddMember(e.ctx, e.site.ID, members.ID, ann.ID); err != nil {
			return err
		}
		if err := s.AddMember(e.ctx, e.site.ID, visitors.ID, claim.ID); err != nil {
			return err
		}
		id, err := s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID}, false, false)
		if err != nil {
			return err
		}
		if err := s.AddAssignment(e.ctx, id, claim.ID, permissions.ContributeID); err != nil {
			return err
		}
		// Item scopes are not part of Access.
		if _, err := s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: item.ID}, true, false); err != nil {
			return err
		}
		return nil
	})
	// A second site where ann is a user with nothing.
	var other *storage.Site
	e.do(func(tx storage.Tx) (err error) {
		if other, err = tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/other", Title: "Other"}); err != nil {
			return err
		}
		_, err = tx.Users().Ensure(e.ctx, other.ID, ann.LoginName, "Ann", "")
		return err
	})
	var acc []*storage.Access
	e.secRead(func(s storage.Security) (err error) {
		acc, err = s.Access(e.ctx, []string{"I:0#.F|MEMBERSHIP|ANN@EXAMPLE.COM", claim.LoginName, "i:0#.f|membership|nobody"})
		return err
	})
	if len(acc) != 2 {
		t.Fatalf("Access for %d sites, want 2: %+v", len(acc), acc)
	}
	var here, there *storage.Access
	for _, a := range acc {
		switch a.SiteID {
		case e.site.ID:
			here = a
		case other.ID:
			there = a
		}
	}
	if here == nil || there == nil {
		t.Fatalf("Access sites %+v", acc)
	}
	want := []int64{ann.ID, claim.ID, members.ID, visitors.ID}
	slices.Sort(want)
	if !slices.Equal(here.Principals, want) || here.UserID != ann.ID {
		t.Errorf("principals %v (user %d), want %v (user %d)", here.Principals, here.UserID, want, ann.ID)
	}
	edit, read, contribute := permissions.DefaultRoleMask(permissions.EditID), permissions.DefaultRoleMask(permissions.ReadID), permissions.DefaultRoleMask(permissions.ContributeID)
	if got := here.Grants[e.web.ScopeID]; got != edit|read {
		t.Errorf("root web grant %x, want Edit|Read %x", got, edit|read)
	}
	if got := here.Grants[l.ID]; got != contribute {
		t.Errorf("list grant %x, want Contribute %x", got, contribute)
	}
	if len(here.Grants) != 2 {
		t.Errorf("grants %v: only web and list scopes", here.Grants)
	}
	if len(there.Grants) != 0 || there.IsSiteAdmin {
		t.Errorf("the other site grants %+v", there)
	}
	admin := true
	e.do(func(tx storage.Tx) error {
		_, err := tx.Users().Update(e.ctx, other.ID, there.UserID, storage.UserUpdate{IsSiteAdmin: &admin})
		return err
	})
	e.secRead(func(s storage.Security) (err error) {
		acc, err = s.Access(e.ctx, []string{ann.LoginName})
		return err
	})
	for _, a := range acc {
		if a.IsSiteAdmin != (a.SiteID == other.ID) {
			t.Errorf("site %s: IsSiteAdmin %v", a.SiteID, a.IsSiteAdmin)
		}
	}
}

func testSecurityRollback(t *testing.T, e *env) {
	ann := e.user("i:0#.f|membership|ann@example.com")
	l := e.list("Tasks")
	boom := errors.New("boom")
	err := e.s.Update(e.ctx, func(tx storage.Tx) error {
		s := tx.Security()
		if err := s.AddAssignment(e.ctx, e.web.ScopeID, ann.ID, permissions.FullControlID); err != nil {
			return err
		}
		if _, err := s.BreakInheritance(e.ctx, storage.ScopeRef{WebID: e.web.ID, ListID: l.ID}, true, false); err != nil {
			return err
		}
		if _, err := s.CreateGroup(e.ctx, e.site.ID, storage.GroupInput{Title: "Ghosts"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: %v", err)
	}
	if _, ok := e.assignments(e.web.ScopeID)[ann.ID]; ok {
		t.Error("a rolled-back assignment stayed")
	}
	if id, unique := e.scope(storage.ScopeRef{WebID: e.web.ID, ListID: l.ID}); unique || id != e.web.ScopeID {
		t.Errorf("a rolled-back break stayed: %q %v", id, unique)
	}
	e.secRead(func(s storage.Security) error {
		if _, err := s.GetGroupByTitle(e.ctx, e.site.ID, "Ghosts"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("a rolled-back group: %v", err)
		}
		return nil
	})
}

func testDeletedScopesLeaveNoAssignments(t *testing.T, e *env) {
	l := e.list("Tasks")
	ann := e.user("i:0#.f|membership|ann@example.com")
	for range 4 {
		e.add(l.ID, ann.ID, map[string]odata.Value{"Title": odata.String("t")})
	}
	archive := e.list("Archive")
	e.add(archive.ID, ann.ID, map[string]odata.Value{"Title": odata.String("a")})
	own := func(ref storage.ScopeRef) string {
		var id string
		e.sec(func(s storage.Security) (err error) {
			if id, err = s.BreakInheritance(e.ctx, ref, false, false); err != nil {
				return err
			}
			return s.AddAssignment(e.ctx, id, ann.ID, permissions.ReadID)
		})
		return id
	}
	item := func(n int64) string { return own(storage.ScopeRef{WebID: e.web.ID, ListID: l.ID, ItemID: n}) }
	s1, s2, s3 := item(1), item(2), item(3)
	archiveScope := own(storage.ScopeRef{WebID: e.web.ID, ListID: archive.ID})
	archiveItem := own(storage.ScopeRef{WebID: e.web.ID, ListID: archive.ID, ItemID: 1})
	webBefore := len(e.assignments(e.web.ScopeID))
	// A scope whose object is gone may be unknown (NotFound) or empty:
	// either way it grants nothing.
	holds := func(scope string) bool {
		found := false
		e.secRead(func(s storage.Security) error {
			ras, err := s.Assignments(e.ctx, scope)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			for _, ra := range ras {
				found = found || ra.PrincipalID == ann.ID
			}
			return err
		})
		return found
	}
	recycle := func(fn func(b storage.RecycleBin) (*storage.RecycleBinItem, error)) *storage.RecycleBinItem {
		var bi *storage.RecycleBinItem
		e.do(func(tx storage.Tx) (err error) { bi, err = fn(tx.RecycleBin()); return err })
		return bi
	}

	// Deleted for good: its scope's grants go.
	e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, 1, 0) })
	if holds(s1) {
		t.Errorf("a deleted item's scope still grants ann: %v", e.assignments(s1))
	}
	// An inheriting item's delete touches nobody's grants.
	e.do(func(tx storage.Tx) error { return tx.Items().Delete(e.ctx, l.ID, 4, 0) })

	// Recycled: kept, and back with a restore; gone when the entry is
	// deleted from the bin.
	bi := recycle(func(b storage.RecycleBin) (*storage.RecycleBinItem, error) {
		return b.RecycleItem(e.ctx, l.ID, 2, ann.ID, 0)
	})
	if !holds(s2) {
		t.Errorf("a recycled item's scope lost its grants")
	}
	e.do(func(tx storage.Tx) error { return tx.RecycleBin().Restore(e.ctx, e.site.ID, bi.ID) })
	e.read(func(tx storage.Tx) error {
		it, err := tx.Items().Get(e.ctx, l.ID, 2)
		if err == nil && (it.ScopeID != s2 || !holds(s2)) {
			t.Errorf("a restored item has scope %q, ann held: %v", it.ScopeID, holds(s2))
		}
		return err
	})
	bi = recycle(func(b storage.RecycleBin) (*storage.RecycleBinItem, error) {
		return b.RecycleItem(e.ctx, l.ID, 2, ann.ID, 0)
	})
	e.do(func(tx storage.Tx) error { return tx.RecycleBin().Delete(e.ctx, e.site.ID, bi.ID) })
	if holds(s2) {
		t.Errorf("an item deleted from the bin still has its grants")
	}

	// Emptying the bin, and a whole list with its own scope and an item's.
	recycle(func(b storage.RecycleBin) (*storage.RecycleBinItem, error) {
		return b.RecycleItem(e.ctx, l.ID, 3, ann.ID, 0)
	})
	recycleArchive := func(b storage.RecycleBin) (*storage.RecycleBinItem, error) {
		return b.RecycleList(e.ctx, e.web.ID, archive.ID, ann.ID)
	}
	bi = recycle(recycleArchive)
	e.do(func(tx storage.Tx) error { return tx.RecycleBin().Restore(e.ctx, e.site.ID, bi.ID) })
	if !holds(archiveScope) || !holds(archiveItem) {
		t.Errorf("a list recycled and restored lost its grants or its item's")
	}
	recycle(recycleArchive)
	e.do(func(tx storage.Tx) error { return tx.RecycleBin().Empty(e.ctx, e.site.ID, "") })
	for name, scope := range map[string]string{"item 3": s3, "the list": archiveScope, "the list's item": archiveItem} {
		if holds(scope) {
			t.Errorf("%s, deleted with the bin, still grants ann", name)
		}
	}
	if n := len(e.assignments(e.web.ScopeID)); n != webBefore {
		t.Errorf("the web's assignments went from %d to %d", webBefore, n)
	}
}
