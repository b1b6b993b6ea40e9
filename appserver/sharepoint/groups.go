package sharepoint

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// Site groups (SP.Group): web/siteGroups as PnPjs's site-groups module
// sends it, and the web's associated Owner, Member and Visitor groups.

func groupMissing(err error) error {
	if isNotFound(err) {
		return spError(http.StatusNotFound, "Group cannot be found.")
	}
	return err
}

// siteGroupsResource is web/siteGroups: the collection (GET, POST adds
// one), siteGroups(n), getById(n), getByName('…'), removeById(n) and
// removeByLoginName('…').
func (c *call) siteGroupsResource(seg odata.Segment, rest []odata.Segment) (*response, error) {
	sec := c.tx.Security()
	if seg.Call {
		id, err := principalArg(seg, "")
		if err != nil {
			return nil, err
		}
		g, err := sec.GetGroup(c.ctx, c.web.SiteID, id)
		if err != nil {
			return nil, groupMissing(err)
		}
		return c.groupResource(g, rest)
	}
	if len(rest) == 0 {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			gs, err := sec.Groups(c.ctx, c.web.SiteID)
			if err != nil {
				return nil, err
			}
			ents := make([]*odata.Entity, len(gs))
			for i, g := range gs {
				if ents[i], err = c.groupEntityWithOwner(g); err != nil {
					return nil, err
				}
			}
			return c.filteredCollection(ents, "SP.ApiData.Groups")
		case http.MethodPost:
			return c.addGroup()
		}
		return nil, c.notAllowed()
	}
	op, rest := rest[0], rest[1:]
	switch {
	case op.Is("getbyid") && op.Call:
		id, err := principalArg(op, "")
		if err != nil {
			return nil, err
		}
		g, err := sec.GetGroup(c.ctx, c.web.SiteID, id)
		if err != nil {
			return nil, groupMissing(err)
		}
		return c.groupResource(g, rest)
	case op.Is("getbyname") && op.Call:
		name, err := soleString(op)
		if err != nil {
			return nil, err
		}
		g, err := sec.GetGroupByTitle(c.ctx, c.web.SiteID, name)
		if err != nil {
			return nil, groupMissing(err)
		}
		return c.groupResource(g, rest)
	case (op.Is("removebyid") || op.Is("removebyloginname")) && op.Call && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		var g *storage.Group
		if op.Is("removebyid") {
			id, err := principalArg(op, "")
			if err != nil {
				return nil, err
			}
			if g, err = sec.GetGroup(c.ctx, c.web.SiteID, id); err != nil {
				return nil, groupMissing(err)
			}
		} else {
			name, err := soleString(op)
			if err != nil {
				return nil, err
			}
			if g, err = sec.GetGroupByTitle(c.ctx, c.web.SiteID, name); err != nil {
				return nil, groupMissing(err)
			}
		}
		if err := c.deleteGroup(g); err != nil {
			return nil, err
		}
		return &response{status: http.StatusOK, header: http.Header{}}, nil
	}
	return nil, notFound(op)
}

// nameTaken gives storage's conflict (409) one message whatever the
// provider.
func nameTaken(err error, msg string) error {
	if errors.Is(err, storage.ErrConflict) {
		e := odata.NewError(http.StatusConflict, "-2130575214, Microsoft.SharePoint.SPException", msg)
		e.Cause = err
		return e
	}
	return err
}

// soleString is a segment's one string argument.
func soleString(seg odata.Segment) (string, error) {
	v, ok := seg.Single()
	if !ok || v.Kind != odata.KindString {
		return "", odata.InvalidQuery(seg.Name + " takes a name as a string.")
	}
	return v.Str, nil
}

// associatedGroup is web/associatedOwnerGroup (Member, Visitor): the
// group the site was made with for that role.
func (c *call) associatedGroup(which string, rest []odata.Segment) (*response, error) {
	for i, dg := range permissions.DefaultGroups() {
		if !strings.EqualFold(dg.Association, which) {
			continue
		}
		// The site's groups took its first principal ids, in
		// DefaultGroups' order; ids are never reused.
		g, err := c.tx.Security().GetGroup(c.ctx, c.web.SiteID, int64(i)+1)
		if err != nil {
			return nil, groupMissing(err)
		}
		return c.groupResource(g, rest)
	}
	return nil, odata.ResourceNotFound("associated" + which + "group")
}

// groupResource serves one group: GET, MERGE (update), DELETE, its users
// and its owner.
func (c *call) groupResource(g *storage.Group, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) {
				e, err := c.groupEntityWithOwner(g)
				if err != nil {
					return nil, err
				}
				return c.entity(e, "SP.ApiData.Groups/@Element"), nil
			},
			update: func() (*response, error) { return c.updateGroup(g) },
			del: func() (*response, error) {
				if err := c.deleteGroup(g); err != nil {
					return nil, err
				}
				return deleted(), nil
			},
		})
	}
	seg, rest := rest[0], rest[1:]
	switch {
	case seg.Is("users"):
		return c.groupUsers(g, seg, rest)
	case seg.Is("owner") && len(rest) == 0:
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		u, og, err := c.principalOf(g.OwnerID)
		if err != nil {
			return nil, err
		}
		if u == nil && og == nil {
			return c.null(), nil
		}
		return c.entity(c.principalEntity(u, og), ""), nil
	}
	return nil, notFound(seg)
}

// groupEntityWithOwner is groupEntity with OwnerTitle, and Owner when
// $expand names it.
func (c *call) groupEntityWithOwner(g *storage.Group) (*odata.Entity, error) {
	e := c.groupEntity(g)
	u, og, err := c.principalOf(g.OwnerID)
	if err != nil {
		return nil, err
	}
	var owner *odata.Entity
	switch {
	case u != nil:
		owner = c.userEntity(u)
		setProp(e, "OwnerTitle", u.Title)
	case og != nil:
		owner = c.groupEntity(og)
		setProp(e, "OwnerTitle", og.Title)
	}
	if c.expands("Owner") {
		e.Props = append(e.Props, odata.Prop{Name: "Owner", Value: owner})
	}
	return e, nil
}

func setProp(e *odata.Entity, name string, v any) {
	for i := range e.Props {
		if e.Props[i].Name == name {
			e.Props[i].Value = v
			return
		}
	}
	e.Props = append(e.Props, odata.Prop{Name: name, Value: v})
}

const groupType = "SP.Group"

// groupInput reads SP.Group's writable members. The request-to-join
// settings are accepted only with their defaults: Cesivi has no access
// requests.
func (c *call) groupInput() (storage.GroupUpdate, error) {
	var upd storage.GroupUpdate
	m, err := c.object(groupType)
	if err != nil {
		return upd, err
	}
	if err := onlyKnown(m, groupType, "Title", "Description", "AllowMembersEditMembership", "OnlyAllowMembersViewMembership",
		"AllowRequestToJoinLeave", "AutoAcceptRequestToJoinLeave", "RequestToJoinLeaveEmailSetting"); err != nil {
		return upd, err
	}
	if upd.Title, err = propString(m, "Title", groupType); err != nil {
		return upd, err
	}
	if upd.Description, err = propString(m, "Description", groupType); err != nil {
		return upd, err
	}
	if upd.AllowMembersEditMembership, err = propBool(m, "AllowMembersEditMembership", groupType); err != nil {
		return upd, err
	}
	if upd.OnlyAllowMembersViewMembership, err = propBool(m, "OnlyAllowMembersViewMembership", groupType); err != nil {
		return upd, err
	}
	for _, n := range []string{"AllowRequestToJoinLeave", "AutoAcceptRequestToJoinLeave"} {
		b, err := propBool(m, n, groupType)
		if err != nil {
			return upd, err
		}
		if b != nil && *b {
			return upd, odata.InvalidQuery("The property '" + n + "' can only be false: this server has no requests to join or leave groups.")
		}
	}
	if s, err := propString(m, "RequestToJoinLeaveEmailSetting", groupType); err != nil {
		return upd, err
	} else if s != nil && *s != "" {
		return upd, odata.InvalidQuery("The property 'RequestToJoinLeaveEmailSetting' can only be empty: this server has no requests to join or leave groups.")
	}
	return upd, nil
}

// addGroup is POST siteGroups: a new group owned by the signed-in user.
// The answer is the new SP.Group.
func (c *call) addGroup() (*response, error) {
	upd, err := c.groupInput()
	if err != nil {
		return nil, err
	}
	if upd.Title == nil {
		return nil, odata.InvalidQuery("A new group needs a Title.")
	}
	me, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	in := storage.GroupInput{Title: *upd.Title, OwnerID: me.ID}
	if upd.Description != nil {
		in.Description = *upd.Description
	}
	g, err := c.tx.Security().CreateGroup(c.ctx, c.web.SiteID, in)
	if err != nil {
		return nil, nameTaken(err, "The specified name is already in use by a group or user of the site.")
	}
	if upd.AllowMembersEditMembership != nil || upd.OnlyAllowMembersViewMembership != nil {
		upd.Title, upd.Description = nil, nil
		if g, err = c.tx.Security().UpdateGroup(c.ctx, c.web.SiteID, g.ID, upd); err != nil {
			return nil, err
		}
	}
	e, err := c.groupEntityWithOwner(g)
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusCreated, header: http.Header{},
		body: c.enc.Entity(e, "SP.ApiData.Groups/@Element"), format: c.format}, nil
}

// updateGroup is MERGE on a group (PnPjs's siteGroups.getById(n).update).
func (c *call) updateGroup(g *storage.Group) (*response, error) {
	upd, err := c.groupInput()
	if err != nil {
		return nil, err
	}
	if _, err := c.tx.Security().UpdateGroup(c.ctx, c.web.SiteID, g.ID, upd); err != nil {
		return nil, nameTaken(err, "The specified name is already in use by a group or user of the site.")
	}
	return noContent(""), nil
}

// deleteGroup removes a group with its memberships and assignments,
// unless it is the site's last holder of Full Control on its root web.
func (c *call) deleteGroup(g *storage.Group) error {
	if err := c.keepFullControl(func() error {
		return c.tx.Security().DeleteGroup(c.ctx, c.web.SiteID, g.ID)
	}); err != nil {
		return err
	}
	c.rightsChanged(everyone)
	return nil
}

// groupUsers is a group's users: GET lists them; POST {"LoginName":…}
// adds one (ensuring the site user first, as SharePoint does);
// getById(n), getByLoginName('…'), getByEmail('…'), users('…'),
// removeById(n) and removeByLoginName('…').
func (c *call) groupUsers(g *storage.Group, seg odata.Segment, rest []odata.Segment) (*response, error) {
	sec := c.tx.Security()
	members, err := sec.Members(c.ctx, c.web.SiteID, g.ID)
	if err != nil {
		return nil, groupMissing(err)
	}
	member := func(match func(*storage.User) bool) (*storage.User, error) {
		for _, u := range members {
			if match(u) {
				return u, nil
			}
		}
		return nil, userMissing(storage.ErrNotFound)
	}
	byLogin := func(login string) (*storage.User, error) {
		l, err := storage.ClaimsLogin(strings.TrimPrefix(login, "!@v::"))
		if err != nil {
			return nil, userMissing(storage.ErrNotFound)
		}
		return member(func(u *storage.User) bool { return u.LoginName == l })
	}
	if seg.Call { // users('<login>')
		login, err := soleString(seg)
		if err != nil {
			return nil, err
		}
		u, err := byLogin(login)
		if err != nil {
			return nil, err
		}
		return c.groupMember(g, u, rest)
	}
	if len(rest) == 0 {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			ents := make([]*odata.Entity, len(members))
			for i, u := range members {
				ents[i] = c.userEntity(u)
			}
			return c.filteredCollection(ents, "SP.ApiData.Users")
		case http.MethodPost:
			return c.addGroupUser(g)
		}
		return nil, c.notAllowed()
	}
	op, rest := rest[0], rest[1:]
	switch {
	case op.Is("getbyid") && op.Call:
		id, err := principalArg(op, "")
		if err != nil {
			return nil, err
		}
		u, err := member(func(u *storage.User) bool { return u.ID == id })
		if err != nil {
			return nil, err
		}
		return c.groupMember(g, u, rest)
	case op.Is("getbyloginname") && op.Call:
		login, err := soleString(op)
		if err != nil {
			return nil, err
		}
		u, err := byLogin(login)
		if err != nil {
			return nil, err
		}
		return c.groupMember(g, u, rest)
	case op.Is("getbyemail") && op.Call:
		email, err := soleString(op)
		if err != nil {
			return nil, err
		}
		u, err := member(func(u *storage.User) bool { return u.Email != "" && strings.EqualFold(u.Email, email) })
		if err != nil {
			return nil, err
		}
		return c.groupMember(g, u, rest)
	case (op.Is("removebyid") || op.Is("removebyloginname")) && op.Call && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		var u *storage.User
		if op.Is("removebyid") {
			id, err := principalArg(op, "")
			if err != nil {
				return nil, err
			}
			if u, err = member(func(u *storage.User) bool { return u.ID == id }); err != nil {
				return nil, err
			}
		} else {
			login, err := soleString(op)
			if err != nil {
				return nil, err
			}
			if u, err = byLogin(login); err != nil {
				return nil, err
			}
		}
		if err := c.removeGroupUser(g, u); err != nil {
			return nil, err
		}
		return &response{status: http.StatusOK, header: http.Header{}}, nil
	}
	return nil, notFound(op)
}

// groupMember serves one member of a group: GET, and DELETE, which
// takes it out of the group (the site user stays).
func (c *call) groupMember(g *storage.Group, u *storage.User, rest []odata.Segment) (*response, error) {
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	return c.serveLeaf(leaf{
		get: func() (*response, error) { return c.entity(c.userEntity(u), "SP.ApiData.Users/@Element"), nil },
		del: func() (*response, error) {
			if err := c.removeGroupUser(g, u); err != nil {
				return nil, err
			}
			return deleted(), nil
		},
	})
}

// addGroupUser is POST <group>/users with {"LoginName": "…"}: the site
// user, created when missing, joins the group. The answer is SP.User.
func (c *call) addGroupUser(g *storage.Group) (*response, error) {
	m, err := c.object("SP.User")
	if err != nil {
		return nil, err
	}
	if err := onlyKnown(m, "SP.User", "LoginName"); err != nil {
		return nil, err
	}
	v, err := propString(m, "LoginName", "SP.User")
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, odata.InvalidQuery("Adding a user to a group needs its LoginName.")
	}
	claims, err := storage.ClaimsLogin(*v)
	if err != nil {
		return nil, spError(http.StatusBadRequest,
			"The specified user could not be found: a login name must be a claims login name (i:0#.f|membership|name@example.com) or an e-mail address.")
	}
	email := ""
	if name := claims[strings.LastIndexByte(claims, '|')+1:]; strings.HasPrefix(claims, storage.ClaimsPrefix) && strings.Count(name, "@") == 1 {
		email = name
	}
	u, err := c.tx.Users().Ensure(c.ctx, c.web.SiteID, claims, "", email)
	if err != nil {
		return nil, err
	}
	if err := c.tx.Security().AddMember(c.ctx, c.web.SiteID, g.ID, u.ID); err != nil {
		return nil, err
	}
	c.principalChanged(u)
	return &response{status: http.StatusCreated, header: http.Header{},
		body: c.enc.Entity(c.userEntity(u), "SP.ApiData.Users/@Element"), format: c.format}, nil
}

// removeGroupUser takes a member out of a group. Membership of a group
// with Full Control does not count for keepFullControl (the group
// does), so this is never refused for it.
func (c *call) removeGroupUser(g *storage.Group, u *storage.User) error {
	if err := c.tx.Security().RemoveMember(c.ctx, c.web.SiteID, g.ID, u.ID); err != nil {
		return err
	}
	c.principalChanged(u)
	return nil
}
