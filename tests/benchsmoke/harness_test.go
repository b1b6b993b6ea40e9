package benchsmoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

// TestMain builds the programs once unless make already did (CESIVI_BIN),
// and stops the shared PostgreSQL at the end.
func TestMain(m *testing.M) {
	if os.Getenv("CESIVI_BIN") == "" {
		dir, err := os.MkdirTemp("", "cesivi-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for name, pkg := range map[string]string{"cesivi-server": "./cmd/cesivi-server", "cesivi-edge": "./cmd/cesivi-edge"} {
			if err := farm.Build(context.Background(), pkg, filepath.Join(dir, name)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Setenv("CESIVI_BIN", dir)
		// testenv.Main exits; the binaries stay in the temporary
		// directory, as a build cache would.
	}
	testenv.Main(m)
}

// rig is one app server on PostgreSQL (through the statement counter) and
// edges in front of it, on a Redis of their own, signing in with the
// in-process provider.
type rig struct {
	dir      string
	redis    *testenv.RedisServer
	rc       *redis.Client
	idp      *testenv.IdentityProvider
	pg       *PGCounter
	server   string // http://127.0.0.1:port
	keysPath string
	edgeEnv  []string
}

// edge is one cesivi-edge process.
type edge struct {
	URL        string
	MetricsURL string
}

func bin(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(os.Getenv("CESIVI_BIN"), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v (make build, or unset CESIVI_BIN to build here)", p, err)
	}
	return p
}

func startRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{dir: t.TempDir()}
	// The edges' Redis serves nothing else: the app server keeps its own
	// state in memory, so every command counted is an edge's.
	r.redis = testenv.RedisPrivate(t, testenv.RedisOptions{})
	r.rc = redis.NewClient(&redis.Options{Addr: r.redis.Addr})
	t.Cleanup(func() { r.rc.Close() })
	// The provider logs every request through the process-wide slog;
	// this binary runs one test, so silencing it keeps the counts
	// readable in CI logs.
	r.idp = testenv.IdentityProviderT(t, testenv.IdPOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

	pgURL, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.pg, err = StartPGCounter(pgURL.Host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.pg.Close() })
	pgURL.Host = r.pg.Addr()

	r.keysPath = filepath.Join(r.dir, "keys")
	if err := os.MkdirAll(r.keysPath, 0o700); err != nil {
		t.Fatal(err)
	}
	shared := []string{
		"Cesivi__DataProtection__Provider=SharedDirectory",
		"Cesivi__DataProtection__KeysPath=" + r.keysPath,
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	r.server = "http://" + addr
	r.start(t, "server", bin(t, "cesivi-server"), append([]string{
		"Cesivi__Server__Address=" + addr,
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString=" + pgURL.String(),
		"Cesivi__DistributedState__Provider=InMemory",
		"Cesivi__Sites__Administrators=" + testenv.DevUsers()[0].Subject,
		"Logging__LogLevel__Default=Warning",
	}, shared...))
	waitOK(t, r.server+"/health/ready")
	r.edgeEnv = append([]string{
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString=" + r.redis.Addr,
		"SMOKE_OIDC_SECRET=" + r.idp.ClientSecret,
	}, shared...)
	return r
}

func (r *rig) start(t *testing.T, name, program string, env []string, args ...string) {
	t.Helper()
	logPath := filepath.Join(r.dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(program, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.dir}, env...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = log, log
	p, err := testenv.StartProcess(cmd, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
			t.Errorf("stopping %s: %v", name, err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, tail(string(b), 30))
		}
	})
}

const edgeConfig = `{
	admin off
	auto_https off
	persist_config off
	storage file_system %[1]s
	log default {
		level ERROR
	}
	cesivi {
		session_cache_ttl %[2]s
		oidc {
			issuer %[3]s
			client_id %[4]s
			client_secret {env.SMOKE_OIDC_SECRET}
		}
	}
}
http://127.0.0.1:%[5]d {
	cesivi_session {
		anonymous /health /health/* /api/session/*
	}
	reverse_proxy %[6]s
}
http://127.0.0.1:%[7]d {
	metrics
}
`

// startEdge starts an edge whose session cache keeps a copy for ttl (a
// Caddy duration; negative: no cache, one Redis read per request).
func (r *rig) startEdge(t *testing.T, name, ttl string) *edge {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsPort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.dir, name+".Caddyfile")
	cfg := fmt.Sprintf(edgeConfig, filepath.Join(r.dir, "caddy-"+name), ttl, r.idp.Issuer, r.idp.ClientID,
		port, strings.TrimPrefix(r.server, "http://"), metricsPort)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start(t, name, bin(t, "cesivi-edge"), r.edgeEnv, "run", "--config", path, "--adapter", "caddyfile")
	e := &edge{URL: fmt.Sprintf("http://127.0.0.1:%d", port), MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)}
	r.idp.AddRedirectURIs(e.URL + "/oauth2/callback")
	waitOK(t, e.URL+"/health/ready")
	return e
}

// signIn runs the browser sign-in on e and returns a client holding the
// session cookie.
func (r *rig) signIn(t *testing.T, e *edge) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := r.idp.Login(context.Background(), c, e.URL+"/oauth2/login?rd=/api/session/get")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cb.Body.Close()
	if cb.StatusCode != http.StatusFound {
		t.Fatalf("sign-in callback: %s", cb.Status)
	}
	return c
}

// accessToken is an access token of the provider's administrator, as an
// API client holds one (the code flow, with a redirect the test reads).
func (r *rig) accessToken(t *testing.T) string {
	t.Helper()
	redirect := "http://127.0.0.1:1/api-client/callback"
	r.idp.AddRedirectURIs(redirect)
	mem, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	flow, err := oidclogin.New(oidclogin.Config{Issuer: r.idp.Issuer, ClientID: r.idp.ClientID, ClientSecret: r.idp.ClientSecret}, mem.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	authURL, err := flow.Begin(ctx, oidclogin.BeginRequest{RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.idp.Login(ctx, nil, authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := flow.Complete(ctx, oidclogin.CompleteRequest{State: cb.Query().Get("state"), Code: cb.Query().Get("code")})
	if err != nil {
		t.Fatal(err)
	}
	if res.AccessToken == "" {
		t.Fatal("the provider issued no access token")
	}
	return res.AccessToken
}

// commandStats reads the edges' Redis' per-command counts.
func (r *rig) commandStats(t *testing.T) CommandStats {
	t.Helper()
	info, err := r.rc.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseCommandStats(info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call sends one request and fails the test unless it is answered want.
func call(t testing.TB, c *http.Client, method, target string, body any, want int, header ...string) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;odata=nometadata")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s %s; want %d", method, target, resp.Status, tail(string(b), 5), want)
	}
	return b
}

// metric reads an unlabelled sample from a Prometheus text page.
func metric(t testing.TB, page, name string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s on the metrics page", name)
	return 0
}

func waitOK(t *testing.T, target string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(target)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 60 s (last: %v)", target, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
