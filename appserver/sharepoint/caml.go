package sharepoint

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/caml"
	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// CAML queries (getItems, RenderListDataAsStream) run through the same
// query engine as $filter: the CAML parses into the same AST.

// viewQuery parses a ViewXml for the call's user and clock.
func (c *call) viewQuery(viewXML string) (*caml.View, error) {
	opts := caml.Options{Now: time.Now().UTC()}
	if u, err := c.currentUser(); err == nil {
		opts.CurrentUserID = u.ID
	}
	v, err := caml.ParseView(viewXML, opts)
	if err != nil {
		return nil, odata.ErrorOf(err)
	}
	return v, nil
}

// camlItems is list/GetItems with {"query":{"ViewXml":…,
// "ListItemCollectionPosition":{"PagingInfo":"Paged=TRUE&p_ID=n"}}}:
// the items the CAML selects, in its order, up to its RowLimit.
func (c *call) camlItems(w *storage.Web, l *storage.List) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	raw, ok := lookup(m, "query")
	if !ok || len(m) != 1 {
		return nil, odata.InvalidQuery("GetItems takes {\"query\":{\"ViewXml\":…}}.")
	}
	const typ = "SP.CamlQuery"
	var q map[string]json.RawMessage
	if err := json.Unmarshal(raw, &q); err != nil || q == nil {
		return nil, odata.InvalidQuery("query must be an SP.CamlQuery object.")
	}
	if err := checkMetadata(q, typ); err != nil {
		return nil, err
	}
	if err := onlyKnown(q, typ, "ViewXml", "ListItemCollectionPosition", "FolderServerRelativeUrl", "DatesInUtc", "AllowIncrementalResults", "FolderServerRelativePath"); err != nil {
		return nil, err
	}
	viewXML, err := propString(q, "ViewXml", typ)
	if err != nil {
		return nil, err
	}
	xml := "<View/>"
	if viewXML != nil && strings.TrimSpace(*viewXML) != "" {
		xml = *viewXML
	}
	v, err := c.viewQuery(xml)
	if err != nil {
		return nil, err
	}
	var after *odata.SkipToken
	if pos, ok := lookup(q, "ListItemCollectionPosition"); ok && string(pos) != "null" {
		var p struct {
			PagingInfo string `json:"PagingInfo"`
		}
		if err := json.Unmarshal(pos, &p); err != nil {
			return nil, odata.InvalidQuery("ListItemCollectionPosition must be {\"PagingInfo\":\"Paged=TRUE&p_ID=n\"}.")
		}
		if p.PagingInfo != "" {
			tok, err := odata.ParseSkipToken(p.PagingInfo)
			if err != nil {
				return nil, err
			}
			after = &tok
		}
	}
	top := v.RowLimit
	if top <= 0 || top > odata.MaxTop {
		top = odata.MaxTop
	}
	q2 := *c.query
	q2.Filter, q2.OrderBy, q2.Top, q2.HasTop, q2.SkipToken = v.Filter, v.OrderBy, top, true, after
	if len(q2.Select) == 0 && len(v.ViewFields) > 0 {
		q2.Select = viewFieldsSelect(v.ViewFields)
	}
	return c.queryItems(l, &q2, "")
}

// viewFieldsSelect maps a view's fields onto $select: SharePoint's
// computed link columns stand for Title (lists) and FileLeafRef; the ID
// is always there.
func viewFieldsSelect(fields []string) []string {
	out := []string{"Id"}
	for _, f := range fields {
		switch strings.ToLower(f) {
		case "linktitle", "linktitlenomenu", "edit":
			out = append(out, storage.FieldTitle)
		case "docicon", "linkfilename", "linkfilenamenomenu":
		default:
			out = append(out, f)
		}
	}
	return out
}

// renderListData is list/RenderListDataAsStream with
// {"parameters":{"ViewXml":…,"Paging":…}}: the rows of a view as the
// modern list page reads them ({"Row":[…],"FirstRow","LastRow",
// "NextHref"}), values as text. Without ViewXml the default view's
// query applies.
func (c *call) renderListData(w *storage.Web, l *storage.List) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	const typ = "SP.RenderListDataParameters"
	if m, err = parameters(m, typ); err != nil {
		return nil, err
	}
	asked, err := propString(m, "ViewXml", typ)
	if err != nil {
		return nil, err
	}
	paging, err := propString(m, "Paging", typ)
	if err != nil {
		return nil, err
	}
	xml := ""
	switch {
	case asked != nil:
		xml = *asked
	case c.r.URL.Query().Get("View") != "":
		// ?View={guid}: the rows of that view, as list pages ask.
		id, ok := canonicalID(odata.String(c.r.URL.Query().Get("View")))
		if !ok {
			return nil, odata.InvalidQuery("View must be a view's id.")
		}
		v, err := c.tx.Views().Get(c.ctx, l.ID, id)
		if err != nil {
			return nil, viewMissing(err)
		}
		xml = viewXML(v)
	default:
		dv, err := c.defaultView(l)
		if err != nil {
			return nil, err
		}
		xml = viewXML(dv)
	}
	v, err := c.viewQuery(xml)
	if err != nil {
		return nil, err
	}
	top := v.RowLimit
	if top <= 0 || top > odata.MaxTop {
		top = storage.DefaultRowLimit
	}
	var after *odata.SkipToken
	if paging != nil && *paging != "" {
		tok, err := odata.ParseSkipToken(strings.TrimPrefix(*paging, "?"))
		if err != nil {
			return nil, err
		}
		after = &tok
	}
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	viewer, err := c.itemViewer(l)
	if err != nil {
		return nil, err
	}
	page, err := c.tx.Items().Query(c.ctx, l.ID, storage.ItemQuery{Filter: v.Filter, OrderBy: v.OrderBy, Top: top, After: after, Viewer: viewer})
	if err != nil {
		return nil, c.queryError(err)
	}
	ex := newExpander(c)
	rows := make([]map[string]any, 0, len(page.Items))
	for _, it := range page.Items {
		row := map[string]any{"ID": strconv.FormatInt(it.ID, 10), "PermMask": "0x7fffffffffffffff",
			"FSObjType": "0", "UniqueId": "{" + strings.ToUpper(it.GUID) + "}", "owshiddenversion": strconv.Itoa(it.Version)}
		for _, f := range s.Fields {
			val := storage.ItemValue(it, f)
			switch {
			case val.IsNull():
				row[f.InternalName] = ""
			case f.Type == storage.TypeUser:
				u, err := ex.user(val.Int)
				if err != nil {
					return nil, err
				}
				if u != nil {
					row[f.InternalName] = []map[string]any{{"id": strconv.FormatInt(u.ID, 10), "title": u.Title, "email": u.Email, "sip": u.Email, "picture": ""}}
				}
			case f.Type == storage.TypeLookup:
				t, err := ex.lookupTitle(f, val.Int)
				if err != nil {
					return nil, err
				}
				row[f.InternalName] = []map[string]any{{"lookupId": val.Int, "lookupValue": t, "isSecretFieldValue": false}}
			case f.Type == storage.TypeMultiChoice:
				row[f.InternalName] = storage.MultiChoices(val)
			case f.Type == storage.TypeBoolean || f.Type == storage.TypeAttachments:
				row[f.InternalName] = map[bool]string{true: "Yes", false: "No"}[val.Bool]
				row[f.InternalName+".value"] = storage.FormatText(val)
			case f.Type == storage.TypeDateTime:
				row[f.InternalName] = val.Time.UTC().Format("1/2/2006 3:04 PM")
				row[f.InternalName+"."] = val.Time.UTC().Format(odata.TimeLayout)
			default:
				row[f.InternalName] = storage.FormatText(val)
			}
		}
		rows = append(rows, row)
	}
	out := map[string]any{"Row": rows, "FirstRow": 1, "LastRow": len(rows), "RowLimit": top,
		"FilterLink": "?", "ForceNoHierarchy": "1", "HierarchyHasIndention": ""}
	if page.Next != nil {
		out["NextHref"] = "?" + page.Next.String()
	}
	body, _ := json.Marshal(out)
	return &response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json;charset=utf-8"}}, body: body, raw: true}, nil
}

// parseFieldXML reads SharePoint's field schema XML (CreateFieldAsXml).
func parseFieldXML(x string, options int) (storage.FieldInput, error) {
	in, err := caml.ParseField(x)
	if err != nil {
		return storage.FieldInput{}, odata.ErrorOf(err)
	}
	return caml.WithAddFieldOptions(in, options), nil
}
