package sharepoint

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// userEntity is SP.User.
func (c *call) userEntity(u *storage.User) *odata.Entity {
	link := "Web/GetUserById(" + strconv.FormatInt(u.ID, 10) + ")"
	upn := u.Email
	if upn == "" {
		upn = u.LoginName[strings.LastIndexByte(u.LoginName, '|')+1:]
	}
	return &odata.Entity{Type: "SP.User", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "Id", Value: u.ID},
		{Name: "IsHiddenInUI", Value: false},
		{Name: "LoginName", Value: u.LoginName},
		{Name: "Title", Value: u.Title},
		{Name: "PrincipalType", Value: u.PrincipalType},
		{Name: "Email", Value: u.Email},
		{Name: "Expiration", Value: ""},
		{Name: "IsEmailAuthenticationGuestUser", Value: false},
		{Name: "IsShareByEmailGuestUser", Value: false},
		{Name: "IsSiteAdmin", Value: u.IsSiteAdmin},
		{Name: "UserId", Value: &odata.Entity{Type: "SP.UserIdInfo", Props: []odata.Prop{
			{Name: "NameId", Value: upn}, {Name: "NameIdIssuer", Value: "urn:federation:cesivi"}}}},
		{Name: "UserPrincipalName", Value: upn},
	}}
}

// currentUserResource is web/currentUser.
func (c *call) currentUserResource(rest []odata.Segment) (*response, error) {
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	a, err := c.access()
	if err != nil {
		return nil, err
	}
	if a.admin && !u.IsSiteAdmin {
		// A configured administrator (Cesivi:Sites:Administrators) is one
		// for its own eyes too, as SharePoint's currentUser reports it.
		cp := *u
		cp.IsSiteAdmin = true
		u = &cp
	}
	return c.userResource(u, rest)
}

// userGroups is user/groups: the site groups it is a member of.
func (c *call) userGroups(u *storage.User, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	ids, err := c.tx.Security().GroupsOf(c.ctx, c.web.SiteID, []int64{u.ID})
	if err != nil {
		return nil, err
	}
	ents := make([]*odata.Entity, 0, len(ids))
	for _, id := range ids {
		g, err := c.tx.Security().GetGroup(c.ctx, c.web.SiteID, id)
		if err != nil {
			return nil, err
		}
		ents = append(ents, c.groupEntity(g))
	}
	return c.collection(ents, "SP.ApiData."+seg.Name, ""), nil
}

// groupEntity is a site group as SP.Group.
func (c *call) groupEntity(g *storage.Group) *odata.Entity {
	link := "Web/SiteGroups/GetById(" + strconv.FormatInt(g.ID, 10) + ")"
	return &odata.Entity{Type: "SP.Group", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "Id", Value: g.ID},
		{Name: "IsHiddenInUI", Value: false},
		{Name: "LoginName", Value: g.Title},
		{Name: "Title", Value: g.Title},
		{Name: "PrincipalType", Value: storage.PrincipalSharePointGroup},
		{Name: "AllowMembersEditMembership", Value: g.AllowMembersEditMembership},
		{Name: "AllowRequestToJoinLeave", Value: false},
		{Name: "AutoAcceptRequestToJoinLeave", Value: false},
		{Name: "Description", Value: g.Description},
		{Name: "OnlyAllowMembersViewMembership", Value: g.OnlyAllowMembersViewMembership},
		{Name: "OwnerTitle", Value: ""},
		{Name: "RequestToJoinLeaveEmailSetting", Value: ""},
	}}
}

// userResource serves one user.
func (c *call) userResource(u *storage.User, rest []odata.Segment) (*response, error) {
	if len(rest) > 0 {
		if len(rest) == 1 && rest[0].Is("groups") {
			return c.userGroups(u, rest[0])
		}
		return nil, notFound(rest[0])
	}
	return c.serveLeaf(leaf{
		get:    func() (*response, error) { return c.entity(c.userEntity(u), "SP.ApiData.Users/@Element"), nil },
		update: func() (*response, error) { return c.updateUser(u) },
		del: func() (*response, error) {
			if err := c.deleteUser(u); err != nil {
				return nil, err
			}
			return deleted(), nil
		},
	})
}

func userMissing(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return odata.NewError(http.StatusNotFound, "-2146232832, Microsoft.SharePoint.SPException", "User cannot be found.")
	}
	return err
}

// siteUsersResource is web/siteUsers.
func (c *call) siteUsersResource(seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call { // siteusers('i:0#.f|membership|x') is getByLoginName
		v, ok := seg.Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("siteUsers() takes a login name as a string.")
		}
		return c.userByLogin(v.Str, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		us, err := c.tx.Users().List(c.ctx, c.web.SiteID)
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(us))
		for i, u := range us {
			ents[i] = c.userEntity(u)
		}
		return c.filteredCollection(ents, "SP.ApiData.Users")
	}
	op, rest := rest[0], rest[1:]
	switch {
	case op.Is("getbyid") && op.Call:
		return c.userByID(op, rest)
	case op.Is("getbyemail") && op.Call:
		v, ok := op.Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("getByEmail takes an e-mail address as a string.")
		}
		us, err := c.tx.Users().List(c.ctx, c.web.SiteID)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if strings.EqualFold(u.Email, v.Str) {
				return c.userResource(u, rest)
			}
		}
		return nil, userMissing(storage.ErrNotFound)
	case op.Is("getbyloginname") && op.Call:
		v, ok := op.Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("getByLoginName takes a login name as a string.")
		}
		return c.userByLogin(v.Str, rest)
	case (op.Is("removebyid") || op.Is("removebyloginname")) && op.Call && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		var u *storage.User
		var err error
		if op.Is("removebyid") {
			id, ierr := itemID(op)
			if ierr != nil {
				return nil, ierr
			}
			u, err = c.tx.Users().Get(c.ctx, c.web.SiteID, id)
		} else {
			v, _ := op.Single()
			u, err = c.lookupLogin(v.Str)
		}
		if err != nil {
			return nil, userMissing(err)
		}
		if err := c.deleteUser(u); err != nil {
			return nil, err
		}
		return &response{status: http.StatusOK, header: http.Header{}}, nil
	}
	return nil, notFound(op)
}

// deleteUser removes a site user, unless it is the site's last holder
// of Full Control on its root web.
func (c *call) deleteUser(u *storage.User) error {
	if err := c.keepFullControl(func() error { return c.tx.Users().Delete(c.ctx, c.web.SiteID, u.ID) }); err != nil {
		return err
	}
	c.principalChanged(u)
	return nil
}

// lookupLogin finds a site user by login name; PnPjs's getByLoginName
// may send it as '!@v::<login>'.
func (c *call) lookupLogin(login string) (*storage.User, error) {
	l, err := storage.ClaimsLogin(strings.TrimPrefix(login, "!@v::"))
	if err != nil {
		return nil, storage.ErrNotFound
	}
	return c.tx.Users().GetByLogin(c.ctx, c.web.SiteID, l)
}

func (c *call) userByLogin(login string, rest []odata.Segment) (*response, error) {
	u, err := c.lookupLogin(login)
	if err != nil {
		return nil, userMissing(err)
	}
	return c.userResource(u, rest)
}

// userByID is web/getUserById(n) and siteUsers/getById(n).
func (c *call) userByID(seg odata.Segment, rest []odata.Segment) (*response, error) {
	id, err := itemID(seg)
	if err != nil {
		return nil, err
	}
	u, err := c.tx.Users().Get(c.ctx, c.web.SiteID, id)
	if err != nil {
		return nil, userMissing(err)
	}
	return c.userResource(u, rest)
}

// ensureUserCall is POST web/ensureUser with {"logonName": …} (or
// ensureUser('…')): the site's user, created when missing. Cesivi has no
// directory to ask, so any well-formed login (a claims login name or an
// e-mail address) is accepted.
func (c *call) ensureUserCall(seg odata.Segment, rest []odata.Segment) (*response, error) {
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	login := ""
	if seg.Call {
		v, ok := seg.Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("ensureUser takes a login name as a string.")
		}
		login = v.Str
	} else {
		m, err := c.object("")
		if err != nil {
			return nil, err
		}
		if err := onlyKnown(m, "SP.Web.EnsureUser", "logonName"); err != nil {
			return nil, err
		}
		v, err := propString(m, "logonName", "SP.Web.EnsureUser")
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, odata.InvalidQuery("ensureUser needs logonName.")
		}
		login = *v
	}
	claims, err := storage.ClaimsLogin(login)
	if err != nil {
		return nil, odata.NewError(http.StatusBadRequest, "-2146232832, Microsoft.SharePoint.SPException",
			"The specified user could not be found: a login name must be a claims login name (i:0#.f|membership|name@example.com) or an e-mail address.")
	}
	email := ""
	if name := claims[strings.LastIndexByte(claims, '|')+1:]; strings.Count(name, "@") == 1 {
		email = name
	}
	u, err := c.tx.Users().Ensure(c.ctx, c.web.SiteID, claims, "", email)
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, header: http.Header{}, body: c.enc.Entity(c.userEntity(u), "SP.ApiData.Users/@Element"), format: c.format}, nil
}

// updateUser is MERGE on a user: Title, Email, IsSiteAdmin.
func (c *call) updateUser(u *storage.User) (*response, error) {
	m, err := c.object("SP.User")
	if err != nil {
		return nil, err
	}
	if err := onlyKnown(m, "SP.User", "Title", "Email", "IsSiteAdmin"); err != nil {
		return nil, err
	}
	var upd storage.UserUpdate
	if upd.Title, err = propString(m, "Title", "SP.User"); err != nil {
		return nil, err
	}
	if upd.Email, err = propString(m, "Email", "SP.User"); err != nil {
		return nil, err
	}
	if upd.IsSiteAdmin, err = propBool(m, "IsSiteAdmin", "SP.User"); err != nil {
		return nil, err
	}
	adminChange := upd.IsSiteAdmin != nil && *upd.IsSiteAdmin != u.IsSiteAdmin
	if adminChange {
		// Only a site collection administrator makes or unmakes one:
		// Manage Permissions alone must not lead to every permission.
		a, err := c.access()
		if err != nil {
			return nil, err
		}
		if !a.admin {
			return nil, denied(permissions.FullMask)
		}
	}
	if _, err := c.tx.Users().Update(c.ctx, c.web.SiteID, u.ID, upd); err != nil {
		return nil, err
	}
	if adminChange {
		c.principalChanged(u)
	}
	return noContent(""), nil
}

// userInfoEntity is a user as an item of the User Information List, the
// shape an expanded Author or Editor has.
func (c *call) userInfoEntity(u *storage.User) *odata.Entity {
	link := "Web/SiteUserInfoList/Items(" + strconv.FormatInt(u.ID, 10) + ")"
	return &odata.Entity{Type: "SP.Data.UserInfoItem", ID: c.enc.APIURL(link), EditLink: link,
		Props: []odata.Prop{
			{Name: "Id", Value: u.ID},
			{Name: "ID", Value: u.ID},
			{Name: "Title", Value: u.Title},
			{Name: "Name", Value: u.LoginName},
			{Name: "EMail", Value: u.Email},
			{Name: "UserName", Value: u.Email},
			{Name: "IsSiteAdmin", Value: u.IsSiteAdmin},
			{Name: "Department", Value: nil},
			{Name: "JobTitle", Value: nil},
		}}
}
