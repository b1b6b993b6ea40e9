package pgstorage

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// TestPagesByIdWalkThePrimaryKey: a page by id (the default order, and
// $skiptoken=Paged=TRUE&p_ID=n) must be an index range scan of the
// primary key, never a sort of the whole list; on a list of a million
// items that is the difference between a millisecond and half a second.
// Sequential and bitmap scans and sorts are disabled, so the planner's choice on a small table
// shows what it can do, not what is cheapest for ten rows.
func TestPagesByIdWalkThePrimaryKey(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := New(ctx, pool, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var list *storage.List
	err = s.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/sites/p", Title: "P"})
		if err != nil {
			return err
		}
		list, err = tx.Lists().Create(ctx, site.RootWebID, storage.ListInput{Title: "L"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	schema := storage.NewSchema(storage.SystemFields(list.ID, storage.TemplateGenericList))
	for _, q := range []storage.ItemQuery{
		{Top: 100},
		{Top: 100, After: &odata.SkipToken{ID: 500}},
		{Top: 100, OrderBy: []odata.OrderKey{{Field: "ID", Desc: true}}, After: &odata.SkipToken{ID: 500}},
	} {
		plan, err := schema.Plan(q)
		if err != nil {
			t.Fatal(err)
		}
		sql, args, err := itemQuery(schema, list.ID, plan, nil)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off"); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		var explained []string
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			explained = append(explained, line)
		}
		rows.Close()
		conn.Conn().Close(ctx) // not back to the pool with seqscan off
		conn.Release()
		text := strings.Join(explained, "\n")
		if strings.Contains(text, "Sort") || !strings.Contains(text, "ListItems_pkey") {
			t.Errorf("%s\nplans as\n%s\nwant an index scan of ListItems_pkey without a sort", sql, text)
		}
	}
}
