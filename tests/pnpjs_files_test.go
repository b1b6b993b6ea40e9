package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/tests/farm"
)

// filesScript is the document-library scenario beside sharepoint.test.mjs.
const filesScript = "files.test.mjs"

// filesProviders are the blob providers a PostgreSQL farm can keep file
// content in (Cesivi:Storage:Files:Provider). InMemory content with
// PostgreSQL metadata is refused in farm mode, so it is not here.
var filesProviders = []string{"Database", "SharedDirectory"}

// TestPnPjsFilesScenario is the acceptance test of document libraries:
// files.test.mjs runs @pnp/sp 4.21.0, unmodified, through the edge of a
// PostgreSQL farm of three servers, once per blob provider, with a session
// cookie (digest flow) and with a bearer token. The edge balances round
// robin with no affinity, so the chunks of one addChunked upload land on
// different servers.
//
// Only the groups the script's BUILT names run (the others are todo);
// CESIVI_FILES_GROUPS ("all" or a comma-separated list) overrides BUILT,
// to try a group while it is being built.
func TestPnPjsFilesScenario(t *testing.T) {
	dir, err := filepath.Abs(pnpjsDir)
	if err != nil {
		t.Fatal(err)
	}
	groups := os.Getenv("CESIVI_FILES_GROUPS")
	if groups == "" {
		built, err := builtFileGroups(filepath.Join(dir, filesScript))
		if err != nil {
			t.Fatal(err)
		}
		if len(built) == 0 {
			t.Skipf("%s builds no group yet (BUILT is empty); CESIVI_FILES_GROUPS=all runs them all", filesScript)
		}
		t.Logf("groups built: %s", strings.Join(built, ", "))
	}
	node := ensureNode(t)
	npmInstall(t, dir)

	for _, provider := range filesProviders {
		t.Run(provider, func(t *testing.T) {
			serverEnv := []string{"Cesivi__Storage__Files__Provider=" + provider}
			if provider == "SharedDirectory" {
				// One directory every server of the farm mounts: on one
				// machine, the same path.
				serverEnv = append(serverEnv, "Cesivi__Storage__Files__Path="+t.TempDir())
			}
			f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 3, Edges: 1, ServerEnv: serverEnv})
			logStorageHealth(t, f)
			edge := f.Edges[0]
			scenario := []string{"CESIVI_BASE=" + edge}
			if groups != "" {
				scenario = append(scenario, "CESIVI_FILES_GROUPS="+groups)
			}
			cookie := signIn(t, f, edge)
			t.Run("cookie", func(t *testing.T) {
				runNodeScript(t, node, dir, filesScript, append(scenario, "CESIVI_COOKIE="+cookie)...)
			})
			t.Run("bearer", func(t *testing.T) {
				runNodeScript(t, node, dir, filesScript, append(scenario, "CESIVI_BEARER="+accessToken(t, f, edge))...)
			})
		})
	}
}

// builtRE finds the BUILT set in the script: const BUILT = new Set([...]);
var builtRE = regexp.MustCompile(`(?m)^const BUILT = new Set\(\[([^\]]*)\]\);`)

// builtFileGroups returns the group names in the script's BUILT.
func builtFileGroups(script string) ([]string, error) {
	b, err := os.ReadFile(script)
	if err != nil {
		return nil, err
	}
	m := builtRE.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("%s has no line `const BUILT = new Set([...]);` naming the groups the server supports", script)
	}
	var groups []string
	for _, g := range strings.Split(string(m[1]), ",") {
		if g = strings.Trim(strings.TrimSpace(g), `"'`); g != "" {
			groups = append(groups, g)
		}
	}
	return groups, nil
}

// logStorageHealth writes each server's Storage health entry to the log,
// so a run shows which blob provider the servers use.
func logStorageHealth(t *testing.T, f *farm.Farm) {
	t.Helper()
	for _, server := range f.Servers {
		resp, body := get(t, server+"/health")
		var h healthBody
		if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s/health: %d %s", server, resp.StatusCode, body)
		}
		data, _ := json.Marshal(h.Entries["Storage"].Data)
		t.Logf("%s Storage: %s", server, data)
	}
}

// runNodeScript runs one scenario script under node --test with env added
// to a minimal environment (as runScenario does for sharepoint.test.mjs),
// its output going to the test log line by line, and fails the test when
// node exits non-zero.
func runNodeScript(t *testing.T, node, dir, script string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", script)
	cmd.Dir = dir
	cmd.Env = append(append(scenarioBaseEnv(), "CESIVI_TRACE=1", "NO_COLOR=1"), env...)
	out := &lineLog{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	out.flush()
	t.Logf("node --test %s: %v after %v", script, exitStatus(err), time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within 25 minutes", script)
	}
	if err != nil {
		t.Fatalf("%s failed (%v); its output is above", script, err)
	}
}
