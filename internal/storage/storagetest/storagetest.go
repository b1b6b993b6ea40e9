// Package storagetest is the suite every storage provider must pass:
// Exercise runs every behaviour of the storage contract against a
// provider, as parallel subtests, a file per area. Each test gets a store
// of its own from the factory, so the factory should hand out an empty,
// isolated store (a new database for PostgreSQL).
package storagetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// NewStore returns an empty store for one test; cleanup is the factory's.
type NewStore func(t *testing.T) storage.Store

type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// Exercise runs the whole suite against the provider newStore makes.
func Exercise(t *testing.T, newStore NewStore) {
	areas := []struct {
		name  string
		tests []test
	}{
		{"Sites and webs", siteTests},
		{"Lists", listTests},
		{"Fields and views", fieldTests},
		{"Items", itemTests},
		{"Filters", filterTests},
		{"Paging", pagingTests},
		{"Transactions", txTests},
		{"Users", userTests},
		{"Files and folders", fileTests},
		{"Deletes and blobs in use", fileDeleteTests},
		{"Moves and copies", fileMoveTests},
		{"File names and paths", filePathTests},
		{"Uploads", uploadTests},
		{"Attachments", attachmentTests},
		{"Versions", versionTests},
		{"Check-out", checkOutTests},
		{"Recycle bin", recycleBinTests},
		{"Permissions", securityTests},
		{"Subscriptions", subscriptionTests},
		{"Changes", changeTests},
		{"Idempotent requests", requestTests},
	}
	for _, a := range areas {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range a.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newEnv(t, newStore(t)))
				})
			}
		})
	}
}

// env is one test's store with a site at /sites/dev.
type env struct {
	t    *testing.T
	ctx  context.Context
	s    storage.Store
	site *storage.Site
	web  *storage.Web
}

func newEnv(t *testing.T, s storage.Store) *env {
	e := &env{t: t, ctx: t.Context(), s: s}
	e.do(func(tx storage.Tx) (err error) {
		if e.site, err = tx.Sites().Create(e.ctx, storage.SiteInput{URL: "/sites/dev", Title: "Dev"}); err != nil {
			return err
		}
		e.web, err = tx.Webs().Get(e.ctx, e.site.RootWebID)
		return err
	})
	return e
}

// do runs fn in a transaction that must succeed.
func (e *env) do(fn func(tx storage.Tx) error) {
	e.t.Helper()
	if err := e.s.Update(e.ctx, fn); err != nil {
		e.t.Fatalf("Update: %v", err)
	}
}

// read runs fn in a View that must succeed.
func (e *env) read(fn func(tx storage.Tx) error) {
	e.t.Helper()
	if err := e.s.View(e.ctx, fn); err != nil {
		e.t.Fatalf("View: %v", err)
	}
}

// fails runs fn in a transaction that must fail with want.
func (e *env) fails(want error, fn func(tx storage.Tx) error) error {
	e.t.Helper()
	err := e.s.Update(e.ctx, fn)
	if !errors.Is(err, want) {
		e.t.Fatalf("got %v, want %v", err, want)
	}
	return err
}

func (e *env) list(title string, fields ...storage.FieldInput) *storage.List {
	e.t.Helper()
	var l *storage.List
	e.do(func(tx storage.Tx) (err error) {
		if l, err = tx.Lists().Create(e.ctx, e.web.ID, storage.ListInput{Title: title}); err != nil {
			return err
		}
		for _, f := range fields {
			if _, err := tx.Fields().Create(e.ctx, l.ID, f); err != nil {
				return err
			}
		}
		return nil
	})
	return l
}

func (e *env) add(listID string, by int64, vals map[string]odata.Value) *storage.Item {
	e.t.Helper()
	var it *storage.Item
	e.do(func(tx storage.Tx) (err error) {
		it, err = tx.Items().Create(e.ctx, listID, storage.ItemInput{Values: vals, By: by})
		return err
	})
	return it
}

func (e *env) get(listID string, id int64) (*storage.Item, error) {
	var it *storage.Item
	err := e.s.View(e.ctx, func(tx storage.Tx) (err error) {
		it, err = tx.Items().Get(e.ctx, listID, id)
		return err
	})
	return it, err
}

func (e *env) query(listID string, q storage.ItemQuery) (*storage.ItemPage, error) {
	var p *storage.ItemPage
	err := e.s.View(e.ctx, func(tx storage.Tx) (err error) {
		p, err = tx.Items().Query(e.ctx, listID, q)
		return err
	})
	return p, err
}

func ptr[T any](v T) *T { return &v }

func str(s string) odata.Value { return odata.String(s) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func containsFold(s, sub string) bool {
	return sub != "" && strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
