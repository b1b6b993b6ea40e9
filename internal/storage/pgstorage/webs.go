package pgstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

const siteCols = `"Id"::text AS "Id", "Url", "RootWebId"::text AS "RootWebId", "Created"`

var errNoSite = storage.NotFound("no site has this id")

type sites struct{ t *tx }

func (a sites) Create(ctx context.Context, in storage.SiteInput) (*storage.Site, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	site, root, err := storage.NewSite(in, t.now)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `INSERT INTO "Sites" ("Id", "Url", "RootWebId", "Created") VALUES ($1, $2, $3, $4)`,
		site.ID, site.URL, site.RootWebID, site.Created); err != nil {
		return nil, err
	}
	if err := t.createWeb(ctx, root); err != nil {
		return nil, err
	}
	if err := t.seedSecurity(ctx, site, root.Title); err != nil {
		return nil, err
	}
	return site, nil
}

func (a sites) Get(ctx context.Context, id string) (*storage.Site, error) {
	if !isGUID(id) {
		return nil, errNoSite
	}
	return one[storage.Site](ctx, a.t, errNoSite, `SELECT `+siteCols+` FROM "Sites" WHERE "Id" = $1`, id)
}

func (a sites) GetByURL(ctx context.Context, url string) (*storage.Site, error) {
	return one[storage.Site](ctx, a.t, storage.NotFound("no site has this URL"),
		`SELECT `+siteCols+` FROM "Sites" WHERE lower("Url") = lower($1)`, url)
}

func (a sites) List(ctx context.Context) ([]*storage.Site, error) {
	return all[storage.Site](ctx, a.t, `SELECT `+siteCols+` FROM "Sites" ORDER BY "Url" COLLATE "C"`)
}

func (a sites) Delete(ctx context.Context, id string) error {
	defer a.t.forgetSchema("")
	a.t.prefetchedUser = nil
	if err := a.t.check(true); err != nil {
		return err
	}
	if !isGUID(id) {
		return errNoSite
	}
	n, err := a.t.exec(ctx, `DELETE FROM "Sites" WHERE "Id" = $1`, id)
	if err == nil && n == 0 {
		return errNoSite
	}
	a.t.indexes = true
	return err
}

// webCols computes LastItemModifiedDate over the web's lists, so an item
// write locks only its list's row.
const webCols = `w."Id"::text AS "Id", w."SiteId"::text AS "SiteId", COALESCE(w."ParentId"::text, '') AS "ParentId",
	w."ServerRelativeUrl", w."Title", w."Description", w."Language", w."WebTemplate", w."Created", w."ScopeId" AS "ScopeID",
	GREATEST(w."LastItemModifiedDate", (SELECT max(l."LastItemModifiedDate") FROM "Lists" l WHERE l."WebId" = w."Id")) AS "LastItemModifiedDate"`

var errNoWeb = storage.NotFound("no web has this id")

type webs struct{ t *tx }

// createWeb stores w with its default lists.
func (t *tx) createWeb(ctx context.Context, w *storage.Web) error {
	var parent any
	if w.ParentID != "" {
		parent = w.ParentID
	}
	if _, err := t.exec(ctx, `INSERT INTO "Webs" ("Id", "SiteId", "ParentId", "ServerRelativeUrl", "Title", "Description",
		"Language", "WebTemplate", "Created", "LastItemModifiedDate", "ScopeId") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)`,
		w.ID, w.SiteID, parent, w.ServerRelativeURL, w.Title, w.Description, w.Language, w.WebTemplate, w.Created, w.ScopeID); err != nil {
		return err
	}
	for _, in := range storage.DefaultLists(w.ParentID == "") {
		if _, err := t.createList(ctx, w, in); err != nil {
			return err
		}
	}
	return nil
}

func (a webs) Create(ctx context.Context, in storage.WebInput) (*storage.Web, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	parent, err := a.Get(ctx, in.ParentID)
	if err != nil {
		return nil, err
	}
	w, err := storage.NewWeb(parent, in, t.now)
	if err != nil {
		return nil, err
	}
	if err := t.createWeb(ctx, w); err != nil {
		return nil, err
	}
	return a.Get(ctx, w.ID)
}

func (a webs) Get(ctx context.Context, id string) (*storage.Web, error) {
	if !isGUID(id) {
		return nil, errNoWeb
	}
	return one[storage.Web](ctx, a.t, errNoWeb, `SELECT `+webCols+` FROM "Webs" w WHERE w."Id" = $1`, id)
}

func (a webs) GetByURL(ctx context.Context, url string) (*storage.Web, error) {
	return one[storage.Web](ctx, a.t, storage.NotFound("no web has this URL"),
		`SELECT `+webCols+` FROM "Webs" w WHERE lower(w."ServerRelativeUrl") = lower($1)`, url)
}

func (a webs) Children(ctx context.Context, parentID string) ([]*storage.Web, error) {
	if _, err := a.Get(ctx, parentID); err != nil {
		return nil, err
	}
	return all[storage.Web](ctx, a.t, `SELECT `+webCols+` FROM "Webs" w WHERE w."ParentId" = $1 ORDER BY w."ServerRelativeUrl" COLLATE "C"`, parentID)
}

func (a webs) Update(ctx context.Context, id string, upd storage.WebUpdate) (*storage.Web, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	w, err := a.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyWebUpdate(w, upd)
	if err != nil {
		return nil, err
	}
	if _, err := a.t.exec(ctx, `UPDATE "Webs" SET "Title" = $2, "Description" = $3 WHERE "Id" = $1`, id, n.Title, n.Description); err != nil {
		return nil, err
	}
	return n, nil
}

func (a webs) Delete(ctx context.Context, id string) error {
	defer a.t.forgetSchema("")
	if err := a.t.check(true); err != nil {
		return err
	}
	w, err := a.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.ParentID == "" {
		return storage.Invalid("a site's root web is deleted with its site only")
	}
	a.t.indexes = true
	// The scopes the webs and lists below owned go with them (no foreign
	// key can say so: a scope id names a web, a list or an item).
	_, err = a.t.exec(ctx, webTree+`,
		ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $2 AND split_part("ScopeId", '/', 1) IN (
			SELECT "Id"::text FROM tree UNION ALL SELECT "Id"::text FROM "Lists" WHERE "WebId" IN (SELECT "Id" FROM tree)))
		DELETE FROM "Webs" WHERE "Id" = $1`, id, w.SiteID)
	return err
}

// isGUID reports whether s can be a uuid parameter (anything else would
// be a database error rather than a miss).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// locateSQL reads a web, one of its lists and the list's fields in one
// statement, as JSON documents decoded by name like the other reads. The
// fields come only when the caller's copy ($4, $5: a list id and its
// FieldsVersion) is not theirs; with $6 > 0, the list's item $6 comes
// in the same row, as the item reads' columns; and with $7, the user of
// the web's site with that login, as a JSON document.
const locateSQL = `WITH w AS (SELECT ` + webCols + ` FROM "Webs" w WHERE lower(w."ServerRelativeUrl") = lower($1)),
	l AS (SELECT ` + listCols + `, "FieldsVersion" FROM "Lists" WHERE "WebId" = (SELECT "Id"::uuid FROM w)
		AND (($2 <> '' AND lower("Title") = lower($2)) OR ($2 = '' AND $3 <> '' AND "Id"::text = lower($3))))
	SELECT (SELECT row_to_json(w) FROM w)::text, (SELECT row_to_json(l) FROM l)::text, (SELECT "FieldsVersion" FROM l),
		CASE WHEN (SELECT "Id" FROM l) = $4 AND (SELECT "FieldsVersion" FROM l) = $5::bigint THEN NULL
		ELSE (SELECT json_agg(f)::text FROM (SELECT ` + fieldCols + ` FROM "Fields"
			WHERE "ListId" = (SELECT "Id"::uuid FROM l) ORDER BY "Position") f) END,
		(SELECT row_to_json(u)::text FROM (SELECT ` + userCols + ` FROM "Users"
			WHERE $7 <> '' AND "SiteId" = (SELECT "SiteId"::uuid FROM w) AND "LoginName" = $7) u),
		it.*
	FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT ` + itemCols + ` FROM "ListItems"
		WHERE $6::bigint > 0 AND "ListId" = (SELECT "Id"::uuid FROM l) AND "Id" = $6::bigint) it ON true`

func (a webs) Locate(ctx context.Context, url string, ref storage.ListRef, next storage.Prefetch) (*storage.Location, error) {
	var web, list, fs, user *string
	var version *int64
	var it struct {
		id, version, author, editor *int64
		listID, guid, scope         *string
		created, modified           *time.Time
		data                        []byte
	}
	key := locateKey(url, ref)
	cached, _ := a.t.s.fields.get(key)
	item := next.Item
	login := ""
	if next.Login != "" {
		login, _ = storage.ClaimsLogin(next.Login) // a malformed one is refused by the lookup itself
	}
	if !a.t.readOnly {
		// A write transaction reads its items when it changes them
		// (locked), and may change this one before it reads it.
		item = 0
	}
	err := a.t.tx.QueryRow(ctx, locateSQL, url, ref.Title, ref.ID, cached.listID, cached.version, item, login).Scan(&web, &list, &version, &fs, &user,
		&it.id, &it.listID, &it.guid, &it.version, &it.created, &it.modified, &it.author, &it.editor, &it.data, &it.scope)
	if err != nil {
		return nil, interpretError(err)
	}
	if web == nil {
		return nil, storage.NotFound("no web has this URL")
	}
	loc := &storage.Location{Web: &storage.Web{}}
	if err := json.Unmarshal([]byte(*web), loc.Web); err != nil {
		return nil, fmt.Errorf("pgstorage: reading a located web: %w", err)
	}
	loc.Web.Created, loc.Web.LastItemModifiedDate = loc.Web.Created.UTC(), loc.Web.LastItemModifiedDate.UTC()
	if login != "" {
		p := &prefetchedUser{siteID: loc.Web.SiteID, login: login}
		if user != nil {
			p.user = &storage.User{}
			if err := json.Unmarshal([]byte(*user), p.user); err != nil {
				return nil, fmt.Errorf("pgstorage: reading a located user: %w", err)
			}
			p.user.Created = p.user.Created.UTC()
		}
		a.t.prefetchedUser = p
	}
	if list == nil || version == nil {
		return loc, nil
	}
	loc.List = &storage.List{}
	if err := json.Unmarshal([]byte(*list), loc.List); err != nil {
		return nil, fmt.Errorf("pgstorage: reading a located list: %w", err)
	}
	loc.List.Created, loc.List.LastItemModifiedDate = loc.List.Created.UTC(), loc.List.LastItemModifiedDate.UTC()
	var schema *storage.Schema
	switch {
	case fs == nil && cached.listID == loc.List.ID && cached.version == *version:
		schema = cached.schema
	case fs == nil:
		return nil, fmt.Errorf("pgstorage: a located list came without its fields")
	default:
		var decoded []*storage.Field
		if err := json.Unmarshal([]byte(*fs), &decoded); err != nil {
			return nil, fmt.Errorf("pgstorage: reading a located list's fields: %w", err)
		}
		schema = storage.NewSchema(decoded)
		a.t.s.fields.put(key, cachedFields{listID: loc.List.ID, version: *version, schema: schema})
	}
	// The caller gets copies it may change; the schema is shared.
	loc.Fields = make([]*storage.Field, len(schema.Fields))
	for i, f := range schema.Fields {
		c := *f
		loc.Fields[i] = &c
	}
	// The transaction's later reads of this list's fields need no query.
	if a.t.schemas == nil {
		a.t.schemas = map[string]*storage.Schema{}
	}
	a.t.schemas[loc.List.ID] = schema
	a.t.cacheLibrary(&library{List: *loc.List, SiteID: loc.Web.SiteID})
	if item > 0 {
		p := &prefetched{listID: loc.List.ID, id: item}
		if it.id != nil {
			p.item = &storage.Item{ID: *it.id, ListID: *it.listID, GUID: *it.guid, Version: int(*it.version),
				Created: it.created.UTC(), Modified: it.modified.UTC(), AuthorID: *it.author, EditorID: *it.editor, ScopeID: *it.scope}
			if p.item.Values, err = decode(schema, it.data); err != nil {
				return nil, err
			}
		}
		a.t.prefetched = p
	}
	return loc, nil
}
