package tests

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/bench"
	"github.com/cesivi/cesivi/tests/farm"
)

// rightsChangeBound is how long a test waits for every server to apply
// a change of rights. Servers apply it as soon as usercontext:invalidated
// reaches them (milliseconds; the test logs what it saw); without the
// invalidation a server would keep the old rights for the cache's bound
// (5 minutes), far beyond this.
const rightsChangeBound = 30 * time.Second

// everyServerAnswers sends GET /_api/web as c through the farm's edges in
// turn until every server has answered want, and returns how long after
// since each server first did. A server that answered want and then the
// other status again fails the test: its rights flip-flopped.
func everyServerAnswers(t *testing.T, f *farm.Farm, c *apiClient, want int, since time.Time) map[string]time.Duration {
	t.Helper()
	first := map[string]time.Duration{}
	deadline := time.Now().Add(rightsChangeBound)
	for i := 0; len(first) < len(f.Servers); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %v only %v answered %d", rightsChangeBound, first, want)
		}
		r, err := c.do(context.Background(), http.MethodGet, f.Edges[i%len(f.Edges)]+"/_api/web", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusOK && r.Status != http.StatusForbidden {
			t.Fatalf("GET /_api/web: %v", r)
		}
		_, seen := first[r.Server]
		switch {
		case r.Status == want && !seen:
			first[r.Server] = time.Since(since)
		case r.Status != want && seen:
			t.Fatalf("%s answered %d, then %d again", r.Server, want, r.Status)
		}
	}
	return first
}

// TestARightsChangeOnOneServerHoldsOnEveryServer changes the second
// development user's rights through one server and checks that every
// server enforces the change, with the servers' caches warm: once by
// usercontext:invalidated, once with every subscription killed (CLIENT
// KILL TYPE pubsub) just before the change, where the servers' rule that
// a reconnected subscription flushes the local layer keeps them right.
func TestARightsChangeOnOneServerHoldsOnEveryServer(t *testing.T) {
	// The provider's group "admins" administers every site; bob is not
	// in it, and claiming it in headers must not make him a member.
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL,
		ServerEnv: []string{"Cesivi__Sites__Administrators=" + testenv.DevUsers()[0].Subject + ",group:admins"}})
	admin := newAPIClient(t, f)
	bobUser := testenv.DevUsers()[1]
	if bobUser.Admin {
		t.Fatal("the second development user is an administrator")
	}
	bob := newAPIClientAs(t, f, func(ctx context.Context) (string, error) {
		return bench.MintTokenAs(ctx, f, f.Edges[0], bobUser.Username, bobUser.Password)
	})
	var ensured struct{ Id int64 }
	decodeJSON(t, admin.must(t, http.StatusOK, http.MethodPost, f.Edges[0]+"/_api/web/ensureuser",
		map[string]any{"logonName": bobUser.Email}), &ensured)
	userURL := fmt.Sprintf("%s/_api/web/siteusers/getbyid(%d)", f.Edges[0], ensured.Id)
	setAdmin := func(yes bool) (server string, at time.Time) {
		t.Helper()
		r := admin.must(t, http.StatusNoContent, http.MethodPost, userURL, map[string]any{"IsSiteAdmin": yes}, "X-HTTP-Method", "MERGE")
		return r.Server, time.Now()
	}

	// Identity headers a client sends are stripped at the edge, and the
	// servers count only the signed assertion's groups.
	ctx := context.Background()
	for _, h := range []string{"X-Forwarded-Groups", "X-Auth-Request-Groups", "X-Remote-Groups", "X-Cesivi-Groups", "X-Cesivi-User"} {
		r, err := bob.do(ctx, http.MethodGet, f.Edges[0]+"/_api/web", nil, h, "admins")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusForbidden {
			t.Errorf("bob claiming the administrators' group in %s: %v, want 403", h, r)
		}
	}

	// Warm: every server has checked bob's rights (and cached them) twice.
	start := time.Now()
	everyServerAnswers(t, f, bob, http.StatusForbidden, start)
	everyServerAnswers(t, f, bob, http.StatusForbidden, start)

	// A read load: bob's checks come from the servers' caches, as the
	// seed's hit-rate query shows.
	hits0, reqs0 := userContextCounters(t, f)
	const reads = 300
	for i := range reads {
		if r, err := bob.do(ctx, http.MethodGet, f.Edges[i%len(f.Edges)]+"/_api/web", nil); err != nil || r.Status != http.StatusForbidden {
			t.Fatalf("read %d: %v %v", i, r, err)
		}
	}
	hits1, reqs1 := userContextCounters(t, f)
	rate := (hits1 - hits0) / (reqs1 - reqs0)
	t.Logf("user-context cache under %d reads: %.0f hits of %.0f lookups (rate %.3f)", reads, hits1-hits0, reqs1-reqs0, rate)
	if reqs1-reqs0 < reads || rate < 0.99 {
		t.Errorf("under a read load the user-context cache answered %.0f of %.0f lookups; want ≥ 99 %% of ≥ %d", hits1-hits0, reqs1-reqs0, reads)
	}

	writer, at := setAdmin(true)
	seen := everyServerAnswers(t, f, bob, http.StatusOK, at)
	t.Logf("bob made a site administrator through %s; first 200 from each server after %v", writer, seen)

	// Kill every subscription, then change at once: a server whose
	// subscription is down must not answer from its local layer, and one
	// that reconnects flushes it.
	rc, err := f.RedisClient()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	killed, err := rc.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Int()
	if err != nil {
		t.Fatal(err)
	}
	if killed < len(f.Servers) {
		t.Fatalf("CLIENT KILL TYPE pubsub killed %d connections; want at least one per server (%d)", killed, len(f.Servers))
	}
	writer, at = setAdmin(false)
	seen = everyServerAnswers(t, f, bob, http.StatusForbidden, at)
	t.Logf("%d subscriptions killed; bob's administration removed through %s; first 403 from each server after %v", killed, writer, seen)

	// The subscriptions are back, and carry the next change.
	waitFor(t, rightsChangeBound, "every server subscribed to usercontext:invalidated again", func() bool {
		n, err := rc.PubSubNumSub(ctx, "usercontext:invalidated").Result()
		return err == nil && n["usercontext:invalidated"] >= int64(len(f.Servers))
	})
	everyServerAnswers(t, f, bob, http.StatusForbidden, at) // warm again
	writer, at = setAdmin(true)
	seen = everyServerAnswers(t, f, bob, http.StatusOK, at)
	t.Logf("after the reconnection, bob made an administrator through %s; first 200 from each server after %v", writer, seen)
}

// userContextCounters sums usercontext_cache_hits_total and
// usercontext_cache_requests_total over the farm's servers.
func userContextCounters(t *testing.T, f *farm.Farm) (hits, requests float64) {
	t.Helper()
	for _, s := range f.Servers {
		resp, body := get(t, s+"/metrics")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/metrics: %d", s, resp.StatusCode)
		}
		for _, line := range strings.Split(string(body), "\n") {
			name, value, ok := strings.Cut(line, " ")
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				continue
			}
			switch name {
			case "usercontext_cache_hits_total":
				hits += v
			case "usercontext_cache_requests_total":
				requests += v
			}
		}
	}
	return hits, requests
}
