package dirstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/dirstore"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

func newStore(t *testing.T) keyring.Store {
	s, err := dirstore.New(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExercise(t *testing.T) { keyringtest.Exercise(t, newStore) }

// Eight Store values on one directory, as eight nodes mounting it, start
// rings together: one key.
func TestEightStoresOneDirectory(t *testing.T) {
	dir := t.TempDir()
	ids := keyringtest.StartTogether(t, keyringtest.Concurrency, func(int) (keyring.Store, error) {
		return dirstore.New(dir)
	})
	files, _ := filepath.Glob(filepath.Join(dir, "key-*.json"))
	if len(files) != 1 || len(ids) != 1 {
		t.Fatalf("%d key files, %d distinct current keys; want 1 and 1", len(files), len(ids))
	}
}

func TestFilesAreAtomicAndPrivate(t *testing.T) {
	s := newStore(t).(*dirstore.Store)
	keyringtest.NewRing(t, s, keyringtest.NewClock(keyringtest.Epoch))
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Fatalf("entries: %v", entries)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
		info, _ := e.Info()
		if info.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s is readable by others: %v", e.Name(), info.Mode())
		}
	}
	// A corrupted record is an error, never skipped.
	os.WriteFile(filepath.Join(s.Dir(), "revocation-x.json"), []byte("{"), 0o600)
	if _, err := s.Load(context.Background()); err == nil {
		t.Fatal("a corrupted record was skipped")
	}
}

// Eight processes (this test binary, re-executed) start on one directory at
// once: one key, and every process uses it.
func TestEightProcessesOneDirectory(t *testing.T) {
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, keyringtest.Concurrency)
	outs := make([]*strings.Builder, len(cmds))
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "DIRSTORE_HELPER_DIR="+dir)
		outs[i] = &strings.Builder{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
		_, rest, ok := strings.Cut(outs[i].String(), "CURRENT ")
		if !ok || len(rest) < 8 {
			t.Fatalf("process %d: %s", i, outs[i])
		}
		ids[rest[:8]] = true
	}
	files, _ := filepath.Glob(filepath.Join(dir, "key-*.json"))
	if len(files) != 1 || len(ids) != 1 {
		t.Fatalf("%d key files, current keys %v; want 1 and 1", len(files), ids)
	}
}

func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("DIRSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("helper of TestEightProcessesOneDirectory")
	}
	s, err := dirstore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := keyring.New(context.Background(), keyring.Options{Store: s, MasterKey: keyringtest.MasterKey, NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := r.Current()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("CURRENT %s\n", k.ID)
}
