package sharepoint

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
)

// roleDefinitions is web/roleDefinitions: the site's permission levels,
// with getById(n), getByName('…'), getByType(n) and roleDefinitions(n).
// Every site has SharePoint's built-in levels, with its ids and masks, so
// scripts that look them up by id, name or type find them.
func (c *call) roleDefinitions(seg odata.Segment, rest []odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	roles := permissions.DefaultRoles()
	var match func(permissions.Role) bool
	switch {
	case seg.Call:
		id, err := roleIDArg(seg)
		if err != nil {
			return nil, err
		}
		match = func(r permissions.Role) bool { return r.ID == id }
	case len(rest) > 0 && rest[0].Call && (rest[0].Is("getbyid") || rest[0].Is("getbytype")):
		n, err := roleIDArg(rest[0])
		if err != nil {
			return nil, err
		}
		if rest[0].Is("getbyid") {
			match = func(r permissions.Role) bool { return r.ID == n }
		} else {
			match = func(r permissions.Role) bool { return int64(r.Type) == n }
		}
		rest = rest[1:]
	case len(rest) > 0 && rest[0].Call && rest[0].Is("getbyname"):
		v, ok := rest[0].Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("getByName takes the permission level's name as a string.")
		}
		match = func(r permissions.Role) bool { return strings.EqualFold(r.Name, v.Str) }
		rest = rest[1:]
	case len(rest) > 0:
		return nil, notFound(rest[0])
	default:
		ents := make([]*odata.Entity, len(roles))
		for i, r := range roles {
			ents[i] = c.roleEntity(r)
		}
		return c.filteredCollection(ents, "SP.ApiData.RoleDefinitions")
	}
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	for _, r := range roles {
		if match(r) {
			return c.entity(c.roleEntity(r), "SP.ApiData.RoleDefinitions/@Element"), nil
		}
	}
	return nil, odata.NewError(http.StatusNotFound, "-2146232832, Microsoft.SharePoint.SPException",
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
