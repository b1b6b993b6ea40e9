package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// npmCI runs npm ci in dir unless node_modules matches package.json and
// package-lock.json (a stamp of their hash) and holds the pinned versions
// (package name to version), so an up-to-date tree needs no network. The
// flock named lockName (in the temporary directory) keeps parallel test
// binaries from installing the same tree at once. It is the one npm
// helper of the PnPjs scenarios and the browser tests.
func npmCI(t *testing.T, dir, lockName string, pinned map[string]string) {
	t.Helper()
	unlock, err := lockFile(filepath.Join(os.TempDir(), lockName))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	want, err := lockHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	stamp := filepath.Join(dir, "node_modules", ".cesivi-lock-sha256")
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want && pinnedInstalled(dir, pinned) == nil {
		t.Logf("node_modules up to date (%s)", describePinned(pinned))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, lastBytes(out, 4000))
	}
	if err := pinnedInstalled(dir, pinned); err != nil {
		t.Fatalf("after npm ci: %v", err)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("npm ci installed %s in %v", describePinned(pinned), time.Since(start).Round(time.Millisecond))
}

// lockHash is the hash of dir's package.json and package-lock.json.
func lockHash(dir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pinnedInstalled checks dir's node_modules holds the pinned versions.
func pinnedInstalled(dir string, pinned map[string]string) error {
	var errs []error
	for name, want := range pinned {
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s not installed", name))
			continue
		}
		var pkg struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(b, &pkg) != nil || pkg.Version != want {
			errs = append(errs, fmt.Errorf("%s is %q; want %s", name, pkg.Version, want))
		}
	}
	return errors.Join(errs...)
}

// describePinned is "a 1.0, b 2.0", in name order.
func describePinned(pinned map[string]string) string {
	names := make([]string, 0, len(pinned))
	for n := range pinned {
		names = append(names, n)
	}
	sort.Strings(names)
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n + " " + pinned[n]
	}
	return s
}
