package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

func runSites(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"sites"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSitesAdminsChangeTheUserTableAndDropCachedRights(t *testing.T) {
	u := testenv.Postgres(t)
	addr, db := testenv.RedisDB(t)
	cs := fmt.Sprintf("%s,defaultDatabase=%d", addr, db)
	keyringEnv(t, map[string]string{
		"Cesivi__Storage__Provider":                  "PostgreSQL",
		"Cesivi__Storage__ConnectionString":          npgsqlFor(t, u),
		"Cesivi__DistributedState__Provider":         "Redis",
		"Cesivi__DistributedState__ConnectionString": cs,
		"Cesivi__Sites__Administrators__0":           "root-subject",
	})
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstorage.New(ctx, pool, pgstorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/sites/dev", Title: "Dev"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p, err := redisstate.Open(ctx, cs, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const login = "i:0#.f|membership|erin@example.com"
	cached := func(val string) string {
		t.Helper()
		b, err := p.UserContexts.Get(ctx, login, func(context.Context) ([]byte, error) { return []byte(val), nil })
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	isAdmin := func() bool {
		t.Helper()
		var admin bool
		err := store.View(ctx, func(tx storage.Tx) error {
			site, err := tx.Sites().GetByURL(ctx, "/sites/dev")
			if err != nil {
				return err
			}
			u, err := tx.Users().GetByLogin(ctx, site.ID, login)
			if err != nil {
				return err
			}
			admin = u.IsSiteAdmin
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return admin
	}

	cached("before")
	code, out, errs := runSites("admins", "add", "-site", "/sites/dev", "-user", "Erin@Example.com")
	if code != 0 || !strings.Contains(out, login+" now administers /sites/dev") {
		t.Fatalf("add: exit %d, %s %s", code, out, errs)
	}
	if !isAdmin() {
		t.Fatal("add did not mark the user a site administrator")
	}
	if got := cached("after add"); got != "after add" {
		t.Fatalf("the user's cached rights survived add: %q", got)
	}
	if code, out, _ := runSites("admins", "add", "-site", "/sites/dev", "-user", login); code != 0 || !strings.Contains(out, "already administers") {
		t.Fatalf("add again: exit %d, %s", code, out)
	}
	code, out, errs = runSites("admins", "list", "-site", "/sites/dev")
	if code != 0 || !strings.Contains(out, login) || !strings.Contains(out, "1 administrator(s)") || !strings.Contains(out, "adds 1 on every site") {
		t.Fatalf("list: exit %d, %s %s", code, out, errs)
	}
	code, out, errs = runSites("admins", "remove", "-site", "/sites/dev", "-user", "erin@example.com")
	if code != 0 || !strings.Contains(out, "no longer administers") || isAdmin() {
		t.Fatalf("remove: exit %d, %s %s (admin %v)", code, out, errs, isAdmin())
	}
	if got := cached("after remove"); got != "after remove" {
		t.Fatalf("the user's cached rights survived remove: %q", got)
	}

	// Bad input: said plainly, nothing changed.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"admins", "add", "-site", "/sites/nope", "-user", "erin@example.com"}, 1, "no site collection at /sites/nope"},
		{[]string{"admins", "remove", "-site", "/sites/dev", "-user", "frank@example.com"}, 1, "is not a user of /sites/dev"},
		{[]string{"admins", "add", "-site", "/sites/dev"}, 2, "-user is required"},
		{[]string{"admins", "add", "-user", "c:0-.f|rolemanager|admins"}, 2, "Cesivi:Sites:Administrators"},
		{[]string{"admins", "list", "-user", "x"}, 2, "not accepted"},
		{[]string{"admins", "promote"}, 2, "usage"},
		{[]string{"admins", "add", "-user", "erin@example.com", "extra"}, 2, "unexpected argument"},
	} {
		code, out, errs := runSites(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("sites %v: exit %d, %q %q; want %d and %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
	if isAdmin() {
		t.Fatal("a refused command changed the user")
	}
}

func TestSitesAdminsRefusesInMemoryStorage(t *testing.T) {
	keyringEnv(t, map[string]string{"Cesivi__Storage__Provider": "InMemory"})
	code, _, errs := runSites("admins", "add", "-user", "erin@example.com")
	if code != 1 || !strings.Contains(errs, "InMemory") {
		t.Fatalf("exit %d, %s", code, errs)
	}
}
