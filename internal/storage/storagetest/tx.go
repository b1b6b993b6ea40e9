package storagetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

var errBoom = errors.New("boom")

var txTests = []test{
	{"a failed transaction leaves nothing", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.add(l.ID, 0, nil)
		err := e.s.Update(e.ctx, func(tx storage.Tx) error {
			if _, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{}); err != nil {
				return err
			}
			if _, err := tx.Items().Update(e.ctx, l.ID, 1, storage.ItemUpdate{Values: map[string]odata.Value{"Title": str("changed")}}); err != nil {
				return err
			}
			nl, err := tx.Lists().Create(e.ctx, e.web.ID, storage.ListInput{Title: "Temp"})
			if err != nil {
				return err
			}
			if _, err := tx.Fields().Create(e.ctx, l.ID, storage.FieldInput{Title: "Extra", Type: storage.TypeText}); err != nil {
				return err
			}
			if _, err := tx.Webs().Create(e.ctx, storage.WebInput{ParentID: e.web.ID, URLName: "w", Title: "W"}); err != nil {
				return err
			}
			if _, err := tx.Users().Ensure(e.ctx, e.site.ID, "x@y.z", "X", ""); err != nil {
				return err
			}
			if err := tx.Lists().Delete(e.ctx, e.web.ID, nl.ID); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update: %v", err)
		}
		e.read(func(tx storage.Tx) error {
			l2, _ := tx.Lists().Get(e.ctx, e.web.ID, l.ID)
			if l2.ItemCount != 1 {
				t.Errorf("ItemCount %d", l2.ItemCount)
			}
			if it, _ := tx.Items().Get(e.ctx, l.ID, 1); it.Version != 1 || it.Values["Title"].Kind != odata.KindNull {
				t.Errorf("item changed: %+v", it)
			}
			if _, err := tx.Items().Get(e.ctx, l.ID, 2); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("item 2: %v", err)
			}
			if _, err := tx.Fields().GetByName(e.ctx, l.ID, "Extra"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("field: %v", err)
			}
			if _, err := tx.Webs().GetByURL(e.ctx, "/sites/dev/w"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("web: %v", err)
			}
			if us, _ := tx.Users().List(e.ctx, e.site.ID); len(us) != 0 {
				t.Errorf("users %v", us)
			}
			return nil
		})
		if it := e.add(l.ID, 0, nil); it.ID != 2 {
			t.Errorf("next id after a rollback %d", it.ID)
		}
	}},
	{"a panicking transaction leaves nothing and the store stays usable", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		func() {
			defer func() { recover() }()
			e.s.Update(e.ctx, func(tx storage.Tx) error {
				tx.Items().Create(e.ctx, l.ID, storage.ItemInput{})
				panic("boom")
			})
		}()
		if it := e.add(l.ID, 0, nil); it.ID != 1 {
			t.Errorf("id after a panic %d", it.ID)
		}
	}},
	{"a read-only transaction refuses writes", func(t *testing.T, e *env) {
		err := e.s.View(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Lists().Create(e.ctx, e.web.ID, storage.ListInput{Title: "Nope"})
			return err
		})
		if err == nil {
			t.Fatal("a View wrote")
		}
		e.read(func(tx storage.Tx) error {
			if _, err := tx.Lists().GetByTitle(e.ctx, e.web.ID, "Nope"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("list: %v", err)
			}
			return nil
		})
	}},
	{"reads inside a transaction see its own writes", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		e.do(func(tx storage.Tx) error {
			it, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{Values: map[string]odata.Value{"Title": str("mine")}})
			if err != nil {
				return err
			}
			p, err := tx.Items().Query(e.ctx, l.ID, storage.ItemQuery{})
			if err != nil || len(p.Items) != 1 || p.Items[0].ID != it.ID {
				t.Errorf("query in tx: %v %v", p, err)
			}
			return err
		})
	}},
	{"concurrent transactions on different lists both commit", func(t *testing.T, e *env) {
		a, b := e.list("A"), e.list("B")
		var wg sync.WaitGroup
		for _, l := range []*storage.List{a, b} {
			wg.Go(func() {
				for range 20 {
					if err := e.s.Update(e.ctx, func(tx storage.Tx) error {
						_, err := tx.Items().Create(e.ctx, l.ID, storage.ItemInput{})
						return err
					}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		e.read(func(tx storage.Tx) error {
			for _, l := range []*storage.List{a, b} {
				if got, _ := tx.Lists().Get(e.ctx, e.web.ID, l.ID); got.ItemCount != 20 {
					t.Errorf("%s has %d items", l.Title, got.ItemCount)
				}
			}
			return nil
		})
	}},
}

var userTests = []test{
	{"ensuring a user creates it once in claims form and keeps its data", func(t *testing.T, e *env) {
		var u *storage.User
		e.do(func(tx storage.Tx) (err error) {
			u, err = tx.Users().Ensure(e.ctx, e.site.ID, "Carol@Contoso.com", "Carol", "carol@contoso.com")
			return err
		})
		// The site's three groups took the first principal ids.
		first := e.firstUserID()
		if u.ID != first || u.LoginName != "i:0#.f|membership|carol@contoso.com" || u.Title != "Carol" || u.PrincipalType != 1 || u.IsSiteAdmin {
			t.Fatalf("user %+v", u)
		}
		e.do(func(tx storage.Tx) error {
			again, err := tx.Users().Ensure(e.ctx, e.site.ID, "i:0#.f|membership|carol@contoso.com", "Other", "")
			if err == nil && (again.ID != first || again.Title != "Carol") {
				t.Errorf("again %+v", again)
			}
			bob, err := tx.Users().Ensure(e.ctx, e.site.ID, "bob@contoso.com", "", "")
			if err == nil && (bob.ID != first+1 || bob.Title != "bob@contoso.com") {
				t.Errorf("bob %+v", bob)
			}
			return err
		})
		e.do(func(tx storage.Tx) error {
			up, err := tx.Users().Update(e.ctx, e.site.ID, first, storage.UserUpdate{IsSiteAdmin: ptr(true), Title: ptr("Carol C")})
			if err == nil && (!up.IsSiteAdmin || up.Title != "Carol C") {
				t.Errorf("updated %+v", up)
			}
			return err
		})
		e.read(func(tx storage.Tx) error {
			g, err := tx.Users().GetByLogin(e.ctx, e.site.ID, "CAROL@contoso.com")
			if err != nil || g.ID != first || !g.IsSiteAdmin {
				t.Errorf("by login %+v %v", g, err)
			}
			us, _ := tx.Users().List(e.ctx, e.site.ID)
			if len(us) != 2 || us[0].ID != first || us[1].ID != first+1 {
				t.Errorf("users %v", us)
			}
			return nil
		})
		e.do(func(tx storage.Tx) error { return tx.Users().Delete(e.ctx, e.site.ID, first+1) })
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Users().Get(e.ctx, e.site.ID, first+1)
			return err
		})
	}},
	{"ensuring one new user from 8 writers at once creates one user", func(t *testing.T, e *env) {
		EnsureConcurrently(t, []storage.Store{e.s}, e.site.ID, 8)
	}},
	{"a login that is neither a claim nor an e-mail is invalid", func(t *testing.T, e *env) {
		for _, login := range []string{"", "carol", "a|"} {
			e.fails(storage.ErrInvalid, func(tx storage.Tx) error {
				_, err := tx.Users().Ensure(e.ctx, e.site.ID, login, "", "")
				return err
			})
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error {
			_, err := tx.Users().Ensure(e.ctx, storage.NewGUID(), "a@b.c", "", "")
			return err
		})
	}},
}

// EnsureConcurrently ensures one login from writers goroutines per store
// at once and checks that every caller got the same single user.
func EnsureConcurrently(t *testing.T, stores []storage.Store, siteID string, writers int) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	ids := make(chan int64, writers*len(stores))
	for _, s := range stores {
		for range writers {
			wg.Go(func() {
				if err := s.Update(ctx, func(tx storage.Tx) error {
					u, err := tx.Users().Ensure(ctx, siteID, "new@contoso.com", "New", "new@contoso.com")
					if err == nil {
						ids <- u.ID
					}
					return err
				}); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	close(ids)
	for id := range ids {
		if id != int64(len(permissions.DefaultGroups()))+1 {
			t.Errorf("Ensure returned user %d", id)
		}
	}
	stores[0].View(ctx, func(tx storage.Tx) error {
		if us, err := tx.Users().List(ctx, siteID); err != nil || len(us) != 1 {
			t.Errorf("%d users, %v", len(us), err)
		}
		return nil
	})
}

// firstUserID is the id the first user of a new site gets: the next
// after its default groups'.
func (e *env) firstUserID() int64 { return int64(len(permissions.DefaultGroups())) + 1 }
