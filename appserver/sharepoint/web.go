package sharepoint

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// webResource serves a web and what hangs below it.
func (c *call) webResource(w *storage.Web, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get:    func() (*response, error) { return c.entity(c.webEntity(w), "SP.ApiData.Webs/@Element"), nil },
			update: func() (*response, error) { return c.updateWeb(w) },
			del:    func() (*response, error) { return c.deleteWeb(w) },
		})
	}
	seg, rest := rest[0], rest[1:]
	switch {
	case seg.Is("lists"):
		if seg.Call {
			l, err := c.listByArg(w, seg)
			if err != nil {
				return nil, err
			}
			return c.listResource(w, l, rest)
		}
		return c.listsResource(w, rest)
	case seg.Is("getlist") && seg.Call:
		l, err := c.listByURL(w, seg)
		if err != nil {
			return nil, err
		}
		return c.listResource(w, l, rest)
	case seg.Is("defaultdocumentlibrary"):
		l, err := c.tx.Lists().GetByURL(c.ctx, w.ID, "Shared Documents")
		if err != nil {
			return nil, c.listMissing(err, "Documents")
		}
		return c.listResource(w, l, rest)
	case seg.Is("webs"):
		return c.websResource(w, seg, rest)
	case seg.Is("webinfos") && len(rest) == 0:
		return c.webInfos(w)
	case seg.Is("parentweb") && len(rest) == 0:
		if w.ParentID == "" {
			return nil, odata.ResourceNotFound(seg.Name)
		}
		p, err := c.tx.Webs().Get(c.ctx, w.ParentID)
		if err != nil {
			return nil, err
		}
		return c.webResource(p, nil)
	case seg.Is("currentuser"):
		return c.currentUserResource(rest)
	case seg.Is("siteusers"):
		return c.siteUsersResource(seg, rest)
	case seg.Is("getuserbyid") && seg.Call:
		return c.userByID(seg, rest)
	case seg.Is("ensureuser"):
		return c.ensureUserCall(seg, rest)
	case seg.Is("siteuserinfolist"):
		root, err := c.rootWeb()
		if err != nil {
			return nil, err
		}
		l, err := c.userInfoList(root)
		if err != nil {
			return nil, err
		}
		return c.listResource(root, l, rest)
	case seg.Is("fields") || seg.Is("availablefields"):
		return c.webFields(seg, rest)
	case seg.Is("contenttypes") || seg.Is("availablecontenttypes"):
		return c.contentTypes(nil, seg, rest)
	case seg.Is("allproperties") && len(rest) == 0:
		return c.allProperties(w)
	case seg.Is("regionalsettings"):
		return c.regionalSettings(rest)
	case seg.Is("features") && len(rest) == 0, seg.Is("usercustomactions") && len(rest) == 0:
		return c.emptyCollection(seg)
	case seg.Is("sitegroups"):
		return c.siteGroupsResource(seg, rest)
	case seg.Is("associatedownergroup") && !seg.Call:
		return c.associatedGroup("Owner", rest)
	case seg.Is("associatedmembergroup") && !seg.Call:
		return c.associatedGroup("Member", rest)
	case seg.Is("associatedvisitorgroup") && !seg.Call:
		return c.associatedGroup("Visitor", rest)
	case seg.Is("roledefinitions"):
		return c.roleDefinitions(seg, rest)
	case seg.Is("rootfolder") && len(rest) == 0:
		return c.entity(c.folderEntity(w.ServerRelativeURL, "", w.Title), "SP.ApiData.Folders/@Element"), nil
	case (seg.Is("getfolderbyserverrelativepath") || seg.Is("getfolderbyserverrelativeurl")) && seg.Call:
		return c.folderByPath(w, seg, rest)
	case (seg.Is("getfilebyserverrelativepath") || seg.Is("getfilebyserverrelativeurl") || seg.Is("getfilebyurl")) && seg.Call:
		return c.fileByPath(w, seg, rest)
	case seg.Is("getfilebyid") && seg.Call:
		return c.fileByUniqueID(w, seg, rest)
	case seg.Is("getfolderbyid") && seg.Call:
		return c.folderByID(w, seg, rest)
	case seg.Is("folders"):
		return c.webFolders(w, seg, rest)
	case seg.Is("recyclebin"):
		return c.recycleBinResource(w.ID, seg, rest)
	}
	if resp, ok, err := c.securableResource(securable{web: w}, seg, rest); ok {
		return resp, err
	}
	return nil, notFound(seg)
}

// userInfoList is the root web's hidden User Information List.
func (c *call) userInfoList(root *storage.Web) (*storage.List, error) {
	ls, err := c.tx.Lists().List(c.ctx, root.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l.BaseTemplate == storage.TemplateUserInformation {
			return l, nil
		}
	}
	return nil, odata.ListNotFound("User Information List", c.enc.Web)
}

// rootWeb is the call's site's root web.
func (c *call) rootWeb() (*storage.Web, error) {
	if c.web.ParentID == "" {
		return c.web, nil
	}
	site, err := c.siteOf()
	if err != nil {
		return nil, err
	}
	return c.tx.Webs().Get(c.ctx, site.RootWebID)
}

// webEntity is SP.Web.
func (c *call) webEntity(w *storage.Web) *odata.Entity {
	api := c.absURL(w.ServerRelativeURL) + "/_api/"
	ent := &odata.Entity{
		Type: "SP.Web", ID: api + "Web", EditLink: "Web",
		Props: []odata.Prop{
			{Name: "AllowRssFeeds", Value: true},
			{Name: "Configuration", Value: 0},
			{Name: "Created", Value: w.Created},
			{Name: "CustomMasterUrl", Value: joinURL(w.ServerRelativeURL, "_catalogs/masterpage/seattle.master")},
			{Name: "Description", Value: w.Description},
			{Name: "HasUniqueRoleAssignments", Value: w.ScopeID == w.ID},
			{Name: "Id", Value: w.ID},
			{Name: "IsMultilingual", Value: false},
			{Name: "Language", Value: w.Language},
			{Name: "LastItemModifiedDate", Value: w.LastItemModifiedDate},
			{Name: "LastItemUserModifiedDate", Value: w.LastItemModifiedDate},
			{Name: "MasterUrl", Value: joinURL(w.ServerRelativeURL, "_catalogs/masterpage/seattle.master")},
			{Name: "NoCrawl", Value: false},
			{Name: "ServerRelativeUrl", Value: w.ServerRelativeURL},
			{Name: "SiteLogoUrl", Value: nil},
			{Name: "Title", Value: w.Title},
			{Name: "UIVersion", Value: 15},
			{Name: "Url", Value: c.absURL(w.ServerRelativeURL)},
			{Name: "WebTemplate", Value: templateName(w.WebTemplate)},
			{Name: "WelcomePage", Value: "SitePages/Home.aspx"},
		},
	}
	c.securableProps(ent, w.ScopeID, false, false)
	return ent
}

// templateName is SP.Web.WebTemplate: the template without its
// configuration ("STS" of "STS#3").
func templateName(t string) string {
	name, _, _ := strings.Cut(t, "#")
	if name == "" {
		return "STS"
	}
	return name
}

func joinURL(base, rel string) string {
	return strings.TrimSuffix(base, "/") + "/" + rel
}

// updateWeb is MERGE web: Title and Description change.
func (c *call) updateWeb(w *storage.Web) (*response, error) {
	m, err := c.object("SP.Web")
	if err != nil {
		return nil, err
	}
	var upd storage.WebUpdate
	for k := range m {
		switch strings.ToLower(k) {
		case "title":
			if upd.Title, err = propString(m, k, "SP.Web"); err != nil {
				return nil, err
			}
		case "description":
			if upd.Description, err = propString(m, k, "SP.Web"); err != nil {
				return nil, err
			}
		default:
			return nil, unknownProperty(k, "SP.Web")
		}
	}
	if _, err := c.tx.Webs().Update(c.ctx, w.ID, upd); err != nil {
		return nil, err
	}
	return noContent(""), nil
}

func (c *call) deleteWeb(w *storage.Web) (*response, error) {
	if w.ParentID == "" {
		return nil, odata.InvalidQuery("The root web of a site collection cannot be deleted; delete the site collection.")
	}
	if err := c.tx.Webs().Delete(c.ctx, w.ID); err != nil {
		return nil, err
	}
	return deleted(), nil
}

// websResource is web/webs: the subwebs, webs/add, webs('guid').
func (c *call) websResource(w *storage.Web, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call {
		v, ok := seg.Single()
		if !ok || (v.Kind != odata.KindGuid && v.Kind != odata.KindString) {
			return nil, odata.InvalidQuery("webs() takes the web's id.")
		}
		sub, err := c.tx.Webs().Get(c.ctx, strings.ToLower(v.Str))
		if err != nil || sub.ParentID != w.ID {
			return nil, odata.ResourceNotFound("webs")
		}
		return c.webResource(sub, rest)
	}
	if len(rest) == 1 && rest[0].Is("add") {
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.addWeb(w)
	}
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	switch c.method {
	case http.MethodGet, http.MethodHead:
		subs, err := c.tx.Webs().Children(c.ctx, w.ID)
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(subs))
		for i, s := range subs {
			ents[i] = c.subwebEntity(s)
		}
		return c.collection(ents, "SP.ApiData.Webs", ""), nil
	case http.MethodPost:
		return c.addWeb(w)
	}
	return nil, c.notAllowed()
}

// subwebEntity is a web as a member of webs: its id and edit link name
// it from its parent, as SharePoint's do.
func (c *call) subwebEntity(s *storage.Web) *odata.Entity {
	e := c.webEntity(s)
	e.ID = c.absURL(s.ServerRelativeURL) + "/_api/Web"
	e.EditLink = "Web/Webs(guid'" + s.ID + "')"
	return e
}

// addWeb is webs/add with SP.WebCreationInformation (PnPjs's webs.add):
// {"parameters":{"Title","Url","Description","Language","WebTemplate",
// "UseSamePermissionsAsParentSite"}}. The answer is the new SP.Web.
func (c *call) addWeb(parent *storage.Web) (*response, error) {
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	const typ = "SP.WebCreationInformation"
	if m, err = parameters(m, typ); err != nil {
		return nil, err
	}
	if err := onlyKnown(m, typ, "Title", "Url", "Description", "Language", "WebTemplate", "UseSamePermissionsAsParentSite", "UseUniquePermissions"); err != nil {
		return nil, err
	}
	title, err := propString(m, "Title", typ)
	if err != nil {
		return nil, err
	}
	urlName, err := propString(m, "Url", typ)
	if err != nil {
		return nil, err
	}
	if title == nil || urlName == nil {
		return nil, odata.InvalidQuery("A new web needs a Title and a Url.")
	}
	in := storage.WebInput{ParentID: parent.ID, URLName: *urlName, Title: *title}
	if d, err := propString(m, "Description", typ); err != nil {
		return nil, err
	} else if d != nil {
		in.Description = *d
	}
	if l, err := propInt(m, "Language", typ); err != nil {
		return nil, err
	} else if l != nil {
		in.Language = *l
	}
	if t, err := propString(m, "WebTemplate", typ); err != nil {
		return nil, err
	} else if t != nil {
		in.WebTemplate = *t
	}
	for _, b := range []string{"UseSamePermissionsAsParentSite", "UseUniquePermissions"} {
		if _, err := propBool(m, b, typ); err != nil {
			return nil, err
		}
	}
	w, err := c.tx.Webs().Create(c.ctx, in)
	if errors.Is(err, storage.ErrConflict) {
		return nil, odata.NewError(http.StatusInternalServerError, "-2147024713, Microsoft.SharePoint.SPException",
			"The Web site address \""+joinURL(parent.ServerRelativeURL, *urlName)+"\" is already in use.")
	}
	if err != nil {
		return nil, err
	}
	ent := c.webEntity(w)
	// A created entity is written whole: $select does not apply to POST.
	return &response{status: http.StatusOK, header: http.Header{}, body: c.enc.Entity(ent, "SP.ApiData.Webs/@Element"), format: c.format}, nil
}

// webInfos is web/webinfos: SP.WebInformation of each subweb.
func (c *call) webInfos(w *storage.Web) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	subs, err := c.tx.Webs().Children(c.ctx, w.ID)
	if err != nil {
		return nil, err
	}
	ents := make([]*odata.Entity, len(subs))
	for i, s := range subs {
		ents[i] = &odata.Entity{
			Type: "SP.WebInformation", ID: c.enc.APIURL("Web/WebInfos(guid'" + s.ID + "')"), EditLink: "Web/WebInfos(guid'" + s.ID + "')",
			Props: []odata.Prop{
				{Name: "Configuration", Value: 0},
				{Name: "Created", Value: s.Created},
				{Name: "Description", Value: s.Description},
				{Name: "Id", Value: s.ID},
				{Name: "Language", Value: s.Language},
				{Name: "LastItemModifiedDate", Value: s.LastItemModifiedDate},
				{Name: "LastItemUserModifiedDate", Value: s.LastItemModifiedDate},
				{Name: "ServerRelativeUrl", Value: s.ServerRelativeURL},
				{Name: "Title", Value: s.Title},
				{Name: "WebTemplate", Value: templateName(s.WebTemplate)},
				{Name: "WebTemplateId", Value: 1},
			},
		}
	}
	return c.collection(ents, "SP.ApiData.WebInformations", ""), nil
}
