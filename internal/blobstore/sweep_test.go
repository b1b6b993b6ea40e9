package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/memblob"
	"github.com/cesivi/cesivi/internal/fakeclock"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func putN(t *testing.T, s blobstore.Store, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		b, err := s.Put(t.Context(), bytes.NewReader(fmt.Appendf(nil, "blob %d", i)), 0)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = b.Key
	}
	return keys
}

// TestSweepAsksInBatchesAndDeletesEveryOrphan: 25 blobs in batches of
// 10 (three calls, none larger), every other one named.
func TestSweepAsksInBatchesAndDeletesEveryOrphan(t *testing.T) {
	defer blobstore.SetSweepBatch(10)()
	clock := fakeclock.New(epoch)
	s := memblob.New(memblob.Options{Now: clock.Now})
	keys := putN(t, s, 25)
	named := map[string]bool{}
	for i, k := range keys {
		if i%2 == 0 {
			named[k] = true
		}
	}
	var batches []int
	inUse := func(_ context.Context, batch []string) (map[string]bool, error) {
		batches = append(batches, len(batch))
		out := map[string]bool{}
		for _, k := range batch {
			out[k] = named[k]
		}
		return out, nil
	}
	clock.Advance(2 * time.Hour)
	res, err := blobstore.Sweep(t.Context(), s, inUse, time.Hour, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 || batches[0] != 10 || batches[1] != 10 || batches[2] != 5 {
		t.Fatalf("batches %v; want 10, 10, 5", batches)
	}
	if res.Checked != 25 || res.InUse != 13 || res.Orphans != 12 || !res.Cutoff.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("Sweep = %+v", res)
	}
	for i, k := range keys {
		_, err := s.Open(t.Context(), k)
		if named[k] != (err == nil) {
			t.Fatalf("blob %d (named %v) after the sweep: %v", i, named[k], err)
		}
	}
}

func TestSweepStopsAtTheFirstFailureAndSaysWhere(t *testing.T) {
	clock := fakeclock.New(epoch)
	s := memblob.New(memblob.Options{Now: clock.Now})
	putN(t, s, 3)
	clock.Advance(2 * time.Hour)
	down := errors.New("database down")
	_, err := blobstore.Sweep(t.Context(), s, func(context.Context, []string) (map[string]bool, error) { return nil, down }, time.Hour, clock.Now())
	if !errors.Is(err, down) || !bytes.Contains([]byte(err.Error()), []byte("in use")) {
		t.Fatalf("Sweep = %v; want inUse's error, saying it was asking what is in use", err)
	}
	var n int
	s.Walk(t.Context(), clock.Now(), func(string) error { n++; return nil })
	if n != 3 {
		t.Fatalf("%d blobs left after a sweep whose inUse failed; want all 3", n)
	}

	failing := &failingDeletes{Store: s}
	_, err = blobstore.Sweep(t.Context(), failing, func(context.Context, []string) (map[string]bool, error) { return nil, nil }, time.Hour, clock.Now())
	if !errors.Is(err, blobstore.ErrUnavailable) || failing.calls != 1 {
		t.Fatalf("Sweep = %v after %d deletes; want the first Delete's error", err, failing.calls)
	}
	if _, err := blobstore.Sweep(t.Context(), s, nil, -time.Second, clock.Now()); err == nil {
		t.Fatal("Sweep with a negative grace succeeded")
	}
}

type failingDeletes struct {
	blobstore.Store
	calls int
}

func (f *failingDeletes) Delete(context.Context, string, time.Time) error {
	f.calls++
	return blobstore.ErrUnavailable
}

// TestSweepRemovesPartialContentOfProvidersThatHaveIt with the cutoff as
// notAfter.
func TestSweepRemovesPartialContentOfProvidersThatHaveIt(t *testing.T) {
	p := &partial{Store: memblob.New(memblob.Options{})}
	res, err := blobstore.Sweep(t.Context(), p, func(context.Context, []string) (map[string]bool, error) { return nil, nil }, time.Hour, epoch)
	if err != nil || res.Partial != 4 || !p.notAfter.Equal(epoch.Add(-time.Hour)) {
		t.Fatalf("Sweep = %+v, %v, partial swept with notAfter %v; want 4 with the cutoff", res, err, p.notAfter)
	}
}

type partial struct {
	blobstore.Store
	notAfter time.Time
}

func (p *partial) SweepPartial(_ context.Context, notAfter time.Time) (int, error) {
	p.notAfter = notAfter
	return 4, nil
}
