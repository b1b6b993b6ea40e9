package sharepoint

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// securable is a web, a list or an item whose permissions a call reads
// or changes: roleAssignments, breakRoleInheritance,
// resetRoleInheritance, effectiveBasePermissions,
// getUserEffectivePermissions and doesUserHavePermissions hang below
// each.
type securable struct {
	web  *storage.Web
	list *storage.List // nil: the web
	item int64         // 0: the list (or the web)
}

func (o securable) ref() storage.ScopeRef {
	r := storage.ScopeRef{WebID: o.web.ID}
	if o.list != nil {
		r.ListID, r.ItemID = o.list.ID, o.item
	}
	return r
}

// link is the object's edit link, the prefix of its role assignments'.
func (o securable) link() string {
	switch {
	case o.list == nil:
		return "Web"
	case o.item == 0:
		return "Web/Lists(guid'" + o.list.ID + "')"
	}
	return "Web/Lists(guid'" + o.list.ID + "')/Items(" + strconv.FormatInt(o.item, 10) + ")"
}

func (o securable) isRootWeb() bool { return o.list == nil && o.web.ParentID == "" }

// scope is the object's effective scope and whether it owns it
// (HasUniqueRoleAssignments).
func (c *call) scope(o securable) (string, bool, error) {
	switch {
	case o.list == nil:
		return o.web.ScopeID, o.web.ScopeID == o.web.ID, nil
	case o.item == 0:
		return o.list.ScopeID, o.list.ScopeID == o.list.ID, nil
	}
	id, unique, err := c.tx.Security().Scope(c.ctx, o.ref())
	if err != nil {
		return "", false, c.itemMissing(err)
	}
	return id, unique, nil
}

// objectMask is what the signed-in user holds on the object.
func (c *call) objectMask(o securable) (permissions.Mask, error) {
	a, err := c.access()
	if err != nil {
		return 0, err
	}
	switch {
	case o.list == nil:
		return a.mask(o.web.ScopeID), nil
	case o.item == 0:
		return a.mask(o.list.ScopeID), nil
	}
	return c.itemMask(a, o.list, o.item)
}

// selects reports whether $select names the property (ignoring case):
// properties SharePoint only writes when asked for.
func (c *call) selects(name string) bool {
	for _, s := range c.query.Select {
		head, _, _ := strings.Cut(s, "/")
		if strings.EqualFold(head, name) {
			return true
		}
	}
	return false
}

// securableProps adds to a web's or list's entity, when $select names
// them, HasUniqueRoleAssignments (withUnique) and
// EffectiveBasePermissions on its scope.
func (c *call) securableProps(ent *odata.Entity, scope string, unique, withUnique bool) {
	if withUnique && c.selects("HasUniqueRoleAssignments") {
		ent.Props = append(ent.Props, odata.Prop{Name: "HasUniqueRoleAssignments", Value: unique})
	}
	if c.selects("EffectiveBasePermissions") {
		var m permissions.Mask
		if a, err := c.access(); err == nil {
			m = a.mask(scope)
		}
		ent.Props = append(ent.Props, odata.Prop{Name: "EffectiveBasePermissions", Value: basePermissions(m)})
	}
}

// securableResource serves what every securable object has; ok is
// false when seg is none of it.
func (c *call) securableResource(o securable, seg odata.Segment, rest []odata.Segment) (resp *response, ok bool, err error) {
	switch {
	case seg.Is("roleassignments"):
		resp, err = c.roleAssignments(o, seg, rest)
	case seg.Is("breakroleinheritance") && len(rest) == 0:
		resp, err = c.breakInheritance(o, seg)
	case seg.Is("resetroleinheritance") && len(rest) == 0:
		resp, err = c.resetInheritance(o, seg)
	case seg.Is("effectivebasepermissions") && len(rest) == 0:
		resp, err = c.effectivePermissions(o)
	case seg.Is("getusereffectivepermissions") && seg.Call && len(rest) == 0:
		resp, err = c.userEffectivePermissions(o, seg)
	case seg.Is("doesuserhavepermissions") && seg.Call && len(rest) == 0:
		resp, err = c.doesUserHavePermissions(o, seg)
	default:
		return nil, false, nil
	}
	return resp, true, err
}

// permissionCallKind is the permission a call on a securable object's
// permissions needs on the object's scope, beyond reading the object:
// EnumeratePermissions to read role assignments, ManagePermissions to
// change them or the object's inheritance. ok is false for other calls.
func permissionCallKind(after odata.Path, readOnly bool) (permissions.Kind, bool) {
	if len(after) == 0 {
		return 0, false
	}
	switch {
	case after[0].Is("roleassignments"):
		if readOnly {
			return permissions.EnumeratePermissions, true
		}
		return permissions.ManagePermissions, true
	case after[0].Is("breakroleinheritance"), after[0].Is("resetroleinheritance"):
		return permissions.ManagePermissions, true
	}
	return 0, false
}

// spError is SharePoint's SPException with a status.
func spError(status int, msg string) *odata.Error {
	return odata.NewError(status, "-2146232832, Microsoft.SharePoint.SPException", msg)
}

// Role assignments.

// roleAssignments is <object>/roleAssignments: the collection (with
// $expand=Member,RoleDefinitionBindings), roleAssignments(n) and
// getByPrincipalId(n), addRoleAssignment and removeRoleAssignment.
func (c *call) roleAssignments(o securable, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call {
		id, err := principalArg(seg, "")
		if err != nil {
			return nil, err
		}
		return c.assignmentResource(o, id, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		scope, _, err := c.scope(o)
		if err != nil {
			return nil, err
		}
		as, err := c.tx.Security().Assignments(c.ctx, scope)
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, 0, len(as))
		for _, ra := range as {
			e, err := c.assignmentEntity(o, ra)
			if err != nil {
				return nil, err
			}
			if e != nil {
				ents = append(ents, e)
			}
		}
		return c.filteredCollection(ents, "SP.ApiData.RoleAssignments")
	}
	op, rest := rest[0], rest[1:]
	switch {
	case op.Is("getbyprincipalid") && op.Call:
		id, err := principalArg(op, "")
		if err != nil {
			return nil, err
		}
		return c.assignmentResource(o, id, rest)
	case (op.Is("addroleassignment") || op.Is("removeroleassignment")) && op.Call && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		principal, err := principalArg(op, "principalid")
		if err != nil {
			return nil, err
		}
		role, err := principalArg(op, "roledefid")
		if err != nil {
			return nil, err
		}
		if op.Is("addroleassignment") {
			return c.addAssignment(o, principal, role)
		}
		return c.removeAssignment(o, principal, role)
	}
	return nil, notFound(op)
}

// principalArg is a whole-number argument: the only one (name "") or
// the named one. A number sent as a string ('5', as PnPjs's
// siteGroups.removeById does) is taken too.
func principalArg(seg odata.Segment, name string) (int64, error) {
	var v odata.Value
	ok := false
	if name == "" {
		v, ok = seg.Single()
	} else {
		v, ok = seg.Named(name)
		if !ok {
			return 0, odata.InvalidQuery(seg.Name + " needs the argument " + name + ".")
		}
	}
	if ok {
		switch v.Kind {
		case odata.KindInt:
			if v.Int > 0 {
				return v.Int, nil
			}
		case odata.KindString:
			if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	if name == "" {
		return 0, odata.InvalidQuery(seg.Name + " takes a positive whole number.")
	}
	return 0, odata.InvalidQuery("The argument " + name + " of " + seg.Name + " must be a positive whole number.")
}

// principalOf finds a principal of the site: a user (or a provider
// group's row), or else a site group; both nil when there is none.
func (c *call) principalOf(id int64) (*storage.User, *storage.Group, error) {
	u, err := c.tx.Users().Get(c.ctx, c.web.SiteID, id)
	if err == nil {
		return u, nil, nil
	}
	if !isNotFound(err) {
		return nil, nil, err
	}
	g, err := c.tx.Security().GetGroup(c.ctx, c.web.SiteID, id)
	if err == nil {
		return nil, g, nil
	}
	if !isNotFound(err) {
		return nil, nil, err
	}
	return nil, nil, nil
}

func principalMissing(id int64) error {
	return spError(http.StatusBadRequest, "Cannot find principal with id: "+strconv.FormatInt(id, 10)+".")
}

// principalEntity is a principal as SP.User or SP.Group.
func (c *call) principalEntity(u *storage.User, g *storage.Group) *odata.Entity {
	if u != nil {
		return c.userEntity(u)
	}
	return c.groupEntity(g)
}

// expands reports whether $expand names the navigation property.
func (c *call) expands(name string) bool {
	for _, e := range c.query.Expand {
		head, _, _ := strings.Cut(e, "/")
		if strings.EqualFold(head, name) {
			return true
		}
	}
	return false
}

// assignmentEntity is SP.RoleAssignment, with Member and
// RoleDefinitionBindings when $expand names them. An assignment of a
// principal deleted meanwhile is nil.
func (c *call) assignmentEntity(o securable, ra *storage.RoleAssignment) (*odata.Entity, error) {
	link := o.link() + "/RoleAssignments/GetByPrincipalId(" + strconv.FormatInt(ra.PrincipalID, 10) + ")"
	e := &odata.Entity{Type: "SP.RoleAssignment", ID: c.enc.APIURL(link), EditLink: link,
		Props: []odata.Prop{{Name: "PrincipalId", Value: ra.PrincipalID}}}
	u, g, err := c.principalOf(ra.PrincipalID)
	if err != nil {
		return nil, err
	}
	if u == nil && g == nil {
		return nil, nil
	}
	if c.expands("Member") {
		e.Props = append(e.Props, odata.Prop{Name: "Member", Value: c.principalEntity(u, g)})
	}
	if c.expands("RoleDefinitionBindings") {
		roles, err := c.bindings(ra)
		if err != nil {
			return nil, err
		}
		e.Props = append(e.Props, odata.Prop{Name: "RoleDefinitionBindings", Value: roles})
	}
	return e, nil
}

// bindings are the levels of an assignment as SP.RoleDefinition.
func (c *call) bindings(ra *storage.RoleAssignment) ([]*odata.Entity, error) {
	roles, err := c.tx.Security().RoleDefinitions(c.ctx, c.web.SiteID)
	if err != nil {
		return nil, err
	}
	out := []*odata.Entity{}
	for _, r := range roles {
		for _, id := range ra.RoleIDs {
			if id == r.ID {
				out = append(out, c.roleEntity(r.Role))
			}
		}
	}
	return out, nil
}

// assignment is the principal's assignment on the object's scope.
func (c *call) assignment(o securable, principal int64) (*storage.RoleAssignment, error) {
	scope, _, err := c.scope(o)
	if err != nil {
		return nil, err
	}
	as, err := c.tx.Security().Assignments(c.ctx, scope)
	if err != nil {
		return nil, err
	}
	for _, ra := range as {
		if ra.PrincipalID == principal {
			return ra, nil
		}
	}
	return nil, odata.NewError(http.StatusNotFound, odata.CodeArgument,
		"The object has no role assignment for the principal "+strconv.FormatInt(principal, 10)+".")
}

// assignmentResource is roleAssignments(n) or getByPrincipalId(n): GET
// it, DELETE it (every level of the principal), its Member and its
// RoleDefinitionBindings.
func (c *call) assignmentResource(o securable, principal int64, rest []odata.Segment) (*response, error) {
	ra, err := c.assignment(o, principal)
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) {
				e, err := c.assignmentEntity(o, ra)
				if err != nil {
					return nil, err
				}
				if e == nil {
					return nil, principalMissing(principal)
				}
				return c.entity(e, "SP.ApiData.RoleAssignments/@Element"), nil
			},
			del: func() (*response, error) {
				if _, err := c.removeAssignment(o, principal, 0); err != nil {
					return nil, err
				}
				return deleted(), nil
			},
		})
	}
	if len(rest) > 1 {
		return nil, notFound(rest[1])
	}
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	switch {
	case rest[0].Is("member"):
		u, g, err := c.principalOf(principal)
		if err != nil {
			return nil, err
		}
		if u == nil && g == nil {
			return nil, principalMissing(principal)
		}
		return c.entity(c.principalEntity(u, g), ""), nil
	case rest[0].Is("roledefinitionbindings"):
		roles, err := c.bindings(ra)
		if err != nil {
			return nil, err
		}
		return c.filteredCollection(roles, "SP.ApiData.RoleDefinitions")
	}
	return nil, notFound(rest[0])
}

// ownScope is the scope of an object that must have unique permissions
// to have its assignments changed: SharePoint refuses the change on an
// object that inherits (it would change its parent's).
func (c *call) ownScope(o securable) (string, error) {
	scope, unique, err := c.scope(o)
	if err != nil {
		return "", err
	}
	if !unique {
		return "", spError(http.StatusBadRequest,
			"This operation is not allowed on an object that inherits permissions: break its inheritance first (breakRoleInheritance).")
	}
	return scope, nil
}

// addAssignment is roleAssignments/addRoleAssignment(principalid=…,
// roledefid=…): the principal gets the level on the object.
func (c *call) addAssignment(o securable, principal, roleID int64) (*response, error) {
	scope, err := c.ownScope(o)
	if err != nil {
		return nil, err
	}
	u, g, err := c.principalOf(principal)
	if err != nil {
		return nil, err
	}
	if u == nil && g == nil {
		return nil, principalMissing(principal)
	}
	if err := c.roleExists(roleID); err != nil {
		return nil, err
	}
	if err := c.tx.Security().AddAssignment(c.ctx, scope, principal, roleID); err != nil {
		return nil, err
	}
	c.principalChanged(u)
	return &response{status: http.StatusOK, header: http.Header{}}, nil
}

// roleExists refuses a level the site does not have with 400, naming it.
func (c *call) roleExists(id int64) error {
	roles, err := c.tx.Security().RoleDefinitions(c.ctx, c.web.SiteID)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if r.ID == id {
			return nil
		}
	}
	return spError(http.StatusBadRequest, "Cannot find role definition with id: "+strconv.FormatInt(id, 10)+".")
}

// removeAssignment is removeRoleAssignment(principalid=…,roledefid=…)
// (roleID 0: every level of the principal, as DELETE on the assignment).
// Removing a binding the principal does not have changes nothing. On a
// site's root web the last Full Control cannot go.
func (c *call) removeAssignment(o securable, principal, roleID int64) (*response, error) {
	scope, err := c.ownScope(o)
	if err != nil {
		return nil, err
	}
	u, g, err := c.principalOf(principal)
	if err != nil {
		return nil, err
	}
	if u == nil && g == nil {
		return nil, principalMissing(principal)
	}
	if roleID != 0 {
		if err := c.roleExists(roleID); err != nil {
			return nil, err
		}
	}
	remove := func() error { return c.tx.Security().RemoveAssignment(c.ctx, scope, principal, roleID) }
	if o.isRootWeb() {
		err = c.keepFullControl(remove)
	} else {
		err = remove()
	}
	if err != nil {
		return nil, err
	}
	c.principalChanged(u)
	return &response{status: http.StatusOK, header: http.Header{}}, nil
}

// Full Control must stay.

// errLastFullControl refuses a change that would leave a site with no
// one holding Full Control on its root web.
func errLastFullControl() error {
	return spError(http.StatusBadRequest,
		"A site must keep someone with Full Control: this change would leave no user or group with Full Control on the site's root web "+
			"(site collection administrators from configuration do not count, since they can be removed from it).")
}

// fullControlHolders counts the principals that exist and hold a level
// with every permission on the site's root web.
func (c *call) fullControlHolders() (int, error) {
	site, err := c.siteOf()
	if err != nil {
		return 0, err
	}
	roles, err := c.tx.Security().RoleDefinitions(c.ctx, c.web.SiteID)
	if err != nil {
		return 0, err
	}
	full := map[int64]bool{}
	for _, r := range roles {
		if r.Mask.Has(permissions.FullMask) {
			full[r.ID] = true
		}
	}
	as, err := c.tx.Security().Assignments(c.ctx, site.RootWebID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ra := range as {
		holds := false
		for _, id := range ra.RoleIDs {
			holds = holds || full[id]
		}
		if !holds {
			continue
		}
		u, g, err := c.principalOf(ra.PrincipalID)
		if err != nil {
			return 0, err
		}
		if u != nil || g != nil {
			n++
		}
	}
	return n, nil
}

// keepFullControl runs change and refuses it (the transaction then
// rolls back) when it took the site's last Full Control holder on its
// root web away.
func (c *call) keepFullControl(change func() error) error {
	before, err := c.fullControlHolders()
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	if before == 0 {
		return nil
	}
	after, err := c.fullControlHolders()
	if err != nil {
		return err
	}
	if after == 0 {
		return errLastFullControl()
	}
	return nil
}

// Inheritance.

// namedBool is a named true/false argument; missing gives def.
func namedBool(seg odata.Segment, name string, def bool, required bool) (bool, error) {
	v, ok := seg.Named(name)
	if !ok {
		if required {
			return false, odata.InvalidQuery(seg.Name + " needs the argument " + name + " (true or false).")
		}
		return def, nil
	}
	if v.Kind != odata.KindBool {
		return false, odata.InvalidQuery("The argument " + name + " of " + seg.Name + " must be true or false.")
	}
	return v.Bool, nil
}

// breakInheritance is breakRoleInheritance(copyRoleAssignments=…,
// clearSubscopes=…): the object gets permissions of its own. A site's
// root web always has them, so there it changes nothing.
func (c *call) breakInheritance(o securable, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	if !seg.Call {
		return nil, odata.InvalidQuery("breakRoleInheritance needs copyRoleAssignments and clearSubscopes.")
	}
	for _, a := range seg.Args {
		if a.Name == "" || (!strings.EqualFold(a.Name, "copyroleassignments") && !strings.EqualFold(a.Name, "clearsubscopes")) {
			return nil, odata.InvalidQuery("breakRoleInheritance takes copyRoleAssignments and clearSubscopes, by name.")
		}
	}
	copyAs, err := namedBool(seg, "copyroleassignments", true, true)
	if err != nil {
		return nil, err
	}
	clear, err := namedBool(seg, "clearsubscopes", false, false)
	if err != nil {
		return nil, err
	}
	if _, err := c.tx.Security().BreakInheritance(c.ctx, o.ref(), copyAs, clear); err != nil {
		return nil, c.itemMissing(err)
	}
	c.rightsChanged(everyone)
	return &response{status: http.StatusOK, header: http.Header{}}, nil
}

// resetInheritance is resetRoleInheritance: the object inherits its
// parent's permissions again; refused (400) on a site's root web.
func (c *call) resetInheritance(o securable, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	if len(seg.Args) > 0 {
		return nil, odata.InvalidQuery("resetRoleInheritance takes no arguments.")
	}
	if o.isRootWeb() {
		return nil, spError(http.StatusBadRequest,
			"The root web of a site collection always has unique permissions: its inheritance cannot be reset.")
	}
	if err := c.tx.Security().ResetInheritance(c.ctx, o.ref()); err != nil {
		return nil, c.itemMissing(err)
	}
	c.rightsChanged(everyone)
	return &response{status: http.StatusOK, header: http.Header{}}, nil
}

// Effective permissions.

// effectivePermissions is effectiveBasePermissions: what the signed-in
// user may do on the object, as SP.BasePermissions.
func (c *call) effectivePermissions(o securable) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	m, err := c.objectMask(o)
	if err != nil {
		return nil, err
	}
	return c.entity(basePermissions(m), ""), nil
}

// userEffectivePermissions is getUserEffectivePermissions(@user)?@user=
// '<login>': what that user may do on the object. Asking about someone
// else needs EnumeratePermissions. The user counts as its own row and
// the site groups that row belongs to (its identity provider's groups
// are known only when it signs in); a configured administrator (by
// e-mail) or a row marked IsSiteAdmin gets every permission, and a login
// the site does not know gets none.
func (c *call) userEffectivePermissions(o securable, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	v, ok := seg.Single()
	if !ok || v.Kind != odata.KindString {
		return nil, odata.InvalidQuery("getUserEffectivePermissions takes a login name as a string (getUserEffectivePermissions(@user)?@user='i:0#.f|membership|…').")
	}
	login, err := storage.ClaimsLogin(strings.TrimPrefix(v.Str, "!@v::"))
	if err != nil {
		return nil, odata.InvalidQuery("getUserEffectivePermissions: a login name must be a claims login name (i:0#.f|membership|name@example.com) or an e-mail address.")
	}
	var m permissions.Mask
	if login == c.login() {
		if m, err = c.objectMask(o); err != nil {
			return nil, err
		}
	} else {
		own, err := c.objectMask(o)
		if err != nil {
			return nil, err
		}
		if !own.Has(permissions.EnumeratePermissions) {
			return nil, denied(permissions.EnumeratePermissions)
		}
		if m, err = c.maskOfLogin(o, login); err != nil {
			return nil, err
		}
	}
	return c.result("GetUserEffectivePermissions", basePermissions(m), ""), nil
}

// maskOfLogin is what the site user with this login holds on o.
func (c *call) maskOfLogin(o securable, login string) (permissions.Mask, error) {
	name := login[strings.LastIndexByte(login, '|')+1:]
	if strings.HasPrefix(login, storage.ClaimsPrefix) && strings.Count(name, "@") == 1 && c.h.Admins.Match("", name, nil) {
		return permissions.Full, nil
	}
	u, err := c.tx.Users().GetByLogin(c.ctx, c.web.SiteID, login)
	if isNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if u.IsSiteAdmin {
		return permissions.Full, nil
	}
	groups, err := c.tx.Security().GroupsOf(c.ctx, c.web.SiteID, []int64{u.ID})
	if err != nil {
		return 0, err
	}
	scope, _, err := c.scope(o)
	if err != nil {
		return 0, err
	}
	return c.tx.Security().EffectiveMask(c.ctx, scope, append([]int64{u.ID}, groups...))
}

// doesUserHavePermissions is doesUserHavePermissions(@v)?@v=
// {'High':'…','Low':'…'}: whether the signed-in user holds every
// permission of the mask on the object.
func (c *call) doesUserHavePermissions(o securable, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	half := func(name string) (string, bool) {
		v, ok := seg.Named(name)
		if !ok {
			return "", false
		}
		switch v.Kind {
		case odata.KindInt:
			return strconv.FormatInt(v.Int, 10), true
		case odata.KindString:
			return v.Str, true
		}
		return "", false
	}
	high, okH := half("High")
	low, okL := half("Low")
	if !okH || !okL || len(seg.Args) != 2 {
		return nil, odata.InvalidQuery("doesUserHavePermissions takes SP.BasePermissions: doesUserHavePermissions(@v)?@v={'High':'…','Low':'…'}.")
	}
	want, err := permissions.ParseHighLow(high, low)
	if err != nil {
		return nil, odata.InvalidQuery(err.Error() + ".")
	}
	m, err := c.objectMask(o)
	if err != nil {
		return nil, err
	}
	return c.primitiveOf("DoesUserHavePermissions", m&want == want, "Edm.Boolean"), nil
}
