package appserver

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newServer(t *testing.T, env ...string) *Server {
	t.Helper()
	return newServerLogging(t, io.Discard, env...)
}

// newServerLogging is newServer with its log written to w (JSON lines).
func newServerLogging(t *testing.T, w io.Writer, env ...string) *Server {
	t.Helper()
	// Keys in the test's directory, never in the home directory.
	env = append([]string{"Cesivi__DataProtection__KeysPath=" + t.TempDir()}, env...)
	s, err := config.Load(t.TempDir(), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	format := "simple"
	if w != io.Discard {
		format = "json"
	}
	logs, err := logging.New(w, format, s.Logging.LogLevel)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(s, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

type healthBody struct {
	Status        string `json:"status"`
	TotalDuration string `json:"totalDuration"`
	Entries       map[string]struct {
		Status      string         `json:"status"`
		Description string         `json:"description"`
		Data        map[string]any `json:"data"`
	} `json:"entries"`
}

func getHealth(t *testing.T, base, path string) (int, healthBody) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b healthBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("%s: body is not the health JSON: %v", path, err)
	}
	return resp.StatusCode, b
}

func TestInMemoryServerReportsHealthInTheSeedsShape(t *testing.T) {
	srv := newServer(t, "Cesivi__Farm__ServerId=server-x")
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	for _, path := range []string{"/health", "/health/ready"} {
		code, b := getHealth(t, ts.URL, path)
		if code != 200 || b.Status != "Healthy" {
			t.Fatalf("%s: %d %s", path, code, b.Status)
		}
		if len(b.TotalDuration) != len("00:00:00.0234567") || b.TotalDuration[2] != ':' {
			t.Errorf("%s: totalDuration %q is not a TimeSpan", path, b.TotalDuration)
		}
		if e := b.Entries["DataProtection"]; e.Status != "Healthy" || e.Data["provider"] != "FileSystem" || e.Data["currentKeyId"] == nil {
			t.Errorf("%s: DataProtection = %+v", path, e)
		}
		for _, name := range []string{"DistributedState", "Storage"} {
			e, ok := b.Entries[name]
			if !ok {
				t.Fatalf("%s: no %s entry: %+v", path, name, b.Entries)
			}
			if e.Status != "Healthy" || e.Data["provider"] != "InMemory" || e.Data["connected"] != true || e.Description == "" {
				t.Errorf("%s: %s = %+v", path, name, e)
			}
		}
	}
	code, b := getHealth(t, ts.URL, "/health/live")
	if code != 200 || b.Status != "Healthy" {
		t.Errorf("/health/live: %d %s", code, b.Status)
	}

	// Through an edge (with an assertion), an unknown path is a JSON 404.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/nowhere", nil)
	req.Header.Set(identity.AssertionHeader, mint(t, srv.backends.KeyRing, keyring.Assertion{Request: "GET /nowhere"}))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), "/nowhere") || resp.Header.Get("X-Cesivi-Server-Id") != "server-x" {
		t.Errorf("unknown path: %d %s (server id %q)", resp.StatusCode, body, resp.Header.Get("X-Cesivi-Server-Id"))
	}

	// Through an edge (an assertion: anyone may have sent it), health
	// says the status and nothing of the dependencies.
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/health/ready", nil)
	req.Header.Set(identity.AssertionHeader, mint(t, srv.backends.KeyRing, keyring.Assertion{Request: "GET /health/ready"}))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"Healthy"`) ||
		strings.Contains(string(body), "provider") || strings.Contains(string(body), "currentKeyId") {
		t.Errorf("health through an edge: %d %s; want the status only", resp.StatusCode, body)
	}

	// A routed request that carries an assertion is labelled with its
	// route (the mux sets the pattern on a copy of the request).
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/api/session/get", nil)
	req.Header.Set(identity.AssertionHeader, mint(t, srv.backends.KeyRing, keyring.Assertion{SessionID: "s1"}))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	resp, err = http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`http_requests_total{endpoint="/health",method="GET",status="200"} 1`,
		`http_requests_total{endpoint="unmatched",method="GET",status="404"} 1`,
		`http_requests_total{endpoint="/api/session/get",method="GET",status="200"} 1`,
		`http_request_duration_seconds_bucket{endpoint="/health/ready",method="GET",le="+Inf"} 2`,
		"go_goroutines",
		// The seed's dashboards query these.
		"redis_sessions_active",
		"usercontext_cache_hits_total",
		"usercontext_cache_requests_total",
		`cesivi_keyring_keys{state="active"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReadinessFailsWhileRedisIsDownAndRecovers(t *testing.T) {
	redis := testenv.RedisPrivate(t, testenv.RedisOptions{AppendOnly: true})
	ts := httptest.NewServer(newServer(t,
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString="+redis.Addr+",abortConnect=false,connectTimeout=500,syncTimeout=500",
	).Handler())
	defer ts.Close()

	code, b := getHealth(t, ts.URL, "/health/ready")
	if code != 200 || b.Entries["DistributedState"].Data["connected"] != true || b.Entries["DistributedState"].Data["provider"] != "Redis" {
		t.Fatalf("with Redis up: %d %+v", code, b)
	}
	if err := redis.Kill(); err != nil {
		t.Fatal(err)
	}
	code, b = awaitHealth(t, ts.URL, "/health/ready", 503)
	e := b.Entries["DistributedState"]
	if code != 503 || b.Status != "Unhealthy" || e.Status != "Unhealthy" || e.Data["connected"] != false {
		t.Fatalf("with Redis down, ready = %d %s %+v; want 503 Unhealthy, connected false", code, b.Status, e)
	}
	if b.Entries["Storage"].Status != "Healthy" {
		t.Errorf("storage should stay healthy: %+v", b.Entries["Storage"])
	}
	// The basic check degrades instead of failing, so a Redis outage does
	// not get every server restarted by its liveness probe.
	code, b = awaitHealth(t, ts.URL, "/health", 200)
	if code != 200 || b.Status != "Degraded" {
		t.Errorf("with Redis down, /health = %d %s; want 200 Degraded", code, b.Status)
	}
	if code, _ := getHealth(t, ts.URL, "/health/live"); code != 200 {
		t.Errorf("/health/live = %d with Redis down; want 200", code)
	}

	if err := redis.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ = getHealth(t, ts.URL, "/health/ready")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ready still %d 10 s after Redis came back", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReadinessFailsWhilePostgresIsDown(t *testing.T) {
	pg := testenv.PostgresPrivate(t)
	ts := httptest.NewServer(newServer(t,
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString="+pg.URL(),
	).Handler())
	defer ts.Close()

	code, b := getHealth(t, ts.URL, "/health/ready")
	if code != 200 || b.Entries["Storage"].Data["provider"] != "PostgreSQL" || b.Entries["Storage"].Data["connected"] != true {
		t.Fatalf("with PostgreSQL up: %d %+v", code, b)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	code, b = awaitHealth(t, ts.URL, "/health/ready", 503)
	if code != 503 || b.Entries["Storage"].Data["connected"] != false {
		t.Fatalf("with PostgreSQL down: %d %+v; want 503, connected false", code, b.Entries["Storage"])
	}
}

// awaitHealth asks path until it answers code (reports are cached for a
// second) or 10 s pass, and returns the last answer.
func awaitHealth(t *testing.T, base, path string, code int) (int, healthBody) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, b := getHealth(t, base, path)
		if got == code || time.Now().After(deadline) {
			return got, b
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestShutdownDrainsInFlightRequestsAndTurnsReadinessOff(t *testing.T) {
	srv := newServer(t, "Cesivi__Server__ShutdownDelay=300ms", "Cesivi__Server__ShutdownTimeout=5s")
	release := make(chan struct{})
	started := make(chan struct{})
	app := srv.handler
	srv.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
			io.WriteString(w, "finished")
			return
		}
		app.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-started
	cancel() // as SIGTERM does

	// During the shutdown delay the server still answers, but not ready.
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, b := getHealth(t, base, "/health/ready")
		if code == 503 {
			if b.Entries["Server"].Description != "shutting down" {
				t.Errorf("draining entry: %+v", b.Entries["Server"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readiness never turned 503 after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if got := <-slow; got != "finished" {
		t.Fatalf("in-flight request: %q, want it finished", got)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := http.Get(base + "/health/live"); err == nil {
		t.Error("the listener still accepts connections after shutdown")
	}
}
