package pgstorage

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

const itemCols = `"Id", "ListId"::text, "Guid"::text, "Version", "Created", "Modified", "AuthorId", "EditorId", "Data", "ScopeId"`

type items struct{ t *tx }

// encode writes prepared values as the Data column: datetimes as Unix
// microseconds so that their index expression is immutable.
func encode(vals map[string]odata.Value) ([]byte, error) {
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		switch v.Kind {
		case odata.KindString, odata.KindGuid:
			m[k] = v.Str
		case odata.KindInt:
			m[k] = v.Int
		case odata.KindDecimal:
			m[k] = v.Num
		case odata.KindBool:
			m[k] = v.Bool
		case odata.KindDateTime:
			m[k] = v.Time.UnixMicro()
		}
	}
	return json.Marshal(m)
}

// decode reads the Data column by the schema; values of fields that are
// gone are dropped.
func decode(s *storage.Schema, data []byte) (map[string]odata.Value, error) {
	var raw map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, err
	}
	vals := make(map[string]odata.Value, len(raw))
	for k, r := range raw {
		f, ok := s.Resolve(k)
		if !ok || f.InternalName != k {
			continue
		}
		var v odata.Value
		switch f.Type.Kind() {
		case odata.KindString, odata.KindGuid:
			var str string
			if err := json.Unmarshal(r, &str); err != nil {
				return nil, err
			}
			v = odata.Value{Kind: f.Type.Kind(), Str: str}
		case odata.KindInt, odata.KindDateTime:
			n, err := strconv.ParseInt(string(r), 10, 64)
			if err != nil {
				return nil, err
			}
			v = odata.Int(n)
			if f.Type.Kind() == odata.KindDateTime {
				v = odata.DateTime(time.UnixMicro(n))
			}
		case odata.KindDecimal:
			n, err := strconv.ParseFloat(string(r), 64)
			if err != nil {
				return nil, err
			}
			v = odata.Decimal(n)
		case odata.KindBool:
			v = odata.Bool(string(r) == "true")
		}
		vals[k] = v
	}
	return vals, nil
}

func scanItem(s *storage.Schema, row pgx.CollectableRow) (*storage.Item, error) {
	var it storage.Item
	var data []byte
	if err := row.Scan(&it.ID, &it.ListID, &it.GUID, &it.Version, &it.Created, &it.Modified, &it.AuthorID, &it.EditorID, &data, &it.ScopeID); err != nil {
		return nil, err
	}
	it.Created, it.Modified = it.Created.UTC(), it.Modified.UTC()
	var err error
	it.Values, err = decode(s, data)
	return &it, err
}

// touch counts an item change (an update, a delete, a restore) on its
// list and logs a change of kind for items ids (their GUIDs guids), in
// one statement; inserts count themselves in Create's statement.
func (a items) touch(ctx context.Context, listID string, delta int64, kind storage.ChangeType, ids []int64, guids []string) error {
	var n int64
	err := a.t.tx.QueryRow(ctx, `WITH `+logChanges(kind, "$3::bigint[]", "$4::uuid[]", "$5::timestamptz", `"ItemCount" = "ItemCount" + $2`)+`
		SELECT count(*) FROM lc`, listID, delta, ids, guids, a.t.now).Scan(&n)
	if err == nil && n == 0 {
		return storage.NotFound("no list has this id")
	}
	return interpretError(err)
}

func (a items) Create(ctx context.Context, listID string, in storage.ItemInput) (*storage.Item, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	s, err := t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	if s.IsLibrary() {
		return nil, storage.LibraryItemRefused()
	}
	vals, err := s.Prepare(in.Values, true)
	if err != nil {
		return nil, err
	}
	data, err := encode(vals)
	if err != nil {
		return nil, err
	}
	it := &storage.Item{ListID: lower(listID), GUID: storage.NewGUID(), Version: 1, Created: t.now, Modified: t.now,
		AuthorID: in.By, EditorID: in.By, Values: vals}
	// One statement: the list's counter hands out the id (its row lock
	// serialises inserts into the list across the farm, which keeps ids
	// gap-free) and the change number, and the row and its change go in
	// with them, in one round trip.
	err = t.tx.QueryRow(ctx, `WITH c AS (
			UPDATE "Lists" SET "NextItemId" = "NextItemId" + 1, "ItemCount" = "ItemCount" + 1, "LastItemModifiedDate" = $2,
				"LastChange" = "LastChange" + 1
			WHERE "Id" = $1 RETURNING "NextItemId", "LastChange"),
		ch AS (INSERT INTO "Changes" ("ListId", "Number", "Kind", "ItemId", "UniqueId", "Time")
			SELECT $1, c."LastChange", `+strconv.Itoa(int(storage.ChangeAdd))+`, c."NextItemId", $3, $2 FROM c)
		INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
		SELECT $1, c."NextItemId", $3, 1, $2, $2, $4, $4, $5 FROM c RETURNING "Id"`,
		listID, t.now, it.GUID, in.By, data).Scan(&it.ID)
	if err == pgx.ErrNoRows {
		return nil, storage.NotFound("no list has this id")
	}
	if err != nil {
		return nil, interpretError(err)
	}
	return it, nil
}

// get reads one item, locking its row for a write.
func (a items) get(ctx context.Context, s *storage.Schema, listID string, id int64, lock bool) (*storage.Item, error) {
	sql := `SELECT ` + itemCols + ` FROM "ListItems" WHERE "ListId" = $1 AND "Id" = $2`
	if lock {
		sql += " FOR UPDATE"
	}
	rows, _ := a.t.tx.Query(ctx, sql, listID, id)
	it, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (*storage.Item, error) { return scanItem(s, row) })
	if err == pgx.ErrNoRows {
		return nil, storage.NotFound("the list has no item %d", id)
	}
	return it, interpretError(err)
}

func (a items) Get(ctx context.Context, listID string, id int64) (*storage.Item, error) {
	if p := a.t.prefetched; p != nil && p.id == id && p.listID == listID {
		a.t.prefetched = nil
		if p.item == nil {
			return nil, storage.NotFound("the list has no item %d", id)
		}
		return p.item, nil
	}
	s, err := a.t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	return a.get(ctx, s, listID, id, false)
}

func (a items) Update(ctx context.Context, listID string, id int64, upd storage.ItemUpdate) (*storage.Item, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	s, err := t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	it, err := a.get(ctx, s, listID, id, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckVersion(it, upd.IfVersion); err != nil {
		return nil, err
	}
	vals, err := s.Prepare(upd.Values, false)
	if err != nil {
		return nil, err
	}
	it.Values = storage.Merge(it.Values, vals)
	it.Version++
	it.Modified, it.EditorID = t.now, upd.By
	data, err := encode(it.Values)
	if err != nil {
		return nil, err
	}
	// One statement: the update, unless the item's file is checked out
	// to another user, and the version it replaces when the list keeps
	// versions.
	var changed bool
	if err := t.tx.QueryRow(ctx, `WITH u AS (UPDATE "ListItems" SET "Version" = $3, "Modified" = $4, "EditorId" = $5, "Data" = $6
			WHERE "ListId" = $1 AND "Id" = $2 AND NOT EXISTS (SELECT 1 FROM "Files" f WHERE f."ListId" = $1 AND f."ItemId" = $2
				AND f."CheckOutType" <> 2 AND f."CheckedOutBy" <> 0 AND f."CheckedOutBy" <> $5) RETURNING 1),
		`+keepItemVersionSQL+`
		SELECT EXISTS (SELECT 1 FROM u)`, listID, id, it.Version, it.Modified, it.EditorID, data).Scan(&changed); err != nil {
		return nil, interpretError(err)
	}
	if !changed {
		return nil, storage.CheckedOutError()
	}
	if err := a.touch(ctx, listID, 0, storage.ChangeUpdate, []int64{id}, []string{it.GUID}); err != nil {
		return nil, err
	}
	return it, nil
}

func (a items) Delete(ctx context.Context, listID string, id int64, ifVersion int) error {
	t := a.t
	if err := t.check(true); err != nil {
		return err
	}
	s, err := t.schema(ctx, listID)
	if err != nil {
		return err
	}
	if s.IsLibrary() {
		// A library's item goes with its file or folder, and a folder's
		// with everything in it.
		if done, err := t.deleteItemTree(ctx, listID, id, ifVersion); done || err != nil {
			return err
		}
	}
	it, err := a.get(ctx, s, listID, id, true)
	if err != nil {
		return err
	}
	if err := storage.CheckVersion(it, ifVersion); err != nil {
		return err
	}
	// The scope the item owned (unique permissions) goes with it: ids are
	// never reused, so nothing could hold it again.
	if _, err := t.exec(ctx, `WITH ra AS (DELETE FROM "RoleAssignments" WHERE "ScopeId" = $1::uuid::text || '/' || $2::bigint::text)
		DELETE FROM "ListItems" WHERE "ListId" = $1 AND "Id" = $2`, listID, id); err != nil {
		return err
	}
	err = a.touch(ctx, listID, -1, storage.ChangeDeleteObject, []int64{id}, []string{it.GUID})
	return err
}

func (a items) Query(ctx context.Context, listID string, q storage.ItemQuery) (*storage.ItemPage, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	s, err := a.t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	plan, err := s.Plan(q)
	if err != nil {
		return nil, err
	}
	sql, args, err := itemQuery(s, listID, plan, q.Viewer)
	if err != nil {
		return nil, err
	}
	rows, _ := a.t.tx.Query(ctx, sql, args...)
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*storage.Item, error) { return scanItem(s, row) })
	if err != nil {
		return nil, interpretError(err)
	}
	page := &storage.ItemPage{Items: all}
	if len(all) > plan.Top {
		page.Items = all[:plan.Top]
		page.Next = plan.Next(all[plan.Top-1])
	}
	for _, it := range page.Items {
		plan.Project(it)
	}
	return page, nil
}

// itemQuery is the SELECT of one page of a plan: the rows of the list
// that match, after the token, in order, one more than the page to tell
// whether another follows.
func itemQuery(s *storage.Schema, listID string, plan *storage.Plan, v *storage.Viewer) (string, []any, error) {
	var b query
	b.sql.WriteString(`SELECT ` + itemCols + ` FROM "ListItems" WHERE "ListId" = ` + b.arg(listID))
	if plan.Filter != nil {
		b.sql.WriteString(" AND ")
		if err := b.cond(s, plan.Filter, false); err != nil {
			return "", nil, err
		}
	}
	if plan.After != nil {
		b.sql.WriteString(" AND ")
		b.after(plan)
	}
	if v != nil {
		b.sql.WriteString(" AND " + viewerSees(`"ListItems"`, b.arg(principalsOf(v)), v))
	}
	b.sql.WriteString(" ORDER BY " + orderBy(plan) + " LIMIT " + strconv.Itoa(plan.Top+1))
	return b.sql.String(), b.args, nil
}
