package farm

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

// stopOrder stops clients before what they depend on: edges, servers, the
// identity provider, then the stores.
func stopOrder(pids map[string]int) []string {
	rank := func(name string) int {
		for i, prefix := range []string{"edge-", "server-", "idp", "postgres", "redis"} {
			if strings.HasPrefix(name, prefix) {
				return i
			}
		}
		return 5
	}
	names := slices.Collect(maps.Keys(pids))
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	return names
}

// Down stops a detached farm from the farm.json in dir and removes its
// state directory (dir/state when WriteManifest linked one) and dir. Only
// PIDs that still belong to the farm (their working directory or command
// line lies in the state directory) are signalled.
func Down(dir string) ([]string, error) {
	m, stateDir, err := readManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, os.RemoveAll(dir)
	}
	if err != nil {
		return nil, err
	}
	var stopped []string
	var errs []error
	for _, name := range stopOrder(m.PIDs) {
		pid := m.PIDs[name]
		if !testenv.PIDAlive(pid) || !belongsTo(pid, stateDir) {
			continue
		}
		sig := syscall.SIGTERM
		if name == "postgres" {
			sig = syscall.SIGINT // PostgreSQL's fast shutdown
		}
		if err := testenv.ProcessByPID(pid).Stop(sig, 20*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		stopped = append(stopped, name)
	}
	if len(errs) == 0 {
		errs = append(errs, os.RemoveAll(stateDir), os.RemoveAll(dir))
	}
	return stopped, errors.Join(errs...)
}

// Running reports whether dir holds the manifest of a farm with live
// processes.
func Running(dir string) bool {
	m, stateDir, err := readManifest(dir)
	if err != nil {
		return false
	}
	for _, pid := range m.PIDs {
		if testenv.PIDAlive(pid) && belongsTo(pid, stateDir) {
			return true
		}
	}
	return false
}

// readManifest reads dir/farm.json and resolves the state directory.
func readManifest(dir string) (Manifest, string, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, "farm.json"))
	if err != nil {
		return m, "", err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, "", fmt.Errorf("%s: %w", filepath.Join(dir, "farm.json"), err)
	}
	stateDir := dir
	if target, err := os.Readlink(filepath.Join(dir, "state")); err == nil {
		stateDir = target
	}
	return m, stateDir, nil
}
