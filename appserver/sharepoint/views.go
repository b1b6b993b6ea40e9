package sharepoint

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// viewsResource is list/views.
func (c *call) viewsResource(l *storage.List, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call {
		v, err := c.viewByArg(l, seg)
		if err != nil {
			return nil, err
		}
		return c.viewResource(l, v, rest)
	}
	if len(rest) == 0 {
		switch c.method {
		case http.MethodGet, http.MethodHead:
			vs, err := c.tx.Views().List(c.ctx, l.ID)
			if err != nil {
				return nil, err
			}
			ents := make([]*odata.Entity, len(vs))
			for i, v := range vs {
				ents[i] = c.viewEntity(l, v)
			}
			return c.filteredCollection(ents, "SP.ApiData.Views")
		case http.MethodPost:
			return c.addView(l)
		}
		return nil, c.notAllowed()
	}
	seg, rest = rest[0], rest[1:]
	switch {
	case seg.Is("getbytitle") && seg.Call:
		t, ok := seg.Single()
		if !ok || t.Kind != odata.KindString {
			return nil, odata.InvalidQuery("getByTitle takes the view's title as a string.")
		}
		v, err := c.tx.Views().GetByTitle(c.ctx, l.ID, t.Str)
		if err != nil {
			return nil, viewMissing(err)
		}
		return c.viewResource(l, v, rest)
	case seg.Is("getbyid") && seg.Call:
		v, err := c.viewByArg(l, seg)
		if err != nil {
			return nil, err
		}
		return c.viewResource(l, v, rest)
	case seg.Is("add") && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.addView(l)
	}
	return nil, notFound(seg)
}

func viewMissing(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return odata.NewError(http.StatusNotFound, odata.CodeArgument, "The specified view is invalid.")
	}
	return err
}

func (c *call) viewByArg(l *storage.List, seg odata.Segment) (*storage.View, error) {
	a, ok := seg.Single()
	id, okID := canonicalID(a)
	if !ok || !okID {
		return nil, odata.InvalidQuery(seg.Name + " takes the view's id, a GUID.")
	}
	v, err := c.tx.Views().Get(c.ctx, l.ID, id)
	if err != nil {
		return nil, viewMissing(err)
	}
	return v, nil
}

func (c *call) defaultView(l *storage.List) (*storage.View, error) {
	vs, err := c.tx.Views().List(c.ctx, l.ID)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.DefaultView {
			return v, nil
		}
	}
	return nil, viewMissing(storage.ErrNotFound)
}

// viewResource serves one view, its view fields and its items.
func (c *call) viewResource(l *storage.List, v *storage.View, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get:    func() (*response, error) { return c.entity(c.viewEntity(l, v), "SP.ApiData.Views/@Element"), nil },
			update: func() (*response, error) { return c.updateView(l, v) },
			del: func() (*response, error) {
				if err := c.tx.Views().Delete(c.ctx, l.ID, v.ID); err != nil {
					return nil, err
				}
				return deleted(), nil
			},
		})
	}
	seg, rest := rest[0], rest[1:]
	if !seg.Is("viewfields") {
		return nil, notFound(seg)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		return c.entity(c.viewFieldsEntity(l, v), "SP.ApiData.ViewFieldCollections/@Element"), nil
	}
	op := rest[0]
	if len(rest) > 1 {
		return nil, notFound(rest[1])
	}
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	fields := append([]string(nil), v.ViewFields...)
	switch {
	case op.Is("addviewfield") && op.Call:
		name, err := c.viewFieldArg(l, op)
		if err != nil {
			return nil, err
		}
		if !containsFold(fields, name) {
			fields = append(fields, name)
		}
	case op.Is("removeviewfield") && op.Call:
		name, err := c.viewFieldArg(l, op)
		if err != nil {
			return nil, err
		}
		kept := fields[:0]
		for _, f := range fields {
			if !strings.EqualFold(f, name) {
				kept = append(kept, f)
			}
		}
		fields = kept
	case op.Is("removeallviewfields"):
		fields = []string{}
	case op.Is("moveviewfieldto"):
		m, err := c.object("")
		if err != nil {
			return nil, err
		}
		name, err := propString(m, "field", "SP.ViewFieldCollection")
		if err != nil {
			return nil, err
		}
		idx, err := propInt(m, "index", "SP.ViewFieldCollection")
		if err != nil {
			return nil, err
		}
		if name == nil || idx == nil {
			return nil, odata.InvalidQuery("MoveViewFieldTo needs field and index.")
		}
		pos := indexFold(fields, *name)
		if pos < 0 {
			return nil, odata.FieldNotFound(*name)
		}
		f := fields[pos]
		fields = append(fields[:pos], fields[pos+1:]...)
		i := max(0, min(*idx, len(fields)))
		fields = append(fields[:i], append([]string{f}, fields[i:]...)...)
	default:
		return nil, notFound(op)
	}
	if _, err := c.tx.Views().Update(c.ctx, l.ID, v.ID, storage.ViewUpdate{ViewFields: &fields}); err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, header: http.Header{}}, nil
}

// viewFieldArg is the field an addViewField/removeViewField names; it
// must be a field of the list (or one of SharePoint's computed link
// columns).
func (c *call) viewFieldArg(l *storage.List, op odata.Segment) (string, error) {
	a, ok := op.Single()
	if !ok || a.Kind != odata.KindString {
		return "", odata.InvalidQuery(op.Name + " takes the field's internal name as a string.")
	}
	switch strings.ToLower(a.Str) {
	case "linktitle", "linktitlenomenu", "linkfilename", "linkfilenamenomenu", "docicon", "edit":
		return a.Str, nil
	}
	f, err := c.tx.Fields().GetByName(c.ctx, l.ID, a.Str)
	if err != nil {
		return "", fieldMissing(err, a.Str)
	}
	return f.InternalName, nil
}

func containsFold(list []string, s string) bool { return indexFold(list, s) >= 0 }

func indexFold(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

// viewEntity is SP.View.
func (c *call) viewEntity(l *storage.List, v *storage.View) *odata.Entity {
	link := "Web/Lists(guid'" + l.ID + "')/Views(guid'" + v.ID + "')"
	page := strings.ReplaceAll(v.Title, " ", "") + ".aspx"
	if l.BaseType == storage.BaseTypeDocumentLibrary {
		page = "Forms/" + page
	}
	return &odata.Entity{Type: "SP.View", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "BaseViewId", Value: "1"},
		{Name: "ContentTypeId", Value: "0x"},
		{Name: "DefaultView", Value: v.DefaultView},
		{Name: "Hidden", Value: v.Hidden},
		{Name: "Id", Value: v.ID},
		{Name: "ListViewXml", Value: viewXML(v)},
		{Name: "Paged", Value: true},
		{Name: "PersonalView", Value: false},
		{Name: "ReadOnlyView", Value: false},
		{Name: "RowLimit", Value: v.RowLimit},
		{Name: "ServerRelativeUrl", Value: l.RootFolderURL + "/" + page},
		{Name: "Title", Value: v.Title},
		{Name: "ViewQuery", Value: v.ViewQuery},
		{Name: "ViewType", Value: "HTML"},
	}}
}

// viewXML is a view as CAML, what getItems and RenderListDataAsStream
// take as ViewXml.
func viewXML(v *storage.View) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<View Name="{%s}" Type="HTML" DisplayName="%s" Url="">`, strings.ToUpper(v.ID), xmlAttr(v.Title))
	fmt.Fprintf(&b, "<Query>%s</Query><ViewFields>", v.ViewQuery)
	for _, f := range v.ViewFields {
		fmt.Fprintf(&b, `<FieldRef Name="%s" />`, xmlAttr(f))
	}
	fmt.Fprintf(&b, `</ViewFields><RowLimit Paged="TRUE">%d</RowLimit></View>`, v.RowLimit)
	return b.String()
}

func (c *call) viewFieldsEntity(l *storage.List, v *storage.View) *odata.Entity {
	link := "Web/Lists(guid'" + l.ID + "')/Views(guid'" + v.ID + "')/ViewFields"
	items := make([]any, len(v.ViewFields))
	var schema strings.Builder
	schema.WriteString("<FieldRefs>")
	for i, f := range v.ViewFields {
		items[i] = f
		fmt.Fprintf(&schema, `<FieldRef Name="%s" />`, xmlAttr(f))
	}
	schema.WriteString("</FieldRefs>")
	return &odata.Entity{Type: "SP.ViewFieldCollection", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "SchemaXml", Value: schema.String()},
		{Name: "Items", Value: odata.Values{Type: "Collection(Edm.String)", Items: items}},
	}}
}

// viewProps are the SP.View and SP.ViewCreationInformation properties
// a body may carry.
var viewProps = []string{"Title", "DefaultView", "SetAsDefaultView", "Hidden", "RowLimit", "ViewQuery", "Query", "ViewFields",
	"PersonalView", "Paged", "ViewTypeKind", "ViewType2", "ViewData", "JSLink", "TabularView", "IncludeRootFolder", "Scope",
	"MobileView", "MobileDefaultView"}

// addView is POST views (SP.View) and views/add
// ({"parameters": SP.ViewCreationInformation}): 201 with the view.
func (c *call) addView(l *storage.List) (*response, error) {
	m, err := c.object("SP.View")
	if err != nil {
		return nil, err
	}
	if m, err = parameters(m, "SP.ViewCreationInformation"); err != nil {
		return nil, err
	}
	if err := onlyKnown(m, "SP.View", viewProps...); err != nil {
		return nil, err
	}
	upd, err := viewUpdate(m)
	if err != nil {
		return nil, err
	}
	if upd.Title == nil || strings.TrimSpace(*upd.Title) == "" {
		return nil, odata.InvalidQuery("A new view needs a Title.")
	}
	in := storage.ViewInput{Title: *upd.Title}
	if upd.DefaultView != nil {
		in.DefaultView = *upd.DefaultView
	}
	if upd.Hidden != nil {
		in.Hidden = *upd.Hidden
	}
	if upd.RowLimit != nil {
		in.RowLimit = *upd.RowLimit
	}
	if upd.ViewQuery != nil {
		in.ViewQuery = *upd.ViewQuery
	}
	if upd.ViewFields != nil {
		in.ViewFields = *upd.ViewFields
	}
	v, err := c.tx.Views().Create(c.ctx, l.ID, in)
	if errors.Is(err, storage.ErrConflict) {
		return nil, odata.NewError(http.StatusBadRequest, "-2147024809, System.ArgumentException", "A view with this name already exists.")
	}
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusCreated, header: http.Header{}, body: c.enc.Entity(c.viewEntity(l, v), "SP.ApiData.Views/@Element"), format: c.format}, nil
}

func viewUpdate(m map[string]jsonRaw) (storage.ViewUpdate, error) {
	const typ = "SP.View"
	var u storage.ViewUpdate
	var err error
	if u.Title, err = propString(m, "Title", typ); err != nil {
		return u, err
	}
	if u.DefaultView, err = propBool(m, "DefaultView", typ); err != nil {
		return u, err
	}
	if set, err := propBool(m, "SetAsDefaultView", typ); err != nil {
		return u, err
	} else if set != nil {
		u.DefaultView = set
	}
	if u.Hidden, err = propBool(m, "Hidden", typ); err != nil {
		return u, err
	}
	if u.RowLimit, err = propInt(m, "RowLimit", typ); err != nil {
		return u, err
	}
	if u.ViewQuery, err = propString(m, "ViewQuery", typ); err != nil {
		return u, err
	}
	if q, err := propString(m, "Query", typ); err != nil {
		return u, err
	} else if q != nil {
		u.ViewQuery = q
	}
	if u.ViewFields, err = propStrings(m, "ViewFields", typ); err != nil {
		return u, err
	}
	for _, b := range []string{"PersonalView", "Paged", "TabularView", "IncludeRootFolder", "MobileView", "MobileDefaultView"} {
		if _, err := propBool(m, b, typ); err != nil {
			return u, err
		}
	}
	return u, nil
}

// updateView is MERGE on a view.
func (c *call) updateView(l *storage.List, v *storage.View) (*response, error) {
	m, err := c.object("SP.View")
	if err != nil {
		return nil, err
	}
	if err := onlyKnown(m, "SP.View", viewProps...); err != nil {
		return nil, err
	}
	upd, err := viewUpdate(m)
	if err != nil {
		return nil, err
	}
	if _, err := c.tx.Views().Update(c.ctx, l.ID, v.ID, upd); err != nil {
		return nil, err
	}
	return noContent(""), nil
}
