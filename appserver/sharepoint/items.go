package sharepoint

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// itemID reads items(3), getById(3) and getItemByStringId('3').
func itemID(seg odata.Segment) (int64, error) {
	v, ok := seg.Single()
	if ok {
		switch v.Kind {
		case odata.KindInt:
			if v.Int > 0 {
				return v.Int, nil
			}
		case odata.KindString:
			if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	return 0, odata.InvalidQuery(seg.Name + " takes the item's id, a positive integer.")
}

// listSchema is the list's fields, read once per call.
func (c *call) listSchema(l *storage.List) (*storage.Schema, error) {
	if c.located != nil && c.located.List.ID == l.ID && c.readOnly() {
		// Read with the web; a write may change the fields, so it asks
		// storage (which has them cached for the transaction anyway).
		return storage.NewSchema(c.located.Fields), nil
	}
	fields, err := c.tx.Fields().List(c.ctx, l.ID)
	if err != nil {
		return nil, err
	}
	return storage.NewSchema(fields), nil
}

// itemsResource is list/items: GET queries, POST adds.
func (c *call) itemsResource(l *storage.List) (*response, error) {
	switch c.method {
	case http.MethodGet, http.MethodHead:
		return c.queryItems(l, c.query, "")
	case http.MethodPost:
		return c.addItem(l)
	}
	return nil, c.notAllowed()
}

// queryItems answers one page of the list's items for a query, with the
// absolute link to the next page; rel is the API path the link repeats
// (empty: the request's own).
func (c *call) queryItems(l *storage.List, q *odata.Query, rel string) (*response, error) {
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	sel, expand, fx := splitFileExpansion(l, q.Select, q.Expand)
	proj, err := newProjection(s, sel, expand)
	if err != nil {
		return nil, err
	}
	viewer, err := c.itemViewer(l)
	if err != nil {
		return nil, err
	}
	page, err := c.tx.Items().Query(c.ctx, l.ID, storage.ItemQuery{
		Filter: q.Filter, OrderBy: q.OrderBy, Top: q.PageSize(), After: q.SkipToken, Select: proj.storageSelect(), Viewer: viewer,
	})
	if err != nil {
		return nil, c.queryError(err)
	}
	ents, err := c.itemEntities(l, s, proj, page.Items)
	if err != nil {
		return nil, err
	}
	if err := fx.attach(c, l, page.Items, ents); err != nil {
		return nil, err
	}
	next := ""
	if page.Next != nil {
		if rel == "" {
			rel = c.restEscaped()
		}
		next = q.NextLink(c.enc.APIURL(rel), *page.Next)
	}
	return &response{status: http.StatusOK, header: http.Header{},
		body: c.enc.Collection(ents, "SP.ListData."+l.EntityTypeName+"Items", next), format: c.format}, nil
}

// queryError passes the *odata.Error a storage refusal wraps (a
// $filter on an unknown field is SharePoint's 400 Column error).
func (c *call) queryError(err error) error {
	var oe *odata.Error
	if errors.As(err, &oe) {
		return oe
	}
	return err
}

// restEscaped is the request's API path after /_api/, escaped as sent.
func (c *call) restEscaped() string {
	_, rest, _ := odata.SplitAPIPath(c.r.URL.EscapedPath())
	return rest
}

// itemResource serves one item and what hangs below it.
func (c *call) itemResource(w *storage.Web, l *storage.List, id int64, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get:    func() (*response, error) { return c.getItem(l, id) },
			update: func() (*response, error) { return c.updateItem(l, id) },
			del:    func() (*response, error) { return c.deleteItem(l, id) },
		})
	}
	seg := rest[0]
	switch {
	case (seg.Is("file") || seg.Is("folder")) && isLibrary(l):
		return c.itemFile(w, l, id, seg, rest[1:])
	case seg.Is("attachmentfiles"):
		return c.attachmentsResource(l, id, seg, rest[1:])
	case seg.Is("versions"):
		return c.itemVersions(l, id, seg, rest[1:])
	}
	if resp, ok, err := c.securableResource(securable{web: w, list: l, item: id}, seg, rest[1:]); ok {
		return resp, err
	}
	if len(rest) > 1 {
		return nil, notFound(rest[1])
	}
	switch {
	case seg.Is("fieldvaluesastext"), seg.Is("fieldvaluesashtml"), seg.Is("fieldvaluesforedit"):
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		return c.fieldValuesAsText(l, id, seg)
	case seg.Is("recycle"):
		return c.recycleItem(l, id)
	case seg.Is("parentlist"):
		return c.listResource(w, l, nil)
	}
	return nil, notFound(seg)
}

// itemMissing turns ErrNotFound into SharePoint's item-not-found 404.
func (c *call) itemMissing(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return odata.ItemNotFound()
	}
	return err
}

func (c *call) getItem(l *storage.List, id int64) (*response, error) {
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	sel, expand, fx := splitFileExpansion(l, c.query.Select, c.query.Expand)
	proj, err := newProjection(s, sel, expand)
	if err != nil {
		return nil, err
	}
	it, err := c.tx.Items().Get(c.ctx, l.ID, id)
	if err != nil {
		return nil, c.itemMissing(err)
	}
	if err := c.checkItemRead(l, it); err != nil {
		return nil, c.itemMissing(err)
	}
	ents, err := c.itemEntities(l, s, proj, []*storage.Item{it})
	if err != nil {
		return nil, err
	}
	if err := fx.attach(c, l, []*storage.Item{it}, ents); err != nil {
		return nil, err
	}
	resp := &response{status: http.StatusOK, header: http.Header{},
		body: c.enc.Entity(ents[0], "SP.ListData."+l.EntityTypeName+"Items/@Element"), format: c.format}
	resp.header.Set("ETag", ents[0].ETag)
	return resp, nil
}

// addItem is POST list/items: 201 with the whole new item, its ETag and
// Location, as SharePoint answers (PnPjs's items.add returns the body).
func (c *call) addItem(l *storage.List) (*response, error) {
	if isLibrary(l) {
		return nil, odata.NewError(http.StatusBadRequest, "-2130575162, Microsoft.SharePoint.SPException",
			"To add an item to a document library, add a file (files/addUsingPath) or a folder (folders/addUsingPath).")
	}
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	vals, err := c.itemValues(l, s)
	if err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	it, err := c.tx.Items().Create(c.ctx, l.ID, storage.ItemInput{Values: vals, By: u.ID})
	if err != nil {
		return nil, c.queryError(err)
	}
	proj, _ := newProjection(s, nil, nil)
	ents, err := c.itemEntities(l, s, proj, []*storage.Item{it})
	if err != nil {
		return nil, err
	}
	resp := &response{status: http.StatusCreated, header: http.Header{},
		body: c.enc.Entity(ents[0], "SP.ListData."+l.EntityTypeName+"Items/@Element"), format: c.format}
	resp.header.Set("ETag", ents[0].ETag)
	resp.header.Set("Location", c.enc.APIURL(ents[0].EditLink))
	return resp, nil
}

// updateItem is MERGE/PATCH (the values given change) and PUT (every
// writable field the body omits is cleared), checked against If-Match:
// 204 with the new ETag, or 412 when the item changed since.
func (c *call) updateItem(l *storage.List, id int64) (*response, error) {
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	vals, err := c.itemValues(l, s)
	if err != nil {
		return nil, err
	}
	if c.method == http.MethodPut {
		for _, f := range s.Fields {
			if f.ReadOnly || storage.Computed(f) {
				continue
			}
			if _, ok := vals[f.InternalName]; !ok && !hasValueFor(vals, f) {
				vals[f.InternalName] = odata.Null()
			}
		}
	}
	cur, err := c.tx.Items().Get(c.ctx, l.ID, id)
	if err != nil {
		return nil, c.itemMissing(err)
	}
	ifVersion, err := c.ifMatch(cur)
	if err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	if name, ok := vals[storage.FieldFileLeafRef]; ok && isLibrary(l) {
		// Writing FileLeafRef renames the file or folder, as in SharePoint.
		delete(vals, storage.FieldFileLeafRef)
		if err := c.renameItemFile(l, id, name, u); err != nil {
			return nil, err
		}
		if len(vals) == 0 {
			it, err := c.tx.Items().Get(c.ctx, l.ID, id)
			if err != nil {
				return nil, c.itemMissing(err)
			}
			return noContent(odata.ETag(int64(it.Version))), nil
		}
		ifVersion = 0 // checked above, before the rename
	}
	it, err := c.tx.Items().Update(c.ctx, l.ID, id, storage.ItemUpdate{Values: vals, By: u.ID, IfVersion: ifVersion})
	if errors.Is(err, storage.ErrConflict) {
		// Another writer committed between the read and the update.
		return nil, odata.VersionConflict(c.r.Header.Get("If-Match"), odata.ETag(int64(cur.Version+1)))
	}
	if err != nil {
		return nil, c.queryError(err)
	}
	return noContent(odata.ETag(int64(it.Version))), nil
}

// hasValueFor reports whether vals sets f under another name a client
// may use (AuthorId for Author).
func hasValueFor(vals map[string]odata.Value, f *storage.Field) bool {
	for k := range vals {
		if strings.EqualFold(k, f.InternalName) || strings.EqualFold(k, f.InternalName+"Id") {
			return true
		}
	}
	return false
}

// ifMatch checks If-Match against the item's version and returns the
// version the write must still find (0 for *). A malformed header (PnPjs
// sends IF-Match: null when given a missing etag) is a conflict too.
func (c *call) ifMatch(cur *storage.Item) (int, error) {
	h := c.r.Header.Get("If-Match")
	m, err := odata.ParseIfMatch(h)
	if err != nil || (!m.Any && !m.Matches(int64(cur.Version))) {
		return 0, odata.VersionConflict(h, odata.ETag(int64(cur.Version)))
	}
	if m.Any {
		return 0, nil
	}
	return cur.Version, nil
}

func (c *call) deleteItem(l *storage.List, id int64) (*response, error) {
	cur, err := c.tx.Items().Get(c.ctx, l.ID, id)
	if err != nil {
		return nil, c.itemMissing(err)
	}
	ifVersion, err := c.ifMatch(cur)
	if err != nil {
		return nil, err
	}
	if err := c.tx.Items().Delete(c.ctx, l.ID, id, ifVersion); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, odata.VersionConflict(c.r.Header.Get("If-Match"), odata.ETag(int64(cur.Version+1)))
		}
		return nil, c.itemMissing(err)
	}
	return deleted(), nil
}

// fieldValuesAsText is item/FieldValuesAsText (and AsHtml, ForEdit):
// every field's value as text, user and lookup fields as the target's
// title.
func (c *call) fieldValuesAsText(l *storage.List, id int64, seg odata.Segment) (*response, error) {
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	it, err := c.tx.Items().Get(c.ctx, l.ID, id)
	if err != nil {
		return nil, c.itemMissing(err)
	}
	ex := newExpander(c)
	ent := &odata.Entity{Type: "SP.FieldStringValues",
		ID:       c.enc.APIURL("Web/Lists(guid'" + l.ID + "')/Items(" + strconv.FormatInt(id, 10) + ")/" + seg.Name),
		EditLink: "Web/Lists(guid'" + l.ID + "')/Items(" + strconv.FormatInt(id, 10) + ")/" + seg.Name}
	for _, f := range s.Fields {
		v := storage.ItemValue(it, f)
		text := storage.FormatText(v)
		switch {
		case v.IsNull():
			text = ""
		case f.Type == storage.TypeUser:
			if u, err := ex.user(v.Int); err == nil && u != nil {
				text = u.Title
			}
		case f.Type == storage.TypeLookup:
			if t, err := ex.lookupTitle(f, v.Int); err == nil {
				text = t
			}
		case f.Type == storage.TypeMultiChoice:
			text = strings.Join(storage.MultiChoices(v), "; ")
		case f.Type == storage.TypeBoolean || f.Type == storage.TypeAttachments:
			text = map[bool]string{true: "Yes", false: "No"}[v.Bool]
		case f.Type == storage.TypeDateTime:
			text = v.Time.UTC().Format("1/2/2006 3:04 PM")
		}
		name := propertyName(f)
		if seg.Is("fieldvaluesastext") || seg.Is("fieldvaluesforedit") {
			name = strings.ReplaceAll(name, "_", "_x005f_")
		}
		ent.Props = append(ent.Props, odata.Prop{Name: name, Value: text})
	}
	return c.entity(ent, "SP.ApiData.FieldStringValues/@Element"), nil
}
