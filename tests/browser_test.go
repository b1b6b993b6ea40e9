package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

// browserDir holds the web UI's browser tests, their package.json and lock
// file; node_modules and artifacts beside them are git-ignored.
const browserDir = "browser"

// browserPinned are the npm packages the browser tests are written
// against, as package.json pins them.
var browserPinned = map[string]string{"playwright-core": "1.65.1", "axe-core": "4.14.1"}

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// TestBrowserWebUI drives the web UI in Debian's Chromium through a farm of
// two servers and two edges: sign-in on the provider's login page via edge
// 1, the site home, a list created through the dialog, the same session and
// list on edge 2, the list view with the item form, an ETag conflict across
// the edges, the library view's uploads and versions, the recycle bin, a
// list's permissions read by the second user (whose e-mail the grant
// names), sign-out on both edges, and axe-core on every page. Screenshots
// go to browser/artifacts (or CESIVI_BROWSER_ARTIFACTS).
func TestBrowserWebUI(t *testing.T) {
	chromium := ensureChromium(t)
	node := ensureNode(t)
	dir, err := filepath.Abs(browserDir)
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, dir, "cesivi-browser-npm.lock", browserPinned)
	artifacts := os.Getenv("CESIVI_BROWSER_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(dir, "artifacts")
	}
	// Only this run's screenshots: a stale one must not pass for a page.
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}

	f := startFarm(t, farm.Options{Servers: 2, Edges: 2})
	users := testenv.DevUsers()
	admin, other := users[0], users[1]
	if admin.Username != f.IdP.Username {
		t.Fatalf("the farm's administrator is %q; testenv.DevUsers starts with %q", f.IdP.Username, admin.Username)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", "webui.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(scenarioBaseEnv(), "NO_COLOR=1",
		"CESIVI_EDGES="+strings.Join(f.Edges, ","),
		"CESIVI_USER="+admin.Username, "CESIVI_PASSWORD="+admin.Password, "CESIVI_USER_NAME="+admin.Name,
		"CESIVI_USER2="+other.Username, "CESIVI_PASSWORD2="+other.Password, "CESIVI_USER2_EMAIL="+other.Email,
		"CESIVI_CHROMIUM="+chromium,
		"CESIVI_ARTIFACTS="+artifacts,
	)
	out := &lineLog{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	out.flush()
	t.Logf("node --test webui.test.mjs: %v after %v", exitStatus(err), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("the browser tests did not finish within 5 minutes")
	}
	if err != nil {
		t.Fatalf("the browser tests failed (%v); their output is above, screenshots in %s", err, artifacts)
	}
	shots, _ := filepath.Glob(filepath.Join(artifacts, "*.png"))
	if len(shots) == 0 {
		t.Fatalf("the browser tests passed but left no screenshot in %s", artifacts)
	}
}

// ensureChromium returns the browser the tests drive: CESIVI_CHROMIUM, or
// Debian's chromium, installed with apt-get when it is missing and the
// test runs as root (make test on a fresh machine). Elsewhere the test
// skips and says how to install it.
func ensureChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CESIVI_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CESIVI_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat(defaultChromium); err == nil {
		return defaultChromium
	}
	if os.Geteuid() != 0 {
		t.Skipf("%s is missing and the test is not root, so it does not install it: apt-get install -y chromium (or set CESIVI_CHROMIUM)", defaultChromium)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skipf("%s is missing and there is no apt-get to install it; set CESIVI_CHROMIUM to a Chromium", defaultChromium)
	}
	start := time.Now()
	// Without recommends (a printer dialog, a notification daemon, udev),
	// but with the fonts that stand in for Arial and Times, so screenshots
	// show text as a person's browser would.
	if err := aptInstall("chromium", "fonts-liberation"); err != nil {
		t.Fatalf("installing Debian's chromium: %v", err)
	}
	if _, err := os.Stat(defaultChromium); err != nil {
		t.Fatalf("%s still missing after apt-get install chromium: %v", defaultChromium, err)
	}
	t.Logf("apt-get installed chromium in %v", time.Since(start).Round(time.Second))
	return defaultChromium
}

// aptInstall installs Debian packages under the lock aptInstallNode takes,
// so parallel test binaries do not run apt-get at once; a fresh machine
// may have no package lists yet, so a failed install updates them once.
func aptInstall(pkgs ...string) error {
	unlock, err := lockFile(filepath.Join(os.TempDir(), "cesivi-testenv-apt.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, lastBytes(out, 2000))
		}
		return nil
	}
	install := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	if err := run(install...); err == nil {
		return nil
	}
	if err := run("update"); err != nil {
		return err
	}
	return run(install...)
}
