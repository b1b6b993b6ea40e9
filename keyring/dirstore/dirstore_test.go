package dirstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
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
	eightStoresOneKey(t, func(dir string) (*dirstore.Store, error) { return dirstore.New(dir) })
}

func eightStoresOneKey(t *testing.T, open func(dir string) (*dirstore.Store, error)) {
	dir := t.TempDir()
	ids := keyringtest.StartTogether(t, keyringtest.Concurrency, func(int) (keyring.Store, error) {
		return open(dir)
	})
	files, _ := filepath.Glob(filepath.Join(dir, "key-*.json"))
	if len(files) != 1 || len(ids) != 1 {
		t.Fatalf("%d key files, %d distinct current keys; want 1 and 1", len(files), len(ids))
	}
}

func TestFilesAreAtomicAndPrivate(t *testing.T) {
	s := newStore(t).(*dirstore.Store)
	keyringtest.NewRing(t, s, fakeclock.New(keyringtest.Epoch))
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

// The same contract and the same eight-node start on a file system without
// hard links (the exclusive claim plus rename fallback).
func TestWithoutHardLinks(t *testing.T) {
	keyringtest.Exercise(t, func(t *testing.T) keyring.Store {
		s, err := dirstore.NewWithoutHardLinks(filepath.Join(t.TempDir(), "keys"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	t.Run("eight stores on one directory", func(t *testing.T) {
		eightStoresOneKey(t, dirstore.NewWithoutHardLinks)
	})
	// The same start with the claimer held between its claim and its
	// rename, as a loaded machine or a slow mount holds it: the other
	// nodes wait for its record instead of spending their attempts.
	t.Run("eight stores, slow claimer", func(t *testing.T) {
		eightStoresOneKey(t, func(dir string) (*dirstore.Store, error) {
			s, err := dirstore.NewWithoutHardLinks(dir)
			if err == nil {
				s.SetAfterClaim(func() { time.Sleep(300 * time.Millisecond) })
			}
			return s, err
		})
	})
}

// Without hard links a name is taken (claimed) before its record is in
// place. A second writer must not report the name taken until the record
// is readable: the ring re-reads after losing an insert to find the winner.
func TestWithoutHardLinksALoserSeesTheWinner(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := dirstore.NewWithoutHardLinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := dirstore.NewWithoutHardLinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	claimed, release := make(chan struct{}), make(chan struct{})
	first.SetAfterClaim(func() {
		close(claimed)
		<-release
	})
	rec := func(id keyring.KeyID) keyring.KeyRecord {
		return keyring.KeyRecord{ID: id, Created: keyringtest.Epoch, Activation: keyringtest.Epoch,
			Expiration: keyringtest.Epoch.Add(time.Hour), Material: []byte{byte(id)}, Slot: "contended"}
	}
	won := make(chan error, 1)
	go func() {
		ok, err := first.InsertKey(ctx, rec(1))
		if err == nil && !ok {
			err = errors.New("the claimer lost")
		}
		won <- err
	}()
	<-claimed
	lost := make(chan error, 1)
	go func() {
		ok, err := second.InsertKey(ctx, rec(2))
		if err == nil && ok {
			err = errors.New("the second writer won a claimed name")
		}
		if err == nil {
			var recs keyring.Records
			recs, err = second.Load(ctx)
			if err == nil && (len(recs.Keys) != 1 || recs.Keys[0].ID != 1) {
				err = fmt.Errorf("lost the slot, then read %+v; want the winner's key", recs.Keys)
			}
		}
		lost <- err
	}()
	select {
	case err := <-lost:
		t.Fatalf("the second writer returned while the first held its claim without a record (error: %v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-won; err != nil {
		t.Fatal(err)
	}
	if err := <-lost; err != nil {
		t.Fatal(err)
	}
}

// Without hard links a name is still written once: the second writer of
// the same name loses and the first content stays.
func TestWithoutHardLinksANameIsWrittenOnce(t *testing.T) {
	for _, links := range []bool{true, false} {
		dir := t.TempDir()
		var s *dirstore.Store
		var err error
		if links {
			s, err = dirstore.New(dir)
		} else {
			s, err = dirstore.NewWithoutHardLinks(dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Publish("key-x.json", []byte("first")); !ok || err != nil {
			t.Fatalf("links=%v: first publish: %v, %v", links, ok, err)
		}
		if ok, err := s.Publish("key-x.json", []byte("second")); ok || err != nil {
			t.Fatalf("links=%v: second publish of the same name: %v, %v; want false, nil", links, ok, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "key-x.json")); string(b) != "first" {
			t.Fatalf("links=%v: content %q, want first", links, b)
		}
		tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
		if len(tmps) != 0 {
			t.Fatalf("links=%v: temporary files left: %v", links, tmps)
		}
	}
}
