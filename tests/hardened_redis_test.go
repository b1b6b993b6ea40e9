package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/bench"
	"github.com/cesivi/cesivi/tests/farm"
)

// TestTheFarmOnTheSeedsHardenedRedis runs a farm on a Redis configured
// exactly as the seed's "Redis Security" section (requirepass,
// FLUSHDB/FLUSHALL/CONFIG/SHUTDOWN renamed away, TLS only on its tls-port
// with port 0) that Cesivi signs in to as an ACL user without the
// dangerous commands: a browser sign-in whose session every server sees,
// a write read through the other server, a rights change that pub/sub
// carries to every server, the health data read with INFO, the seed's
// runbook as the operator, and a Redis restart by signal (SHUTDOWN is
// gone) that the session survives. Redis refused no command Cesivi sent.
func TestTheFarmOnTheSeedsHardenedRedis(t *testing.T) {
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 2, Edges: 1, HardenedRedis: true})
	r := f.RedisServer()
	if r.TLS == nil || len(r.Users) == 0 {
		t.Fatal("the farm's Redis is not the hardened one")
	}
	edge := f.Edges[0]

	// Settings read with INFO as the ACL user; appendonly yes and the
	// default noeviction are safe, so nothing is warned about.
	for _, server := range f.Servers {
		resp, body := get(t, server+"/health/ready")
		var h healthBody
		if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 || h.Status != "Healthy" {
			t.Fatalf("%s/health/ready: %d %s", server, resp.StatusCode, body)
		}
		d := h.Entries["DistributedState"].Data
		if d["connected"] != true || d["maxmemoryPolicy"] != "noeviction" || d["aofEnabled"] != true || d["warnings"] != nil {
			t.Errorf("%s: DistributedState data %v", server, d)
		}
	}

	// Sign-in (the login state and the session in Redis), seen by every
	// server.
	cookie := signIn(t, f, edge)
	_, v := sessionGet(t, edge, cookie)
	everyServerSees(t, f, cookie, v.SessionID)

	// A write, read through the other server.
	admin := newAPIClient(t, f)
	list := edge + createList(t, admin, edge, "OnHardenedRedis")
	added := admin.must(t, http.StatusCreated, http.MethodPost, list+"/items", map[string]any{"Title": "over TLS"})
	var item spItem
	decodeJSON(t, added, &item)
	readOnAnotherServer(t, admin, fmt.Sprintf("%s/items(%d)", list, item.ID), added.Server, "over TLS", `"1"`)

	// A rights change through one server reaches every server's warm
	// cache by usercontext:invalidated.
	bobUser := testenv.DevUsers()[1]
	bob := newAPIClientAs(t, f, func(ctx context.Context) (string, error) {
		return bench.MintTokenAs(ctx, f, edge, bobUser.Username, bobUser.Password)
	})
	var ensured struct{ Id int64 }
	decodeJSON(t, admin.must(t, http.StatusOK, http.MethodPost, edge+"/_api/web/ensureuser", map[string]any{"logonName": bobUser.Email}), &ensured)
	everyServerAnswers(t, f, bob, http.StatusForbidden, time.Now())
	at := time.Now()
	admin.must(t, http.StatusNoContent, http.MethodPost, fmt.Sprintf("%s/_api/web/siteusers/getbyid(%d)", edge, ensured.Id),
		map[string]any{"IsSiteAdmin": true}, "X-HTTP-Method", "MERGE")
	seen := everyServerAnswers(t, f, bob, http.StatusOK, at)
	t.Logf("bob made an administrator; first 200 from each server after %v", seen)

	// The seed's runbook, as the operator over TLS.
	checkRunbook(t, f, v.SessionID)

	// Nothing Cesivi sent was refused for want of a right (ACL LOG keeps
	// every refusal since the server started).
	rc, err := f.RedisClient()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	refusals, err := rc.ACLLog(context.Background(), 10).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range refusals {
		t.Errorf("Redis refused %s for %s (%s)", e.Object, e.Username, e.Reason)
	}
	// Every connection but this one is Cesivi's, signed in as its user.
	clients, err := rc.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(clients), "\n") {
		for _, field := range strings.Fields(line) {
			if u, ok := strings.CutPrefix(field, "user="); ok {
				users[u]++
			}
		}
	}
	if users[testenv.CesiviUser] < len(f.Servers)+len(f.Edges) || users["default"] != 1 || len(users) != 2 {
		t.Errorf("connections by user: %v; want Cesivi's as %s and the operator's one", users, testenv.CesiviUser)
	}
	// Nor as an unknown (renamed) command: the processes would log it.
	logs, _ := filepath.Glob(filepath.Join(f.Dir(), "logs", "*.log"))
	for _, p := range logs {
		b, _ := os.ReadFile(p)
		for _, bad := range []string{"unknown command", "NOPERM", "NOAUTH", "WRONGPASS"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s mentions %q", filepath.Base(p), bad)
			}
		}
	}

	// Stopped by SIGTERM (SHUTDOWN is renamed away) and started again:
	// the clients reconnect over TLS and the session is still there.
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the session answering again after the Redis restart", func() bool {
		code, got := sessionGet(t, edge, cookie)
		return code == 200 && got.SessionID == v.SessionID
	})
	everyServerSees(t, f, cookie, v.SessionID)
}
