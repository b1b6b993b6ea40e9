package storage

import (
	"context"
	"strconv"
	"time"

	"github.com/cesivi/cesivi/internal/permissions"
)

// Security is the permissions aggregate (issue: permissions). This file
// is its contract; both providers pass storagetest's suite for it.
//
// The model is SharePoint's:
//
//   - A securable object is a web, a list or an item (a folder or a file
//     of a library is an item). Each has an effective scope: its own
//     when its inheritance is broken (HasUniqueRoleAssignments), else
//     its parent's. A site's root web always has its own.
//   - A scope holds role assignments: a principal (a site user, a site
//     group, or an identity-provider group, all in the site's one id
//     space) bound to role definitions.
//   - Webs and lists carry their effective scope id explicitly (there are
//     few of them, so breaking a web's inheritance rewrites the rows that
//     inherited). An item carries "" when it inherits its list's scope,
//     so breaking a million-item list's inheritance writes no item row;
//     an item in a folder with unique permissions carries the folder's.
//   - Reading items filters in the query (ItemQuery.Viewer): an item
//     that inherits the list's scope is visible when the list is; one
//     with a scope of its own when an assignment on that scope grants one
//     of the viewer's principals ViewListItems. Paging and counts stay
//     correct and no row is fetched to be discarded.
//
// Every change returns, or the caller derives from it, what the
// user-context cache must drop (a scope, a group's members, "*").

// ScopeRef names a securable object: a web (ListID ""), a list (ItemID
// 0) or an item.
type ScopeRef struct {
	WebID  string
	ListID string
	ItemID int64
}

// ScopeIDOf is the id of the scope obj owns when its inheritance is
// broken: the web's or list's id, or "<list id>/<item id>". Ids are
// never reused, so neither is a scope id.
func ScopeIDOf(obj ScopeRef) string {
	switch {
	case obj.ListID == "":
		return obj.WebID
	case obj.ItemID == 0:
		return obj.ListID
	default:
		return ItemScopeID(obj.ListID, obj.ItemID)
	}
}

// ItemScopeID is the scope id an item owns when its inheritance is broken.
func ItemScopeID(listID string, itemID int64) string {
	return listID + "/" + strconv.FormatInt(itemID, 10)
}

// Access is what one person counts as in one site: the principals (its
// user row, the rows of its identity-provider groups, and the site groups
// any of them belongs to) and the levels those hold on the scopes of
// webs and lists. Item scopes are not in it (there may be millions): the
// item queries filter by Principals, and EffectiveMask reads one.
type Access struct {
	SiteID string
	// UserID is the person's own user row (0: none yet).
	UserID int64
	// IsSiteAdmin is the user row's flag (cesivi-server sites admins).
	IsSiteAdmin bool
	Principals  []int64
	// Grants is the union of levels per web or list scope id; a scope
	// absent from it grants nothing.
	Grants map[string]permissions.Mask
}

// RoleDefinition is a permission level of a site: the built-in ones
// (permissions.DefaultRoles, with SharePoint's ids) made with the site,
// and custom ones from permissions.FirstCustomRoleID up.
type RoleDefinition struct {
	SiteID string
	permissions.Role
}

// RoleDefinitionUpdate names what changes; nil fields are kept. A
// built-in level's type and id never change.
type RoleDefinitionUpdate struct {
	Name        *string
	Description *string
	Order       *int
	Mask        *permissions.Mask
}

// Group is a site group (PrincipalType 8), a principal of its site in the
// same id space as the site's users.
type Group struct {
	ID          int64
	SiteID      string
	Title       string
	Description string
	// OwnerID is the principal (user or group) that may manage the group.
	OwnerID                        int64
	OnlyAllowMembersViewMembership bool
	AllowMembersEditMembership     bool
	Created                        time.Time
}

// GroupInput creates a group.
type GroupInput struct {
	Title       string
	Description string
	OwnerID     int64
}

// GroupUpdate changes a group; nil fields are kept.
type GroupUpdate struct {
	Title                          *string
	Description                    *string
	OwnerID                        *int64
	OnlyAllowMembersViewMembership *bool
	AllowMembersEditMembership     *bool
}

// RoleAssignment is one principal's levels on a scope.
type RoleAssignment struct {
	ScopeID     string
	PrincipalID int64
	RoleIDs     []int64
}

// Viewer is who reads, for the visibility filter of queries: the ids of
// every principal the caller counts as (its user, its groups, its
// identity-provider groups) and whether the list's own scope lets it see
// the items that inherit it. A nil *Viewer (a site administrator, a
// system task) sees everything.
type Viewer struct {
	Principals  []int64
	ListVisible bool
}

// Security is the site's permissions.
type Security interface {
	// RoleDefinitions lists the site's levels by Order; Create, Update
	// and Delete change custom ones (a built-in level cannot be deleted:
	// ErrInvalid; a name taken in the site, ignoring case: ErrConflict).
	// Deleting a level removes it from every assignment.
	RoleDefinitions(ctx context.Context, siteID string) ([]*RoleDefinition, error)
	CreateRoleDefinition(ctx context.Context, siteID string, in permissions.Role) (*RoleDefinition, error)
	UpdateRoleDefinition(ctx context.Context, siteID string, id int64, upd RoleDefinitionUpdate) (*RoleDefinition, error)
	DeleteRoleDefinition(ctx context.Context, siteID string, id int64) error

	// Groups lists the site's groups by title; GetGroup / GetGroupByTitle
	// (ignoring case) find one. CreateGroup takes the next principal id of
	// the site; a title taken by a group or a user's login is ErrConflict.
	// DeleteGroup removes its memberships and role assignments too.
	Groups(ctx context.Context, siteID string) ([]*Group, error)
	GetGroup(ctx context.Context, siteID string, id int64) (*Group, error)
	GetGroupByTitle(ctx context.Context, siteID, title string) (*Group, error)
	CreateGroup(ctx context.Context, siteID string, in GroupInput) (*Group, error)
	UpdateGroup(ctx context.Context, siteID string, id int64, upd GroupUpdate) (*Group, error)
	DeleteGroup(ctx context.Context, siteID string, id int64) error

	// Members lists a group's members (users, identity-provider groups)
	// by id. AddMember is idempotent; a principal that is not a user of
	// the site is ErrNotFound. RemoveMember of a non-member is a no-op.
	Members(ctx context.Context, siteID string, groupID int64) ([]*User, error)
	AddMember(ctx context.Context, siteID string, groupID, principalID int64) error
	RemoveMember(ctx context.Context, siteID string, groupID, principalID int64) error
	// GroupsOf lists the ids of the groups that have any of the
	// principals as a member (a user's own groups and its identity
	// groups' groups), in one read.
	GroupsOf(ctx context.Context, siteID string, principalIDs []int64) ([]int64, error)

	// Scope is the object's effective scope id and whether the object
	// owns it (HasUniqueRoleAssignments).
	Scope(ctx context.Context, obj ScopeRef) (id string, unique bool, err error)
	// Assignments lists a scope's role assignments by principal id.
	Assignments(ctx context.Context, scopeID string) ([]*RoleAssignment, error)
	// AddAssignment binds a level to a principal on a scope (idempotent);
	// an unknown principal or level is ErrNotFound. RemoveAssignment
	// unbinds one level (roleID 0: every level of the principal).
	AddAssignment(ctx context.Context, scopeID string, principalID, roleID int64) error
	RemoveAssignment(ctx context.Context, scopeID string, principalID, roleID int64) error
	// BreakInheritance gives obj a scope of its own (a no-op when it has
	// one), copying the parent's assignments when copyAssignments; with
	// clearSubscopes every object below that had its own scope inherits
	// the new one. It returns the new scope id.
	BreakInheritance(ctx context.Context, obj ScopeRef, copyAssignments, clearSubscopes bool) (string, error)
	// ResetInheritance makes obj inherit its parent's scope again and
	// deletes its own (a no-op when it inherits); a site's root web
	// cannot (ErrInvalid).
	ResetInheritance(ctx context.Context, obj ScopeRef) error

	// Access is, for each site where any of logins is a user (a person's
	// claims login and its identity groups' logins), what they count as
	// there: one read for every site.
	Access(ctx context.Context, logins []string) ([]*Access, error)
	// EffectiveMask is the union of the levels the principals hold on one
	// scope.
	EffectiveMask(ctx context.Context, scopeID string, principals []int64) (permissions.Mask, error)
	// VisibleItemCount is how many of the list's items v sees (the
	// list's ItemCount for a nil v).
	VisibleItemCount(ctx context.Context, listID string, v *Viewer) (int64, error)
}

// Site creation (Sites.Create) seeds, in its transaction: every level of
// permissions.DefaultRoles; the groups of permissions.DefaultGroups
// titled "<site title> Owners|Members|Visitors", owned by the Owners
// group, taking the site's first principal ids; and on the root web's
// scope each group bound to its level.

// DefaultGroupTitle is the title of a new site's default group.
func DefaultGroupTitle(siteTitle string, g permissions.DefaultGroup) string {
	return siteTitle + g.Suffix
}
