package tests

// The farm under fire (issue 14): one farm of three servers and two
// edges on PostgreSQL and Redis takes steady read load and eight writers
// while a server is SIGKILLed, every server is restarted in turn, Redis
// restarts and an edge dies. Reads must never fail; a write may fail only
// with a clean 502/503, which its client retries with the same
// Idempotency-Key, and at the end every write is stored exactly once.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

// fireShutdownDelay is the servers' drain before they stop accepting:
// longer than the edges' health interval plus timeout, as
// docs/deployment.md tells operators, so every edge has taken a
// draining server out of its rotation before it closes its connections.
const fireShutdownDelay = 5 * time.Second

func TestTheFarmUnderFire(t *testing.T) {
	f := startFarm(t, farm.Options{ServerEnv: []string{"Cesivi__Server__ShutdownDelay=" + fireShutdownDelay.String()}})
	c := newAPIClient(t, f)
	list := f.Edges[0] + createList(t, c, f.Edges[0], "UnderFire")
	anchor := c.must(t, http.StatusCreated, http.MethodPost, list+"/items", map[string]any{"Title": "anchor"})
	var anchorItem spItem
	decodeJSON(t, anchor, &anchorItem)
	cookie, session := createSession(t, f.Edges[0])

	t.Run("the seed's runbook", func(t *testing.T) { checkRunbook(t, f, session.SessionID) })

	load := startFireLoad(t, f, c, list, fmt.Sprintf("%s/items(%d)", list, anchorItem.ID), cookie, session.SessionID)
	t.Cleanup(load.stop)
	load.waitWrites(t, 40)

	t.Run("SIGKILL of a server under read and write load", func(t *testing.T) {
		load.phase("kill")
		if err := f.KillServer(1); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		load.waitWrites(t, 80)
		if err := f.RestartServer(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		load.waitServed(t, "server-2", time.Now())
		t.Logf("server-2 killed and back in every edge's rotation after %v", time.Since(killed).Round(time.Millisecond))
		load.report(t, "kill")
	})

	t.Run("rolling restart of every server under load", func(t *testing.T) {
		load.phase("rolling")
		for i := range f.Servers {
			name := fmt.Sprintf("server-%d", i+1)
			if err := f.StopServer(i); err != nil { // SIGTERM: drains
				t.Fatal(err)
			}
			if err := f.RestartServer(t.Context(), i); err != nil {
				t.Fatal(err)
			}
			load.waitServed(t, name, time.Now())
		}
		load.waitWrites(t, 20)
		load.report(t, "rolling")
		if n := load.writeFailures("rolling"); n != 0 {
			// A draining server is out of every edge's rotation before it
			// stops, so even writes should not see one failure.
			t.Errorf("%d writes failed during the rolling restart (retried, none lost); want none", n)
		}
	})

	load.stop()
	t.Run("every acknowledged write is stored exactly once", func(t *testing.T) { load.verify(t) })

	t.Run("Redis restart", func(t *testing.T) { redisRestart(t, f, c, list, cookie, session.SessionID) })

	t.Run("losing an edge", func(t *testing.T) {
		// Sessions made through the edge that dies live on in Redis.
		cookie2, s2 := createSession(t, f.Edges[1])
		if err := f.KillEdge(1); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct{ cookie, id string }{{cookie, session.SessionID}, {cookie2, s2.SessionID}} {
			for range 3 {
				if code, v := sessionGet(t, f.Edges[0], s.cookie); code != 200 || v.SessionID != s.id {
					t.Fatalf("after edge-2 died, edge-1 answered %d %+v for session %s", code, v, s.id)
				}
			}
		}
		c.must(t, http.StatusOK, http.MethodGet, list+"/items?$top=1", nil)
	})
}

// fireLoad is the steady load: readers of a session and an item through
// both edges, and writers adding and updating items and uploading files
// through both edges, each write with its own Idempotency-Key.
type fireLoad struct {
	f      *farm.Farm
	c      *apiClient
	list   string
	cookie string

	stopOnce sync.Once
	done     chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	cur   string
	reads map[string]*fireCount // by phase
	write map[string]*fireCount
	// seen is when each server last answered through each edge.
	seen map[string]map[string]time.Time
	// acked writes: added titles (final title after an acknowledged
	// update) and uploaded files' digests.
	items   map[string]string // add key -> title stored
	files   map[string]string // file name -> sha256
	acks    atomic.Int64
	hard    []string
	retries atomic.Int64
	// replays are answers a retry got from its first attempt's record
	// (Idempotent-Replayed): writes that committed but whose answer was
	// lost.
	replays atomic.Int64
}

type fireCount struct {
	ok, failed int
	reasons    map[string]int
}

func (n *fireCount) fail(reason string) {
	n.failed++
	if n.reasons == nil {
		n.reasons = map[string]int{}
	}
	n.reasons[reason]++
}

func startFireLoad(t *testing.T, f *farm.Farm, c *apiClient, list, item, cookie, sessionID string) *fireLoad {
	l := &fireLoad{f: f, c: c, list: list, cookie: cookie, done: make(chan struct{}), cur: "warm-up",
		reads: map[string]*fireCount{}, write: map[string]*fireCount{}, seen: map[string]map[string]time.Time{},
		items: map[string]string{}, files: map[string]string{}}
	for r := range 4 {
		edge := f.Edges[r%len(f.Edges)]
		l.wg.Go(func() { l.read(edge, item, sessionID, r) })
	}
	for w := range 8 {
		edge := f.Edges[w%len(f.Edges)]
		l.wg.Go(func() { l.writer(t, edge, w) })
	}
	return l
}

func (l *fireLoad) stopped() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *fireLoad) stop() {
	l.stopOnce.Do(func() { close(l.done) })
	l.wg.Wait()
}

func (l *fireLoad) phase(name string) {
	l.mu.Lock()
	l.cur = name
	l.mu.Unlock()
}

func (l *fireLoad) count(m map[string]*fireCount) *fireCount {
	n := m[l.cur]
	if n == nil {
		n = &fireCount{}
		m[l.cur] = n
	}
	return n
}

// read alternates the seed's session check and an item read.
func (l *fireLoad) read(edge, item, sessionID string, r int) {
	for i := 0; !l.stopped(); i++ {
		var req *http.Request
		if (i+r)%2 == 0 {
			req, _ = http.NewRequest(http.MethodGet, edge+"/api/session/get", nil)
			req.Header.Set("Cookie", l.cookie)
		} else {
			req, _ = http.NewRequest(http.MethodGet, strings.Replace(item, l.f.Edges[0], edge, 1), nil)
			token, err := l.c.bearer(context.Background())
			if err != nil {
				l.mu.Lock()
				l.count(l.reads).fail("access token: " + err.Error())
				l.mu.Unlock()
				continue
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", jsonNoMetadata)
		}
		resp, err := l.c.http.Do(req)
		reason := ""
		var body []byte
		if err != nil {
			reason = err.Error()
		} else {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				reason = fmt.Sprintf("%s: %d %s", req.URL.Path, resp.StatusCode, lastBytes(body, 120))
			} else if (i+r)%2 == 0 {
				var v sessionView
				if json.Unmarshal(body, &v) != nil || v.SessionID != sessionID {
					reason = "another session: " + lastBytes(body, 120)
				}
			}
		}
		l.mu.Lock()
		if reason != "" {
			l.count(l.reads).fail(reason)
		} else {
			l.count(l.reads).ok++
			if server := resp.Header.Get("X-Cesivi-Server-Id"); server != "" {
				if l.seen[edge] == nil {
					l.seen[edge] = map[string]time.Time{}
				}
				l.seen[edge][server] = time.Now()
			}
		}
		l.mu.Unlock()
	}
}

// writer adds an item, updates every other one it added and uploads a
// file every fourth time, until the load stops; each write is retried
// with its key until it is acknowledged.
func (l *fireLoad) writer(t *testing.T, edge string, w int) {
	base := strings.Replace(l.list, l.f.Edges[0], edge, 1)
	folder := edge + "/_api/web/GetFolderByServerRelativePath(decodedurl='/Shared Documents')"
	for n := 0; !l.stopped(); n++ {
		key := fmt.Sprintf("fire-w%d-%d", w, n)
		title := key
		r, ok := l.send(t, http.MethodPost, base+"/items", "add-"+key, jsonBody(map[string]any{"Title": title}), "application/json")
		if !ok {
			return
		}
		if r.Status != http.StatusCreated {
			l.hardFail(fmt.Sprintf("add %s: %v", key, r))
			return
		}
		var it spItem
		if json.Unmarshal(r.Body, &it) != nil || it.ID == 0 || it.Title != title {
			l.hardFail(fmt.Sprintf("add %s answered %v", key, r))
			return
		}
		l.ack(func() { l.items[key] = title })
		if n%2 == 1 {
			updated := title + "-updated"
			r, ok = l.send(t, http.MethodPost, fmt.Sprintf("%s/items(%d)", base, it.ID), "upd-"+key,
				jsonBody(map[string]any{"Title": updated}), "application/json", "X-HTTP-Method", "MERGE", "IF-Match", `"1"`)
			if !ok {
				return
			}
			if r.Status != http.StatusNoContent {
				l.hardFail(fmt.Sprintf("update %s: %v", key, r))
				return
			}
			l.ack(func() { l.items[key] = updated })
		}
		if n%4 == 2 {
			name := key + ".txt"
			content := []byte(strings.Repeat(key+" ", 50+n%7))
			r, ok = l.send(t, http.MethodPost, folder+"/files/addUsingPath(decodedurl='"+url.PathEscape(name)+"',Overwrite=true)",
				"up-"+key, content, "application/octet-stream")
			if !ok {
				return
			}
			if r.Status != http.StatusOK {
				l.hardFail(fmt.Sprintf("upload %s: %v", name, r))
				return
			}
			sum := sha256.Sum256(content)
			l.ack(func() { l.files[name] = hex.EncodeToString(sum[:]) })
		}
	}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (l *fireLoad) ack(record func()) {
	l.mu.Lock()
	record()
	l.count(l.write).ok++
	l.mu.Unlock()
	l.acks.Add(1)
}

func (l *fireLoad) hardFail(reason string) {
	l.mu.Lock()
	l.hard = append(l.hard, reason)
	l.mu.Unlock()
}

// send sends one write until it gets an answer that is not a clean
// 502/503 (the edge's or a server's, with Retry-After), retrying with the
// same key as a client that never saw the answer would. ok is false when
// the test must stop the writer.
func (l *fireLoad) send(t *testing.T, method, target, key string, body []byte, contentType string, headers ...string) (apiResponse, bool) {
	for attempt := 1; ; attempt++ {
		req, _ := http.NewRequest(method, target, bytes.NewReader(body))
		token, err := l.c.bearer(context.Background())
		if err != nil {
			l.hardFail("access token: " + err.Error())
			return apiResponse{}, false
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", jsonNoMetadata)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Idempotency-Key", key)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := l.c.http.Do(req)
		if err != nil {
			l.hardFail(fmt.Sprintf("%s %s: %v (the edges stay up: no transport error is clean)", method, key, err))
			return apiResponse{}, false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b, Server: resp.Header.Get("X-Cesivi-Server-Id")}
		if r.Status != http.StatusBadGateway && r.Status != http.StatusServiceUnavailable {
			if r.Header.Get("Idempotent-Replayed") == "true" {
				l.replays.Add(1)
			}
			return r, true
		}
		if _, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil {
			l.hardFail(fmt.Sprintf("%s %s: %v without Retry-After", method, key, r))
			return r, false
		}
		if _, _, isError := sharePointError(b); !isError {
			l.hardFail(fmt.Sprintf("%s %s: %v is not a SharePoint error body", method, key, r))
			return r, false
		}
		l.mu.Lock()
		l.count(l.write).fail(fmt.Sprintf("%d from %s", r.Status, cmp.Or(r.Server, "the edge")))
		l.mu.Unlock()
		l.retries.Add(1)
		if attempt == 100 {
			l.hardFail(fmt.Sprintf("%s %s: still %v after 100 attempts", method, key, r))
			return r, false
		}
		// Retry-After is advice for people; the test retries sooner.
		time.Sleep(100 * time.Millisecond)
	}
}

// waitWrites waits until n more writes are acknowledged.
func (l *fireLoad) waitWrites(t *testing.T, n int64) {
	t.Helper()
	target := l.acks.Load() + n
	waitFor(t, 60*time.Second, fmt.Sprintf("%d more acknowledged writes", n), func() bool {
		l.mu.Lock()
		hard := len(l.hard)
		l.mu.Unlock()
		if hard > 0 {
			t.Fatalf("a writer failed: %v", l.hardFailures())
		}
		return l.acks.Load() >= target
	})
}

func (l *fireLoad) hardFailures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.hard...)
}

// waitServed waits until server has answered a read through every edge
// after since: it is back in every edge's rotation.
func (l *fireLoad) waitServed(t *testing.T, server string, since time.Time) {
	t.Helper()
	waitFor(t, 60*time.Second, server+" answering through every edge", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, edge := range l.f.Edges {
			if !l.seen[edge][server].After(since) {
				return false
			}
		}
		return true
	})
}

func (l *fireLoad) writeFailures(phase string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.write[phase]; n != nil {
		return n.failed
	}
	return 0
}

// report logs the phase's figures and fails on any read failure.
func (l *fireLoad) report(t *testing.T, phase string) {
	t.Helper()
	l.mu.Lock()
	reads, writes := l.reads[phase], l.write[phase]
	l.mu.Unlock()
	if reads == nil || writes == nil {
		t.Fatalf("phase %s: no load ran (reads %v, writes %v)", phase, reads, writes)
	}
	t.Logf("%s: reads %d answered, %d failed; writes %d acknowledged, %d clean 502/503 retried %v",
		phase, reads.ok, reads.failed, writes.ok, writes.failed, writes.reasons)
	if reads.failed != 0 {
		t.Errorf("%s: %d reads failed: %v", phase, reads.failed, reads.reasons)
	}
	if hard := l.hardFailures(); len(hard) > 0 {
		t.Fatalf("%s: writes failed in a way a client cannot retry: %v", phase, hard)
	}
}

// verify reads the list and the library back: every acknowledged add is
// one item with its last acknowledged title, nothing else was stored,
// and every acknowledged upload is one file with its content.
func (l *fireLoad) verify(t *testing.T) {
	if hard := l.hardFailures(); len(hard) > 0 {
		t.Fatalf("writes failed in a way a client cannot retry: %v", hard)
	}
	all, err := readAllItems(t.Context(), l.c, l.list)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, it := range all {
		stored[it.Title]++
	}
	var missing, twice []string
	for key, title := range l.items {
		switch stored[title] {
		case 0:
			missing = append(missing, key)
		case 1:
		default:
			twice = append(twice, key)
		}
		delete(stored, title)
	}
	delete(stored, "anchor")
	sort.Strings(missing)
	sort.Strings(twice)
	if len(missing) > 0 || len(twice) > 0 || len(stored) > 0 {
		t.Errorf("of %d acknowledged adds: missing %v, stored more than once %v; items nobody saw acknowledged %v",
			len(l.items), missing, twice, stored)
	}
	var files struct {
		Value []struct {
			Name   string `json:"Name"`
			Length string `json:"Length"`
		} `json:"value"`
	}
	decodeJSON(t, l.c.must(t, http.StatusOK, http.MethodGet,
		l.f.Edges[0]+"/_api/web/GetFolderByServerRelativePath(decodedurl='/Shared Documents')/files?$select=Name,Length", nil), &files)
	names := map[string]bool{}
	for _, f := range files.Value {
		names[f.Name] = true
	}
	for name, sum := range l.files {
		if !names[name] {
			t.Errorf("acknowledged upload %s is not in the library", name)
			continue
		}
		r := l.c.must(t, http.StatusOK, http.MethodGet,
			l.f.Edges[1]+"/_api/web/GetFileByServerRelativePath(decodedurl='/Shared Documents/"+url.PathEscape(name)+"')/$value", nil)
		if got := sha256.Sum256(r.Body); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s has other content than was uploaded", name)
		}
	}
	if len(files.Value) != len(l.files) {
		t.Errorf("the library holds %d files; %d uploads were acknowledged", len(files.Value), len(l.files))
	}
	t.Logf("%d items and %d files acknowledged, each stored once; %d retries of a clean 502/503 in all, %d answered from the first attempt's record",
		len(l.items), len(l.files), l.retries.Load(), l.replays.Load())
}

// redisCLI runs the seed's redis-cli command against the farm's Redis, as
// its operator, and returns its output.
func redisCLI(t *testing.T, f *farm.Farm, args ...string) string {
	t.Helper()
	bin, err := testenv.FindBinary("redis-cli")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append(slices.Clip(f.RedisCLI), args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// checkRunbook runs the seed's troubleshooting commands as written.
func checkRunbook(t *testing.T, f *farm.Farm, sessionID string) {
	if keys := redisCLI(t, f, "KEYS", "session:*"); !strings.Contains(keys, "session:"+sessionID) {
		t.Errorf(`KEYS "session:*" = %q; want session:%s among them`, keys, sessionID)
	}
	ttl, err := strconv.Atoi(redisCLI(t, f, "TTL", "session:"+sessionID))
	if err != nil || ttl <= 0 || ttl > 20*60 {
		t.Errorf(`TTL "session:%s" = %d, %v; want the anonymous session's 20 minutes at most`, sessionID, ttl, err)
	}
	if ch := redisCLI(t, f, "PUBSUB", "CHANNELS"); !strings.Contains(ch, "usercontext:invalidated") {
		t.Errorf("PUBSUB CHANNELS = %q; want usercontext:invalidated", ch)
	}
	// Every server listens: PUBLISH reports how many subscribers got it.
	receivers, err := strconv.Atoi(redisCLI(t, f, "PUBLISH", "usercontext:invalidated", "test"))
	if err != nil || receivers < len(f.Servers) {
		t.Errorf(`PUBLISH usercontext:invalidated "test" reached %d subscribers, %v; want every server's (%d)`, receivers, err, len(f.Servers))
	}
	for _, server := range f.Servers {
		_, body := get(t, server+"/metrics")
		for _, name := range []string{`http_requests_total{`, `status="`, "http_request_duration_seconds_bucket{",
			"redis_sessions_active ", "usercontext_cache_hits_total", "usercontext_cache_requests_total"} {
			if !bytes.Contains(body, []byte(name)) {
				t.Errorf("%s/metrics has no %s (the seed's PromQL needs it)", server, name)
			}
		}
	}
}

// redisRestart kills and restarts Redis while clients keep asking through both
// edges: every answer is the same session or a clean 503 with
// Retry-After, and afterwards everything works again without restarting
// any Cesivi process.
func redisRestart(t *testing.T, f *farm.Farm, c *apiClient, list, cookie, sessionID string) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	var bad []string
	for w := range 4 {
		edge := f.Edges[w%len(f.Edges)]
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, edge+"/api/session/get", nil)
				req.Header.Set("Cookie", cookie)
				resp, err := client.Do(req)
				mu.Lock()
				switch {
				case err != nil:
					bad = append(bad, err.Error())
				default:
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var v sessionView
					switch {
					case resp.StatusCode == 200 && json.Unmarshal(body, &v) == nil && v.SessionID == sessionID:
						counts["200"]++
					case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
						counts["503"]++
						if len(resp.Header.Values("Set-Cookie")) > 0 {
							bad = append(bad, "a 503 during the outage cleared the cookie")
						}
					default:
						bad = append(bad, fmt.Sprintf("%d %s", resp.StatusCode, lastBytes(body, 200)))
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	// A crash: Redis has written every acknowledged command to its
	// append-only file before answering, so SIGKILL loses none.
	started := time.Now()
	if err := f.RedisServer().Kill(); err != nil {
		t.Fatal(err)
	}
	// While it is down, what needs Redis (a new session) is a clean 503
	// with Retry-After through every edge, at once.
	for _, edge := range f.Edges {
		waitFor(t, 30*time.Second, edge+" answering a clean 503 to a new session while Redis is down", func() bool {
			asked := time.Now()
			resp, err := client.Get(edge + "/api/session/create")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 503 {
				if resp.Header.Get("Retry-After") == "" || len(resp.Header.Values("Set-Cookie")) > 0 {
					t.Fatalf("%s: a 503 without Retry-After, or with a cookie: %v %s", edge, resp.Header, body)
				}
				t.Logf("%s: 503 for a new session after %v: %s", edge, time.Since(asked).Round(time.Millisecond), lastBytes(body, 160))
				return true
			}
			return false
		})
	}
	if err := f.RedisServer().Restart(t.Context()); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	t.Logf("Redis down and up again in %v", time.Since(started).Round(time.Millisecond))
	// Every server listens on usercontext:invalidated again by itself.
	waitFor(t, 30*time.Second, "every server subscribed to usercontext:invalidated again", func() bool {
		out := redisCLI(t, f, "PUBSUB", "NUMSUB", "usercontext:invalidated")
		fields := strings.Fields(out)
		n, err := strconv.Atoi(fields[len(fields)-1])
		return err == nil && n >= len(f.Servers)
	})
	close(stop)
	wg.Wait()
	t.Logf("during the Redis restart: %v", counts)
	if len(bad) > 0 {
		t.Fatalf("%d answers were neither the session nor a clean 503: %v", len(bad), bad[:min(len(bad), 5)])
	}
	// Full service: the session on every server through every edge, a new
	// session, and writes. (Servers whose readiness failed while Redis was
	// down rejoin the edges' rotation at their next passing health check.)
	everyServerSeesWithin(t, f, cookie, sessionID, 30*time.Second)
	if _, s := createSession(t, f.Edges[1]); s.SessionID == "" {
		t.Fatal("no session created after the restart")
	}
	waitFor(t, 30*time.Second, "a write after the Redis restart", func() bool {
		r, err := c.do(t.Context(), http.MethodPost, list+"/items", map[string]any{"Title": "after redis"})
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		return r.Status == http.StatusCreated
	})
}
