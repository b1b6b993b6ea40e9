package pgstorage

import (
	"context"
	"errors"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

const userCols = `"Id", "SiteId"::text AS "SiteId", "LoginName", "Title", "Email", "IsSiteAdmin", "PrincipalType", "Created"`

type users struct{ t *tx }

func lower(s string) string { return strings.ToLower(s) }

func errNoUser(id int64) error { return storage.NotFound("the site has no user %d", id) }

func (a users) byLogin(ctx context.Context, siteID, login string) (*storage.User, error) {
	if p := a.t.prefetchedUser; p != nil {
		a.t.prefetchedUser = nil
		if p.login == login && strings.EqualFold(p.siteID, siteID) {
			if p.user == nil {
				return nil, storage.NotFound("the site has no user with this login name")
			}
			return p.user, nil
		}
	}
	return one[storage.User](ctx, a.t, storage.NotFound("the site has no user with this login name"),
		`SELECT `+userCols+` FROM "Users" WHERE "SiteId" = $1 AND "LoginName" = $2`, siteID, login)
}

// Ensure reads the user; if missing it locks the site row, reads again
// (a concurrent Ensure that held the lock has committed by then, and read
// committed sees it) and only then allocates the id and inserts.
func (a users) Ensure(ctx context.Context, siteID, login, title, email string) (*storage.User, error) {
	t := a.t
	if err := t.check(true); err != nil {
		return nil, err
	}
	if !isGUID(siteID) {
		return nil, errNoSite
	}
	u, err := storage.NewUser(lower(siteID), login, title, email, t.now)
	if err != nil {
		return nil, err
	}
	if old, err := a.byLogin(ctx, siteID, u.LoginName); err == nil || !errorsIsNotFound(err) {
		return old, err
	}
	var next int64
	if err := t.tx.QueryRow(ctx, `SELECT "NextUserId" FROM "Sites" WHERE "Id" = $1 FOR UPDATE`, siteID).Scan(&next); err != nil {
		return nil, interpretError(err)
	}
	if old, err := a.byLogin(ctx, siteID, u.LoginName); err == nil || !errorsIsNotFound(err) {
		return old, err
	}
	u.ID = next
	if _, err := t.exec(ctx, `UPDATE "Sites" SET "NextUserId" = "NextUserId" + 1 WHERE "Id" = $1`, siteID); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `INSERT INTO "Users" ("SiteId", "Id", "LoginName", "Title", "Email", "IsSiteAdmin", "PrincipalType", "Created")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, siteID, u.ID, u.LoginName, u.Title, u.Email, u.IsSiteAdmin, u.PrincipalType, u.Created); err != nil {
		return nil, err
	}
	return u, nil
}

func (a users) site(ctx context.Context, siteID string) error {
	_, err := sites(a).Get(ctx, siteID)
	return err
}

func (a users) Get(ctx context.Context, siteID string, id int64) (*storage.User, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	return one[storage.User](ctx, a.t, errNoUser(id), `SELECT `+userCols+` FROM "Users" WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id)
}

func (a users) GetByLogin(ctx context.Context, siteID, login string) (*storage.User, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	login, err := storage.ClaimsLogin(login)
	if err != nil {
		return nil, err
	}
	return a.byLogin(ctx, siteID, login)
}

func (a users) List(ctx context.Context, siteID string) ([]*storage.User, error) {
	if err := a.site(ctx, siteID); err != nil {
		return nil, err
	}
	return all[storage.User](ctx, a.t, `SELECT `+userCols+` FROM "Users" WHERE "SiteId" = $1 ORDER BY "Id"`, siteID)
}

func (a users) Update(ctx context.Context, siteID string, id int64, upd storage.UserUpdate) (*storage.User, error) {
	a.t.prefetchedUser = nil
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	u, err := a.Get(ctx, siteID, id)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplyUserUpdate(u, upd)
	if err != nil {
		return nil, err
	}
	if _, err := a.t.exec(ctx, `UPDATE "Users" SET "Title" = $3, "Email" = $4, "IsSiteAdmin" = $5 WHERE "SiteId" = $1 AND "Id" = $2`,
		siteID, id, n.Title, n.Email, n.IsSiteAdmin); err != nil {
		return nil, err
	}
	return n, nil
}

func (a users) Delete(ctx context.Context, siteID string, id int64) error {
	a.t.prefetchedUser = nil
	if err := a.t.check(true); err != nil {
		return err
	}
	if err := a.site(ctx, siteID); err != nil {
		return err
	}
	// Memberships go by the foreign key; assignments name a principal of
	// either kind, so they go here.
	n, err := a.t.exec(ctx, `WITH ra AS (DELETE FROM "RoleAssignments" WHERE "SiteId" = $1 AND "PrincipalId" = $2)
		DELETE FROM "Users" WHERE "SiteId" = $1 AND "Id" = $2`, siteID, id)
	if err == nil && n == 0 {
		return errNoUser(id)
	}
	return err
}

func errorsIsNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
