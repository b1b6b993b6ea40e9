package tests

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	var args []string
	if p := os.Getenv("CESIVI_BROWSER_STEPS"); p != "" {
		// Only the steps whose names match (and the ones they need).
		args = append(args, "--test-name-pattern="+p)
	}
	runBrowserSteps(t, f, dir, artifacts, 8*time.Minute, chromium, node, nil, args...)
}

// runBrowserSteps runs webui.test.mjs against farm f in Chromium, as the
// farm's administrator and second development user; extraEnv and args
// (node --test options such as --test-name-pattern) are added.
func runBrowserSteps(t *testing.T, f *farm.Farm, dir, artifacts string, limit time.Duration, chromium, node string, extraEnv []string, args ...string) {
	t.Helper()
	users := testenv.DevUsers()
	admin, other := users[0], users[1]
	if admin.Username != f.IdP.Username {
		t.Fatalf("the farm's administrator is %q; testenv.DevUsers starts with %q", f.IdP.Username, admin.Username)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append(append([]string{"--test", "--test-reporter=spec", "--test-concurrency=1"}, args...), "webui.test.mjs")...)
	cmd.Dir = dir
	cmd.Env = append(append(scenarioBaseEnv(), "NO_COLOR=1",
		"CESIVI_EDGES="+strings.Join(f.Edges, ","),
		"CESIVI_USER="+admin.Username, "CESIVI_PASSWORD="+admin.Password, "CESIVI_USER_NAME="+admin.Name,
		"CESIVI_USER2="+other.Username, "CESIVI_PASSWORD2="+other.Password, "CESIVI_USER2_EMAIL="+other.Email,
		"CESIVI_CHROMIUM="+chromium,
		"CESIVI_ARTIFACTS="+artifacts,
	), extraEnv...)
	out := &lineLog{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	out.flush()
	t.Logf("node --test webui.test.mjs: %v after %v", exitStatus(err), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("the browser tests did not finish within %v", limit)
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

// largeListItems is how many items TestBrowserLargeList seeds
// (CESIVI_LARGE_LIST_ITEMS overrides it).
const largeListItems = 1_000_000

// TestBrowserLargeList opens a list of 1,000,000 items (seeded in
// PostgreSQL in one statement, not through the API) in Chromium through
// the farm, sorts it by an indexed column both ways and pages on with
// odata.nextLink, and fails on a main-thread long task of 200 ms or more
// or a table that keeps growing (webui.test.mjs's "large list" step,
// which reports each page's time). -short skips it.
func TestBrowserLargeList(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the 1,000,000-item list is not seeded")
	}
	n := largeListItems
	if v := os.Getenv("CESIVI_LARGE_LIST_ITEMS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("CESIVI_LARGE_LIST_ITEMS=%q: want a positive count", v)
		}
	}
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
	artifacts = filepath.Join(artifacts, "large-list")
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}

	f := startFarm(t, farm.Options{Servers: 1, Edges: 1})
	const title = "Large list"
	id := seedLargeList(t, f, title, n)
	runBrowserSteps(t, f, dir, artifacts, 5*time.Minute, chromium, node,
		[]string{"CESIVI_LARGE_LIST=" + id, "CESIVI_LARGE_LIST_TITLE=" + title, "CESIVI_LARGE_LIST_ITEMS=" + strconv.Itoa(n)},
		"--test-name-pattern=^(configuration|launch Chromium|sign in on the provider's login page via edge 1|large list: .*|no Content-Security-Policy .*)$")
}

// seedLargeList makes a list with an indexed Number field Priority
// through the API, then its n items in PostgreSQL in one INSERT (Title
// "Item <id>", Priority a permutation-like spread of the ids), and waits
// for Priority's index; it returns the list's id.
func seedLargeList(t *testing.T, f *farm.Farm, title string, n int) string {
	t.Helper()
	c := newAPIClient(t, f)
	edge := f.Edges[0]
	var l struct {
		ID string `json:"Id"`
	}
	decodeJSON(t, c.must(t, http.StatusCreated, http.MethodPost, edge+"/_api/web/lists", map[string]any{"Title": title, "BaseTemplate": 100}), &l)
	var fld struct {
		ID           string `json:"Id"`
		InternalName string `json:"InternalName"`
		Indexed      bool   `json:"Indexed"`
	}
	decodeJSON(t, c.must(t, http.StatusCreated, http.MethodPost, edge+listPath(title)+"/fields",
		map[string]any{"Title": "Priority", "FieldTypeKind": 9, "Indexed": true}), &fld)
	if !fld.Indexed {
		c.must(t, http.StatusNoContent, http.MethodPost, edge+listPath(title)+"/fields/getByInternalNameOrTitle('Priority')",
			map[string]any{"Indexed": true}, "X-HTTP-Method", "MERGE", "IF-MATCH", "*")
	}
	var me struct {
		ID int64 `json:"Id"`
	}
	decodeJSON(t, c.must(t, http.StatusOK, http.MethodGet, edge+"/_api/web/currentUser", nil), &me)

	ctx := context.Background()
	db, err := pgx.Connect(ctx, f.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	start := time.Now()
	// One statement, one transaction; the list's counters as its items'
	// inserts through the API would have left them.
	_, err = db.Exec(ctx, `WITH ins AS (
			INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
			SELECT $1, g, gen_random_uuid(), 1, now(), now(), $2, $2,
				jsonb_build_object('Title', 'Item ' || g, $4::text, (g::bigint * 7919) % 1000003)
			FROM generate_series(1, $3::bigint) g RETURNING 1)
		UPDATE "Lists" SET "NextItemId" = $3, "ItemCount" = (SELECT count(*) FROM ins), "LastItemModifiedDate" = now()
		WHERE "Id" = $1`, l.ID, me.ID, n, fld.InternalName)
	if err != nil {
		t.Fatalf("seeding %d items: %v", n, err)
	}
	if _, err := db.Exec(ctx, `ANALYZE "ListItems"`); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d items in PostgreSQL in %v", n, time.Since(start).Round(time.Millisecond))
	waitFor(t, 2*time.Minute, "the Priority field's index", func() bool {
		var ok bool
		err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname
			JOIN pg_index x ON x.indexrelid = c.oid
			WHERE i.tablename = 'ListItems' AND i.indexname LIKE 'IX\_ListItems\_F\_%' AND x.indisvalid)`).Scan(&ok)
		return err == nil && ok
	})
	var got struct {
		ItemCount int `json:"ItemCount"`
	}
	decodeJSON(t, c.must(t, http.StatusOK, http.MethodGet, edge+listPath(title)+"?$select=ItemCount", nil), &got)
	if got.ItemCount != n {
		t.Fatalf("the list says %d items; seeded %d", got.ItemCount, n)
	}
	return l.ID
}
