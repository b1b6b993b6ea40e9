package pgstorage_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/pgmigrate"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// A database of 007 gets what Sites.Create now seeds, with the masks of
// permissions.DefaultRoles (the migration spells them as numbers).
func TestSecurityMigrationSeedsSitesMadeBeforeIt(t *testing.T) {
	t.Parallel()
	pool := newPool(t, testenv.Postgres(t))
	ctx := t.Context()
	ms, err := pgmigrate.Load(os.DirFS("migrations"), ".")
	if err != nil {
		t.Fatal(err)
	}
	before := slices.DeleteFunc(ms, func(m pgmigrate.Migration) bool { return m.Version >= 8 })
	if _, err := pgmigrate.Apply(ctx, pool, "storage", before); err != nil {
		t.Fatal(err)
	}
	const site, root, sub, list = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
		"33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
	if _, err := pool.Exec(ctx, `
		INSERT INTO "Sites" ("Id", "Url", "RootWebId", "NextUserId", "Created") VALUES ('`+site+`', '/sites/old', '`+root+`', 3, now());
		INSERT INTO "Webs" ("Id", "SiteId", "ParentId", "ServerRelativeUrl", "Title", "Description", "Language", "WebTemplate", "Created", "LastItemModifiedDate")
			VALUES ('`+root+`', '`+site+`', NULL, '/sites/old', 'Old', '', 1033, 'STS', now(), now()),
				('`+sub+`', '`+site+`', '`+root+`', '/sites/old/sub', 'Sub', '', 1033, 'STS', now(), now());
		INSERT INTO "Lists" ("Id", "WebId", "Title", "Description", "BaseTemplate", "BaseType", "UrlName", "RootFolderUrl",
			"EntityTypeName", "ListItemEntityTypeFullName", "Hidden", "Created", "LastItemModifiedDate")
			VALUES ('`+list+`', '`+sub+`', 'Tasks', '', 100, 0, 'Tasks', '/sites/old/sub/Lists/Tasks', 'TasksList', 'SP.Data.TasksListItem', false, now(), now());
		INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
			VALUES ('`+list+`', 1, gen_random_uuid(), 1, now(), now(), 1, 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pgstorage.ApplyMigrations(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var webScopes, listScope, itemScope string
	var next int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT string_agg("ScopeId", ',' ORDER BY "ServerRelativeUrl") FROM "Webs"),
		(SELECT "ScopeId" FROM "Lists"), (SELECT "ScopeId" FROM "ListItems"), (SELECT "NextUserId" FROM "Sites")`).Scan(
		&webScopes, &listScope, &itemScope, &next); err != nil {
		t.Fatal(err)
	}
	if webScopes != root+","+root || listScope != root || itemScope != "" || next != 6 {
		t.Fatalf("webs %s, list %s, item %q, next user id %d", webScopes, listScope, itemScope, next)
	}
	s := newStore(t, pool, pgstorage.Options{SkipMigrate: true})
	if err := s.View(ctx, func(tx storage.Tx) error {
		rs, err := tx.Security().RoleDefinitions(ctx, site)
		if err != nil {
			return err
		}
		want := permissions.DefaultRoles()
		if len(rs) != len(want) {
			t.Fatalf("%d levels, want %d", len(rs), len(want))
		}
		for i, r := range rs {
			if r.Role != want[i] {
				t.Errorf("level %d: %+v, want %+v", i, r.Role, want[i])
			}
		}
		gs, err := tx.Security().Groups(ctx, site)
		if err != nil {
			return err
		}
		var titles []string
		for _, g := range gs {
			titles = append(titles, g.Title)
			if g.OwnerID != 3 {
				t.Errorf("group %s owned by %d, want the Owners group 3", g.Title, g.OwnerID)
			}
		}
		if strings.Join(titles, ",") != "Old Members,Old Owners,Old Visitors" {
			t.Errorf("groups %v", titles)
		}
		as, err := tx.Security().Assignments(ctx, root)
		if err != nil {
			return err
		}
		if len(as) != 3 || as[0].PrincipalID != 3 || as[0].RoleIDs[0] != permissions.FullControlID ||
			as[1].RoleIDs[0] != permissions.EditID || as[2].RoleIDs[0] != permissions.ReadID {
			t.Errorf("root web's assignments %+v", as)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// With a tenth of the items in scopes of their own, the viewer filter is
// part of the query: every page is full and the pages together are
// exactly what the viewer may see.
func TestTheViewerFilterKeepsPagesFullAndCountsRight(t *testing.T) {
	t.Parallel()
	s := newStore(t, newPool(t, testenv.Postgres(t)), pgstorage.Options{})
	ctx := t.Context()
	st, l := site(t, s)
	var user int64
	if err := s.Update(ctx, func(tx storage.Tx) error {
		u, err := tx.Users().Ensure(ctx, st.ID, "dana@contoso.com", "Dana", "dana@contoso.com")
		if err != nil {
			return err
		}
		user = u.ID
		sec := tx.Security()
		for i := 1; i <= 100; i++ {
			it, err := tx.Items().Create(ctx, l.ID, storage.ItemInput{By: user})
			if err != nil {
				return err
			}
			if i%10 != 0 {
				continue
			}
			scope, err := sec.BreakInheritance(ctx, storage.ScopeRef{WebID: st.RootWebID, ListID: l.ID, ItemID: it.ID}, false, false)
			if err != nil {
				return err
			}
			if i%20 == 0 {
				if err := sec.AddAssignment(ctx, scope, user, permissions.ReadID); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v    *storage.Viewer
		want int
	}{
		{nil, 100},
		{&storage.Viewer{Principals: []int64{user}, ListVisible: true}, 95},
		{&storage.Viewer{Principals: []int64{user}}, 5},
		{&storage.Viewer{ListVisible: true}, 90},
	} {
		if err := s.View(ctx, func(tx storage.Tx) error {
			n, err := tx.Security().VisibleItemCount(ctx, l.ID, tc.v)
			if err != nil || n != int64(tc.want) {
				t.Errorf("viewer %+v: count %d (%v), want %d", tc.v, n, err, tc.want)
			}
			seen := 0
			q := storage.ItemQuery{Top: 7, Viewer: tc.v}
			for {
				p, err := tx.Items().Query(ctx, l.ID, q)
				if err != nil {
					return err
				}
				seen += len(p.Items)
				if p.Next == nil {
					break
				}
				if len(p.Items) != 7 {
					t.Errorf("viewer %+v: a page of %d before the last", tc.v, len(p.Items))
				}
				q.After = p.Next
			}
			if seen != tc.want {
				t.Errorf("viewer %+v: %d items over the pages, want %d", tc.v, seen, tc.want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// Access finds a user's site groups and the levels they hold on the root web.
func TestAccessFindsGroupsAndTheirGrants(t *testing.T) {
	t.Parallel()
	s := newStore(t, newPool(t, testenv.Postgres(t)), pgstorage.Options{})
	ctx := t.Context()
	st, _ := site(t, s)
	var members int64
	if err := s.Update(ctx, func(tx storage.Tx) error {
		u, err := tx.Users().Ensure(ctx, st.ID, "erin@contoso.com", "Erin", "erin@contoso.com")
		if err != nil {
			return err
		}
		g, err := tx.Security().GetGroupByTitle(ctx, st.ID, "Root Members")
		if err != nil {
			return err
		}
		members = g.ID
		return tx.Security().AddMember(ctx, st.ID, g.ID, u.ID)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx storage.Tx) error {
		as, err := tx.Security().Access(ctx, []string{"i:0#.f|membership|erin@contoso.com"})
		if err != nil {
			return err
		}
		if len(as) != 1 || as[0].UserID == 0 || !slices.Contains(as[0].Principals, members) ||
			!as[0].Grants[st.RootWebID].Has(permissions.EditListItems) || as[0].Grants[st.RootWebID].Has(permissions.ManageWeb) {
			t.Fatalf("access %+v", as)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
