package memstorage

import (
	"context"
	"slices"
	"strings"

	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// siteSecurity is one site's levels, groups and role assignments.
type siteSecurity struct {
	roles  map[int64]*storage.RoleDefinition
	groups map[int64]*storage.Group
	// members are each group's member principal ids.
	members map[int64]map[int64]bool
	// assignments are, per scope id, each principal's level ids.
	assignments map[string]map[int64]map[int64]bool
	nextRole    int64
}

type security struct{ t *tx }

func (t *tx) Security() storage.Security { return security{t} }

// seedSecurity gives a new site its levels, its three groups and their
// levels on the root web (see storage.Security).
func (t *tx) seedSecurity(site *storage.Site, root *storage.Web) {
	sec := &siteSecurity{roles: map[int64]*storage.RoleDefinition{}, groups: map[int64]*storage.Group{},
		members: map[int64]map[int64]bool{}, assignments: map[string]map[int64]map[int64]bool{root.ScopeID: {}},
		nextRole: permissions.FirstCustomRoleID}
	for _, r := range permissions.DefaultRoles() {
		sec.roles[r.ID] = &storage.RoleDefinition{SiteID: site.ID, Role: r}
	}
	su := t.s.db.users[site.ID]
	var owner int64
	for _, g := range permissions.DefaultGroups() {
		su.next++
		id := su.next
		if owner == 0 {
			owner = id
		}
		sec.groups[id] = &storage.Group{ID: id, SiteID: site.ID, Title: storage.DefaultGroupTitle(root.Title, g),
			OwnerID: owner, Created: t.now}
		sec.members[id] = map[int64]bool{}
		sec.assignments[root.ScopeID][id] = map[int64]bool{g.RoleID: true}
	}
	set(t, t.s.db.security, site.ID, sec)
}

func (a security) site(ctx context.Context, siteID string, write bool) (*siteSecurity, error) {
	if err := a.t.check(ctx, write); err != nil {
		return nil, err
	}
	sec, ok := a.t.s.db.security[fold(siteID)]
	if !ok {
		return nil, storage.NotFound("no site has this id")
	}
	return sec, nil
}

func cloneRole(r *storage.RoleDefinition) *storage.RoleDefinition { return clone(r) }

func (a security) RoleDefinitions(ctx context.Context, siteID string) ([]*storage.RoleDefinition, error) {
	sec, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	out := make([]*storage.RoleDefinition, 0, len(sec.roles))
	for _, r := range sec.roles {
		out = append(out, cloneRole(r))
	}
	slices.SortFunc(out, func(a, b *storage.RoleDefinition) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

func (a security) roleNameTaken(sec *siteSecurity, name string, except int64) bool {
	for _, r := range sec.roles {
		if r.ID != except && fold(r.Name) == fold(name) {
			return true
		}
	}
	return false
}

func (a security) CreateRoleDefinition(ctx context.Context, siteID string, in permissions.Role) (*storage.RoleDefinition, error) {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckRoleName(in.Name); err != nil {
		return nil, err
	}
	if a.roleNameTaken(sec, in.Name, 0) {
		return nil, storage.Conflict("a permission level with this name exists in the site")
	}
	in.ID, in.Type, in.Hidden = sec.nextRole, permissions.RoleNone, false
	assign(a.t, &sec.nextRole, sec.nextRole+1)
	r := &storage.RoleDefinition{SiteID: fold(siteID), Role: in}
	set(a.t, sec.roles, r.ID, r)
	return cloneRole(r), nil
}

func (a security) UpdateRoleDefinition(ctx context.Context, siteID string, id int64, upd storage.RoleDefinitionUpdate) (*storage.RoleDefinition, error) {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return nil, err
	}
	r, ok := sec.roles[id]
	if !ok {
		return nil, storage.NotFound("the site has no permission level %d", id)
	}
	n := cloneRole(r)
	if err := storage.ApplyRoleUpdate(&n.Role, upd); err != nil {
		return nil, err
	}
	if a.roleNameTaken(sec, n.Name, id) {
		return nil, storage.Conflict("a permission level with this name exists in the site")
	}
	set(a.t, sec.roles, id, n)
	return cloneRole(n), nil
}

func (a security) DeleteRoleDefinition(ctx context.Context, siteID string, id int64) error {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return err
	}
	r, ok := sec.roles[id]
	if !ok {
		return storage.NotFound("the site has no permission level %d", id)
	}
	if r.Type != permissions.RoleNone {
		return storage.Invalid("a built-in permission level cannot be deleted")
	}
	del(a.t, sec.roles, id)
	for _, byPrincipal := range sec.assignments {
		for _, levels := range byPrincipal {
			del(a.t, levels, id)
		}
	}
	return nil
}

func (a security) Groups(ctx context.Context, siteID string) ([]*storage.Group, error) {
	sec, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	out := make([]*storage.Group, 0, len(sec.groups))
	for _, g := range sec.groups {
		out = append(out, clone(g))
	}
	slices.SortFunc(out, func(a, b *storage.Group) int { return strings.Compare(fold(a.Title), fold(b.Title)) })
	return out, nil
}

func (a security) GetGroup(ctx context.Context, siteID string, id int64) (*storage.Group, error) {
	sec, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	g, ok := sec.groups[id]
	if !ok {
		return nil, storage.NotFound("the site has no group %d", id)
	}
	return clone(g), nil
}

func (a security) GetGroupByTitle(ctx context.Context, siteID, title string) (*storage.Group, error) {
	sec, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	for _, g := range sec.groups {
		if fold(g.Title) == fold(title) {
			return clone(g), nil
		}
	}
	return nil, storage.NotFound("the site has no group with this name")
}

// titleTaken: groups and users share the site's names (a group's title
// is its login name).
func (a security) titleTaken(sec *siteSecurity, siteID, title string, except int64) bool {
	for _, g := range sec.groups {
		if g.ID != except && fold(g.Title) == fold(title) {
			return true
		}
	}
	for _, u := range a.t.s.db.users[fold(siteID)].byID {
		if fold(u.LoginName) == fold(title) {
			return true
		}
	}
	return false
}

func (a security) principal(sec *siteSecurity, siteID string, id int64) bool {
	if _, ok := sec.groups[id]; ok {
		return true
	}
	_, ok := a.t.s.db.users[fold(siteID)].byID[id]
	return ok
}

func (a security) CreateGroup(ctx context.Context, siteID string, in storage.GroupInput) (*storage.Group, error) {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckGroupTitle(in.Title); err != nil {
		return nil, err
	}
	if a.titleTaken(sec, siteID, in.Title, 0) {
		return nil, storage.Conflict("a group or user with this name exists in the site")
	}
	if in.OwnerID != 0 && !a.principal(sec, siteID, in.OwnerID) {
		return nil, storage.NotFound("the group's owner %d is no user or group of the site", in.OwnerID)
	}
	su := a.t.s.db.users[fold(siteID)]
	assign(a.t, &su.next, su.next+1)
	g := &storage.Group{ID: su.next, SiteID: fold(siteID), Title: in.Title, Description: in.Description,
		OwnerID: in.OwnerID, Created: a.t.now}
	if g.OwnerID == 0 {
		g.OwnerID = g.ID
	}
	set(a.t, sec.groups, g.ID, g)
	set(a.t, sec.members, g.ID, map[int64]bool{})
	return clone(g), nil
}

func (a security) UpdateGroup(ctx context.Context, siteID string, id int64, upd storage.GroupUpdate) (*storage.Group, error) {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return nil, err
	}
	g, ok := sec.groups[id]
	if !ok {
		return nil, storage.NotFound("the site has no group %d", id)
	}
	n := clone(g)
	if err := storage.ApplyGroupUpdate(n, upd); err != nil {
		return nil, err
	}
	if a.titleTaken(sec, siteID, n.Title, id) {
		return nil, storage.Conflict("a group or user with this name exists in the site")
	}
	if upd.OwnerID != nil && !a.principal(sec, siteID, n.OwnerID) {
		return nil, storage.NotFound("the group's owner %d is no user or group of the site", n.OwnerID)
	}
	set(a.t, sec.groups, id, n)
	return clone(n), nil
}

func (a security) DeleteGroup(ctx context.Context, siteID string, id int64) error {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return err
	}
	if _, ok := sec.groups[id]; !ok {
		return storage.NotFound("the site has no group %d", id)
	}
	del(a.t, sec.groups, id)
	del(a.t, sec.members, id)
	for _, byPrincipal := range sec.assignments {
		del(a.t, byPrincipal, id)
	}
	return nil
}

func (a security) Members(ctx context.Context, siteID string, groupID int64) ([]*storage.User, error) {
	sec, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	m, ok := sec.members[groupID]
	if !ok {
		return nil, storage.NotFound("the site has no group %d", groupID)
	}
	su := a.t.s.db.users[fold(siteID)]
	out := []*storage.User{}
	for id := range m {
		if u, ok := su.byID[id]; ok {
			out = append(out, clone(u))
		}
	}
	slices.SortFunc(out, func(a, b *storage.User) int { return int(a.ID - b.ID) })
	return out, nil
}

func (a security) AddMember(ctx context.Context, siteID string, groupID, principalID int64) error {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return err
	}
	m, ok := sec.members[groupID]
	if !ok {
		return storage.NotFound("the site has no group %d", groupID)
	}
	if _, ok := a.t.s.db.users[fold(siteID)].byID[principalID]; !ok {
		return storage.NotFound("the site has no user %d", principalID)
	}
	if !m[principalID] {
		set(a.t, m, principalID, true)
	}
	return nil
}

func (a security) RemoveMember(ctx context.Context, siteID string, groupID, principalID int64) error {
	sec, err := a.site(ctx, siteID, true)
	if err != nil {
		return err
	}
	m, ok := sec.members[groupID]
	if !ok {
		return storage.NotFound("the site has no group %d", groupID)
	}
	del(a.t, m, principalID)
	return nil
}

func (a security) GroupsOf(ctx context.Context, siteID string, principalIDs []int64) ([]int64, error) {
	sec, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	return sec.groupsOf(principalIDs), nil
}

func (sec *siteSecurity) groupsOf(principalIDs []int64) []int64 {
	out := []int64{}
	for gid, m := range sec.members {
		for _, p := range principalIDs {
			if m[p] {
				out = append(out, gid)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// object finds a securable object: its web, its list and its item (nil
// where obj names none), checking that they belong together.
func (a security) object(obj storage.ScopeRef) (*storage.Web, *list, *storage.Item, error) {
	w, ok := a.t.s.db.webs[fold(obj.WebID)]
	if !ok {
		return nil, nil, nil, storage.NotFound("no web has this id")
	}
	if obj.ListID == "" {
		return w, nil, nil, nil
	}
	l, err := a.t.list(w.ID, obj.ListID)
	if err != nil {
		return nil, nil, nil, err
	}
	if obj.ItemID == 0 {
		return w, l, nil, nil
	}
	it, ok := l.items[obj.ItemID]
	if !ok {
		return nil, nil, nil, storage.NotFound("the list has no item %d", obj.ItemID)
	}
	return w, l, it, nil
}

func (a security) Scope(ctx context.Context, obj storage.ScopeRef) (string, bool, error) {
	if err := a.t.check(ctx, false); err != nil {
		return "", false, err
	}
	w, l, it, err := a.object(obj)
	if err != nil {
		return "", false, err
	}
	switch {
	case it != nil:
		if it.ScopeID == "" {
			return l.l.ScopeID, false, nil
		}
		return it.ScopeID, it.ScopeID == storage.ItemScopeID(l.l.ID, it.ID), nil
	case l != nil:
		return l.l.ScopeID, l.l.ScopeID == l.l.ID, nil
	default:
		return w.ScopeID, w.ScopeID == w.ID, nil
	}
}

// scopeSite is the site a scope id belongs to: a web's, a list's or an
// item's ("<list>/<item>").
func (a security) scopeSite(scopeID string) (string, bool) {
	id, _, _ := strings.Cut(scopeID, "/")
	if w, ok := a.t.s.db.webs[fold(id)]; ok {
		return w.SiteID, true
	}
	if l, ok := a.t.s.db.lists[fold(id)]; ok {
		return a.t.s.db.webs[l.l.WebID].SiteID, true
	}
	return "", false
}

// scope finds a scope's site security and, when the scope has any
// assignment or is owned by an object, its assignment map.
func (a security) scope(ctx context.Context, scopeID string, write bool) (*siteSecurity, string, error) {
	if err := a.t.check(ctx, write); err != nil {
		return nil, "", err
	}
	site, ok := a.scopeSite(scopeID)
	if !ok {
		return nil, "", storage.NotFound("no permission scope has this id")
	}
	return a.t.s.db.security[site], site, nil
}

func (a security) Assignments(ctx context.Context, scopeID string) ([]*storage.RoleAssignment, error) {
	sec, _, err := a.scope(ctx, scopeID, false)
	if err != nil {
		return nil, err
	}
	out := []*storage.RoleAssignment{}
	for p, levels := range sec.assignments[fold(scopeID)] {
		if len(levels) == 0 {
			continue
		}
		ra := &storage.RoleAssignment{ScopeID: fold(scopeID), PrincipalID: p}
		for id := range levels {
			ra.RoleIDs = append(ra.RoleIDs, id)
		}
		slices.Sort(ra.RoleIDs)
		out = append(out, ra)
	}
	slices.SortFunc(out, func(a, b *storage.RoleAssignment) int { return int(a.PrincipalID - b.PrincipalID) })
	return out, nil
}

func (a security) AddAssignment(ctx context.Context, scopeID string, principalID, roleID int64) error {
	sec, site, err := a.scope(ctx, scopeID, true)
	if err != nil {
		return err
	}
	if !a.principal(sec, site, principalID) {
		return storage.NotFound("the site has no user or group %d", principalID)
	}
	if _, ok := sec.roles[roleID]; !ok {
		return storage.NotFound("the site has no permission level %d", roleID)
	}
	scopeID = fold(scopeID)
	byPrincipal, ok := sec.assignments[scopeID]
	if !ok {
		byPrincipal = map[int64]map[int64]bool{}
		set(a.t, sec.assignments, scopeID, byPrincipal)
	}
	levels, ok := byPrincipal[principalID]
	if !ok {
		levels = map[int64]bool{}
		set(a.t, byPrincipal, principalID, levels)
	}
	if !levels[roleID] {
		set(a.t, levels, roleID, true)
	}
	return nil
}

func (a security) RemoveAssignment(ctx context.Context, scopeID string, principalID, roleID int64) error {
	sec, _, err := a.scope(ctx, scopeID, true)
	if err != nil {
		return err
	}
	byPrincipal := sec.assignments[fold(scopeID)]
	if roleID == 0 {
		del(a.t, byPrincipal, principalID)
		return nil
	}
	if levels, ok := byPrincipal[principalID]; ok {
		del(a.t, levels, roleID)
		if len(levels) == 0 {
			del(a.t, byPrincipal, principalID)
		}
	}
	return nil
}

// copyAssignments gives scope to the assignments of from.
func (a security) copyAssignments(sec *siteSecurity, from, to string) {
	n := map[int64]map[int64]bool{}
	for p, levels := range sec.assignments[from] {
		c := map[int64]bool{}
		for id := range levels {
			c[id] = true
		}
		n[p] = c
	}
	set(a.t, sec.assignments, to, n)
}

func (a security) BreakInheritance(ctx context.Context, obj storage.ScopeRef, copyAssignments, clearSubscopes bool) (string, error) {
	if err := a.t.check(ctx, true); err != nil {
		return "", err
	}
	w, l, it, err := a.object(obj)
	if err != nil {
		return "", err
	}
	sec := a.t.s.db.security[w.SiteID]
	own := storage.ScopeIDOf(storage.ScopeRef{WebID: w.ID, ListID: obj.ListID, ItemID: obj.ItemID})
	if l != nil {
		own = storage.ScopeIDOf(storage.ScopeRef{WebID: w.ID, ListID: l.l.ID, ItemID: obj.ItemID})
	}
	var old string
	switch {
	case it != nil:
		old = it.ScopeID
		if old == "" {
			old = l.l.ScopeID
		}
	case l != nil:
		old = l.l.ScopeID
	default:
		old = w.ScopeID
	}
	if old == own {
		return own, nil
	}
	if copyAssignments {
		a.copyAssignments(sec, old, own)
	} else {
		set(a.t, sec.assignments, own, map[int64]map[int64]bool{})
	}
	switch {
	case it != nil:
		a.rescopeItems(sec, l, it, it.ScopeID, own, clearSubscopes)
		a.t.record(l, storage.ChangeSystemUpdate, it)
	case l != nil:
		a.setListScope(l, own)
		if clearSubscopes {
			a.clearItemScopes(sec, l, nil)
		}
	default:
		a.rescopeWeb(sec, w, old, own, clearSubscopes)
	}
	return own, nil
}

func (a security) setWebScope(w *storage.Web, scope string) {
	n := clone(w)
	n.ScopeID = scope
	set(a.t, a.t.s.db.webs, n.ID, n)
}

func (a security) setListScope(l *list, scope string) {
	n := clone(l.l)
	n.ScopeID = scope
	assign(a.t, &l.l, n)
}

func (a security) setItemScope(l *list, it *storage.Item, scope string) {
	n := cloneItem(it)
	n.ScopeID = scope
	set(a.t, l.items, n.ID, n)
}

// rescopeWeb moves the webs and lists below (and of) w that had scope
// from to scope to; with clear, every scope below w is dropped for to.
func (a security) rescopeWeb(sec *siteSecurity, w *storage.Web, from, to string, clear bool) {
	a.setWebScope(w, to)
	var walk func(parent string)
	walk = func(parent string) {
		for _, l := range a.t.s.db.lists {
			if l.l.WebID != parent {
				continue
			}
			if l.l.ScopeID == from || clear {
				if clear && l.l.ScopeID == l.l.ID {
					del(a.t, sec.assignments, l.l.ID)
				}
				a.setListScope(l, to)
			}
			if clear {
				a.clearItemScopes(sec, l, nil)
			}
		}
		for _, c := range a.t.s.db.webs {
			if c.ParentID != parent {
				continue
			}
			if c.ScopeID == from || clear {
				if clear && c.ScopeID == c.ID {
					del(a.t, sec.assignments, c.ID)
				}
				a.setWebScope(c, to)
				walk(c.ID)
			} else if c.ScopeID != c.ID {
				walk(c.ID)
			}
		}
	}
	walk(w.ID)
}

// clearItemScopes makes the items of l (below folder, when set) inherit
// again, dropping the scopes they owned.
func (a security) clearItemScopes(sec *siteSecurity, l *list, folder *storage.File) {
	for _, it := range l.items {
		if it.ScopeID == "" {
			continue
		}
		if folder != nil {
			f, ok := l.files[it.ID]
			if !ok || !storage.IsBelowURL(f.URL, folder.URL) {
				continue
			}
		}
		if it.ScopeID == storage.ItemScopeID(l.l.ID, it.ID) {
			del(a.t, sec.assignments, it.ScopeID)
		}
		a.setItemScope(l, it, "")
	}
}

// rescopeItems gives it the scope to and, when it is a folder, the items
// below it that had its former scope from ("" for the list's).
func (a security) rescopeItems(sec *siteSecurity, l *list, it *storage.Item, from, to string, clear bool) {
	a.setItemScope(l, it, to)
	f, ok := l.files[it.ID]
	if !ok || !f.IsFolder {
		return
	}
	for _, o := range l.items {
		of, ok := l.files[o.ID]
		if !ok || !storage.IsBelowURL(of.URL, f.URL) {
			continue
		}
		if o.ScopeID == from || clear {
			if clear && o.ScopeID == storage.ItemScopeID(l.l.ID, o.ID) {
				del(a.t, sec.assignments, o.ScopeID)
			}
			a.setItemScope(l, o, to)
		}
	}
}

// inheritedScope is the ScopeID a new or moved item in folder dir takes:
// the folder's, or "" (the list's) at the root folder.
func (l *list) inheritedScope(dir string) string {
	if id, ok := l.byURL[fold(dir)]; ok {
		if it, ok := l.items[id]; ok {
			return it.ScopeID
		}
	}
	return ""
}

func (a security) ResetInheritance(ctx context.Context, obj storage.ScopeRef) error {
	if err := a.t.check(ctx, true); err != nil {
		return err
	}
	w, l, it, err := a.object(obj)
	if err != nil {
		return err
	}
	sec := a.t.s.db.security[w.SiteID]
	switch {
	case it != nil:
		own := storage.ItemScopeID(l.l.ID, it.ID)
		if it.ScopeID != own {
			return nil
		}
		parent := ""
		if f, ok := l.files[it.ID]; ok {
			parent = l.inheritedScope(f.DirURL)
		}
		a.rescopeItems(sec, l, it, own, parent, false)
		del(a.t, sec.assignments, own)
		a.t.record(l, storage.ChangeSystemUpdate, it)
	case l != nil:
		if l.l.ScopeID != l.l.ID {
			return nil
		}
		a.setListScope(l, w.ScopeID)
		del(a.t, sec.assignments, l.l.ID)
	default:
		if w.ParentID == "" {
			return storage.Invalid("a site's root web always has its own permissions")
		}
		if w.ScopeID != w.ID {
			return nil
		}
		parent := a.t.s.db.webs[w.ParentID]
		a.rescopeWeb(sec, w, w.ID, parent.ScopeID, false)
		del(a.t, sec.assignments, w.ID)
	}
	return nil
}

func (a security) Access(ctx context.Context, logins []string) ([]*storage.Access, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, l := range logins {
		want[fold(l)] = true
	}
	out := []*storage.Access{}
	for siteID, su := range a.t.s.db.users {
		var acc *storage.Access
		for _, u := range su.byID {
			if !want[fold(u.LoginName)] {
				continue
			}
			if acc == nil {
				acc = &storage.Access{SiteID: siteID, Grants: map[string]permissions.Mask{}}
			}
			acc.Principals = append(acc.Principals, u.ID)
			if u.PrincipalType == storage.PrincipalUser {
				acc.UserID, acc.IsSiteAdmin = u.ID, u.IsSiteAdmin
			}
		}
		if acc == nil {
			continue
		}
		sec := a.t.s.db.security[siteID]
		acc.Principals = append(acc.Principals, sec.groupsOf(acc.Principals)...)
		slices.Sort(acc.Principals)
		for scope, byPrincipal := range sec.assignments {
			if strings.Contains(scope, "/") {
				continue
			}
			if m := sec.mask(byPrincipal, acc.Principals); m != 0 {
				acc.Grants[scope] = m
			}
		}
		out = append(out, acc)
	}
	slices.SortFunc(out, func(a, b *storage.Access) int { return strings.Compare(a.SiteID, b.SiteID) })
	return out, nil
}

// mask is the union of the levels principals hold in byPrincipal.
func (sec *siteSecurity) mask(byPrincipal map[int64]map[int64]bool, principals []int64) permissions.Mask {
	var m permissions.Mask
	for _, p := range principals {
		for id := range byPrincipal[p] {
			if r, ok := sec.roles[id]; ok {
				m |= r.Mask
			}
		}
	}
	return m
}

func (a security) EffectiveMask(ctx context.Context, scopeID string, principals []int64) (permissions.Mask, error) {
	sec, _, err := a.scope(ctx, scopeID, false)
	if err != nil {
		return 0, err
	}
	return sec.mask(sec.assignments[fold(scopeID)], principals), nil
}

// visible reports whether v sees it (a nil v sees everything).
func (a security) visible(l *list, it *storage.Item, v *storage.Viewer) bool {
	if v == nil {
		return true
	}
	if it.ScopeID == "" {
		return v.ListVisible
	}
	site := a.t.s.db.webs[l.l.WebID].SiteID
	sec := a.t.s.db.security[site]
	return sec.mask(sec.assignments[it.ScopeID], v.Principals).Has(permissions.ViewListItems)
}

func (a security) VisibleItemCount(ctx context.Context, listID string, v *storage.Viewer) (int64, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return l.l.ItemCount, nil
	}
	var n int64
	for _, it := range l.items {
		if a.visible(l, it, v) {
			n++
		}
	}
	return n, nil
}

// dropOwnScopes removes the role assignments of the scopes items of l
// owned (an item with unique permissions), and with whole those of l
// itself: they are deleted for good, and item ids are never reused, so
// nothing could hold those scopes again. A recycled item keeps its
// assignments until its bin entry goes, so a restore brings back its
// permissions.
func (t *tx) dropOwnScopes(l *list, its []*storage.Item, whole bool) {
	w := t.s.db.webs[l.l.WebID]
	if w == nil {
		return // its web is gone, and its site's security with it
	}
	sec := t.s.db.security[w.SiteID]
	if sec == nil {
		return
	}
	for _, it := range its {
		if it != nil && it.ScopeID == storage.ItemScopeID(l.l.ID, it.ID) {
			del(t, sec.assignments, it.ScopeID)
		}
	}
	if whole && l.l.ScopeID == l.l.ID {
		del(t, sec.assignments, l.l.ID)
	}
}
