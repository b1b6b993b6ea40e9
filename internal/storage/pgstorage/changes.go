package pgstorage

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// The change log is table "Changes", numbered per list by the list's
// "LastChange" counter. A write records its changes in the statement
// that touches the list's row (which it does anyway: ItemCount,
// LastItemModifiedDate): see logChanges; recording costs no round trip.

func (t *tx) Changes() storage.Changes             { return changes{t} }
func (t *tx) Subscriptions() storage.Subscriptions { return subscriptions{t} }

// logChanges are the last CTEs of a statement that changed items of
// list $1 at time now (SQL expressions): lc sets the list's
// LastItemModifiedDate (and, when set is not "", the SQL of its other
// assignments) and advances its change counter by one per item of ids (a
// bigint[] expression, their GUIDs in guids, a uuid[] one); ch inserts
// their changes, in ids' order. The statement then ends with its SELECT
// (lc has a row when the list exists) and must not update the list's row
// elsewhere.
func logChanges(kind storage.ChangeType, ids, guids, now, set string) string {
	if set != "" {
		set += ", "
	}
	k := strconv.Itoa(int(kind))
	return `lc AS (UPDATE "Lists" SET ` + set + `"LastItemModifiedDate" = ` + now + `,
			"LastChange" = "LastChange" + cardinality(` + ids + `) WHERE "Id" = $1
			RETURNING "LastChange" - cardinality(` + ids + `) AS base),
		ch AS (INSERT INTO "Changes" ("ListId", "Number", "Kind", "ItemId", "UniqueId", "Time")
			SELECT $1, lc.base + r.n, ` + k + `, r.id, r.guid, ` + now + `
			FROM lc, unnest(` + ids + `, ` + guids + `) WITH ORDINALITY AS r(id, guid, n))`
}

// logOne is logChanges for item $2 of list $1, whose GUID is guid.
func logOne(kind storage.ChangeType, guid, now string) string {
	return logChanges(kind, `ARRAY[$2::bigint]`, `ARRAY[`+guid+`::uuid]`, now, "")
}

type changes struct{ t *tx }

// position reads the list's counter and pruning mark.
func (a changes) position(ctx context.Context, listID string) (last, pruned int64, created time.Time, err error) {
	if !isGUID(listID) {
		return 0, 0, time.Time{}, storage.NotFound("no list has this id")
	}
	err = a.t.tx.QueryRow(ctx, `SELECT "LastChange", "ChangesPrunedThrough", "Created" FROM "Lists" WHERE "Id" = $1`, listID).
		Scan(&last, &pruned, &created)
	if err == pgx.ErrNoRows {
		return 0, 0, time.Time{}, storage.NotFound("no list has this id")
	}
	return last, pruned, created, interpretError(err)
}

const changeCols = `"ListId"::text, "Number", "Kind", "ItemId", "UniqueId"::text, "Time"`

func scanChanges(rows pgx.Rows) ([]*storage.Change, error) {
	out := []*storage.Change{}
	for rows.Next() {
		var c storage.Change
		if err := rows.Scan(&c.ListID, &c.Number, &c.Kind, &c.ItemID, &c.UniqueID, &c.Time); err != nil {
			rows.Close()
			return nil, interpretError(err)
		}
		c.Time = c.Time.UTC()
		out = append(out, &c)
	}
	return out, interpretError(rows.Err())
}

func (a changes) Since(ctx context.Context, listID string, afterNumber int64, limit int) ([]*storage.Change, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	if err := storage.CheckLimit(limit); err != nil {
		return nil, err
	}
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	// One statement: the list's pruning mark and the page (a missing
	// list answers no mark).
	rows, _ := a.t.tx.Query(ctx, `WITH l AS (SELECT "ChangesPrunedThrough" AS pruned FROM "Lists" WHERE "Id" = $1)
		SELECT NULL::text, NULL::bigint, NULL::int, NULL::bigint, NULL::text, NULL::timestamptz, l.pruned FROM l
		UNION ALL
		(SELECT `+changeCols+`, NULL FROM "Changes" WHERE "ListId" = $1 AND "Number" > $2 ORDER BY "Number" LIMIT $3)`,
		listID, afterNumber, limit)
	out := []*storage.Change{}
	seen := false
	for rows.Next() {
		var listID, guid *string
		var number, item, pruned *int64
		var kind *int
		var at *time.Time
		if err := rows.Scan(&listID, &number, &kind, &item, &guid, &at, &pruned); err != nil {
			rows.Close()
			return nil, interpretError(err)
		}
		if pruned != nil {
			seen = true
			if afterNumber < *pruned {
				rows.Close()
				return nil, storage.ChangeTokenExpired()
			}
			continue
		}
		out = append(out, &storage.Change{ListID: *listID, Number: *number, Kind: storage.ChangeType(*kind), ItemID: *item,
			UniqueID: *guid, Time: at.UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	if !seen {
		return nil, storage.NotFound("no list has this id")
	}
	return out, nil
}

func (a changes) Latest(ctx context.Context, listID string) (storage.ChangeToken, error) {
	if err := a.t.check(false); err != nil {
		return storage.ChangeToken{}, err
	}
	if !isGUID(listID) {
		return storage.ChangeToken{}, storage.NotFound("no list has this id")
	}
	tok := storage.ChangeToken{ListID: lower(listID)}
	err := a.t.tx.QueryRow(ctx, `SELECT l."LastChange", COALESCE(c."Time", l."Created") FROM "Lists" l
		LEFT JOIN "Changes" c ON c."ListId" = l."Id" AND c."Number" = l."LastChange" WHERE l."Id" = $1`, listID).Scan(&tok.Number, &tok.Time)
	if err == pgx.ErrNoRows {
		return storage.ChangeToken{}, storage.NotFound("no list has this id")
	}
	tok.Time = tok.Time.UTC()
	return tok, interpretError(err)
}

// Prune deletes the old changes of the lists it can lock at once, and
// raises their pruning marks. Lock order: it locks those lists' rows
// first, in "Id" order, and skips a list another transaction holds (a
// write in progress; its changes go at the next prune), so it never waits
// for a list row: a writer of several lists (a move across libraries,
// lockLists) cannot deadlock with it, and it never deletes a change of a
// list it has not locked (a list's deletion, which takes the row first,
// cascades to its changes).
func (a changes) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	if err := a.t.check(true); err != nil {
		return 0, err
	}
	var n int64
	err := a.t.tx.QueryRow(ctx, `WITH l AS MATERIALIZED (SELECT "Id" FROM "Lists"
			WHERE "Id" IN (SELECT DISTINCT "ListId" FROM "Changes" WHERE "Time" < $1)
			ORDER BY "Id" FOR NO KEY UPDATE SKIP LOCKED),
		d AS (DELETE FROM "Changes" c USING l WHERE c."ListId" = l."Id" AND c."Time" < $1 RETURNING c."ListId", c."Number"),
		m AS (SELECT "ListId", max("Number") AS top, count(*) AS n FROM d GROUP BY "ListId"),
		u AS (UPDATE "Lists" l SET "ChangesPrunedThrough" = GREATEST(l."ChangesPrunedThrough", m.top) FROM m WHERE l."Id" = m."ListId")
		SELECT COALESCE(sum(n), 0) FROM m`, olderThan).Scan(&n)
	return n, interpretError(err)
}

// lockLists locks the rows of lists ids, in "Id" order: a transaction
// that writes the rows of several lists (a move across libraries: both
// change counters) takes them all first, in the order every such
// transaction uses, so that two of them (or one and Prune) never hold one
// each while waiting for the other's.
func (t *tx) lockLists(ctx context.Context, ids ...string) error {
	_, err := t.exec(ctx, `SELECT 1 FROM "Lists" WHERE "Id" = ANY($1::uuid[]) ORDER BY "Id" FOR NO KEY UPDATE`, ids)
	return err
}

type subscriptions struct{ t *tx }

const subscriptionBase = `"Id"::text AS "ID", "ListId"::text AS "ListID", "SiteId"::text AS "SiteID", "WebId"::text AS "WebID",
	"NotificationUrl" AS "NotificationURL", "ClientState", "ListId"::text AS "Resource", "ExpirationDateTime", "CreatedBy", "Created", "NotifiedThrough"`

// subscriptionCols are storage.Subscription's fields; LastChange is Due's.
const subscriptionCols = subscriptionBase + `, 0::bigint AS "LastChange"`

func utcSubs(subs []*storage.Subscription) []*storage.Subscription {
	for _, s := range subs {
		s.ExpirationDateTime, s.Created = s.ExpirationDateTime.UTC(), s.Created.UTC()
	}
	return subs
}

func (a subscriptions) Create(ctx context.Context, in storage.SubscriptionInput) (*storage.Subscription, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	if !isGUID(in.ListID) {
		return nil, storage.NotFound("no list has this id")
	}
	l, err := one[library](ctx, t, storage.NotFound("no list has this id"),
		`SELECT `+listCols+`, (SELECT w."SiteId"::text FROM "Webs" w WHERE w."Id" = "Lists"."WebId") AS "SiteId"
		FROM "Lists" WHERE "Id" = $1`, in.ListID)
	if err != nil {
		return nil, err
	}
	s, err := storage.NewSubscription(&l.List, l.SiteID, in, t.now)
	if err != nil {
		return nil, err
	}
	if err := t.tx.QueryRow(ctx, `INSERT INTO "Subscriptions" ("Id", "ListId", "SiteId", "WebId", "NotificationUrl", "ClientState",
		"ExpirationDateTime", "CreatedBy", "Created", "NotifiedThrough")
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, l."LastChange" FROM "Lists" l WHERE l."Id" = $2
		RETURNING "NotifiedThrough"`,
		s.ID, s.ListID, s.SiteID, s.WebID, s.NotificationURL, s.ClientState, s.ExpirationDateTime, s.CreatedBy, s.Created).Scan(&s.NotifiedThrough); err != nil {
		return nil, interpretError(err)
	}
	return s, nil
}

func (a subscriptions) get(ctx context.Context, listID, id string, lock bool) (*storage.Subscription, error) {
	if !isGUID(listID) || !isGUID(id) {
		return nil, storage.SubscriptionNotFound()
	}
	sql := `SELECT ` + subscriptionCols + ` FROM "Subscriptions" WHERE "ListId" = $1 AND "Id" = $2`
	if lock {
		sql += " FOR UPDATE"
	}
	s, err := one[storage.Subscription](ctx, a.t, storage.SubscriptionNotFound(), sql, listID, id)
	if err != nil {
		return nil, err
	}
	return utcSubs([]*storage.Subscription{s})[0], nil
}

func (a subscriptions) Get(ctx context.Context, listID, id string) (*storage.Subscription, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	return a.get(ctx, listID, id, false)
}

func (a subscriptions) List(ctx context.Context, listID string) ([]*storage.Subscription, error) {
	return a.Active(ctx, listID, time.Time{})
}

func (a subscriptions) Active(ctx context.Context, listID string, now time.Time) ([]*storage.Subscription, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	// The list's existence and its subscriptions, in one statement.
	subs, err := all[storage.Subscription](ctx, a.t, `SELECT `+subscriptionCols+` FROM "Subscriptions"
		WHERE "ListId" = $1 AND "ExpirationDateTime" > $2 ORDER BY "Created", "Id"`, listID, now)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		var ok bool
		if err := a.t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM "Lists" WHERE "Id" = $1)`, listID).Scan(&ok); err != nil {
			return nil, interpretError(err)
		}
		if !ok {
			return nil, storage.NotFound("no list has this id")
		}
	}
	return utcSubs(subs), nil
}

func (a subscriptions) Update(ctx context.Context, listID, id string, upd storage.SubscriptionUpdate) (*storage.Subscription, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	s, err := a.get(ctx, listID, id, true)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplySubscriptionUpdate(s, upd, t.now)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `UPDATE "Subscriptions" SET "NotificationUrl" = $2, "ClientState" = $3, "ExpirationDateTime" = $4
		WHERE "Id" = $1`, n.ID, n.NotificationURL, n.ClientState, n.ExpirationDateTime); err != nil {
		return nil, err
	}
	return n, nil
}

func (a subscriptions) Delete(ctx context.Context, listID, id string) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if !isGUID(listID) || !isGUID(id) {
		return storage.SubscriptionNotFound()
	}
	n, err := a.t.exec(ctx, `DELETE FROM "Subscriptions" WHERE "ListId" = $1 AND "Id" = $2`, listID, id)
	if err == nil && n == 0 {
		return storage.SubscriptionNotFound()
	}
	return err
}

func (a subscriptions) Expired(ctx context.Context, before time.Time, limit int) ([]*storage.Subscription, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	if err := storage.CheckLimit(limit); err != nil {
		return nil, err
	}
	subs, err := all[storage.Subscription](ctx, a.t, `SELECT `+subscriptionCols+` FROM "Subscriptions"
		WHERE "ExpirationDateTime" <= $1 ORDER BY "ExpirationDateTime", "Id" LIMIT $2`, before, limit)
	return utcSubs(subs), err
}

func (a subscriptions) Due(ctx context.Context, now time.Time, limit int) ([]*storage.Subscription, error) {
	if err := a.t.check(false); err != nil {
		return nil, err
	}
	if err := storage.CheckLimit(limit); err != nil {
		return nil, err
	}
	subs, err := all[storage.Subscription](ctx, a.t, `SELECT s.*, l."LastChange" FROM (SELECT `+subscriptionBase+` FROM "Subscriptions") s
		JOIN "Lists" l ON l."Id" = s."ListID"::uuid
		WHERE s."ExpirationDateTime" > $1 AND l."LastChange" > s."NotifiedThrough" ORDER BY s."ID" LIMIT $2`, now, limit)
	return utcSubs(subs), err
}

func (a subscriptions) MarkNotified(ctx context.Context, listID, id string, through int64) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	if !isGUID(listID) || !isGUID(id) {
		return storage.SubscriptionNotFound()
	}
	n, err := a.t.exec(ctx, `UPDATE "Subscriptions" SET "NotifiedThrough" = GREATEST("NotifiedThrough", $3)
		WHERE "ListId" = $1 AND "Id" = $2`, listID, id, through)
	if err == nil && n == 0 {
		return storage.SubscriptionNotFound()
	}
	return err
}
