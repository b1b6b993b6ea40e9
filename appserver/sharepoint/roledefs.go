package sharepoint

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// roleDefinitions is web/roleDefinitions: the site's permission levels
// as stored (SharePoint's built-in ones, with its ids and masks, and the
// site's own), with getById(n), getByName('…'), getByType(n) and
// roleDefinitions(n); POST adds a level, MERGE on one changes it and
// DELETE removes it (PnPjs's roleDefinitions.add, update, delete).
func (c *call) roleDefinitions(seg odata.Segment, rest []odata.Segment) (*response, error) {
	roles, err := c.tx.Security().RoleDefinitions(c.ctx, c.web.SiteID)
	if err != nil {
		return nil, err
	}
	var match func(*storage.RoleDefinition) bool
	switch {
	case seg.Call:
		id, err := roleIDArg(seg)
		if err != nil {
			return nil, err
		}
		match = func(r *storage.RoleDefinition) bool { return r.ID == id }
	case len(rest) > 0 && rest[0].Call && (rest[0].Is("getbyid") || rest[0].Is("getbytype")):
		n, err := roleIDArg(rest[0])
		if err != nil {
			return nil, err
		}
		if rest[0].Is("getbyid") {
			match = func(r *storage.RoleDefinition) bool { return r.ID == n }
		} else {
			match = func(r *storage.RoleDefinition) bool { return int64(r.Type) == n && r.Type != permissions.RoleNone }
		}
		rest = rest[1:]
	case len(rest) > 0 && rest[0].Call && rest[0].Is("getbyname"):
		v, ok := rest[0].Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("getByName takes the permission level's name as a string.")
		}
		match = func(r *storage.RoleDefinition) bool { return strings.EqualFold(r.Name, v.Str) }
		rest = rest[1:]
	case len(rest) > 0:
		return nil, notFound(rest[0])
	default:
		switch c.method {
		case http.MethodGet, http.MethodHead:
			ents := make([]*odata.Entity, len(roles))
			for i, r := range roles {
				ents[i] = c.roleEntity(r.Role)
			}
			return c.filteredCollection(ents, "SP.ApiData.RoleDefinitions")
		case http.MethodPost:
			return c.addRoleDefinition()
		}
		return nil, c.notAllowed()
	}
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	for _, r := range roles {
		if match(r) {
			return c.serveLeaf(leaf{
				get: func() (*response, error) {
					return c.entity(c.roleEntity(r.Role), "SP.ApiData.RoleDefinitions/@Element"), nil
				},
				update: func() (*response, error) { return c.updateRoleDefinition(r) },
				del:    func() (*response, error) { return c.deleteRoleDefinition(r) },
			})
		}
	}
	return nil, roleMissing()
}

// roleMissing is SharePoint's answer for a permission level that is not
// there.
func roleMissing() error {
	return odata.NewError(http.StatusNotFound, "-2146232832, Microsoft.SharePoint.SPException",
		"Permission level cannot be found.")
}

// roleIDArg is a segment's one whole-number argument.
func roleIDArg(seg odata.Segment) (int64, error) {
	v, ok := seg.Single()
	if ok && v.Kind == odata.KindInt {
		return v.Int, nil
	}
	return 0, odata.InvalidQuery(seg.Name + " takes a whole number.")
}

func (c *call) roleEntity(r permissions.Role) *odata.Entity {
	link := "Web/RoleDefinitions(" + strconv.FormatInt(r.ID, 10) + ")"
	return &odata.Entity{Type: "SP.RoleDefinition", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "BasePermissions", Value: basePermissions(r.Mask)},
		{Name: "Description", Value: r.Description},
		{Name: "Hidden", Value: r.Hidden},
		{Name: "Id", Value: r.ID},
		{Name: "Name", Value: r.Name},
		{Name: "Order", Value: r.Order},
		{Name: "RoleTypeKind", Value: int(r.Type)},
	}}
}

// basePermissions is SP.BasePermissions: the mask's halves as decimal
// strings (Edm.Int64 in JSON), as SharePoint sends them.
func basePermissions(m permissions.Mask) *odata.Entity {
	return &odata.Entity{Type: "SP.BasePermissions", Props: []odata.Prop{
		{Name: "High", Value: strconv.FormatUint(uint64(m.High()), 10)},
		{Name: "Low", Value: strconv.FormatUint(uint64(m.Low()), 10)}}}
}

const roleType = "SP.RoleDefinition"

// roleInput reads SP.RoleDefinition's writable members: Name,
// Description, Order and BasePermissions ({"High":"…","Low":"…"},
// strings as PnPjs sends them, or numbers).
func (c *call) roleInput() (storage.RoleDefinitionUpdate, error) {
	var upd storage.RoleDefinitionUpdate
	m, err := c.object(roleType)
	if err != nil {
		return upd, err
	}
	if err := onlyKnown(m, roleType, "Name", "Description", "Order", "BasePermissions"); err != nil {
		return upd, err
	}
	if upd.Name, err = propString(m, "Name", roleType); err != nil {
		return upd, err
	}
	if upd.Description, err = propString(m, "Description", roleType); err != nil {
		return upd, err
	}
	if upd.Order, err = propInt(m, "Order", roleType); err != nil {
		return upd, err
	}
	if raw, ok := lookup(m, "BasePermissions"); ok && string(raw) != "null" {
		mask, err := parseBasePermissions(raw)
		if err != nil {
			return upd, err
		}
		upd.Mask = &mask
	}
	return upd, nil
}

// parseBasePermissions reads SP.BasePermissions from a body.
func parseBasePermissions(raw json.RawMessage) (permissions.Mask, error) {
	var bp map[string]json.RawMessage
	if err := json.Unmarshal(raw, &bp); err != nil || bp == nil {
		return 0, odata.InvalidQuery("BasePermissions must be an object with High and Low.")
	}
	if err := checkMetadata(bp, "SP.BasePermissions"); err != nil {
		return 0, err
	}
	if err := onlyKnown(bp, "SP.BasePermissions", "High", "Low"); err != nil {
		return 0, err
	}
	half := func(name string) string {
		v, _ := lookup(bp, name)
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	mask, err := permissions.ParseHighLow(half("High"), half("Low"))
	if err != nil {
		return 0, odata.InvalidQuery(err.Error() + ".")
	}
	return mask, nil
}

// addRoleDefinition is POST roleDefinitions: a custom level. The answer
// is the new SP.RoleDefinition (PnPjs reads its Id).
func (c *call) addRoleDefinition() (*response, error) {
	in, err := c.roleInput()
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, odata.InvalidQuery("A new permission level needs a Name.")
	}
	r := permissions.Role{Name: *in.Name}
	if in.Description != nil {
		r.Description = *in.Description
	}
	if in.Order != nil {
		r.Order = *in.Order
	}
	if in.Mask != nil {
		r.Mask = *in.Mask
	}
	created, err := c.tx.Security().CreateRoleDefinition(c.ctx, c.web.SiteID, r)
	if err != nil {
		return nil, nameTaken(err, "The specified name is already in use by a permission level of the site.")
	}
	return &response{status: http.StatusCreated, header: http.Header{},
		body: c.enc.Entity(c.roleEntity(created.Role), "SP.ApiData.RoleDefinitions/@Element"), format: c.format}, nil
}

// fixedLevel reports whether a level's permissions cannot change: Full
// Control (a site must keep a level that can do everything) and Limited
// Access, as in SharePoint.
func fixedLevel(r *storage.RoleDefinition) bool {
	return r.Type == permissions.RoleAdministrator || r.Type == permissions.RoleGuest
}

// updateRoleDefinition is MERGE on a level.
func (c *call) updateRoleDefinition(r *storage.RoleDefinition) (*response, error) {
	upd, err := c.roleInput()
	if err != nil {
		return nil, err
	}
	if upd.Mask != nil && *upd.Mask != r.Mask && fixedLevel(r) {
		return nil, odata.NewError(http.StatusBadRequest, "-2146232832, Microsoft.SharePoint.SPException",
			"The permissions of the permission level \""+r.Name+"\" cannot be changed.")
	}
	if _, err := c.tx.Security().UpdateRoleDefinition(c.ctx, c.web.SiteID, r.ID, upd); err != nil {
		return nil, nameTaken(err, "The specified name is already in use by a permission level of the site.")
	}
	if upd.Mask != nil && *upd.Mask != r.Mask {
		c.rightsChanged(everyone)
	}
	return noContent(""), nil
}

// deleteRoleDefinition is DELETE on a custom level: it leaves every
// assignment it was in.
func (c *call) deleteRoleDefinition(r *storage.RoleDefinition) (*response, error) {
	if r.Type != permissions.RoleNone {
		return nil, odata.NewError(http.StatusBadRequest, "-2146232832, Microsoft.SharePoint.SPException",
			"The built-in permission level \""+r.Name+"\" cannot be deleted.")
	}
	if err := c.tx.Security().DeleteRoleDefinition(c.ctx, c.web.SiteID, r.ID); err != nil {
		return nil, err
	}
	c.rightsChanged(everyone)
	return deleted(), nil
}
