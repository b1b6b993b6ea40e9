package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

// pnpjsDir holds the acceptance scenario, its package.json and lock file;
// node_modules beside them is git-ignored and installed by the test.
const pnpjsDir = "pnpjs"

// pnpjsPinned is the @pnp/sp version the scenario is written against.
const pnpjsPinned = "4.21.0"

// TestPnPjsSharePointScenario is the SharePoint REST API's acceptance test:
// @pnp/sp 4.21.0, unmodified, run by Node's own test runner through an
// edge with a signed-in session (the digest flow) and with a bearer token
// (no digest), on a PostgreSQL farm of several servers and on a
// single-server InMemory farm.
func TestPnPjsSharePointScenario(t *testing.T) {
	node := ensureNode(t)
	dir, err := filepath.Abs(pnpjsDir)
	if err != nil {
		t.Fatal(err)
	}
	npmInstall(t, dir)

	for _, c := range []struct {
		storage string
		servers int
	}{
		// Several servers: consecutive PnPjs requests land on different
		// servers, so every write must be visible to the next read.
		{farm.StoragePostgreSQL, 3},
		// InMemory is not shared, so one server.
		{farm.StorageInMemory, 1},
	} {
		t.Run(c.storage, func(t *testing.T) {
			f := startFarm(t, farm.Options{Storage: c.storage, Servers: c.servers, Edges: 1})
			for _, server := range f.Servers {
				resp, body := get(t, server+"/health")
				var h healthBody
				if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 || h.Entries["Storage"].Data["provider"] != c.storage {
					t.Fatalf("%s/health: %d %s; want Storage %s", server, resp.StatusCode, body, c.storage)
				}
			}
			edge := f.Edges[0]
			cookie := signIn(t, f, edge)
			t.Run("cookie", func(t *testing.T) {
				runScenario(t, node, dir, "CESIVI_BASE="+edge, "CESIVI_COOKIE="+cookie)
			})
			t.Run("bearer", func(t *testing.T) {
				// Fewer items: two pages still follow a nextLink, and the
				// 5,000-item threshold is the cookie run's.
				runScenario(t, node, dir, "CESIVI_BASE="+edge, "CESIVI_BEARER="+accessToken(t, f, edge), "CESIVI_PAGING_ITEMS=1500")
			})
		})
	}
}

// runScenario runs sharepoint.test.mjs with env added to a minimal
// environment, its output going to the test log line by line, and fails
// the test when node exits non-zero.
func runScenario(t *testing.T, node, dir string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "sharepoint.test.mjs")
	cmd.Dir = dir
	// CESIVI_TRACE prints every request PnPjs sends and its status: the
	// log then shows where the wire went wrong.
	cmd.Env = append(append(scenarioBaseEnv(), "CESIVI_TRACE=1", "NO_COLOR=1"), env...)
	out := &lineLog{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	out.flush()
	t.Logf("node --test sharepoint.test.mjs: %v after %v", exitStatus(err), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("the scenario did not finish within 25 minutes")
	}
	if err != nil {
		t.Fatalf("the PnPjs scenario failed (%v); its output is above", err)
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return "exit " + strconv.Itoa(exit.ExitCode())
	}
	return err.Error()
}

// scenarioBaseEnv keeps what node needs (PATH, HOME, locale, temp dir) and
// nothing of the caller's CESIVI_* settings, so a developer's shell cannot
// change the run.
func scenarioBaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER":
			env = append(env, kv)
		}
	}
	return env
}

// lineLog writes each complete line to the test log as it arrives, so a
// long run shows progress under go test -v.
type lineLog struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
		l.buf = nil
	}
}

// signIn runs the browser sign-in through edge as the farm's development
// user and returns the session's Cookie header value.
func signIn(t *testing.T, f *farm.Farm, edge string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	idp := &testenv.IdentityProvider{Issuer: f.IdP.Issuer}
	resp, err := idp.LoginAs(context.Background(), browser, edge+"/oauth2/login?rd=/", f.IdP.Username, f.IdP.Password)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, edge+"/oauth2/callback?") {
		t.Fatalf("provider redirected to %q; want the edge's callback", callback)
	}
	resp, err = browser.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "cesivi_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != http.StatusFound || cookie == "" {
		t.Fatalf("callback: %d, no session cookie", resp.StatusCode)
	}
	if code, v := sessionGet(t, edge, cookie); code != 200 || !v.Authenticated {
		t.Fatalf("after sign-in the session answers %d %+v; want a signed-in session", code, v)
	}
	return cookie
}

// accessToken gets an access token for the farm's development user from
// its provider, as an API client would; the edge accepts it as a bearer
// token. The redirect URI named is edge's callback.
func accessToken(t *testing.T, f *farm.Farm, edge string) string {
	t.Helper()
	token, err := mintAccessTokenVia(context.Background(), f, edge)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// ensureNode returns the node program, installing Debian's nodejs and npm
// when they are missing and the test runs as root (as testenv does for
// Redis and PostgreSQL).
func ensureNode(t *testing.T) string {
	t.Helper()
	node, errNode := exec.LookPath("node")
	_, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if err := aptInstallNode(); err != nil {
			t.Fatalf("node and npm are needed for the PnPjs scenario and are missing: %v", err)
		}
		if node, errNode = exec.LookPath("node"); errNode != nil {
			t.Fatalf("node still missing after apt-get install nodejs npm: %v", errNode)
		}
		if _, errNpm = exec.LookPath("npm"); errNpm != nil {
			t.Fatalf("npm still missing after apt-get install nodejs npm: %v", errNpm)
		}
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(version, ".", 2)[0], "v"))
	// @pnp/sp 4 needs Node 18.12 (global fetch); --test-reporter needs 18.15.
	if major < 18 {
		t.Fatalf("node %s is too old for @pnp/sp %s; it needs Node 18 or newer", version, pnpjsPinned)
	}
	t.Logf("node %s at %s", version, node)
	return node
}

// aptInstallNode installs nodejs and npm with apt-get, under a lock file
// so parallel test binaries do not run apt-get at once.
func aptInstallNode() error {
	if os.Geteuid() != 0 {
		return errors.New("not root, so not installing them; install them with: apt-get install -y nodejs npm")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errors.New("no apt-get here; install Node.js 18 or newer with npm")
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "cesivi-testenv-apt.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	run := func(args ...string) error {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, lastBytes(out, 2000))
		}
		return nil
	}
	install := []string{"install", "-y", "--no-install-recommends", "nodejs", "npm"}
	if err := run(install...); err == nil {
		return nil
	}
	// A fresh machine may have no package lists yet.
	if err := run("update"); err != nil {
		return err
	}
	return run(install...)
}

// npmInstall installs the scenario's node_modules (npmCI) with @pnp/sp
// at pnpjsPinned.
func npmInstall(t *testing.T, dir string) {
	t.Helper()
	npmCI(t, dir, "cesivi-pnpjs-npm.lock", map[string]string{"@pnp/sp": pnpjsPinned})
}

// lockFile takes an exclusive flock on path; the returned function
// releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
