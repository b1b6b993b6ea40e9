package sharepoint

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// A list's change log through GetChanges, as PnPjs's list.getChanges
// posts it: {"query":{"Add":true,"Update":true,"DeleteObject":true,
// "Item":true,"ChangeTokenStart":{"StringValue":"1;3;<list>;<ticks>;<n>"}}}.
// Webhook receivers keep the last token they saw and ask for what came
// after it.

const changeQueryType = "SP.ChangeQuery"

// DefaultChangeFetchLimit is how many changes one GetChanges returns
// unless its FetchLimit says fewer, as SharePoint's.
const DefaultChangeFetchLimit = 1000

// changeKinds maps SP.ChangeQuery's change-type flags to the kinds they
// select. Move selects both halves of a move between libraries.
var changeKinds = map[string][]storage.ChangeType{
	"Add":          {storage.ChangeAdd},
	"Update":       {storage.ChangeUpdate},
	"DeleteObject": {storage.ChangeDeleteObject},
	"Rename":       {storage.ChangeRename},
	"Move":         {storage.ChangeMoveAway, storage.ChangeMoveInto},
	"Restore":      {storage.ChangeRestore},
	"SystemUpdate": {storage.ChangeSystemUpdate},
}

// changeObjects are SP.ChangeQuery's object-type flags that select a
// list's items (a library's files and folders are items too); the other
// object types (Web, List, Field, User, …) have no changes recorded
// here, so asking only for them returns none.
var changeObjects = []string{"Item", "File", "Folder"}

// knownChangeQuery are the members of SP.ChangeQuery a client may send.
var knownChangeQuery = []string{"Add", "Alert", "ChangeTokenEnd", "ChangeTokenStart", "ContentType", "DeleteObject",
	"FetchLimit", "Field", "File", "Folder", "Group", "GroupMembershipAdd", "GroupMembershipDelete", "Item",
	"LatestFirst", "List", "Move", "Navigation", "RecursiveAll", "Rename", "RequireSecurityTrimming", "Restore",
	"RoleAssignmentAdd", "RoleAssignmentDelete", "RoleDefinitionAdd", "RoleDefinitionDelete", "RoleDefinitionUpdate",
	"SecurityPolicy", "Site", "SystemUpdate", "Update", "User", "View", "Web", "IgnoreStartTokenNotFoundError"}

// listChanges answers GetChanges on list l.
func (c *call) listChanges(l *storage.List) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	raw, ok := lookup(m, "query")
	if !ok || len(m) != 1 {
		return nil, odata.InvalidQuery(`GetChanges takes {"query":{…}}, an SP.ChangeQuery.`)
	}
	var q map[string]json.RawMessage
	if err := json.Unmarshal(raw, &q); err != nil || q == nil {
		return nil, odata.InvalidQuery("query must be an SP.ChangeQuery object.")
	}
	if err := checkMetadata(q, changeQueryType); err != nil {
		return nil, err
	}
	if err := onlyKnown(q, changeQueryType, knownChangeQuery...); err != nil {
		return nil, err
	}
	kinds := map[storage.ChangeType]bool{}
	for flag, ks := range changeKinds {
		on, err := propBool(q, flag, changeQueryType)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			kinds[k] = on != nil && *on
		}
	}
	items := false
	for _, flag := range changeObjects {
		on, err := propBool(q, flag, changeQueryType)
		if err != nil {
			return nil, err
		}
		items = items || (on != nil && *on)
	}
	limit := DefaultChangeFetchLimit
	if n, err := propInt(q, "FetchLimit", changeQueryType); err != nil {
		return nil, err
	} else if n != nil {
		if *n < 1 {
			return nil, odata.InvalidQuery("FetchLimit must be a positive number.")
		}
		limit = min(*n, DefaultChangeFetchLimit)
	}
	start, err := c.changeToken(q, "ChangeTokenStart", l)
	if err != nil {
		return nil, err
	}
	end, err := c.changeToken(q, "ChangeTokenEnd", l)
	if err != nil {
		return nil, err
	}

	var after int64
	if start != nil {
		after = start.Number
	}
	ents := []*odata.Entity{}
	masks := map[string]permissions.Mask{}
	for len(ents) < limit {
		page, err := c.tx.Changes().Since(c.ctx, l.ID, after, limit)
		if errors.Is(err, storage.ErrChangeTokenExpired) {
			return nil, odata.NewError(http.StatusBadRequest, "-2146232832, Microsoft.SharePoint.SPException",
				"The changeToken refers to a time before the start of the current change log. Ask again without ChangeTokenStart, from the list's current token.")
		}
		if err != nil {
			return nil, err
		}
		for _, ch := range page {
			after = ch.Number
			if end != nil && ch.Number > end.Number {
				return c.changesResponse(ents), nil
			}
			if !items || !kinds[ch.Kind] {
				continue
			}
			visible, err := c.changeVisible(l, ch, masks)
			if err != nil {
				return nil, err
			}
			if visible {
				ents = append(ents, c.changeEntity(l, ch))
				if len(ents) == limit {
					break
				}
			}
		}
		if len(page) < limit {
			break
		}
	}
	return c.changesResponse(ents), nil
}

func (c *call) changesResponse(ents []*odata.Entity) *response {
	return c.collection(ents, "SP.ApiData.Changes", "")
}

// changeToken reads an SP.ChangeToken member ({"StringValue":"…"}) of
// the query: nil when absent or null. A token of another list, or a
// malformed one, is refused.
func (c *call) changeToken(q map[string]json.RawMessage, name string, l *storage.List) (*storage.ChangeToken, error) {
	raw, ok := lookup(q, name)
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var t map[string]json.RawMessage
	if err := json.Unmarshal(raw, &t); err != nil || t == nil {
		return nil, odata.InvalidQuery(name + ` must be an SP.ChangeToken: {"StringValue":"1;3;<list id>;<ticks>;<number>"}.`)
	}
	if err := checkMetadata(t, "SP.ChangeToken"); err != nil {
		return nil, err
	}
	s, err := propString(t, "StringValue", "SP.ChangeToken")
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, odata.InvalidQuery(name + " needs its StringValue.")
	}
	tok, err := storage.ParseChangeToken(*s)
	if err != nil {
		return nil, odata.InvalidQuery(name + ": " + err.Error())
	}
	if !strings.EqualFold(tok.ListID, l.ID) {
		return nil, odata.InvalidQuery(name + " is a change token of another list.")
	}
	return &tok, nil
}

// changeVisible reports whether the user may learn of change ch: a
// change of an item with permissions of its own that leave the user out
// is left out, as the item is of the user's queries. The change of an
// item that no longer exists shows only its id and is kept.
func (c *call) changeVisible(l *storage.List, ch *storage.Change, masks map[string]permissions.Mask) (bool, error) {
	a, err := c.access()
	if err != nil || a.admin || ch.ItemID == 0 {
		return err == nil, err
	}
	scope, _, err := c.tx.Security().Scope(c.ctx, storage.ScopeRef{WebID: l.WebID, ListID: l.ID, ItemID: ch.ItemID})
	switch {
	case isNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	}
	m, err := c.scopeMask(a, l, scope, masks)
	return m.Has(permissions.ViewListItems), err
}

// changeEntity is SP.ChangeItem.
func (c *call) changeEntity(l *storage.List, ch *storage.Change) *odata.Entity {
	return &odata.Entity{Type: "SP.ChangeItem", Props: []odata.Prop{
		{Name: "ChangeToken", Value: &odata.Entity{Type: "SP.ChangeToken", Props: []odata.Prop{
			{Name: "StringValue", Value: ch.Token().String()}}}},
		{Name: "ChangeType", Value: int(ch.Kind)},
		{Name: "SiteId", Value: c.web.SiteID},
		{Name: "Time", Value: ch.Time.UTC()},
		{Name: "ItemId", Value: ch.ItemID},
		{Name: "ListId", Value: l.ID},
		{Name: "UniqueId", Value: ch.UniqueID},
		{Name: "WebId", Value: l.WebID},
	}}
}
