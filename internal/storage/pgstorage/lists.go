package pgstorage

import (
	"context"
	"slices"

	"github.com/cesivi/cesivi/internal/storage"
)

const listCols = `"Id"::text AS "Id", "WebId"::text AS "WebId", "Title", "Description", "BaseTemplate", "BaseType",
	"UrlName", "RootFolderUrl", "EntityTypeName", "ListItemEntityTypeFullName", "ItemCount", "Hidden",
	"EnableVersioning", "MajorVersionLimit", "Created", "LastItemModifiedDate", "ScopeId" AS "ScopeID"`

var errNoList = storage.NotFound("the web has no list with this id")

type lists struct{ t *tx }

func (t *tx) createList(ctx context.Context, w *storage.Web, in storage.ListInput) (*storage.List, error) {
	l, fs, v, err := storage.NewList(w, in, t.now)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `INSERT INTO "Lists" ("Id", "WebId", "Title", "Description", "BaseTemplate", "BaseType", "UrlName",
		"RootFolderUrl", "EntityTypeName", "ListItemEntityTypeFullName", "Hidden", "Created", "LastItemModifiedDate",
		"EnableVersioning", "MajorVersionLimit", "ScopeId")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15)`,
		l.ID, l.WebID, l.Title, l.Description, l.BaseTemplate, l.BaseType, l.URLName, l.RootFolderURL,
		l.EntityTypeName, l.ListItemEntityTypeFullName, l.Hidden, l.Created, l.EnableVersioning, l.MajorVersionLimit, l.ScopeID); err != nil {
		return nil, err
	}
	for _, f := range fs {
		if err := t.insertField(ctx, f); err != nil {
			return nil, err
		}
	}
	if err := t.insertView(ctx, v); err != nil {
		return nil, err
	}
	return l, nil
}

func (a lists) Create(ctx context.Context, webID string, in storage.ListInput) (*storage.List, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	w, err := webs(a).Get(ctx, webID)
	if err != nil {
		return nil, err
	}
	return a.t.createList(ctx, w, in)
}

func (a lists) Get(ctx context.Context, webID, id string) (*storage.List, error) {
	if !isGUID(webID) || !isGUID(id) {
		return nil, errNoList
	}
	return one[storage.List](ctx, a.t, errNoList, `SELECT `+listCols+` FROM "Lists" WHERE "WebId" = $1 AND "Id" = $2`, webID, id)
}

func (a lists) GetByTitle(ctx context.Context, webID, title string) (*storage.List, error) {
	if !isGUID(webID) {
		return nil, errNoList
	}
	return one[storage.List](ctx, a.t, storage.NotFound("the web has no list with this title"),
		`SELECT `+listCols+` FROM "Lists" WHERE "WebId" = $1 AND lower("Title") = lower($2)`, webID, title)
}

func (a lists) GetByURL(ctx context.Context, webID, url string) (*storage.List, error) {
	if !isGUID(webID) {
		return nil, errNoList
	}
	return one[storage.List](ctx, a.t, storage.NotFound("the web has no list at this URL"),
		`SELECT `+listCols+` FROM "Lists" WHERE "WebId" = $1 AND lower("UrlName") = lower($2)`, webID, url)
}

func (a lists) List(ctx context.Context, webID string) ([]*storage.List, error) {
	if _, err := webs(a).Get(ctx, webID); err != nil {
		return nil, err
	}
	return all[storage.List](ctx, a.t, `SELECT `+listCols+` FROM "Lists" WHERE "WebId" = $1 ORDER BY lower("Title") COLLATE "C"`, webID)
}

func (a lists) Update(ctx context.Context, webID, id string, upd storage.ListUpdate) (*storage.List, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	l, err := a.Get(ctx, webID, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyListUpdate(l, upd)
	if err != nil {
		return nil, err
	}
	if _, err := a.t.exec(ctx, `UPDATE "Lists" SET "Title" = $2, "Description" = $3, "Hidden" = $4,
		"EnableVersioning" = $5, "MajorVersionLimit" = $6 WHERE "Id" = $1`,
		id, n.Title, n.Description, n.Hidden, n.EnableVersioning, n.MajorVersionLimit); err != nil {
		return nil, err
	}
	return n, nil
}

func (a lists) Delete(ctx context.Context, webID, id string) error {
	defer a.t.forgetSchema("")
	if err := a.t.check(true); err != nil {
		return err
	}
	if !isGUID(webID) || !isGUID(id) {
		return errNoList
	}
	// The scopes the list and its items owned go with it.
	n, err := a.t.exec(ctx, `WITH ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = (SELECT "SiteId" FROM "Webs" WHERE "Id" = $1)
			AND split_part("ScopeId", '/', 1) = $2::uuid::text AND EXISTS (SELECT 1 FROM "Lists" WHERE "WebId" = $1 AND "Id" = $2))
		DELETE FROM "Lists" WHERE "WebId" = $1 AND "Id" = $2`, webID, id)
	if err == nil && n == 0 {
		return errNoList
	}
	a.t.indexes = true
	return err
}

const fieldCols = `"Id"::text AS "Id", "ListId"::text AS "ListId", "InternalName", "Title", "Description",
	"TypeAsString" AS "Type", "Required", "Indexed", "ReadOnly", "Hidden", "System", "Choices", "LookupList", "LookupField", "DefaultValue", "MaxLength"`

var errNoField = storage.NotFound("the list has no field with this id")

type fields struct{ t *tx }

func (t *tx) insertField(ctx context.Context, f *storage.Field) error {
	choices := f.Choices
	if choices == nil {
		choices = []string{}
	}
	_, err := t.exec(ctx, `INSERT INTO "Fields" ("Id", "ListId", "InternalName", "Title", "Description", "TypeAsString",
		"Required", "Indexed", "ReadOnly", "Hidden", "System", "Choices", "LookupList", "LookupField", "DefaultValue", "MaxLength")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		f.ID, f.ListID, f.InternalName, f.Title, f.Description, string(f.Type), f.Required, f.Indexed, f.ReadOnly,
		f.Hidden, f.System, choices, f.LookupList, f.LookupField, f.DefaultValue, f.MaxLength)
	return err
}

// schema loads a list's fields; a list without any does not exist (every
// list has its system fields).
//
// A transaction reads each list's fields once: the API and the items it
// touches ask for them several times per request. Writes to a list's
// fields in this transaction forget its entry (forgetSchema).
func (t *tx) schema(ctx context.Context, listID string) (*storage.Schema, error) {
	if !isGUID(listID) {
		return nil, storage.NotFound("no list has this id")
	}
	key := lower(listID)
	if s, ok := t.schemas[key]; ok {
		return s, nil
	}
	fs, err := all[storage.Field](ctx, t, `SELECT `+fieldCols+` FROM "Fields" WHERE "ListId" = $1 ORDER BY "Position"`, listID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, storage.NotFound("no list has this id")
	}
	s := storage.NewSchema(fs)
	if t.schemas == nil {
		t.schemas = map[string]*storage.Schema{}
	}
	t.schemas[key] = s
	return s, nil
}

// forgetSchema drops the cached fields of a list ("" drops every list's).
func (t *tx) forgetSchema(listID string) {
	if listID == "" {
		t.schemas, t.libraries = nil, nil
		return
	}
	delete(t.schemas, lower(listID))
}

func (a fields) Create(ctx context.Context, listID string, in storage.FieldInput) (*storage.Field, error) {
	defer a.t.forgetSchema(listID)
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	if _, err := a.t.schema(ctx, listID); err != nil {
		return nil, err
	}
	f, err := storage.NewField(listID, in)
	if err != nil {
		return nil, err
	}
	f.ListID = lower(listID)
	if err := a.t.insertField(ctx, f); err != nil {
		return nil, err
	}
	if f.Indexed {
		a.t.indexes = true
	}
	return f, nil
}

func (a fields) Get(ctx context.Context, listID, id string) (*storage.Field, error) {
	if !isGUID(listID) || !isGUID(id) {
		return nil, errNoField
	}
	return one[storage.Field](ctx, a.t, errNoField, `SELECT `+fieldCols+` FROM "Fields" WHERE "ListId" = $1 AND "Id" = $2`, listID, id)
}

func (a fields) GetByName(ctx context.Context, listID, name string) (*storage.Field, error) {
	s, err := a.t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	if f, ok := storage.FieldByName(s.Fields, name); ok {
		return f, nil
	}
	return nil, storage.NotFound("the list has no field with this name or title")
}

func (a fields) List(ctx context.Context, listID string) ([]*storage.Field, error) {
	s, err := a.t.schema(ctx, listID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.Fields), nil
}

func (a fields) Update(ctx context.Context, listID, id string, upd storage.FieldUpdate) (*storage.Field, error) {
	defer a.t.forgetSchema(listID)
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	f, err := a.Get(ctx, listID, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyFieldUpdate(f, upd)
	if err != nil {
		return nil, err
	}
	choices := n.Choices
	if choices == nil {
		choices = []string{}
	}
	if _, err := a.t.exec(ctx, `UPDATE "Fields" SET "Title" = $2, "Description" = $3, "Required" = $4, "Indexed" = $5,
		"Hidden" = $6, "Choices" = $7, "DefaultValue" = $8, "MaxLength" = $9 WHERE "Id" = $1`,
		id, n.Title, n.Description, n.Required, n.Indexed, n.Hidden, choices, n.DefaultValue, n.MaxLength); err != nil {
		return nil, err
	}
	if n.Indexed != f.Indexed {
		a.t.indexes = true
	}
	return n, nil
}

func (a fields) Delete(ctx context.Context, listID, id string) error {
	defer a.t.forgetSchema(listID)
	if err := a.t.check(true); err != nil {
		return err
	}
	f, err := a.Get(ctx, listID, id)
	if err != nil {
		return err
	}
	if f.System {
		return storage.Invalid("field %s is a system field and cannot be deleted", f.InternalName)
	}
	if _, err := a.t.exec(ctx, `DELETE FROM "Fields" WHERE "Id" = $1`, id); err != nil {
		return err
	}
	if _, err := a.t.exec(ctx, `UPDATE "ListItems" SET "Data" = "Data" - $2::text WHERE "ListId" = $1 AND "Data" ? $2::text`,
		listID, f.InternalName); err != nil {
		return err
	}
	a.t.indexes = a.t.indexes || f.Indexed
	return nil
}

const viewCols = `"Id"::text AS "Id", "ListId"::text AS "ListId", "Title", "DefaultView", "Hidden", "RowLimit", "ViewQuery", "ViewFields"`

var errNoView = storage.NotFound("the list has no such view")

type views struct{ t *tx }

func (t *tx) insertView(ctx context.Context, v *storage.View) error {
	if v.DefaultView {
		if _, err := t.exec(ctx, `UPDATE "Views" SET "DefaultView" = false WHERE "ListId" = $1`, v.ListID); err != nil {
			return err
		}
	}
	_, err := t.exec(ctx, `INSERT INTO "Views" ("Id", "ListId", "Title", "DefaultView", "Hidden", "RowLimit", "ViewQuery", "ViewFields")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.ID, v.ListID, v.Title, v.DefaultView, v.Hidden, v.RowLimit, v.ViewQuery, v.ViewFields)
	return err
}

func (a views) Create(ctx context.Context, listID string, in storage.ViewInput) (*storage.View, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	if _, err := a.t.schema(ctx, listID); err != nil {
		return nil, err
	}
	v, err := storage.NewView(lower(listID), in)
	if err != nil {
		return nil, err
	}
	return v, a.t.insertView(ctx, v)
}

func (a views) Get(ctx context.Context, listID, id string) (*storage.View, error) {
	if !isGUID(listID) || !isGUID(id) {
		return nil, errNoView
	}
	return one[storage.View](ctx, a.t, errNoView, `SELECT `+viewCols+` FROM "Views" WHERE "ListId" = $1 AND "Id" = $2`, listID, id)
}

func (a views) GetByTitle(ctx context.Context, listID, title string) (*storage.View, error) {
	if !isGUID(listID) {
		return nil, errNoView
	}
	return one[storage.View](ctx, a.t, errNoView, `SELECT `+viewCols+` FROM "Views" WHERE "ListId" = $1 AND lower("Title") = lower($2)`, listID, title)
}

func (a views) List(ctx context.Context, listID string) ([]*storage.View, error) {
	if _, err := a.t.schema(ctx, listID); err != nil {
		return nil, err
	}
	return all[storage.View](ctx, a.t, `SELECT `+viewCols+` FROM "Views" WHERE "ListId" = $1 ORDER BY "Position"`, listID)
}

func (a views) Update(ctx context.Context, listID, id string, upd storage.ViewUpdate) (*storage.View, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	v, err := a.Get(ctx, listID, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyViewUpdate(v, upd)
	if err != nil {
		return nil, err
	}
	if n.DefaultView && !v.DefaultView {
		if _, err := a.t.exec(ctx, `UPDATE "Views" SET "DefaultView" = false WHERE "ListId" = $1`, listID); err != nil {
			return nil, err
		}
	}
	if _, err := a.t.exec(ctx, `UPDATE "Views" SET "Title" = $2, "DefaultView" = $3, "Hidden" = $4, "RowLimit" = $5,
		"ViewQuery" = $6, "ViewFields" = $7 WHERE "Id" = $1`, id, n.Title, n.DefaultView, n.Hidden, n.RowLimit, n.ViewQuery, n.ViewFields); err != nil {
		return nil, err
	}
	return n, nil
}

func (a views) Delete(ctx context.Context, listID, id string) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	v, err := a.Get(ctx, listID, id)
	if err != nil {
		return err
	}
	if v.DefaultView {
		return storage.Invalid("the default view cannot be deleted")
	}
	_, err = a.t.exec(ctx, `DELETE FROM "Views" WHERE "Id" = $1`, id)
	return err
}
