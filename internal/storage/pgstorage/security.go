package pgstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

type security struct{ t *tx }

func (t *tx) Security() storage.Security { return security{t} }

var viewMask = int64(permissions.Of(permissions.ViewListItems))

const (
	roleCols  = `"SiteId"::text, "Id", "Name", "Description", "Type", "Order", "Hidden", "Mask"`
	groupCols = `"Id", "SiteId"::text, "Title", "Description", "OwnerId", "OnlyAllowMembersViewMembership", "AllowMembersEditMembership", "Created"`
	// maskOf is the union of the levels of assignments ra.
	roleJoin = ` JOIN "RoleDefinitions" rd ON rd."SiteId" = ra."SiteId" AND rd."Id" = ra."RoleId"`
)

func errNoRole(id int64) error  { return storage.NotFound("the site has no permission level %d", id) }
func errNoGroup(id int64) error { return storage.NotFound("the site has no group %d", id) }

var errNoScope = storage.NotFound("no web, list or item has this scope")

func scanRole(row pgx.CollectableRow) (*storage.RoleDefinition, error) {
	var r storage.RoleDefinition
	var typ int
	var mask int64
	err := row.Scan(&r.SiteID, &r.ID, &r.Name, &r.Description, &typ, &r.Order, &r.Hidden, &mask)
	r.Type, r.Mask = permissions.RoleType(typ), permissions.Mask(mask)
	return &r, err
}

func scanGroup(row pgx.CollectableRow) (*storage.Group, error) {
	var g storage.Group
	err := row.Scan(&g.ID, &g.SiteID, &g.Title, &g.Description, &g.OwnerID, &g.OnlyAllowMembersViewMembership,
		&g.AllowMembersEditMembership, &g.Created)
	g.Created = g.Created.UTC()
	return &g, err
}

func collect[T any](rows pgx.Rows, err error, scan pgx.RowToFunc[*T]) ([]*T, error) {
	if err != nil {
		return nil, interpretError(err)
	}
	vs, err := pgx.CollectRows(rows, scan)
	if vs == nil {
		vs = []*T{}
	}
	return vs, interpretError(err)
}

func collectOne[T any](rows pgx.Rows, err error, notFound error, scan pgx.RowToFunc[*T]) (*T, error) {
	vs, err := collect(rows, err, scan)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, notFound
	}
	return vs[0], nil
}

func (a security) site(ctx context.Context, siteID string) error {
	_, err := sites(a).Get(ctx, siteID)
	return err
}

// seedSecurity stores what a new site starts with (security.go's "Site
// creation"), in Sites.Create's transaction.
func (t *tx) seedSecurity(ctx context.Context, site *storage.Site, title string) error {
	for _, r := range permissions.DefaultRoles() {
		if _, err := t.exec(ctx, `INSERT INTO "RoleDefinitions" ("SiteId", "Id", "Name", "Description", "Type", "Order", "Hidden", "Mask")
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, site.ID, r.ID, r.Name, r.Description, int(r.Type), r.Order, r.Hidden, int64(r.Mask)); err != nil {
			return err
		}
	}
	var first int64
	gs := permissions.DefaultGroups()
	if err := t.tx.QueryRow(ctx, `UPDATE "Sites" SET "NextUserId" = "NextUserId" + $2 WHERE "Id" = $1 RETURNING "NextUserId" - $2`,
		site.ID, len(gs)).Scan(&first); err != nil {
		return interpretError(err)
	}
	for i, g := range gs {
		id := first + int64(i)
		if _, err := t.exec(ctx, `INSERT INTO "SiteGroups" ("SiteId", "Id", "Title", "Description", "OwnerId",
			"OnlyAllowMembersViewMembership", "AllowMembersEditMembership", "Created") VALUES ($1, $2, $3, '', $4, false, false, $5)`,
			site.ID, id, storage.DefaultGroupTitle(title, g), first, t.now); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO "RoleAssignments" ("SiteId", "ScopeId", "PrincipalId", "RoleId") VALUES ($1, $2, $3, $4)`,
			site.ID, site.RootWebID, id, g.RoleID); err != nil {
			return err
		}
	}
	return nil
}

// Levels.

func (a security) RoleDefinitions(ctx context.Context, siteID string) ([]*storage.RoleDefinition, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	rows, err := a.t.tx.Query(ctx, `SELECT `+roleCols+` FROM "RoleDefinitions" WHERE "SiteId" = $1 ORDER BY "Order", "Id"`, siteID)
	return collect(rows, err, scanRole)
}

func (a security) role(ctx context.Context, siteID string, id int64) (*storage.RoleDefinition, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	rows, err := a.t.tx.Query(ctx, `SELECT `+roleCols+` FROM "RoleDefinitions" WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id)
	return collectOne(rows, err, errNoRole(id), scanRole)
}

func (a security) CreateRoleDefinition(ctx context.Context, siteID string, in permissions.Role) (*storage.RoleDefinition, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := storage.CheckRoleName(in.Name); err != nil {
		return nil, err
	}
	r := &storage.RoleDefinition{SiteID: lower(siteID), Role: in}
	r.Type = permissions.RoleNone
	if err := t.tx.QueryRow(ctx, `UPDATE "Sites" SET "NextRoleId" = "NextRoleId" + 1 WHERE "Id" = $1 RETURNING "NextRoleId" - 1`,
		siteID).Scan(&r.ID); err != nil {
		return nil, interpretError(err)
	}
	if _, err := t.exec(ctx, `INSERT INTO "RoleDefinitions" ("SiteId", "Id", "Name", "Description", "Type", "Order", "Hidden", "Mask")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, siteID, r.ID, r.Name, r.Description, int(r.Type), r.Order, r.Hidden, int64(r.Mask)); err != nil {
		return nil, err
	}
	return r, nil
}

func (a security) UpdateRoleDefinition(ctx context.Context, siteID string, id int64, upd storage.RoleDefinitionUpdate) (*storage.RoleDefinition, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	r, err := a.role(ctx, siteID, id)
	if err != nil {
		return nil, err
	}
	if err := storage.ApplyRoleUpdate(&r.Role, upd); err != nil {
		return nil, err
	}
	if _, err := a.t.exec(ctx, `UPDATE "RoleDefinitions" SET "Name" = $3, "Description" = $4, "Order" = $5, "Mask" = $6
		WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id, r.Name, r.Description, r.Order, int64(r.Mask)); err != nil {
		return nil, err
	}
	return r, nil
}

func (a security) DeleteRoleDefinition(ctx context.Context, siteID string, id int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	r, err := a.role(ctx, siteID, id)
	if err != nil {
		return err
	}
	if r.Type != permissions.RoleNone {
		return storage.Invalid("the built-in permission level %q cannot be deleted", r.Name)
	}
	// The assignments' foreign key cascades.
	_, err = a.t.exec(ctx, `DELETE FROM "RoleDefinitions" WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id)
	return err
}

// Groups.

func (a security) Groups(ctx context.Context, siteID string) ([]*storage.Group, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	rows, err := a.t.tx.Query(ctx, `SELECT `+groupCols+` FROM "SiteGroups" WHERE "SiteId" = $1 ORDER BY lower("Title") COLLATE "C", "Id"`, siteID)
	return collect(rows, err, scanGroup)
}

func (a security) GetGroup(ctx context.Context, siteID string, id int64) (*storage.Group, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	rows, err := a.t.tx.Query(ctx, `SELECT `+groupCols+` FROM "SiteGroups" WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id)
	return collectOne(rows, err, errNoGroup(id), scanGroup)
}

func (a security) GetGroupByTitle(ctx context.Context, siteID, title string) (*storage.Group, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	rows, err := a.t.tx.Query(ctx, `SELECT `+groupCols+` FROM "SiteGroups" WHERE "SiteId" = $1 AND lower("Title") = lower($2)`, siteID, title)
	return collectOne(rows, err, storage.NotFound("the site has no group with this title"), scanGroup)
}

// checkGroupTitle refuses an empty title and one a user's login takes
// (groups and users share the site's principals, found by either).
func (a security) checkGroupTitle(ctx context.Context, siteID, title string) error {
	if err := storage.CheckGroupTitle(title); err != nil {
		return err
	}
	var taken bool
	if err := a.t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM "Users" WHERE "SiteId" = $1 AND lower("LoginName") = lower($2))`,
		siteID, title).Scan(&taken); err != nil {
		return interpretError(err)
	}
	if taken {
		return storage.Conflict("a user of the site has this login name")
	}
	return nil
}

// principalExists reports whether id is a user or a group of the site.
func (a security) principalExists(ctx context.Context, siteID string, id int64) (bool, error) {
	var ok bool
	err := a.t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM "Users" WHERE "SiteId" = $1 AND "Id" = $2)
		OR EXISTS (SELECT 1 FROM "SiteGroups" WHERE "SiteId" = $1 AND "Id" = $2)`, siteID, id).Scan(&ok)
	return ok, interpretError(err)
}

func (a security) CreateGroup(ctx context.Context, siteID string, in storage.GroupInput) (*storage.Group, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := a.checkGroupTitle(ctx, siteID, in.Title); err != nil {
		return nil, err
	}
	if in.OwnerID != 0 {
		if ok, err := a.principalExists(ctx, siteID, in.OwnerID); err != nil || !ok {
			return nil, firstErr(err, errNoUser(in.OwnerID))
		}
	}
	g := &storage.Group{SiteID: lower(siteID), Title: in.Title, Description: in.Description, OwnerID: in.OwnerID, Created: t.now}
	if err := t.tx.QueryRow(ctx, `UPDATE "Sites" SET "NextUserId" = "NextUserId" + 1 WHERE "Id" = $1 RETURNING "NextUserId" - 1`,
		siteID).Scan(&g.ID); err != nil {
		return nil, interpretError(err)
	}
	if g.OwnerID == 0 {
		g.OwnerID = g.ID // a group made without an owner owns itself
	}
	if _, err := t.exec(ctx, `INSERT INTO "SiteGroups" ("SiteId", "Id", "Title", "Description", "OwnerId",
		"OnlyAllowMembersViewMembership", "AllowMembersEditMembership", "Created") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		siteID, g.ID, g.Title, g.Description, g.OwnerID, g.OnlyAllowMembersViewMembership, g.AllowMembersEditMembership, g.Created); err != nil {
		return nil, err
	}
	return g, nil
}

func firstErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func (a security) UpdateGroup(ctx context.Context, siteID string, id int64, upd storage.GroupUpdate) (*storage.Group, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	g, err := a.GetGroup(ctx, siteID, id)
	if err != nil {
		return nil, err
	}
	if upd.Title != nil {
		if err := a.checkGroupTitle(ctx, siteID, *upd.Title); err != nil {
			return nil, err
		}
		g.Title = *upd.Title
	}
	if upd.Description != nil {
		g.Description = *upd.Description
	}
	if upd.OwnerID != nil {
		if ok, err := a.principalExists(ctx, siteID, *upd.OwnerID); err != nil || !ok {
			return nil, firstErr(err, errNoUser(*upd.OwnerID))
		}
		g.OwnerID = *upd.OwnerID
	}
	if upd.OnlyAllowMembersViewMembership != nil {
		g.OnlyAllowMembersViewMembership = *upd.OnlyAllowMembersViewMembership
	}
	if upd.AllowMembersEditMembership != nil {
		g.AllowMembersEditMembership = *upd.AllowMembersEditMembership
	}
	if _, err := a.t.exec(ctx, `UPDATE "SiteGroups" SET "Title" = $3, "Description" = $4, "OwnerId" = $5,
		"OnlyAllowMembersViewMembership" = $6, "AllowMembersEditMembership" = $7 WHERE "SiteId" = $1 AND "Id" = $2`,
		siteID, id, g.Title, g.Description, g.OwnerID, g.OnlyAllowMembersViewMembership, g.AllowMembersEditMembership); err != nil {
		return nil, err
	}
	return g, nil
}

func (a security) DeleteGroup(ctx context.Context, siteID string, id int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if _, err := a.GetGroup(ctx, siteID, id); err != nil {
		return err
	}
	// Memberships go by the foreign key; assignments name principals of
	// either kind, so they have none.
	_, err := a.t.exec(ctx, `WITH d AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $1 AND "PrincipalId" = $2)
		DELETE FROM "SiteGroups" WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id)
	return err
}

func (a security) Members(ctx context.Context, siteID string, groupID int64) ([]*storage.User, error) {
	if _, err := a.GetGroup(ctx, siteID, groupID); err != nil {
		return nil, err
	}
	return all[storage.User](ctx, a.t, `SELECT `+userCols+` FROM "Users" WHERE "SiteId" = $1
		AND "Id" IN (SELECT "PrincipalId" FROM "GroupMembers" WHERE "SiteId" = $1 AND "GroupId" = $2) ORDER BY "Id"`, siteID, groupID)
}

func (a security) AddMember(ctx context.Context, siteID string, groupID, principalID int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if _, err := a.GetGroup(ctx, siteID, groupID); err != nil {
		return err
	}
	n, err := a.t.exec(ctx, `INSERT INTO "GroupMembers" ("SiteId", "GroupId", "PrincipalId")
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM "Users" WHERE "SiteId" = $1 AND "Id" = $3)
		ON CONFLICT DO NOTHING`, siteID, groupID, principalID)
	if err != nil {
		return err
	}
	if n == 0 {
		var member bool
		if err := a.t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM "GroupMembers" WHERE "SiteId" = $1 AND "GroupId" = $2 AND "PrincipalId" = $3)`,
			siteID, groupID, principalID).Scan(&member); err != nil {
			return interpretError(err)
		}
		if !member {
			return errNoUser(principalID)
		}
	}
	return nil
}

func (a security) RemoveMember(ctx context.Context, siteID string, groupID, principalID int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if _, err := a.GetGroup(ctx, siteID, groupID); err != nil {
		return err
	}
	_, err := a.t.exec(ctx, `DELETE FROM "GroupMembers" WHERE "SiteId" = $1 AND "GroupId" = $2 AND "PrincipalId" = $3`, siteID, groupID, principalID)
	return err
}

func (a security) GroupsOf(ctx context.Context, siteID string, principalIDs []int64) ([]int64, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	ids := []int64{}
	if len(principalIDs) == 0 {
		return ids, nil
	}
	rows, _ := a.t.tx.Query(ctx, `SELECT DISTINCT "GroupId" FROM "GroupMembers" WHERE "SiteId" = $1 AND "PrincipalId" = ANY($2) ORDER BY 1`,
		siteID, principalIDs)
	var id int64
	_, err := pgx.ForEachRow(rows, []any{&id}, func() error { ids = append(ids, id); return nil })
	return ids, interpretError(err)
}

// Scopes.

// target is a securable object as stored: its effective scope, its
// site, and what its parent's effective scope is (for an item, the
// value an item inheriting from the same parent carries: "" or a
// folder's scope).
type target struct {
	storage.ScopeRef
	siteID string
	scope  string
	// stored is what the object's row holds ("" for an item that inherits
	// its list).
	stored string
	// parent is what the object's row holds once it inherits again.
	parent string
	root   bool
	// url is an item's file or folder URL ("" when it has none).
	url string
}

func (t target) own() string { return storage.ScopeIDOf(t.ScopeRef) }

// target reads obj (one statement per kind).
func (a security) target(ctx context.Context, obj storage.ScopeRef) (*target, error) {
	obj.WebID, obj.ListID = lower(obj.WebID), lower(obj.ListID)
	tg := &target{ScopeRef: obj}
	var err error
	switch {
	case obj.ListID == "":
		if !isGUID(obj.WebID) {
			return nil, errNoWeb
		}
		err = a.t.tx.QueryRow(ctx, `SELECT w."SiteId"::text, w."ScopeId", COALESCE(p."ScopeId", ''), w."ParentId" IS NULL
			FROM "Webs" w LEFT JOIN "Webs" p ON p."Id" = w."ParentId" WHERE w."Id" = $1`, obj.WebID).Scan(&tg.siteID, &tg.scope, &tg.parent, &tg.root)
		tg.stored = tg.scope
		if err == pgx.ErrNoRows {
			return nil, errNoWeb
		}
	case obj.ItemID == 0:
		if !isGUID(obj.ListID) || (obj.WebID != "" && !isGUID(obj.WebID)) {
			return nil, errNoList
		}
		err = a.t.tx.QueryRow(ctx, `SELECT w."SiteId"::text, w."Id"::text, l."ScopeId", w."ScopeId"
			FROM "Lists" l JOIN "Webs" w ON w."Id" = l."WebId" WHERE l."Id" = $1 AND ($2 = '' OR l."WebId"::text = $2)`,
			obj.ListID, obj.WebID).Scan(&tg.siteID, &tg.WebID, &tg.scope, &tg.parent)
		tg.stored = tg.scope
		if err == pgx.ErrNoRows {
			return nil, errNoList
		}
	default:
		if !isGUID(obj.ListID) || (obj.WebID != "" && !isGUID(obj.WebID)) {
			return nil, errNoList
		}
		// An item's parent is its folder's item, when it is in one.
		err = a.t.tx.QueryRow(ctx, `SELECT w."SiteId"::text, w."Id"::text, i."ScopeId", l."ScopeId", COALESCE(f."Url", ''),
				COALESCE((SELECT pi."ScopeId" FROM "Files" pf JOIN "ListItems" pi ON pi."ListId" = pf."ListId" AND pi."Id" = pf."ItemId"
					WHERE pf."SiteId" = w."SiteId" AND lower(pf."Url") COLLATE "C" = lower(f."DirUrl") AND pf."ListId" = l."Id"), '')
			FROM "ListItems" i JOIN "Lists" l ON l."Id" = i."ListId" JOIN "Webs" w ON w."Id" = l."WebId"
			LEFT JOIN "Files" f ON f."ListId" = i."ListId" AND f."ItemId" = i."Id"
			WHERE i."ListId" = $1 AND i."Id" = $2 AND ($3 = '' OR l."WebId"::text = $3)`,
			obj.ListID, obj.ItemID, obj.WebID).Scan(&tg.siteID, &tg.WebID, &tg.stored, &tg.scope, &tg.url, &tg.parent)
		if err == pgx.ErrNoRows {
			return nil, storage.NotFound("the list has no item %d", obj.ItemID)
		}
		if tg.stored != "" {
			tg.scope = tg.stored
		}
	}
	return tg, interpretError(err)
}

func (a security) Scope(ctx context.Context, obj storage.ScopeRef) (string, bool, error) {
	tg, err := a.target(ctx, obj)
	if err != nil {
		return "", false, err
	}
	return tg.scope, tg.scope == tg.own(), nil
}

// scopeSite is the site of the object that may own scopeID.
func (a security) scopeSite(ctx context.Context, scopeID string) (string, error) {
	id, item, isItem := strings.Cut(lower(scopeID), "/")
	if !isGUID(id) {
		return "", errNoScope
	}
	if isItem {
		if _, err := strconv.ParseInt(item, 10, 64); err != nil {
			return "", errNoScope
		}
	}
	var site *string
	if err := a.t.tx.QueryRow(ctx, `SELECT COALESCE((SELECT "SiteId"::text FROM "Webs" WHERE "Id" = $1 AND NOT $2),
		(SELECT w."SiteId"::text FROM "Lists" l JOIN "Webs" w ON w."Id" = l."WebId" WHERE l."Id" = $1))`, id, isItem).Scan(&site); err != nil {
		return "", interpretError(err)
	}
	if site == nil {
		return "", errNoScope
	}
	return *site, nil
}

func (a security) Assignments(ctx context.Context, scopeID string) ([]*storage.RoleAssignment, error) {
	out := []*storage.RoleAssignment{}
	rows, _ := a.t.tx.Query(ctx, `SELECT "PrincipalId", array_agg("RoleId" ORDER BY "RoleId") FROM "RoleAssignments"
		WHERE "ScopeId" = $1 GROUP BY "PrincipalId" ORDER BY "PrincipalId"`, lower(scopeID))
	var p int64
	var roles []int64
	_, err := pgx.ForEachRow(rows, []any{&p, &roles}, func() error {
		out = append(out, &storage.RoleAssignment{ScopeID: lower(scopeID), PrincipalID: p, RoleIDs: roles})
		return nil
	})
	return out, interpretError(err)
}

func (a security) AddAssignment(ctx context.Context, scopeID string, principalID, roleID int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	site, err := a.scopeSite(ctx, scopeID)
	if err != nil {
		return err
	}
	if ok, err := a.principalExists(ctx, site, principalID); err != nil || !ok {
		return firstErr(err, errNoUser(principalID))
	}
	n, err := a.t.exec(ctx, `INSERT INTO "RoleAssignments" ("SiteId", "ScopeId", "PrincipalId", "RoleId")
		SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM "RoleDefinitions" WHERE "SiteId" = $1 AND "Id" = $4)
		ON CONFLICT DO NOTHING`, site, lower(scopeID), principalID, roleID)
	if err != nil || n > 0 {
		return err
	}
	if _, err := a.role(ctx, site, roleID); err != nil {
		return err
	}
	return nil
}

func (a security) RemoveAssignment(ctx context.Context, scopeID string, principalID, roleID int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	_, err := a.t.exec(ctx, `DELETE FROM "RoleAssignments" WHERE "ScopeId" = $1 AND "PrincipalId" = $2 AND ($3 = 0 OR "RoleId" = $3)`,
		lower(scopeID), principalID, roleID)
	return err
}

// webTree is the web at $1 and the webs below it.
const webTree = `WITH RECURSIVE tree AS (SELECT "Id" FROM "Webs" WHERE "Id" = $1
	UNION ALL SELECT w."Id" FROM "Webs" w JOIN tree ON w."ParentId" = tree."Id")`

// itemTree is the item $2 of list $1 and, when it is a folder, the items
// below it ($3: its URL; $4: its site).
const itemTree = `WITH tree AS (SELECT $2::bigint AS "Id" UNION
	SELECT f."ItemId" FROM "Files" f WHERE $3 <> '' AND f."SiteId" = $4 AND f."ListId" = $1 AND ` + `(lower(f."Url") COLLATE "C" >= lower($3) || '/'
		AND lower(f."Url") COLLATE "C" < lower($3) || '0'))`

// itemGUID is the GUID of item $2 of list $1, for the change an item's
// inheritance records (ChangeSystemUpdate) in the statement that changes
// it.
const itemGUID = `(SELECT "Guid" FROM "ListItems" WHERE "ListId" = $1 AND "Id" = $2)`

func (a security) BreakInheritance(ctx context.Context, obj storage.ScopeRef, copyAssignments, clearSubscopes bool) (string, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return "", err
	}
	tg, err := a.target(ctx, obj)
	if err != nil {
		return "", err
	}
	own := tg.own()
	if tg.scope == own {
		return own, nil
	}
	if copyAssignments {
		if _, err := t.exec(ctx, `INSERT INTO "RoleAssignments" ("SiteId", "ScopeId", "PrincipalId", "RoleId")
			SELECT "SiteId", $2, "PrincipalId", "RoleId" FROM "RoleAssignments" WHERE "ScopeId" = $1 ON CONFLICT DO NOTHING`,
			tg.scope, own); err != nil {
			return "", err
		}
	}
	switch {
	case tg.ListID == "" && clearSubscopes:
		// Everything below inherits the new scope; the scopes below go.
		_, err = t.exec(ctx, webTree+`,
			lists AS (SELECT "Id" FROM "Lists" WHERE "WebId" IN (SELECT "Id" FROM tree)),
			w AS (UPDATE "Webs" SET "ScopeId" = $2 WHERE "Id" IN (SELECT "Id" FROM tree)),
			l AS (UPDATE "Lists" SET "ScopeId" = $2 WHERE "Id" IN (SELECT "Id" FROM lists)),
			i AS (UPDATE "ListItems" SET "ScopeId" = '' WHERE "ListId" IN (SELECT "Id" FROM lists) AND "ScopeId" <> '')
			DELETE FROM "RoleAssignments" WHERE "SiteId" = $3 AND split_part("ScopeId", '/', 1) IN (
				SELECT "Id"::text FROM tree WHERE "Id" <> $1 UNION ALL SELECT "Id"::text FROM lists)`,
			tg.WebID, own, tg.siteID)
	case tg.ListID == "":
		_, err = t.exec(ctx, webTree+`,
			w AS (UPDATE "Webs" SET "ScopeId" = $2 WHERE "Id" IN (SELECT "Id" FROM tree) AND "ScopeId" = $3)
			UPDATE "Lists" SET "ScopeId" = $2 WHERE "WebId" IN (SELECT "Id" FROM tree) AND "ScopeId" = $3`,
			tg.WebID, own, tg.scope)
	case tg.ItemID == 0:
		// Items that inherit carry "": none needs writing.
		_, err = t.exec(ctx, `UPDATE "Lists" SET "ScopeId" = $2 WHERE "Id" = $1`, tg.ListID, own)
		if err == nil && clearSubscopes {
			_, err = t.exec(ctx, `WITH i AS (UPDATE "ListItems" SET "ScopeId" = '' WHERE "ListId" = $1 AND "ScopeId" <> '')
				DELETE FROM "RoleAssignments" WHERE "SiteId" = $2 AND left("ScopeId", 37) = $1::uuid::text || '/'`, tg.ListID, tg.siteID)
		}
	case clearSubscopes:
		_, err = t.exec(ctx, itemTree+`,
			i AS (UPDATE "ListItems" SET "ScopeId" = $5 WHERE "ListId" = $1 AND "Id" IN (SELECT "Id" FROM tree)),
			ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $4 AND "ScopeId" IN (SELECT $1::uuid::text || '/' || "Id" FROM tree WHERE "Id" <> $2)),
			`+logOne(storage.ChangeSystemUpdate, itemGUID, "$6::timestamptz")+`
			SELECT 1`,
			tg.ListID, tg.ItemID, tg.url, tg.siteID, own, t.now)
	default:
		_, err = t.exec(ctx, itemTree+`,
			i AS (UPDATE "ListItems" SET "ScopeId" = $5 WHERE "ListId" = $1 AND "Id" IN (SELECT "Id" FROM tree) AND "ScopeId" = $6),
			`+logOne(storage.ChangeSystemUpdate, itemGUID, "$7::timestamptz")+`
			SELECT 1`,
			tg.ListID, tg.ItemID, tg.url, tg.siteID, own, tg.stored, t.now)
	}
	if err != nil {
		return "", err
	}
	return own, nil
}

func (a security) ResetInheritance(ctx context.Context, obj storage.ScopeRef) error {
	t := a.t
	if err := t.check(true); err != nil {
		return err
	}
	tg, err := a.target(ctx, obj)
	if err != nil {
		return err
	}
	if tg.ListID == "" && tg.root {
		return storage.Invalid("a site's root web always has its own permissions")
	}
	own := tg.own()
	if tg.scope != own {
		return nil
	}
	switch {
	case tg.ListID == "":
		_, err = t.exec(ctx, webTree+`,
			w AS (UPDATE "Webs" SET "ScopeId" = $2 WHERE "Id" IN (SELECT "Id" FROM tree) AND "ScopeId" = $3),
			l AS (UPDATE "Lists" SET "ScopeId" = $2 WHERE "WebId" IN (SELECT "Id" FROM tree) AND "ScopeId" = $3)
			DELETE FROM "RoleAssignments" WHERE "ScopeId" = $3`, tg.WebID, tg.parent, own)
	case tg.ItemID == 0:
		_, err = t.exec(ctx, `WITH l AS (UPDATE "Lists" SET "ScopeId" = $2 WHERE "Id" = $1)
			DELETE FROM "RoleAssignments" WHERE "ScopeId" = $3`, tg.ListID, tg.parent, own)
	default:
		_, err = t.exec(ctx, itemTree+`,
			i AS (UPDATE "ListItems" SET "ScopeId" = $5 WHERE "ListId" = $1 AND "Id" IN (SELECT "Id" FROM tree) AND "ScopeId" = $6),
			ra AS (DELETE FROM "RoleAssignments" WHERE "ScopeId" = $6),
			`+logOne(storage.ChangeSystemUpdate, itemGUID, "$7::timestamptz")+`
			SELECT 1`, tg.ListID, tg.ItemID, tg.url, tg.siteID, tg.parent, own, t.now)
	}
	return err
}

// accessSQL is Access in one statement: the user rows of the logins in
// every site, the site groups those belong to, and per site the union of
// the levels they hold on each web or list scope.
const accessSQL = `WITH u AS (SELECT "SiteId", "Id", "LoginName", "IsSiteAdmin" FROM "Users" WHERE "LoginName" = ANY($1)),
	g AS (SELECT DISTINCT m."SiteId", m."GroupId" AS "Id" FROM "GroupMembers" m JOIN u ON m."SiteId" = u."SiteId" AND m."PrincipalId" = u."Id"),
	p AS (SELECT "SiteId", "Id" FROM u UNION SELECT "SiteId", "Id" FROM g),
	gr AS (SELECT ra."SiteId", ra."ScopeId", bit_or(rd."Mask") AS mask
		FROM "RoleAssignments" ra JOIN p ON ra."SiteId" = p."SiteId" AND ra."PrincipalId" = p."Id"` + roleJoin + `
		WHERE strpos(ra."ScopeId", '/') = 0 GROUP BY ra."SiteId", ra."ScopeId")
	SELECT s."SiteId"::text, COALESCE(me."Id", 0), COALESCE(me."IsSiteAdmin", false),
		(SELECT array_agg(p."Id" ORDER BY p."Id") FROM p WHERE p."SiteId" = s."SiteId"),
		COALESCE((SELECT json_object_agg(gr."ScopeId", gr.mask) FROM gr WHERE gr."SiteId" = s."SiteId"), '{}')::text
	FROM (SELECT DISTINCT "SiteId" FROM u) s LEFT JOIN u me ON me."SiteId" = s."SiteId" AND me."LoginName" = $2
	ORDER BY 1`

func (a security) Access(ctx context.Context, logins []string) ([]*storage.Access, error) {
	out := []*storage.Access{}
	if len(logins) == 0 {
		return out, nil
	}
	norm := make([]string, 0, len(logins))
	for _, l := range logins {
		if n, err := storage.ClaimsLogin(l); err == nil {
			norm = append(norm, n)
		}
	}
	if len(norm) == 0 {
		return out, nil
	}
	rows, _ := a.t.tx.Query(ctx, accessSQL, norm, norm[0])
	var site, grants string
	var user int64
	var admin bool
	var principals []int64
	_, err := pgx.ForEachRow(rows, []any{&site, &user, &admin, &principals, &grants}, func() error {
		var m map[string]int64
		if err := json.Unmarshal([]byte(grants), &m); err != nil {
			return fmt.Errorf("pgstorage: reading grants: %w", err)
		}
		acc := &storage.Access{SiteID: site, UserID: user, IsSiteAdmin: admin, Principals: principals, Grants: map[string]permissions.Mask{}}
		for k, v := range m {
			acc.Grants[k] = permissions.Mask(v)
		}
		out = append(out, acc)
		return nil
	})
	return out, interpretError(err)
}

func (a security) EffectiveMask(ctx context.Context, scopeID string, principals []int64) (permissions.Mask, error) {
	if len(principals) == 0 {
		return 0, nil
	}
	var m int64
	err := a.t.tx.QueryRow(ctx, `SELECT COALESCE(bit_or(rd."Mask"), 0) FROM "RoleAssignments" ra`+roleJoin+`
		WHERE ra."ScopeId" = $1 AND ra."PrincipalId" = ANY($2)`, lower(scopeID), principals).Scan(&m)
	return permissions.Mask(m), interpretError(err)
}

// viewerSees is the visibility predicate on the item row alias it for
// viewer v, its principals as parameter n: an item with a scope of its
// own (few, "IX_ListItems_ListId_ScopeId") by an assignment granting
// ViewListItems, one that inherits by the list's.
//
// When the list is visible, most rows pass without the subquery, and a
// page meets a handful of scoped rows: each is checked by the primary
// key of "RoleAssignments" (ScopeId, PrincipalId, …). OFFSET 0 keeps
// PostgreSQL from turning the EXISTS into a hashed subplan, which would
// read every assignment of the principals (every scope they see, in a
// list of a million items 50,000 rows, 50 ms) for each page. Otherwise
// (only scoped rows can pass, and counts read them all) the hashed
// form is the right one and the planner is left to choose.
func viewerSees(it, n string, v *storage.Viewer) string {
	perRow := ""
	if v.ListVisible {
		perRow = " OFFSET 0"
	}
	sees := `(` + it + `."ScopeId" <> '' AND EXISTS (SELECT 1 FROM "RoleAssignments" ra` + roleJoin + `
		WHERE ra."ScopeId" = ` + it + `."ScopeId" AND ra."PrincipalId" = ANY(` + n + `::bigint[]) AND rd."Mask" & ` + strconv.FormatInt(viewMask, 10) + ` <> 0` + perRow + `))`
	if v.ListVisible {
		sees = `(` + it + `."ScopeId" = '' OR ` + sees + `)`
	}
	return sees
}

func principalsOf(v *storage.Viewer) []int64 {
	if v.Principals == nil {
		return []int64{}
	}
	return v.Principals
}

func (a security) VisibleItemCount(ctx context.Context, listID string, v *storage.Viewer) (int64, error) {
	if !isGUID(listID) {
		return 0, errNoList
	}
	var n *int64
	var err error
	switch {
	case v == nil:
		err = a.t.tx.QueryRow(ctx, `SELECT "ItemCount" FROM "Lists" WHERE "Id" = $1`, listID).Scan(&n)
	case v.ListVisible:
		// All but the items of their own scope, and those of them v sees:
		// only the few rows of the partial index are read.
		err = a.t.tx.QueryRow(ctx, `SELECT l."ItemCount"
			- (SELECT count(*) FROM "ListItems" li WHERE li."ListId" = l."Id" AND li."ScopeId" <> '')
			+ (SELECT count(*) FROM "ListItems" li WHERE li."ListId" = l."Id" AND li."ScopeId" <> '' AND `+viewerSees("li", "$2", &storage.Viewer{})+`)
			FROM "Lists" l WHERE l."Id" = $1`, listID, principalsOf(v)).Scan(&n)
	default:
		err = a.t.tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM "ListItems" li WHERE li."ListId" = l."Id" AND li."ScopeId" <> '' AND `+
			viewerSees("li", "$2", v)+`) FROM "Lists" l WHERE l."Id" = $1`, listID, principalsOf(v)).Scan(&n)
	}
	if err == pgx.ErrNoRows {
		return 0, errNoList
	}
	if err != nil {
		return 0, interpretError(err)
	}
	return *n, nil
}
