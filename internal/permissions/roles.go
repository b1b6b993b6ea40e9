package permissions

import "strings"

// RoleType is SP.RoleType (RoleTypeKind): which built-in role a role
// definition is; a custom one is None.
type RoleType int

// SharePoint's role types.
const (
	RoleNone          RoleType = 0
	RoleGuest         RoleType = 1 // Limited Access
	RoleReader        RoleType = 2
	RoleContributor   RoleType = 3
	RoleWebDesigner   RoleType = 4
	RoleAdministrator RoleType = 5 // Full Control
	RoleEditor        RoleType = 6
	RoleSystem        RoleType = 7
)

// Role is a role definition (a permission level): a named mask.
type Role struct {
	// ID is SharePoint's id for the built-in roles (1073741829 for Full
	// Control), so scripts that hard-code them work.
	ID          int64
	Name        string
	Description string
	Type        RoleType
	// Order is where the level appears in lists of levels.
	Order int
	// Hidden levels (Limited Access) are not offered to people.
	Hidden bool
	Mask   Mask
}

// The built-in role definitions' ids, as SharePoint's.
const (
	LimitedAccessID int64 = 1073741825
	ReadID          int64 = 1073741826
	ContributeID    int64 = 1073741827
	DesignID        int64 = 1073741828
	FullControlID   int64 = 1073741829
	EditID          int64 = 1073741830
)

// FirstCustomRoleID is the id of the first role definition a site adds
// itself; SharePoint numbers custom levels from here too.
const FirstCustomRoleID int64 = 1073741831

// Masks of the built-in levels, as SharePoint Online reports them.
var (
	readMask = Of(ViewListItems, OpenItems, ViewVersions, ViewFormPages, Open, ViewPages,
		CreateSSCSite, BrowseUserInfo, UseClientIntegration, UseRemoteAPIs, CreateAlerts)
	contributeMask = readMask | Of(AddListItems, EditListItems, DeleteListItems, DeleteVersions,
		ManagePersonalViews, BrowseDirectories, AddDelPrivateWebParts, UpdatePersonalWebParts, EditMyUserInfo)
	editMask   = contributeMask | Of(ManageLists)
	designMask = editMask | Of(ApproveItems, CancelCheckout, AddAndCustomizePages, ApplyThemeAndBorder, ApplyStyleSheets)
	// Limited Access lets a person reach an item or list shared with them
	// through the web above it, and nothing more.
	limitedMask = Of(Open, BrowseUserInfo, UseClientIntegration, UseRemoteAPIs)
)

// DefaultRoles are the role definitions of every new site, in SharePoint's
// order and with its ids, names, descriptions and masks.
func DefaultRoles() []Role {
	return []Role{
		{ID: FullControlID, Name: "Full Control", Description: "Has full control.", Type: RoleAdministrator, Order: 1, Mask: Full},
		{ID: DesignID, Name: "Design", Description: "Can view, add, update, delete, approve, and customize.", Type: RoleWebDesigner, Order: 32, Mask: designMask},
		{ID: EditID, Name: "Edit", Description: "Can add, edit and delete lists; can view, add, update and delete list items and documents.", Type: RoleEditor, Order: 48, Mask: editMask},
		{ID: ContributeID, Name: "Contribute", Description: "Can view, add, update, and delete list items and documents.", Type: RoleContributor, Order: 64, Mask: contributeMask},
		{ID: ReadID, Name: "Read", Description: "Can view pages and list items and download documents.", Type: RoleReader, Order: 128, Mask: readMask},
		{ID: LimitedAccessID, Name: "Limited Access", Description: "Can view specific lists, document libraries, list items, folders, or documents when given permissions.", Type: RoleGuest, Order: 160, Hidden: true, Mask: limitedMask},
	}
}

// DefaultGroup is one of the three groups every new site has.
type DefaultGroup struct {
	// Suffix follows the site's title: "<Title> Owners".
	Suffix string
	RoleID int64
	// Association is which of the web's associated groups it is:
	// "Owner", "Member" or "Visitor" (associatedOwnerGroup…).
	Association string
}

// DefaultGroups are the site groups of a new site and the level each gets
// on the site's root web.
func DefaultGroups() []DefaultGroup {
	return []DefaultGroup{
		{Suffix: " Owners", RoleID: FullControlID, Association: "Owner"},
		{Suffix: " Members", RoleID: EditID, Association: "Member"},
		{Suffix: " Visitors", RoleID: ReadID, Association: "Visitor"},
	}
}

// GroupClaimPrefix is the login-name prefix under which a group claim of
// the identity provider (the signed assertion's groups) is a principal of
// a site: "c:0-.f|rolemanager|engineering". Only the assertion's groups
// count: a client cannot name one.
const GroupClaimPrefix = "c:0-.f|rolemanager|"

// GroupClaimLogin is the login name of the identity provider's group g.
func GroupClaimLogin(g string) string {
	return GroupClaimPrefix + strings.ToLower(strings.TrimSpace(g))
}

// DefaultRoleMask is the mask of the built-in level with this id (0 for
// any other id).
func DefaultRoleMask(id int64) Mask {
	for _, r := range DefaultRoles() {
		if r.ID == id {
			return r.Mask
		}
	}
	return 0
}
