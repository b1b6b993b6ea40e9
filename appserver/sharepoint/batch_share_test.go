package sharepoint_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// The requests of one changeset share what the first located (the web,
// the list and its fields, the user's row and rights): a changeset of 20
// adds is one round trip per add plus the transaction's two, where it
// was two per add before. The counts come from a tracer on the pool, so
// the test fails as soon as a request locates again.
func TestBatchChangesetOf20AddsLocatesOnce(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &sqlCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := pgstorage.New(t.Context(), pool, pgstorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, store)
	a.session = "" // bearer: no digest, and no read-only request whose COMMIT lands later
	a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks"}).must(t, 201)
	items := "/_api/web/lists/getByTitle('Tasks')/items"
	batch := func(n int) (int, sqlCount) {
		parts := make([]batchPart, 20)
		for i := range parts {
			parts[i] = batchPart{"POST", items, fmt.Sprintf(`{"Title":"batch %d part %d"}`, n, i)}
		}
		ct, body := batchBody(a.srv.URL, parts)
		before := counter.read()
		r := a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 200)
		used := counter.read().minus(before)
		created := 0
		for _, p := range readBatch(t, r) {
			if p.status == 201 {
				created++
			}
		}
		return created, used
	}
	batch(0) // the first makes the user's row
	created, used := batch(1)
	if created != 20 {
		t.Fatalf("%d of 20 adds answered 201", created)
	}
	// BEGIN, SET LOCAL and the first Locate in one round trip, one
	// insert per add, COMMIT: 22 round trips, 24 statements (43 and 47
	// when every request located its web and list again, and the batch
	// checked its web in a read of its own).
	if used.roundTrips > 22 || used.statements > 24 {
		t.Errorf("a changeset of 20 adds took %d round trips and %d statements, want ≤ 22 and ≤ 24", used.roundTrips, used.statements)
	}
	t.Logf("a changeset of 20 adds: %d round trips, %d statements", used.roundTrips, used.statements)
	if vs := a.req("GET", items+"?$top=100&$select=Title", nil).must(t, 200).values(t); len(vs) != 40 {
		t.Errorf("the list holds %d items, want 40", len(vs))
	}

	// A member's rights are read once per changeset too (this harness
	// has no user-context cache: the changeset reads them itself).
	a.joinGroup(t, bobLogin, "Cesivi Members")
	a.user, a.email = "bob-subject", "bob@example.com"
	batch(2)
	created, used = batch(3)
	if created != 20 {
		t.Fatalf("%d of a member's 20 adds answered 201", created)
	}
	if used.roundTrips > 23 || used.statements > 25 {
		t.Errorf("a member's changeset of 20 adds took %d round trips and %d statements, want ≤ 23 and ≤ 25 (one read of its rights)", used.roundTrips, used.statements)
	}
	t.Logf("a member's changeset of 20 adds: %d round trips, %d statements", used.roundTrips, used.statements)
}

// A request of a changeset that changes a list, its fields or what the
// user may do drops what the earlier requests located: the requests
// after it see the changeset's change, as they would one by one.
func TestBatchChangesetSeesItsOwnChanges(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks"}).must(t, 201)
		tasks := "/_api/web/lists/getByTitle('Tasks')"
		statuses := func(r *result) string {
			var s []string
			for _, p := range readBatch(t, r) {
				s = append(s, fmt.Sprint(p.status))
			}
			return strings.Join(s, ",")
		}
		send := func(parts ...batchPart) string {
			ct, body := batchBody(a.srv.URL, parts)
			return statuses(a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 200))
		}

		// A field added mid-changeset takes values in the next add.
		if got := send(
			batchPart{"POST", tasks + "/items", `{"Title":"before"}`},
			batchPart{"POST", tasks + "/fields", `{"Title":"Score","FieldTypeKind":9}`},
			batchPart{"POST", tasks + "/items", `{"Title":"after","Score":3}`},
		); got != "201,201,201" {
			t.Fatalf("field then add: %s", got)
		}
		vs := a.req("GET", tasks+"/items?$filter=Title eq 'after'&$select=Title,Score", nil).must(t, 200).values(t)
		if len(vs) != 1 || num(vs[0]["Score"]) != 3 {
			t.Errorf("the add after the new field: %v", vs)
		}

		// A list renamed mid-changeset is not found by its old title:
		// the changeset fails whole.
		if got := send(
			batchPart{"POST", tasks + "/items", `{"Title":"kept?"}`},
			batchPart{"MERGE", tasks, `{"Title":"Jobs"}`},
			batchPart{"POST", tasks + "/items", `{"Title":"old title"}`},
		); got != "424,424,404" {
			t.Errorf("rename then add by the old title: %s", got)
		}
		if vs := a.req("GET", tasks+"/items?$filter=Title eq 'kept?'", nil).must(t, 200).values(t); len(vs) != 0 {
			t.Errorf("a failed changeset kept its first add: %v", vs)
		}

		// An owner who leaves the owners' group mid-changeset may not
		// add the next item: its rights are read again.
		a.joinGroup(t, "i:0#.f|membership|alice@example.com", "Cesivi Owners")
		a.joinGroup(t, bobLogin, "Cesivi Owners")
		owners := num(a.req("GET", "/_api/web/siteGroups/getByName('Cesivi Owners')", nil).must(t, 200).json["Id"])
		bob := num(a.req("GET", "/_api/web/siteUsers/getByLoginName(@v)?@v='"+strings.ReplaceAll(bobLogin, "#", "%23")+"'", nil).must(t, 200).json["Id"])
		a.as("bob-subject", "bob@example.com")
		if got := send(
			batchPart{"POST", tasks + "/items", `{"Title":"bob 1"}`},
			batchPart{"POST", tasks + "/items", `{"Title":"bob 2"}`},
		); got != "201,201" {
			t.Fatalf("an owner's adds: %s", got)
		}
		if got := send(
			batchPart{"POST", tasks + "/items", `{"Title":"bob 3"}`},
			batchPart{"POST", fmt.Sprintf("/_api/web/siteGroups(%d)/users/removeById(%d)", owners, bob), ""},
			batchPart{"POST", tasks + "/items", `{"Title":"bob 4"}`},
		); got != "424,424,403" {
			t.Errorf("leave the owners, then add: %s", got)
		}
		a.as("alice-subject", "alice@example.com")
		if vs := a.req("GET", tasks+"/items?$filter=startswith(Title,'bob')&$select=Title", nil).must(t, 200).values(t); len(vs) != 2 {
			t.Errorf("bob's items: %v", vs)
		}
	})
}

// A batch that opens with a changeset checks its web in that
// changeset's transaction, as a read of its own did before: the first
// request to an empty database may be such a batch (the root site is
// made), and a batch to a web that does not exist is a 404 whole.
func TestBatchOpeningWithAChangesetChecksItsWeb(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.session = "" // a bearer client's first request: no contextinfo before it
		ct, body := batchBody(a.srv.URL, []batchPart{{"POST", "/_api/web/lists", `{"Title":"First"}`}})
		r := a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 200)
		if parts := readBatch(t, r); len(parts) != 1 || parts[0].status != 201 {
			t.Fatalf("the first batch: %+v", parts)
		}
		ct, body = batchBody(a.srv.URL+"/sites/nope", []batchPart{{"POST", "/_api/web/lists", `{"Title":"X"}`}})
		a.req("POST", "/sites/nope/_api/$batch", body, "Content-Type", ct).must(t, 404)
		// A batch whose first request names another web than the batch
		// checks the batch's web too.
		ct, body = batchBody(a.srv.URL, []batchPart{{"POST", "/_api/web/lists", `{"Title":"Y"}`}})
		a.req("POST", "/sites/nope/_api/$batch", body, "Content-Type", ct).must(t, 404)
		ct, body = batchBody(a.srv.URL+"/sites/nope", []batchPart{{"POST", "/_api/web/lists", `{"Title":"Z"}`}})
		r = a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 200)
		if parts := readBatch(t, r); len(parts) != 1 || parts[0].status != 404 {
			t.Errorf("a part naming a missing web: %+v", parts)
		}
	})
}
