package sharepoint

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// listsResource is web/lists: the collection, add, and the ways to name
// one list (getByTitle, getById, ensure…Library).
func (c *call) listsResource(w *storage.Web, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			return c.listCollection(w)
		case http.MethodPost:
			return c.addList(w)
		}
		return nil, c.notAllowed()
	}
	seg, rest := rest[0], rest[1:]
	switch {
	case seg.Is("getbytitle") && seg.Call:
		v, ok := seg.Single()
		if !ok || v.Kind != odata.KindString {
			return nil, odata.InvalidQuery("getByTitle takes the list's title as a string.")
		}
		l := c.locatedList(w, storage.ListRef{Title: v.Str})
		if l == nil {
			var err error
			if l, err = c.tx.Lists().GetByTitle(c.ctx, w.ID, v.Str); err != nil {
				return nil, c.listMissing(err, v.Str)
			}
		}
		return c.listResource(w, l, rest)
	case seg.Is("getbyid") && seg.Call:
		l, err := c.listByArg(w, seg)
		if err != nil {
			return nil, err
		}
		return c.listResource(w, l, rest)
	case seg.Is("ensuresiteassetslibrary") && len(rest) == 0:
		return c.ensureLibrary(w, "SiteAssets", "Site Assets", storage.TemplateDocumentLibrary)
	case seg.Is("ensuresitepageslibrary") && len(rest) == 0:
		return c.ensureLibrary(w, "SitePages", "Site Pages", storage.TemplateWebPageLibrary)
	}
	return nil, notFound(seg)
}

// listByArg finds the list of lists(guid'…'), lists('…') or getById('…').
func (c *call) listByArg(w *storage.Web, seg odata.Segment) (*storage.List, error) {
	v, ok := seg.Single()
	if !ok || (v.Kind != odata.KindGuid && v.Kind != odata.KindString) {
		return nil, odata.InvalidQuery(seg.Name + " takes the list's id.")
	}
	id, ok := canonicalID(v)
	if !ok {
		return nil, odata.InvalidQuery("The list id is not a GUID.")
	}
	if l := c.locatedList(w, storage.ListRef{ID: id}); l != nil {
		return l, nil
	}
	l, err := c.tx.Lists().Get(c.ctx, w.ID, id)
	if err != nil {
		return nil, c.listMissing(err, id)
	}
	return l, nil
}

// listByURL is web/getList('/sites/dev/Lists/Tasks'): a server-relative
// (or web-relative) URL of the list's root folder.
func (c *call) listByURL(w *storage.Web, seg odata.Segment) (*storage.List, error) {
	v, ok := seg.Single()
	if !ok || v.Kind != odata.KindString {
		return nil, odata.InvalidQuery("getList takes the list's URL as a string.")
	}
	u := v.Str
	if i := strings.Index(u, "://"); i >= 0 { // an absolute URL
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			u = u[i+3+j:]
		} else {
			u = "/"
		}
	}
	rel := u
	if strings.HasPrefix(u, "/") {
		prefix := strings.TrimSuffix(w.ServerRelativeURL, "/") + "/"
		if !strings.HasPrefix(strings.ToLower(u), strings.ToLower(prefix)) {
			return nil, odata.NewError(http.StatusNotFound, odata.CodeFileNotFound, "The list at "+u+" does not exist in this site.")
		}
		rel = u[len(prefix):]
	}
	l, err := c.tx.Lists().GetByURL(c.ctx, w.ID, strings.Trim(rel, "/"))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, odata.NewError(http.StatusNotFound, odata.CodeFileNotFound, "The list at "+u+" does not exist in this site.")
	}
	return l, err
}

// listMissing turns ErrNotFound into SharePoint's "List 'X' does not
// exist at site with URL '…'."
func (c *call) listMissing(err error, name string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return odata.ListNotFound(name, c.enc.Web)
	}
	return err
}

func (c *call) listCollection(w *storage.Web) (*response, error) {
	ls, err := c.tx.Lists().List(c.ctx, w.ID)
	if err == nil {
		ls, err = c.visibleLists(ls)
	}
	if err != nil {
		return nil, err
	}
	ents := make([]*odata.Entity, 0, len(ls))
	for _, l := range ls {
		ents = append(ents, c.listEntity(l))
	}
	return c.filteredCollection(ents, "SP.ApiData.Lists")
}

// listResource serves a list and what hangs below it.
func (c *call) listResource(w *storage.Web, l *storage.List, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) {
				return c.listEntityResponse(l)
			},
			update: func() (*response, error) { return c.updateList(w, l) },
			del:    func() (*response, error) { return c.deleteList(w, l) },
		})
	}
	seg, rest := rest[0], rest[1:]
	switch {
	case seg.Is("items"):
		if seg.Call {
			id, err := itemID(seg)
			if err != nil {
				return nil, err
			}
			return c.itemResource(w, l, id, rest)
		}
		if len(rest) > 0 && rest[0].Is("getbyid") && rest[0].Call {
			id, err := itemID(rest[0])
			if err != nil {
				return nil, err
			}
			return c.itemResource(w, l, id, rest[1:])
		}
		if len(rest) > 0 {
			return nil, notFound(rest[0])
		}
		return c.itemsResource(l)
	case (seg.Is("getitembyid") || seg.Is("getitembystringid")) && seg.Call:
		id, err := itemID(seg)
		if err != nil {
			return nil, err
		}
		return c.itemResource(w, l, id, rest)
	case seg.Is("getitems") && len(rest) == 0:
		return c.camlItems(w, l)
	case seg.Is("renderlistdataasstream") && len(rest) == 0:
		return c.renderListData(w, l)
	case seg.Is("getchanges") && len(rest) == 0:
		return c.listChanges(l)
	case seg.Is("subscriptions"):
		return c.subscriptionsResource(l, seg, rest)
	case seg.Is("fields"):
		return c.fieldsResource(l, seg, rest)
	case seg.Is("views"):
		return c.viewsResource(l, seg, rest)
	case seg.Is("defaultview"):
		v, err := c.defaultView(l)
		if err != nil {
			return nil, err
		}
		return c.viewResource(l, v, rest)
	case seg.Is("getview") && seg.Call:
		v, err := c.viewByArg(l, seg)
		if err != nil {
			return nil, err
		}
		return c.viewResource(l, v, rest)
	case seg.Is("recycle") && len(rest) == 0:
		return c.recycleList(w, l)
	case seg.Is("rootfolder") && isLibrary(l):
		root, err := c.libraryRoot(l)
		if err != nil {
			return nil, err
		}
		return c.folderResource(w, l, root, rest)
	case seg.Is("rootfolder") && len(rest) == 0:
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		return c.entity(c.folderEntity(l.RootFolderURL, l.ID, lastSegment(l.URLName)), "SP.ApiData.Folders/@Element"), nil
	case seg.Is("contenttypes"):
		return c.contentTypes(l, seg, rest)
	case seg.Is("parentweb") && len(rest) == 0:
		return c.webResource(w, nil)
	case seg.Is("usercustomactions") && len(rest) == 0, seg.Is("subscriptions") && len(rest) == 0:
		return c.emptyCollection(seg)
	}
	if resp, ok, err := c.securableResource(securable{web: w, list: l}, seg, rest); ok {
		return resp, err
	}
	return nil, notFound(seg)
}

// listEntityResponse answers GET list, with the navigation properties
// $expand names: RootFolder, Fields, Views and DefaultView (with
// DefaultView/ViewFields, its columns), as SharePoint expands them. A
// page needs the list, its fields and its default view before it can ask
// for items; expanded, that is one round trip instead of three.
func (c *call) listEntityResponse(l *storage.List) (*response, error) {
	ent := c.listEntity(l)
	viewFields := false
	for _, e := range c.query.Expand {
		if head, tail, _ := strings.Cut(e, "/"); strings.EqualFold(head, "DefaultView") && strings.EqualFold(tail, "ViewFields") {
			viewFields = true
		}
	}
	for _, e := range c.query.Expand {
		switch {
		case strings.EqualFold(e, "RootFolder"):
			ent.Props = append(ent.Props, odata.Prop{Name: "RootFolder", Value: c.folderEntity(l.RootFolderURL, l.ID, lastSegment(l.URLName))})
		case strings.EqualFold(e, "Fields"):
			fields, err := c.tx.Fields().List(c.ctx, l.ID)
			if err != nil {
				return nil, err
			}
			ents := make([]*odata.Entity, len(fields))
			for i, f := range fields {
				ents[i] = c.fieldEntity(l, f)
			}
			ent.Props = append(ent.Props, odata.Prop{Name: "Fields", Value: ents})
		case strings.EqualFold(e, "Views"):
			vs, err := c.tx.Views().List(c.ctx, l.ID)
			if err != nil {
				return nil, err
			}
			ents := make([]*odata.Entity, len(vs))
			for i, v := range vs {
				ents[i] = c.viewEntity(l, v)
			}
			ent.Props = append(ent.Props, odata.Prop{Name: "Views", Value: ents})
		case strings.EqualFold(e, "DefaultView"), strings.EqualFold(e, "DefaultView/ViewFields") && !c.expandsExactly("DefaultView"):
			v, err := c.defaultView(l)
			if err != nil {
				return nil, err
			}
			ve := c.viewEntity(l, v)
			if viewFields {
				ve.Props = append(ve.Props, odata.Prop{Name: "ViewFields", Value: c.viewFieldsEntity(l, v)})
			}
			ent.Props = append(ent.Props, odata.Prop{Name: "DefaultView", Value: ve})
		}
	}
	return c.entity(ent, "SP.ApiData.Lists/@Element"), nil
}

// expandsExactly reports whether $expand names name itself (not only a
// path under it).
func (c *call) expandsExactly(name string) bool {
	for _, e := range c.query.Expand {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	return false
}

// listEntity is SP.List.
func (c *call) listEntity(l *storage.List) *odata.Entity {
	link := "Web/Lists(guid'" + l.ID + "')"
	ent := &odata.Entity{
		Type: "SP.List", ID: c.enc.APIURL(link), EditLink: link, ETag: `"1"`,
		Props: []odata.Prop{
			{Name: "AllowContentTypes", Value: true},
			{Name: "BaseTemplate", Value: l.BaseTemplate},
			{Name: "BaseType", Value: l.BaseType},
			{Name: "ContentTypesEnabled", Value: false},
			{Name: "Created", Value: l.Created},
			{Name: "DefaultContentApprovalWorkflowId", Value: "00000000-0000-0000-0000-000000000000"},
			{Name: "Description", Value: l.Description},
			{Name: "Direction", Value: "none"},
			{Name: "DocumentTemplateUrl", Value: nil},
			{Name: "DraftVersionVisibility", Value: 0},
			{Name: "EnableAttachments", Value: l.BaseType == storage.BaseTypeGenericList},
			{Name: "EnableFolderCreation", Value: l.BaseType == storage.BaseTypeDocumentLibrary},
			{Name: "EnableMinorVersions", Value: false},
			{Name: "EnableModeration", Value: false},
			{Name: "EnableVersioning", Value: l.EnableVersioning},
			{Name: "MajorVersionLimit", Value: l.MajorVersionLimit},
			{Name: "EntityTypeName", Value: l.EntityTypeName},
			{Name: "ForceCheckout", Value: false},
			{Name: "HasExternalDataSource", Value: false},
			{Name: "Hidden", Value: l.Hidden},
			{Name: "Id", Value: l.ID},
			{Name: "ImageUrl", Value: listImage(l)},
			{Name: "IrmEnabled", Value: false},
			{Name: "IsApplicationList", Value: false},
			{Name: "IsCatalog", Value: false},
			{Name: "IsPrivate", Value: false},
			{Name: "ItemCount", Value: c.visibleItemCount(l)},
			{Name: "LastItemDeletedDate", Value: l.LastItemModifiedDate},
			{Name: "LastItemModifiedDate", Value: l.LastItemModifiedDate},
			{Name: "ListItemEntityTypeFullName", Value: l.ListItemEntityTypeFullName},
			{Name: "MultipleDataList", Value: false},
			{Name: "NoCrawl", Value: l.Hidden},
			{Name: "ParentWebUrl", Value: strings.TrimSuffix(l.RootFolderURL, "/"+l.URLName)},
			{Name: "ServerTemplateCanCreateFolders", Value: true},
			{Name: "TemplateFeatureId", Value: "00bfea71-de22-43b2-a848-c05709900100"},
			{Name: "Title", Value: l.Title},
		},
	}
	c.securableProps(ent, l.ScopeID, l.ScopeID == l.ID, true)
	return ent
}

func listImage(l *storage.List) string {
	if l.BaseType == storage.BaseTypeDocumentLibrary {
		return "/_layouts/15/images/itdl.png"
	}
	return "/_layouts/15/images/itgen.png"
}

func (c *call) deleteList(w *storage.Web, l *storage.List) (*response, error) {
	if err := c.tx.Lists().Delete(c.ctx, w.ID, l.ID); err != nil {
		return nil, err
	}
	return deleted(), nil
}

// ensureLibrary is lists/ensureSiteAssetsLibrary and
// ensureSitePagesLibrary: the library, created when missing.
func (c *call) ensureLibrary(w *storage.Web, urlName, title string, template int) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	l, err := c.tx.Lists().GetByURL(c.ctx, w.ID, urlName)
	if errors.Is(err, storage.ErrNotFound) {
		l, err = c.tx.Lists().Create(c.ctx, w.ID, storage.ListInput{Title: title, BaseTemplate: template, URLName: urlName})
	}
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, header: http.Header{}, body: c.enc.Entity(c.listEntity(l), "SP.ApiData.Lists/@Element"), format: c.format}, nil
}
