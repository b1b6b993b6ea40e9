package memstorage

import (
	"context"
	"slices"

	"github.com/cesivi/cesivi/internal/storage"
)

type users struct{ t *tx }

func (a users) site(ctx context.Context, siteID string, write bool) (*siteUsers, error) {
	if err := a.t.check(ctx, write); err != nil {
		return nil, err
	}
	su, ok := a.t.s.db.users[fold(siteID)]
	if !ok {
		return nil, storage.NotFound("no site has this id")
	}
	return su, nil
}

func (a users) byLogin(su *siteUsers, login string) *storage.User {
	for _, u := range su.byID {
		if u.LoginName == login {
			return u
		}
	}
	return nil
}

func (a users) Ensure(ctx context.Context, siteID, login, title, email string) (*storage.User, error) {
	su, err := a.site(ctx, siteID, true)
	if err != nil {
		return nil, err
	}
	u, err := storage.NewUser(fold(siteID), login, title, email, a.t.now)
	if err != nil {
		return nil, err
	}
	if old := a.byLogin(su, u.LoginName); old != nil {
		return clone(old), nil
	}
	assign(a.t, &su.next, su.next+1)
	u.ID = su.next
	set(a.t, su.byID, u.ID, u)
	return clone(u), nil
}

func (a users) Get(ctx context.Context, siteID string, id int64) (*storage.User, error) {
	su, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	u, ok := su.byID[id]
	if !ok {
		return nil, storage.NotFound("the site has no user %d", id)
	}
	return clone(u), nil
}

func (a users) GetByLogin(ctx context.Context, siteID, login string) (*storage.User, error) {
	su, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	login, err = storage.ClaimsLogin(login)
	if err != nil {
		return nil, err
	}
	if u := a.byLogin(su, login); u != nil {
		return clone(u), nil
	}
	return nil, storage.NotFound("the site has no user with this login name")
}

func (a users) List(ctx context.Context, siteID string) ([]*storage.User, error) {
	su, err := a.site(ctx, siteID, false)
	if err != nil {
		return nil, err
	}
	out := []*storage.User{}
	for _, u := range su.byID {
		out = append(out, clone(u))
	}
	slices.SortFunc(out, func(a, b *storage.User) int { return int(a.ID - b.ID) })
	return out, nil
}

func (a users) Update(ctx context.Context, siteID string, id int64, upd storage.UserUpdate) (*storage.User, error) {
	su, err := a.site(ctx, siteID, true)
	if err != nil {
		return nil, err
	}
	u, ok := su.byID[id]
	if !ok {
		return nil, storage.NotFound("the site has no user %d", id)
	}
	n, err := storage.ApplyUserUpdate(u, upd)
	if err != nil {
		return nil, err
	}
	set(a.t, su.byID, id, n)
	return clone(n), nil
}

func (a users) Delete(ctx context.Context, siteID string, id int64) error {
	su, err := a.site(ctx, siteID, true)
	if err != nil {
		return err
	}
	if _, ok := su.byID[id]; !ok {
		return storage.NotFound("the site has no user %d", id)
	}
	del(a.t, su.byID, id)
	// As in PostgreSQL (a foreign key there): the user leaves every group
	// and every role assignment that names them.
	if sec, ok := a.t.s.db.security[fold(siteID)]; ok {
		for _, m := range sec.members {
			if m[id] {
				del(a.t, m, id)
			}
		}
		for _, byPrincipal := range sec.assignments {
			if _, ok := byPrincipal[id]; ok {
				del(a.t, byPrincipal, id)
			}
		}
	}
	return nil
}
