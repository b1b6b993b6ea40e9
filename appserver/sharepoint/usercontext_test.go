package sharepoint_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/memstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// countingStore counts the reads of what a user may do (Access), the
// round trip the user-context cache saves.
type countingStore struct {
	storage.Store
	access *atomic.Int64
}

func (s countingStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.Update(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, s.access}) })
}

func (s countingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.View(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, s.access}) })
}

type countingTx struct {
	storage.Tx
	access *atomic.Int64
}

func (t countingTx) Security() storage.Security { return countingSecurity{t.Tx.Security(), t.access} }

type countingSecurity struct {
	storage.Security
	access *atomic.Int64
}

func (s countingSecurity) Access(ctx context.Context, logins []string) ([]*storage.Access, error) {
	s.access.Add(1)
	return s.Security.Access(ctx, logins)
}

// cachedAPI is the harness's API with the user-context cache of an
// in-process state provider, counting Access reads and cache lookups.
type cachedAPI struct {
	*api
	cache  state.UserContextCache
	reads  *atomic.Int64
	gather prometheus.Gatherer
}

func newCachedAPI(t *testing.T, store storage.Store) *cachedAPI {
	reg := prometheus.NewRegistry()
	p, err := memstate.New(state.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	reads := new(atomic.Int64)
	a := newAPI(t, countingStore{store, reads})
	a.store = store // scene setting in tests bypasses the counter
	a.handler.UserContexts = p.UserContexts
	return &cachedAPI{api: a, cache: p.UserContexts, reads: reads, gather: reg}
}

func (c *cachedAPI) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := c.gather.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

const bobLogin = "i:0#.f|membership|bob@example.com"

func TestUserContextCacheServesPermissionChecks(t *testing.T) {
	eachProvider(t, func(t *testing.T, plain *api) {
		a := newCachedAPI(t, plain.store)
		a.signIn("")
		a.req("GET", "/_api/web", nil).must(t, 200) // creates the root site

		// Bob has no rights: the first check reads them, the next ones
		// are answered by the cache without a storage round trip.
		before := a.reads.Load()
		a.as("bob-subject", "bob@example.com") // asks for a digest: a first check
		for range 5 {
			if r := a.req("GET", "/_api/web", nil); r.status != 403 {
				t.Fatalf("bob without rights reads the web: %d", r.status)
			}
		}
		if n := a.reads.Load() - before; n != 1 {
			t.Errorf("6 checks of one user read its rights %d times, want 1", n)
		}
		if hits, reqs := a.metric(t, "usercontext_cache_hits_total"), a.metric(t, "usercontext_cache_requests_total"); hits < 4 || reqs < 5 {
			t.Errorf("cache metrics: %v hits of %v requests, want ≥ 4 of ≥ 5", hits, reqs)
		}

		// A change made behind the API's back (as by another tool) is not
		// seen until the user's entry is invalidated, as the seed's
		// troubleshooting does with PUBLISH usercontext:invalidated.
		a.joinGroup(t, bobLogin, "Cesivi Visitors")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Fatalf("the cached refusal was not used: %d", r.status)
		}
		if err := a.cache.Invalidate(context.Background(), bobLogin); err != nil {
			t.Fatal(err)
		}
		a.req("GET", "/_api/web", nil).must(t, 200)
		if r := a.req("POST", "/_api/web/lists", map[string]any{"Title": "Bob's", "BaseTemplate": 100}); r.status != 403 {
			t.Errorf("a visitor created a list: %d", r.status)
		}

		// The provider's groups are part of the entry: a sign-in with
		// another group is not answered from the old entry.
		a.as("carol-subject", "carol@example.com")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Fatalf("carol without rights reads the web: %d", r.status)
		}
		ctx := context.Background()
		err := a.store.Update(ctx, func(tx storage.Tx) error {
			site, err := tx.Sites().GetByURL(ctx, "/")
			if err != nil {
				return err
			}
			claim, err := tx.Users().Ensure(ctx, site.ID, permissions.GroupClaimLogin("Sales"), "Sales", "")
			if err != nil {
				return err
			}
			return tx.Security().AddAssignment(ctx, site.RootWebID, claim.ID, permissions.ReadID)
		})
		if err != nil {
			t.Fatal(err)
		}
		a.as("carol-subject", "carol@example.com", "sales")
		a.req("GET", "/_api/web", nil).must(t, 200)
		a.as("carol-subject", "carol@example.com")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Fatalf("carol, out of the group again, reads the web: %d", r.status)
		}
	})
}

func TestChangesThroughTheAPIInvalidateTheirUsers(t *testing.T) {
	eachProvider(t, func(t *testing.T, plain *api) {
		a := newCachedAPI(t, plain.store)
		a.signIn("")
		a.req("GET", "/_api/web", nil).must(t, 200)

		// Bob may manage the root web, so he may create a site collection;
		// its creator is its administrator at once, though his rights
		// were cached before it existed.
		a.joinGroup(t, bobLogin, "Cesivi Owners")
		a.as("bob-subject", "bob@example.com")
		a.req("GET", "/_api/web", nil).must(t, 200)
		r := a.req("POST", "/_api/SPSiteManager/create", map[string]any{"request": map[string]any{
			"Title": "Bob's", "Url": a.srv.URL + "/sites/bobs"}})
		r.must(t, 200)
		a.signIn("/sites/bobs")
		a.req("GET", "/sites/bobs/_api/web", nil).must(t, 200)
		a.req("POST", "/sites/bobs/_api/web/lists", map[string]any{"Title": "Bob's", "BaseTemplate": 100}).must(t, 201)

		// Group membership through the API: Dan's cached refusal goes
		// the moment he joins the visitors, and comes back when he
		// leaves; a role assignment on the web for him alone, the same.
		a.as("dan-subject", "dan@example.com")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Fatalf("dan reads the web: %d", r.status)
		}
		a.as("alice-subject", "alice@example.com")
		visitors := "/_api/web/sitegroups/getbyname('Cesivi Visitors')/users"
		a.req("POST", visitors, map[string]any{"LoginName": "i:0#.f|membership|dan@example.com"}).must(t, 201)
		a.as("dan-subject", "dan@example.com")
		a.req("GET", "/_api/web", nil).must(t, 200)
		a.as("alice-subject", "alice@example.com")
		a.req("POST", visitors+"/removeByLoginName('i:0%23.f|membership|dan@example.com')", nil).must(t, 200)
		a.as("dan-subject", "dan@example.com")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Fatalf("dan, out of the visitors, reads the web: %d", r.status)
		}
		a.as("alice-subject", "alice@example.com")
		dan := a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "dan@example.com"}).must(t, 200).json["Id"]
		a.req("POST", fmt.Sprintf("/_api/web/roleassignments/addroleassignment(principalid=%v,roledefid=%d)", dan, permissions.ReadID), nil).must(t, 200)
		a.as("dan-subject", "dan@example.com")
		a.req("GET", "/_api/web", nil).must(t, 200)

		// Carol, with no rights anywhere, is refused in the new site and
		// in the root site, from her cached rights.
		a.as("carol-subject", "carol@example.com")
		for _, web := range []string{"/sites/bobs", "", ""} {
			if r := a.req("GET", web+"/_api/web", nil); r.status != 403 {
				t.Fatalf("carol reads %s/: %d", web, r.status)
			}
		}
		// An administrator makes her a site collection administrator of
		// the root site through the API, then takes it back: each holds
		// at her next request.
		a.as("alice-subject", "alice@example.com")
		carol := a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "carol@example.com"}).must(t, 200).json["Id"]
		user := fmt.Sprintf("/_api/web/siteusers/getbyid(%v)", carol)
		a.req("POST", user, map[string]any{"IsSiteAdmin": true}, "X-HTTP-Method", "MERGE").must(t, 204)
		a.as("carol-subject", "carol@example.com")
		a.req("GET", "/_api/web", nil).must(t, 200)
		a.as("alice-subject", "alice@example.com")
		a.req("POST", user, map[string]any{"IsSiteAdmin": false}, "X-HTTP-Method", "MERGE").must(t, 204)
		a.as("carol-subject", "carol@example.com")
		if r := a.req("GET", "/_api/web", nil); r.status != 403 {
			t.Fatalf("carol, no longer an administrator, reads the web: %d", r.status)
		}
	})
}

// commandCounter counts the commands a Redis client sends (pub/sub
// messages a subscription receives are not commands).
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestACachedPermissionCheckCostsNoRoundTrip(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rc.Close() })
	counter := &commandCounter{}
	rc.AddHook(counter)
	p, err := redisstate.New(context.Background(), rc, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	reads := new(atomic.Int64)
	store := memstorage.New(memstorage.Options{})
	a := newAPI(t, countingStore{store, reads})
	a.store = store
	a.handler.UserContexts = p.UserContexts
	a.signIn("")
	newList(t, a, "", "Tasks")
	a.req("POST", "/_api/web/lists/getByTitle('Tasks')/items", map[string]any{"Title": "one"}).must(t, 201)
	a.joinGroup(t, bobLogin, "Cesivi Members")
	a.as("bob-subject", "bob@example.com")
	item := "/_api/web/lists/getByTitle('Tasks')/items(1)"
	missBefore := counter.n.Load()
	if err := p.UserContexts.Invalidate(context.Background(), bobLogin); err != nil {
		t.Fatal(err)
	}
	a.req("GET", item, nil).must(t, 200) // a miss: one read of storage, a few Redis commands
	if counter.n.Load() == missBefore {
		t.Fatal("the counter saw no Redis command for a miss")
	}

	// The invalidation's own message may reach this server after the
	// miss cached the entry, and drop it once more: wait until a check is
	// answered locally.
	for i := 0; ; i++ {
		before := counter.n.Load()
		a.req("GET", item, nil).must(t, 200)
		if counter.n.Load() == before {
			break
		}
		if i == 100 {
			t.Fatal("after 100 checks every one still sent Redis commands")
		}
	}

	redisBefore, readsBefore := counter.n.Load(), reads.Load()
	const checks = 20
	for range checks {
		a.req("GET", item, nil).must(t, 200)
		a.req("GET", "/_api/web/lists/getByTitle('Tasks')/items?$select=Id", nil).must(t, 200)
	}
	if n := counter.n.Load() - redisBefore; n != 0 {
		t.Errorf("%d cached permission checks sent %d Redis commands, want 0", 2*checks, n)
	}
	if n := reads.Load() - readsBefore; n != 0 {
		t.Errorf("%d cached permission checks read rights from storage %d times, want 0", 2*checks, n)
	}
}
