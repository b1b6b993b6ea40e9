// Package tests holds the farm-level end-to-end tests: real edges (Caddy
// with the Cesivi modules), real app servers, Redis, PostgreSQL and an
// OpenID provider, all as processes on loopback, started by tests/farm.
package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/tests/farm"
)

func startFarm(t *testing.T, opt farm.Options) *farm.Farm {
	t.Helper()
	opt.FreePorts = true
	if !opt.HardenedRedis {
		h, err := farm.HardenedRedisFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		opt.HardenedRedis = h
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	f, err := farm.Start(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("farm of %d servers and %d edges up in %v", len(f.Servers), len(f.Edges), time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, f.Dir())
		}
		if err := f.Stop(); err != nil {
			t.Errorf("stopping the farm: %v", err)
		}
	})
	return f
}

func dumpLogs(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("--- %s\n%s", filepath.Base(f), b)
	}
}

type healthBody struct {
	Status        string `json:"status"`
	TotalDuration string `json:"totalDuration"`
	Entries       map[string]struct {
		Status string         `json:"status"`
		Data   map[string]any `json:"data"`
	} `json:"entries"`
}

var client = &http.Client{Timeout: 10 * time.Second}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestFarmAnswersHealthThroughEveryEdgeAndDetailsOnEveryServer(t *testing.T) {
	f := startFarm(t, farm.Options{})
	for _, edge := range f.Edges {
		// Through an edge, anyone may ask: the status, nothing of the
		// dependencies.
		for _, path := range []string{"/health", "/health/ready"} {
			resp, body := get(t, edge+path)
			var h healthBody
			if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 || h.Status != "Healthy" || len(h.Entries) != 0 {
				t.Fatalf("%s%s: %d %s; want 200 Healthy and no entries", edge, path, resp.StatusCode, body)
			}
		}
		if resp, body := get(t, edge+"/health/live"); resp.StatusCode != 200 {
			t.Errorf("%s/health/live: %d %s", edge, resp.StatusCode, body)
		}
		// Metrics are for Prometheus, which scrapes the servers directly;
		// through an edge they need a signed-in user.
		if resp, body := get(t, edge+"/metrics"); resp.StatusCode != 401 {
			t.Errorf("%s/metrics without sign-in: %d %s; want 401", edge, resp.StatusCode, body)
		}
	}
	for _, server := range f.Servers {
		// On a server's own port, the seed's detailed report.
		for _, path := range []string{"/health", "/health/ready"} {
			resp, body := get(t, server+path)
			var h healthBody
			if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 || h.Status != "Healthy" {
				t.Fatalf("%s%s: %d %s", server, path, resp.StatusCode, body)
			}
			state, storage := h.Entries["DistributedState"], h.Entries["Storage"]
			if state.Data["provider"] != "Redis" || state.Data["connected"] != true {
				t.Errorf("%s%s: DistributedState %+v", server, path, state)
			}
			if storage.Data["provider"] != "PostgreSQL" || storage.Data["connected"] != true {
				t.Errorf("%s%s: Storage %+v", server, path, storage)
			}
		}
		if resp, body := get(t, server+"/metrics"); resp.StatusCode != 200 || !strings.Contains(string(body), "http_requests_total{") {
			t.Errorf("%s/metrics: %d, http_requests_total missing", server, resp.StatusCode)
		}
	}
}

func TestEdgeSpreadsRequestsOverEveryServerWithoutAffinity(t *testing.T) {
	f := startFarm(t, farm.Options{})
	seen := map[string]int{}
	for range 30 {
		resp, _ := get(t, f.Edges[0]+"/health/live")
		seen[resp.Header.Get("X-Cesivi-Server-Id")]++
	}
	var ids []string
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if strings.Join(ids, ",") != "server-1,server-2,server-3" {
		t.Fatalf("servers that answered: %v; want all three", seen)
	}
	for id, n := range seen {
		if n != 10 {
			t.Errorf("%s answered %d of 30; round robin gives 10 each (%v)", id, n, seen)
		}
	}
}

// TestLosingAServerUnderLoadLosesNoRequest stops one server gracefully and
// kills another while clients keep sending requests through both edges,
// half of them with a session that must survive it.
func TestLosingAServerUnderLoadLosesNoRequest(t *testing.T) {
	f := startFarm(t, farm.Options{})
	// Half the clients carry a session: it must stay the same session, on
	// whichever server answers, through both edges.
	cookie, created := createSession(t, f.Edges[0])
	var ok, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			edge := f.Edges[w%len(f.Edges)]
			for {
				select {
				case <-stop:
					return
				default:
				}
				path := "/health/live"
				req, _ := http.NewRequest(http.MethodGet, edge+path, nil)
				if w%2 == 1 {
					req, _ = http.NewRequest(http.MethodGet, edge+"/api/session/get", nil)
					req.Header.Set("Cookie", cookie)
				}
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					failures.Store(err.Error(), true)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					failures.Store(fmt.Sprintf("status %d", resp.StatusCode), true)
					continue
				}
				if w%2 == 1 {
					var v sessionView
					if json.Unmarshal(body, &v) != nil || v.SessionID != created.SessionID {
						failed.Add(1)
						failures.Store("another session: "+string(body), true)
						continue
					}
				}
				ok.Add(1)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	if err := f.StopServer(0); err != nil { // SIGTERM: drains
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := f.KillServer(1); err != nil { // SIGKILL: a crash
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := f.RestartServer(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	t.Logf("%d requests answered, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 {
		var reasons []string
		failures.Range(func(k, _ any) bool { reasons = append(reasons, k.(string)); return true })
		t.Fatalf("%d requests failed while servers went away: %v", failed.Load(), reasons)
	}
	if ok.Load() < 50 {
		t.Fatalf("only %d requests answered; the load did not run", ok.Load())
	}
	// server-1 comes back into the rotation once the passive health check's
	// fail_duration (10 s) has expired; server-2 stays out.
	deadline := time.Now().Add(20 * time.Second)
	for {
		seen := map[string]bool{}
		for range 12 {
			resp, _ := get(t, f.Edges[0]+"/health/live")
			seen[resp.Header.Get("X-Cesivi-Server-Id")] = true
		}
		if seen["server-2"] {
			t.Fatalf("the killed server-2 answered: %v", seen)
		}
		if seen["server-1"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server-1 did not come back into the rotation within 20 s: %v", seen)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestDetachedFarmWritesItsManifestAndDownLeavesNothing(t *testing.T) {
	// As make farm does: the processes' directory is a temporary one, the
	// manifest directory only links to it.
	stateDir, err := os.MkdirTemp("", "cesivi-farm-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	dir := filepath.Join(t.TempDir(), "farm")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hardened, err := farm.HardenedRedisFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	f, err := farm.Start(ctx, farm.Options{StateDir: stateDir, Detached: true, FreePorts: true, Servers: 2, Edges: 1, HardenedRedis: hardened})
	if err != nil {
		t.Fatal(err)
	}
	path, err := f.WriteManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "edges,idp,pids,postgres,redis,redisCli,servers" {
		t.Errorf("farm.json keys = %s", got)
	}
	var m farm.Manifest
	_ = json.Unmarshal(data, &m)
	if cli := strings.Join(m.RedisCLI, " "); !strings.Contains(cli, "-p "+m.Redis[strings.LastIndexByte(m.Redis, ':')+1:]) || strings.Contains(cli, "--tls") != hardened {
		t.Errorf("farm.json redisCli = %q for Redis %s (hardened: %v)", cli, m.Redis, hardened)
	}
	if m.IdP.Issuer == "" || m.IdP.Username == "" || m.IdP.Password == "" || !strings.HasPrefix(m.Postgres, "postgres") {
		t.Errorf("manifest %+v", m)
	}
	// users: the administrator (username/password's) and a user with no
	// rights, each with a password.
	if u := m.IdP.Users; len(u) != 2 || u[0].Username != m.IdP.Username || u[0].Password != m.IdP.Password || !u[0].Admin ||
		u[1].Admin || u[1].Username == "" || u[1].Password == "" || u[1].Username == u[0].Username {
		t.Errorf("farm.json idp.users = %+v", m.IdP.Users)
	}
	if resp, _ := get(t, m.Edges[0]+"/health"); resp.StatusCode != 200 {
		t.Errorf("edge /health = %d", resp.StatusCode)
	}
	wantNames := []string{"edge-1", "idp", "postgres", "redis", "server-1", "server-2"}
	for _, n := range wantNames {
		if m.PIDs[n] == 0 {
			t.Errorf("no PID for %s: %v", n, m.PIDs)
		}
	}

	stopped, err := farm.Down(dir)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(stopped)
	if strings.Join(stopped, ",") != strings.Join(wantNames, ",") {
		t.Errorf("Down stopped %v, want %v", stopped, wantNames)
	}
	for name, pid := range m.PIDs {
		if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
			t.Errorf("%s (pid %d) still runs after Down", name, pid)
		}
	}
	for _, d := range []string{dir, stateDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Down: %v", d, err)
		}
	}
}

// isZombie: a detached child of this test process that exited but was not
// reaped still answers kill(0).
func isZombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
