package sharepoint

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// access is what the signed-in user may do in the call's site: a site
// collection administrator may do everything; anyone else what the
// levels of its principals grant on each scope.
type access struct {
	admin bool
	// site is the user's principals and web and list grants (nil: the
	// site has no row for the user or its groups, so nothing is granted).
	site *storage.Access
}

// logins are the site logins the user counts as: its own claims login
// and a group-claim login for each group of the signed assertion (never
// of a client header: the assertion is the only source of c.user).
func (c *call) logins() []string {
	out := []string{c.login()}
	for _, g := range c.user.Groups {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, permissions.GroupClaimLogin(g))
		}
	}
	return out
}

// access reads, once per call, what the user may do in the call's site.
func (c *call) access() (*access, error) {
	if c.acc != nil {
		return c.acc, nil
	}
	a := &access{admin: c.h.Admins.Match(c.user.Subject, c.user.Email, c.user.Groups)}
	if !a.admin {
		all := c.rights
		if all == nil {
			var err error
			if all, err = c.tx.Security().Access(c.ctx, c.logins()); err != nil {
				return nil, err
			}
		}
		for _, s := range all {
			if s.SiteID == c.web.SiteID {
				a.site = s
				a.admin = s.IsSiteAdmin
			}
		}
	}
	c.acc = a
	return a, nil
}

// mask is what the user holds on a web or list scope.
func (a *access) mask(scopeID string) permissions.Mask {
	switch {
	case a.admin:
		return permissions.Full
	case a.site == nil:
		return 0
	}
	return a.site.Grants[scopeID]
}

// principals are the ids the user counts as in the site.
func (a *access) principals() []int64 {
	if a.site == nil {
		return []int64{}
	}
	return a.site.Principals
}

// viewer is the item filter for list l: nil (everything) for an
// administrator.
func (a *access) viewer(l *storage.List) *storage.Viewer {
	if a.admin {
		return nil
	}
	return &storage.Viewer{Principals: a.principals(), ListVisible: a.mask(l.ScopeID).Has(permissions.ViewListItems)}
}

// denied is SharePoint's access-denied refusal, naming what is missing.
func denied(k permissions.Kind) *odata.Error {
	return odata.NewError(http.StatusForbidden, odata.CodeAccessDenied,
		"Access denied. You do not have permission to perform this action or access this resource (it needs the "+k.String()+" permission).")
}

// need refuses the call unless the user holds k on a web or list scope.
func (c *call) need(scopeID string, k permissions.Kind) error {
	a, err := c.access()
	if err != nil {
		return err
	}
	if !a.mask(scopeID).Has(k) {
		return denied(k)
	}
	return nil
}

// listAfter is the part of the path after the list it names (after
// web/lists/getByTitle('…'), lists(guid'…') or lists/getById('…')), and
// whether the path names a list that way.
func (c *call) listAfter() (odata.Path, bool) {
	p := c.path
	if len(p) > 0 && p[0].Is("web") && !p[0].Call {
		p = p[1:]
	}
	if len(p) == 0 || !p[0].Is("lists") {
		return nil, false
	}
	if p[0].Call {
		return p[1:], true
	}
	if len(p) >= 2 && p[1].Call && (p[1].Is("getbytitle") || p[1].Is("getbyid")) {
		return p[2:], true
	}
	return nil, false
}

// itemSegment reports whether rest (after a list) names one item
// (items(3), items/getById(3), getItemById(3)) and which.
func itemSegment(rest odata.Path) (id int64, ok bool) {
	if len(rest) == 0 {
		return 0, false
	}
	s := rest[0]
	if s.Is("getitembyid") || s.Is("getitembystringid") {
		v, ok := s.Single()
		if !ok || (v.Kind != odata.KindInt && v.Kind != odata.KindString) {
			return 0, false
		}
		n, err := itemID(s)
		return n, err == nil
	}
	if !s.Is("items") {
		return 0, false
	}
	if !s.Call && len(rest) > 1 && rest[1].Is("getbyid") {
		s = rest[1]
	}
	if !s.Call {
		return 0, false
	}
	v, ok := s.Single()
	if !ok || v.Kind != odata.KindInt {
		return 0, false
	}
	return v.Int, true
}

// authorize decides whether the signed-in user may do what the call
// asks, before it runs: the permission the operation needs, on the scope
// it acts on. Collections the user may read only in part are filtered
// where they are read (lists, items), and an item of its own scope is
// checked where it is read (itemAccess).
func (c *call) authorize() error {
	if c.isContextInfo() {
		return nil
	}
	a, err := c.access()
	if err != nil || a.admin {
		return err
	}
	web := c.web.ScopeID
	if !a.mask(web).Has(permissions.Open) && a.site == nil {
		return denied(permissions.ViewPages)
	}
	rest, onList := c.listAfter()
	if onList && c.located != nil && c.located.List != nil {
		l := c.located.List
		if len(rest) > 0 && (rest[0].Is("items") || (rest[0].Call && (rest[0].Is("getitembyid") || rest[0].Is("getitembystringid")))) {
			return c.authorizeItems(a, l, rest)
		}
		if len(rest) > 0 && rest[0].Is("subscriptions") {
			// Whoever sees the list may subscribe to it; changing or
			// deleting a subscription is checked by its handler.
			if !a.mask(l.ScopeID).Has(permissions.ViewListItems) {
				return odata.ListNotFound(l.Title, c.enc.Web)
			}
			return nil
		}
		if c.readOnly() || c.listReadPost(rest) {
			if !a.mask(l.ScopeID).Has(permissions.ViewListItems) {
				// A list the user cannot see is absent, as in SharePoint.
				return odata.ListNotFound(l.Title, c.enc.Web)
			}
			if k, ok := permissionCallKind(rest, true); ok {
				return c.need(l.ScopeID, k)
			}
			if len(rest) > 0 && rest[0].Is("rootfolder") {
				c.fileKind = permissions.ViewListItems
			}
			return nil
		}
		if k, ok := permissionCallKind(rest, false); ok {
			return c.need(l.ScopeID, k)
		}
		if len(rest) > 0 && rest[0].Is("rootfolder") && len(rest) > 1 {
			// Files and folders below the library's root folder are its
			// items: adding, changing or deleting them is an item write,
			// checked on the library here and on the item it reaches
			// (checkFile).
			c.fileKind = c.fileWriteKind(rest)
			c.fileChecked = true
			return c.need(l.ScopeID, c.fileKind)
		}
		return c.need(l.ScopeID, permissions.ManageLists)
	}
	if c.readOnly() {
		if c.currentUserRoute() && a.opensAnything() {
			// SharePoint shows anyone who may open any object of the
			// site who they are there, without ViewPages on the web.
			return nil
		}
		if err := c.need(web, permissions.ViewPages); err != nil {
			return err
		}
		if k, ok := permissionCallKind(afterWeb(c.path), true); ok {
			return c.need(web, k)
		}
		if fileRoute(afterWeb(c.path)) {
			c.fileKind = permissions.ViewListItems
		}
		return nil
	}
	if fileRoute(afterWeb(c.path)) {
		// A file or folder is an item of its library: the write is
		// checked on the library and on the item it reaches, when the
		// path resolves (checkLibrary, checkFile), and on the web when it
		// reaches no library (finishFileChecks).
		if err := c.need(web, permissions.ViewPages); err != nil {
			return err
		}
		c.fileKind = c.fileWriteKind(afterWeb(c.path))
		return nil
	}
	k := webWriteKind(c.path)
	if k == permissions.ManagePermissions && siteWide(afterWeb(c.path)) {
		// Groups, levels and users belong to the site collection: changing
		// them takes Manage Permissions on its root web.
		root, err := c.rootWeb()
		if err != nil {
			return err
		}
		web = root.ScopeID
	}
	return c.need(web, k)
}

// afterWeb is the path after its leading web segment, if any.
func afterWeb(p odata.Path) odata.Path {
	if len(p) > 0 && p[0].Is("web") && !p[0].Call {
		return p[1:]
	}
	return p
}

// siteWide reports whether a path after the web names what belongs to
// the whole site collection: its groups, levels and users.
func siteWide(p odata.Path) bool {
	if len(p) == 0 {
		return false
	}
	for _, n := range []string{"sitegroups", "roledefinitions", "associatedownergroup", "associatedmembergroup",
		"associatedvisitorgroup", "siteusers", "getuserbyid"} {
		if p[0].Is(n) {
			return true
		}
	}
	return false
}

// webWriteKind is the permission a write that names no list needs on
// its web.
func webWriteKind(p odata.Path) permissions.Kind {
	if len(p) > 0 && p[0].Is("web") && !p[0].Call {
		p = p[1:]
	}
	if len(p) == 0 {
		return permissions.ManageWeb
	}
	switch {
	case p[0].Is("lists"):
		return permissions.ManageLists
	case p[0].Is("webs"):
		return permissions.ManageSubwebs
	case p[0].Is("ensureuser"):
		return permissions.BrowseUserInfo
	case p[0].Is("sitegroups"), p[0].Is("roleassignments"), p[0].Is("roledefinitions"),
		p[0].Is("breakroleinheritance"), p[0].Is("resetroleinheritance"),
		p[0].Is("associatedownergroup"), p[0].Is("associatedmembergroup"), p[0].Is("associatedvisitorgroup"),
		p[0].Is("siteusers"), p[0].Is("getuserbyid"):
		return permissions.ManagePermissions
	case p[0].Is("getfolderbyserverrelativepath"), p[0].Is("getfolderbyserverrelativeurl"),
		p[0].Is("getfilebyserverrelativepath"), p[0].Is("getfilebyserverrelativeurl"),
		p[0].Is("getfilebyid"), p[0].Is("getfolderbyid"), p[0].Is("folders"), p[0].Is("rootfolder"):
		// Files and folders are items of their library; until their
		// path resolves to the library before the call runs, a write
		// needs the right to edit items on the web.
		return permissions.EditListItems
	}
	return permissions.ManageWeb
}

// listReadPost reports whether rest (after a list) is a POST that only
// reads the list: CAML getItems and RenderListDataAsStream (whose items
// are filtered in their query) and GetChanges.
func (c *call) listReadPost(rest odata.Path) bool {
	if c.method != http.MethodPost || len(rest) != 1 {
		return false
	}
	return rest[0].Is("getitems") || rest[0].Is("renderlistdataasstream") || rest[0].Is("getchanges")
}

// fileRoute reports whether a path after the web reaches files and
// folders by their path or id.
func fileRoute(p odata.Path) bool {
	if len(p) == 0 {
		return false
	}
	for _, n := range []string{"getfolderbyserverrelativepath", "getfolderbyserverrelativeurl",
		"getfilebyserverrelativepath", "getfilebyserverrelativeurl", "getfilebyid", "getfolderbyid", "folders", "rootfolder"} {
		if p[0].Is(n) {
			return true
		}
	}
	return false
}

// fileWriteKind is what a write through a file or folder path needs on
// the library and the item it reaches: adding into a folder
// AddListItems, deleting or recycling DeleteListItems, anything else
// (content, properties, check-in, moves and copies, on their source and
// their target) EditListItems.
func (c *call) fileWriteKind(p odata.Path) permissions.Kind {
	if c.method == http.MethodDelete {
		return permissions.DeleteListItems
	}
	last := p[len(p)-1]
	switch {
	case last.Is("add"), last.Is("addusingpath"), last.Is("addtemplatefile"), last.Is("files"), last.Is("folders"):
		return permissions.AddListItems
	case last.Is("delete"), last.Is("recycle"), last.Is("deletewithparameters"), last.Is("recyclewithparameters"):
		return permissions.DeleteListItems
	}
	return permissions.EditListItems
}

// checkLibrary applies the file check of the call (fileKind) to library
// l, which a file or folder path reached: a library the user cannot see
// is missing (notFound), one it may see but not change refuses.
func (c *call) checkLibrary(l *storage.List, notFound func() error) error {
	if c.fileKind == 0 {
		return nil
	}
	c.fileChecked = true
	a, err := c.access()
	if err != nil || a.admin {
		return err
	}
	m := a.mask(l.ScopeID)
	if !m.Has(permissions.ViewListItems) {
		return notFound()
	}
	if !m.Has(c.fileKind) {
		return denied(c.fileKind)
	}
	return nil
}

// checkFile applies the file check to file or folder f of library l
// when f's item has permissions of its own (or its folder's).
func (c *call) checkFile(l *storage.List, f *storage.File, notFound func() error) error {
	if err := c.checkLibrary(l, notFound); err != nil || c.fileKind == 0 || f.ItemID == 0 {
		return err
	}
	a, err := c.access()
	if err != nil || a.admin {
		return err
	}
	m, err := c.scopeMask(a, l, f.ScopeID, nil)
	if err != nil {
		return err
	}
	if !m.Has(permissions.ViewListItems) {
		return notFound()
	}
	if !m.Has(c.fileKind) {
		return denied(c.fileKind)
	}
	return nil
}

// fileVisible reports whether the user may see file or folder f of
// library l: ViewListItems on its item's scope. masks memoises the
// scopes already asked (nil: none).
func (c *call) fileVisible(l *storage.List, f *storage.File, masks map[string]permissions.Mask) (bool, error) {
	a, err := c.access()
	if err != nil || a.admin {
		return err == nil, err
	}
	scope := f.ScopeID
	if f.ItemID == 0 {
		scope = "" // a library's root folder is the library
	}
	m, err := c.scopeMask(a, l, scope, masks)
	return m.Has(permissions.ViewListItems), err
}

// checkChild checks file or folder f, reached below a folder the call
// already checked: with the call's file check when it has one, else
// (a read through a list's items) for ViewListItems.
func (c *call) checkChild(l *storage.List, f *storage.File, notFound func() error) error {
	if c.fileKind != 0 {
		return c.checkFile(l, f, notFound)
	}
	ok, err := c.fileVisible(l, f, nil)
	if err == nil && !ok {
		err = notFound()
	}
	return err
}

// visibleFiles keeps the files and folders of fs the user may see: a
// folder's listing leaves out those with permissions of their own that
// leave the user out, as SharePoint does.
func (c *call) visibleFiles(l *storage.List, fs []*storage.File) ([]*storage.File, error) {
	a, err := c.access()
	if err != nil || a.admin {
		return fs, err
	}
	masks := map[string]permissions.Mask{}
	out := fs[:0:0]
	for _, f := range fs {
		ok, err := c.fileVisible(l, f, masks)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// finishFileChecks is run after a file or folder write: one that reached
// no library (the web's own root folder) needs EditListItems on the web,
// as before libraries were checked. It fails the call, whose transaction
// then rolls back.
func (c *call) finishFileChecks() error {
	if c.fileKind == 0 || c.fileChecked || c.readOnly() {
		return nil
	}
	return c.need(c.web.ScopeID, permissions.EditListItems)
}

// authorizeItems checks a call on a list's items: the collection (read
// filtered later, add needs AddListItems) or one item (whose own scope,
// when it has one, decides).
func (c *call) authorizeItems(a *access, l *storage.List, rest odata.Path) error {
	id, one := itemSegment(rest)
	if !one {
		if c.readOnly() {
			return nil // Items().Query filters with a.viewer(l)
		}
		return c.need(l.ScopeID, permissions.AddListItems)
	}
	if c.readOnly() && plainItem(rest) {
		// items(n) itself: getItem checks the item it reads, on the
		// scope the row carries, which saves the hot path a query.
		c.itemReadChecked = true
		return nil
	}
	k := permissions.ViewListItems
	if pk, ok := permissionCallKind(afterItem(rest), c.readOnly()); ok {
		// The item's permissions: its role assignments and inheritance.
		k = pk
	} else if !c.readOnly() {
		k = permissions.EditListItems
		if c.method == http.MethodDelete || (len(rest) > 1 && (rest[len(rest)-1].Is("recycle") || rest[len(rest)-1].Is("delete"))) {
			k = permissions.DeleteListItems
		}
	}
	m, err := c.itemMask(a, l, id)
	if err != nil {
		return err
	}
	if !m.Has(permissions.ViewListItems) {
		return itemNotFound(id)
	}
	if !m.Has(k) {
		return denied(k)
	}
	return nil
}

// afterItem is the part of rest (after a list) after the item it names
// (items(3)/… or items/getById(3)/…).
func afterItem(rest odata.Path) odata.Path {
	if len(rest) > 0 && rest[0].Call {
		return rest[1:]
	}
	if len(rest) > 1 {
		return rest[2:]
	}
	return nil
}

// itemMask is what the user holds on item id of l: on the item's own
// scope (or its folder's) when it has one, else on the list's. A missing
// item grants nothing, which callers answer with the same 404.
func (c *call) itemMask(a *access, l *storage.List, id int64) (permissions.Mask, error) {
	if a.admin {
		return permissions.Full, nil
	}
	scope, _, err := c.tx.Security().Scope(c.ctx, storage.ScopeRef{WebID: l.WebID, ListID: l.ID, ItemID: id})
	switch {
	case err != nil && isNotFound(err):
		return 0, nil
	case err != nil:
		return 0, err
	case scope == l.ScopeID:
		return a.mask(scope), nil
	}
	return c.tx.Security().EffectiveMask(c.ctx, scope, a.principals())
}

// plainItem reports whether rest names one item and nothing below it
// (items(3), items/getById(3)).
func plainItem(rest odata.Path) bool {
	return (len(rest) == 1 && rest[0].Call) || (len(rest) == 2 && !rest[0].Call && rest[1].Is("getbyid"))
}

// scopeMask is what the user holds on an item scope of list l ("": the
// item inherits the list's): from the user's grants for the list's own
// scope, else one query, memoised in masks when it is not nil.
func (c *call) scopeMask(a *access, l *storage.List, scope string, masks map[string]permissions.Mask) (permissions.Mask, error) {
	if scope == "" || scope == l.ScopeID {
		return a.mask(l.ScopeID), nil
	}
	if a.admin {
		return permissions.Full, nil
	}
	if m, ok := masks[scope]; ok {
		return m, nil
	}
	m, err := c.tx.Security().EffectiveMask(c.ctx, scope, a.principals())
	if err == nil && masks != nil {
		masks[scope] = m
	}
	return m, err
}

// checkItemRead refuses, as missing, an item that authorize left to its
// reader (itemReadChecked) when the user may not see it.
func (c *call) checkItemRead(l *storage.List, it *storage.Item) error {
	if !c.itemReadChecked {
		return nil
	}
	a, err := c.access()
	if err != nil || a.admin {
		return err
	}
	m, err := c.scopeMask(a, l, it.ScopeID, nil)
	if err != nil {
		return err
	}
	if !m.Has(permissions.ViewListItems) {
		return itemNotFound(it.ID)
	}
	return nil
}

// visibleItemCount is l's ItemCount as the user sees it: without the
// items of their own scope the user may not see, so a count cannot
// reveal them. A failure to count fails the call (c.failed), never shows
// the true count.
func (c *call) visibleItemCount(l *storage.List) int64 {
	a, err := c.access()
	if err == nil && a.admin {
		return l.ItemCount
	}
	var n int64
	if err == nil {
		n, err = c.tx.Security().VisibleItemCount(c.ctx, l.ID, a.viewer(l))
	}
	if err != nil {
		c.failed = errors.Join(c.failed, err)
		return 0
	}
	return n
}

// itemNotFound is the refusal of an item the user may not see: the same
// as of an item that does not exist, so ids cannot be probed.
func itemNotFound(id int64) error { return storage.NotFound("the list has no item %d", id) }

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// itemViewer is the visibility filter of l's items for the call's user.
func (c *call) itemViewer(l *storage.List) (*storage.Viewer, error) {
	a, err := c.access()
	if err != nil {
		return nil, err
	}
	return a.viewer(l), nil
}

// visibleLists keeps the lists the user may see (ViewListItems on the
// list's scope).
func (c *call) visibleLists(ls []*storage.List) ([]*storage.List, error) {
	a, err := c.access()
	if err != nil || a.admin {
		return ls, err
	}
	out := ls[:0:0]
	for _, l := range ls {
		if a.mask(l.ScopeID).Has(permissions.ViewListItems) {
			out = append(out, l)
		}
	}
	return out, nil
}
