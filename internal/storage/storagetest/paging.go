package storagetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// pagingList makes 23 rows whose Category repeats (and is sometimes
// null) and whose Title differs in case only between some rows.
func pagingList(e *env) (*storage.List, []*storage.Item) {
	l := e.list("Paged", storage.FieldInput{Title: "Category", Type: storage.TypeText},
		storage.FieldInput{Title: "Rank", Type: storage.TypeNumber}, storage.FieldInput{Title: "Due", Type: storage.TypeDateTime})
	var rows []*storage.Item
	cats := []string{"b", "A", "", "a", "C", "B"}
	for i := range 23 {
		vals := map[string]odata.Value{
			"Title":    str(fmt.Sprintf("%c%02d", "xX"[i%2], i%7)),
			"Category": str(cats[i%len(cats)]),
			"Rank":     odata.Decimal(float64(i%5) / 2),
			"Due":      str(fmt.Sprintf("2026-01-%02dT10:00:00.5Z", 1+i%4)),
		}
		rows = append(rows, e.add(l.ID, 0, vals))
	}
	return l, rows
}

// walk follows the tokens page by page and returns the ids in order.
func walk(t *testing.T, e *env, listID string, q storage.ItemQuery) []int64 {
	t.Helper()
	var ids []int64
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		p, err := e.query(listID, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > q.Top {
			t.Fatalf("page of %d rows with top %d", len(p.Items), q.Top)
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.Next == nil {
			return ids
		}
		// The token goes through its text form, as it does in a nextLink.
		tok, err := odata.ParseSkipToken(p.Next.String())
		if err != nil {
			t.Fatalf("token %q: %v", p.Next, err)
		}
		q.After = &tok
	}
}

// expected sorts rows as the order keys say, then by ID.
func expected(l *storage.List, rows []*storage.Item, fields []*storage.Field, keys []odata.OrderKey) []int64 {
	s := storage.NewSchema(fields)
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b *storage.Item) int {
		for _, k := range keys {
			f, _ := s.Resolve(k.Field)
			c := storage.CompareValues(storage.ItemValue(a, f), storage.ItemValue(b, f))
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return int(a.ID - b.ID)
	})
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

var pagingTests = []test{
	{"paging by ID, by a field with duplicates and nulls, and descending walks every row once in order", func(t *testing.T, e *env) {
		l, rows := pagingList(e)
		var fields []*storage.Field
		e.read(func(tx storage.Tx) (err error) { fields, err = tx.Fields().List(e.ctx, l.ID); return err })
		for _, keys := range [][]odata.OrderKey{
			nil,
			{{Field: "ID", Desc: true}},
			{{Field: "Category"}},
			{{Field: "Category", Desc: true}},
			{{Field: "Title", Desc: true}},
			{{Field: "Rank"}, {Field: "Category", Desc: true}},
			{{Field: "Due", Desc: true}},
			{{Field: "Category"}, {Field: "Id", Desc: true}},
			{{Field: "Modified"}},
		} {
			for _, top := range []int{1, 4, 23, 100} {
				got := walk(t, e, l.ID, storage.ItemQuery{OrderBy: keys, Top: top})
				want := expected(l, rows, fields, keys)
				if !slices.Equal(got, want) {
					t.Errorf("orderby %v top %d:\n got %v\nwant %v", keys, top, got, want)
				}
			}
		}
	}},
	{"a filter and paging together return the matching rows once", func(t *testing.T, e *env) {
		l, _ := pagingList(e)
		f, _ := odata.ParseFilter("Category eq 'a' or Category eq null")
		got := walk(t, e, l.ID, storage.ItemQuery{Filter: f, OrderBy: []odata.OrderKey{{Field: "Category"}}, Top: 2})
		want := []int64{3, 9, 15, 21, 2, 4, 8, 10, 14, 16, 20, 22}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}},
	{"a token with only an ID resumes after it, as items.skip(n) sends", func(t *testing.T, e *env) {
		l, _ := pagingList(e)
		p, err := e.query(l.ID, storage.ItemQuery{After: &odata.SkipToken{ID: 20}})
		if err != nil || len(p.Items) != 3 || p.Items[0].ID != 21 || p.Next != nil {
			t.Fatalf("%v %v", p, err)
		}
		p, err = e.query(l.ID, storage.ItemQuery{})
		if err != nil || len(p.Items) != 23 || p.Next != nil {
			t.Fatalf("default page: %d %v", len(p.Items), err)
		}
		_, err = e.query(l.ID, storage.ItemQuery{OrderBy: []odata.OrderKey{{Field: "Category"}}, After: &odata.SkipToken{ID: 3}})
		if !errorsIs(err, storage.ErrInvalid) {
			t.Errorf("token without the ordered value: %v", err)
		}
		_, err = e.query(l.ID, storage.ItemQuery{OrderBy: []odata.OrderKey{{Field: "Rank"}},
			After: &odata.SkipToken{ID: 3, Keys: []odata.SkipKey{{Field: "Rank", Value: "high"}}}})
		if !errorsIs(err, storage.ErrInvalid) {
			t.Errorf("token with a bad value: %v", err)
		}
	}},
}
