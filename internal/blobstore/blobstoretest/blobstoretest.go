// Package blobstoretest is the suite every blob provider passes (River's
// pattern: one contract, one exported suite, run by each provider's tests
// against the real backend). Run it from a test that is not parallel: its
// first subtest measures the heap and must run alone.
package blobstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/fakeclock"
)

// NewStore returns an empty store of its own for one test, whose stored
// times come from now; cleanup is the factory's. Tests run in parallel,
// so each store must be isolated: its own database or directory.
type NewStore func(t *testing.T, now func() time.Time) blobstore.Store

// Epoch is where every test's clock starts.
var Epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

type test struct {
	name string
	fn   func(e *env)
}

// Run runs the whole suite against the provider newStore makes.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Streaming", func(t *testing.T) {
		for _, tc := range streamingTests {
			t.Run(tc.name, func(t *testing.T) { tc.fn(newEnv(t, newStore)) })
		}
	})
	areas := []struct {
		name  string
		tests []test
	}{
		{"PutAndOpen", putOpenTests},
		{"Limits", limitTests},
		{"Times", timeTests},
		{"Concurrency", concurrencyTests},
		{"Sweep", sweepTests},
	}
	for _, a := range areas {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range a.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(newEnv(t, newStore))
				})
			}
		})
	}
}

// env is one test's store and clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *fakeclock.Clock
	s     blobstore.Store
}

func newEnv(t *testing.T, newStore NewStore) *env {
	c := fakeclock.New(Epoch)
	return &env{t: t, ctx: t.Context(), clock: c, s: newStore(t, c.Now)}
}

// put stores content, which must succeed and be described rightly.
func (e *env) put(content []byte) blobstore.Blob {
	e.t.Helper()
	b, err := e.s.Put(e.ctx, bytes.NewReader(content), 0)
	if err != nil {
		e.t.Fatalf("Put of %d bytes: %v", len(content), err)
	}
	e.checkBlob(b, content)
	return b
}

func (e *env) checkBlob(b blobstore.Blob, content []byte) {
	e.t.Helper()
	if b.Key == "" || b.Size != int64(len(content)) || b.SHA256 != sha256Hex(content) {
		e.t.Fatalf("Put of %d bytes gave %+v; want a key, size %d and SHA-256 %s", len(content), b, len(content), sha256Hex(content))
	}
}

// read returns a blob's whole content, checking Size against it.
func (e *env) read(key string) []byte {
	e.t.Helper()
	r, err := e.s.Open(e.ctx, key)
	if err != nil {
		e.t.Fatalf("Open(%s): %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatalf("reading %s: %v", key, err)
	}
	if r.Size() != int64(len(got)) {
		e.t.Fatalf("Size() = %d, but %d bytes were read", r.Size(), len(got))
	}
	return got
}

// mustHold checks that key reads back as content.
func (e *env) mustHold(key string, content []byte) {
	e.t.Helper()
	if got := e.read(key); !bytes.Equal(got, content) {
		e.t.Fatalf("%s reads back %d bytes (first difference at %d); want the %d bytes put", key, len(got), firstDiff(got, content), len(content))
	}
}

// mustBeGone checks that Open of key is ErrNotFound.
func (e *env) mustBeGone(key string) {
	e.t.Helper()
	r, err := e.s.Open(e.ctx, key)
	if err == nil {
		r.Close()
		e.t.Fatalf("Open(%s) succeeded; want ErrNotFound", key)
	}
	if !errors.Is(err, blobstore.ErrNotFound) {
		e.t.Fatalf("Open(%s): %v; want ErrNotFound", key, err)
	}
}

// walk returns the keys Walk lists before the time given.
func (e *env) walk(before time.Time) map[string]bool {
	e.t.Helper()
	keys := map[string]bool{}
	err := e.s.Walk(e.ctx, before, func(key string) error {
		if keys[key] {
			e.t.Errorf("Walk listed %s twice", key)
		}
		keys[key] = true
		return nil
	})
	if err != nil {
		e.t.Fatalf("Walk: %v", err)
	}
	return keys
}

// everything lists every blob, whatever its time.
func (e *env) everything() map[string]bool { return e.walk(Epoch.AddDate(100, 0, 0)) }

// nothingPartialLeft checks, on a provider that can leave partial
// content, that a failed Put left none behind.
func (e *env) nothingPartialLeft() {
	e.t.Helper()
	ps, ok := e.s.(blobstore.PartialSweeper)
	if !ok {
		return
	}
	n, err := ps.SweepPartial(e.ctx, time.Now().AddDate(100, 0, 0))
	if err != nil || n != 0 {
		e.t.Fatalf("SweepPartial found %d remains of failed Puts (%v); a failed Put must clean up after itself", n, err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
