package sharepoint_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// getChanges posts list/GetChanges with query, as PnPjs's
// list.getChanges does.
func (a *api) getChanges(t *testing.T, list string, query map[string]any) *result {
	t.Helper()
	return a.req("POST", "/_api/web/lists/getByTitle('"+list+"')/GetChanges", map[string]any{"query": query})
}

type change struct {
	kind, item int
	token      string
}

func changesOf(t *testing.T, r *result) []change {
	t.Helper()
	var out []change
	for _, v := range r.must(t, 200).values(t) {
		tok, _ := v["ChangeToken"].(map[string]any)
		s, _ := tok["StringValue"].(string)
		out = append(out, change{kind: int(v["ChangeType"].(float64)), item: int(v["ItemId"].(float64)), token: s})
	}
	return out
}

func kindsAndItems(cs []change) (kinds, items []int) {
	for _, c := range cs {
		kinds, items = append(kinds, c.kind), append(items, c.item)
	}
	return kinds, items
}

func TestGetChangesReturnsTheListsChangesSinceAToken(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		items := "/_api/web/lists/getByTitle('Tasks')/items"
		for _, title := range []string{"one", "two", "three"} {
			a.req("POST", items, map[string]any{"Title": title}).must(t, 201)
		}
		a.req("MERGE", items+"(1)", map[string]any{"Title": "one, edited"}, "IF-MATCH", "*").must(t, 204)
		a.req("DELETE", items+"(2)", nil, "IF-MATCH", "*").must(t, 200)

		all := map[string]any{"Add": true, "Update": true, "DeleteObject": true, "Item": true}
		cs := changesOf(t, a.getChanges(t, "Tasks", all))
		kinds, ids := kindsAndItems(cs)
		if !slices.Equal(kinds, []int{1, 1, 1, 2, 3}) || !slices.Equal(ids, []int{1, 2, 3, 1, 2}) {
			t.Fatalf("changes: kinds %v items %v", kinds, ids)
		}
		// From a token: what came after it; a page at a time.
		from := map[string]any{"Add": true, "Update": true, "DeleteObject": true, "Item": true,
			"ChangeTokenStart": map[string]any{"StringValue": cs[2].token}}
		if _, ids := kindsAndItems(changesOf(t, a.getChanges(t, "Tasks", from))); !slices.Equal(ids, []int{1, 2}) {
			t.Errorf("after the third change: items %v", ids)
		}
		from["FetchLimit"] = 1
		if got := changesOf(t, a.getChanges(t, "Tasks", from)); len(got) != 1 || got[0].token != cs[3].token {
			t.Errorf("a page of one after the third change: %v", got)
		}
		// The flags select kinds and objects.
		if kinds, _ := kindsAndItems(changesOf(t, a.getChanges(t, "Tasks", map[string]any{"Add": true, "Item": true}))); !slices.Equal(kinds, []int{1, 1, 1}) {
			t.Errorf("adds only: %v", kinds)
		}
		if got := changesOf(t, a.getChanges(t, "Tasks", map[string]any{"Add": true, "List": true})); len(got) != 0 {
			t.Errorf("list changes asked, item changes got: %v", got)
		}

		// Bad input: a clear 400.
		newList(t, a, "", "Other")
		otherTok := ""
		a.req("POST", "/_api/web/lists/getByTitle('Other')/items", map[string]any{"Title": "x"}).must(t, 201)
		if oc := changesOf(t, a.getChanges(t, "Other", all)); len(oc) == 1 {
			otherTok = oc[0].token
		}
		for name, q := range map[string]map[string]any{
			"a malformed token":     {"Item": true, "Add": true, "ChangeTokenStart": map[string]any{"StringValue": "1;3;nope"}},
			"another list's token":  {"Item": true, "Add": true, "ChangeTokenStart": map[string]any{"StringValue": otherTok}},
			"an unknown member":     {"Item": true, "Sideways": true},
			"a zero FetchLimit":     {"Item": true, "FetchLimit": 0},
			"a token without value": {"Item": true, "ChangeTokenStart": map[string]any{}},
		} {
			if r := a.getChanges(t, "Tasks", q); r.status != 400 {
				t.Errorf("%s: %d %s, want 400", name, r.status, r.body)
			}
		}
		if r := a.req("POST", "/_api/web/lists/getByTitle('Tasks')/GetChanges", map[string]any{"ChangeTokenStart": "x"}); r.status != 400 {
			t.Errorf("no query object: %d", r.status)
		}

		// A visitor reads the changes he may see: not those of an item
		// with permissions of its own that leave him out.
		tasks := a.req("GET", "/_api/web/lists/getByTitle('Tasks')", nil).must(t, 200).json["Id"].(string)
		a.grant(t, func(s storage.Security, site *storage.Site, root *storage.Web) error {
			_, err := s.BreakInheritance(context.Background(), storage.ScopeRef{WebID: root.ID, ListID: tasks, ItemID: 3}, false, false)
			return err
		})
		a.joinGroup(t, "bob@example.com", "Cesivi Visitors")
		a.as("bob-subject", "bob@example.com")
		if _, ids := kindsAndItems(changesOf(t, a.getChanges(t, "Tasks", all))); !slices.Equal(ids, []int{1, 2, 1, 2}) {
			t.Errorf("bob's changes: items %v, want item 3's left out", ids)
		}

		// A token older than the kept log is refused, as SharePoint does.
		a.as("alice-subject", "alice@example.com")
		ctx := context.Background()
		if err := a.store.Update(ctx, func(tx storage.Tx) error {
			_, err := tx.Changes().Prune(ctx, time.Now().Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		old := map[string]any{"Item": true, "Add": true, "ChangeTokenStart": map[string]any{"StringValue": cs[0].token}}
		if r := a.getChanges(t, "Tasks", old); r.status != 400 || r.errorCode() != "-2146232832, Microsoft.SharePoint.SPException" {
			t.Errorf("an expired token: %d %s", r.status, r.body)
		}
	})
}

// Breaking and restoring an item's role inheritance is a SystemUpdate
// change of the item (ChangeType 15), selected by the SystemUpdate flag;
// a query for edits only does not see it.
func TestGetChangesReportsAnItemsInheritanceAsSystemUpdate(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		items := "/_api/web/lists/getByTitle('Tasks')/items"
		a.req("POST", items, map[string]any{"Title": "one"}).must(t, 201)
		a.req("POST", items+"(1)/breakroleinheritance(copyRoleAssignments=true,clearSubscopes=false)", nil).must(t, 200)
		a.req("POST", items+"(1)/resetroleinheritance", nil).must(t, 200)

		q := map[string]any{"Add": true, "SystemUpdate": true, "Item": true}
		if kinds, ids := kindsAndItems(changesOf(t, a.getChanges(t, "Tasks", q))); !slices.Equal(kinds, []int{1, 15, 15}) || !slices.Equal(ids, []int{1, 1, 1}) {
			t.Fatalf("Add and SystemUpdate: kinds %v items %v", kinds, ids)
		}
		q = map[string]any{"Add": true, "Update": true, "Item": true}
		if kinds, _ := kindsAndItems(changesOf(t, a.getChanges(t, "Tasks", q))); !slices.Equal(kinds, []int{1}) {
			t.Fatalf("Add and Update: kinds %v", kinds)
		}
	})
}
