package pgstorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// scriptedGate is a gate whose attempts block until the test releases
// them with the outcome it chooses, counting how many ran at once.
type scriptedGate struct {
	*migrationGate
	release            chan error
	started            chan struct{}
	attempts, inFlight atomic.Int32
	maxInFlight        atomic.Int32
}

func newScriptedGate() *scriptedGate {
	sg := &scriptedGate{release: make(chan error), started: make(chan struct{}, 100)}
	sg.migrationGate = newMigrationGate(nil, slog.New(slog.DiscardHandler))
	sg.apply = func(ctx context.Context) (*MigrationResult, error) {
		sg.attempts.Add(1)
		n := sg.inFlight.Add(1)
		defer sg.inFlight.Add(-1)
		for {
			m := sg.maxInFlight.Load()
			if n <= m || sg.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		sg.started <- struct{}{}
		select {
		case err := <-sg.release:
			return &MigrationResult{}, err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", storage.ErrUnavailable, ctx.Err())
		}
	}
	return sg
}

// readyAll calls ready from n goroutines and returns their errors once
// all have returned.
func readyAll(ctx context.Context, g *migrationGate, n int) <-chan []error {
	out := make(chan []error, 1)
	go func() {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = g.ready(ctx) })
		}
		wg.Wait()
		out <- errs
	}()
	return out
}

// waiters is how many callers share the attempt in flight.
func (sg *scriptedGate) waiters() int {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.current == nil {
		return 0
	}
	return sg.current.waiters
}

// answer gives every attempt that starts the outcome until the callers
// have all returned.
func (sg *scriptedGate) answer(results <-chan []error, outcome error) []error {
	for {
		select {
		case errs := <-results:
			return errs
		case <-sg.started:
			sg.release <- outcome
		}
	}
}

func TestConcurrentFirstUsesShareOneAttemptAndRetryAfterAFailure(t *testing.T) {
	g := newScriptedGate()
	defer g.close()
	ctx := t.Context()

	// Ten callers, one attempt, which fails: every caller hears it.
	results := readyAll(ctx, g.migrationGate, 10)
	<-g.started
	waitUntil(t, func() bool { return g.waiters() == 10 })
	g.release <- fmt.Errorf("%w: connection refused", storage.ErrUnavailable)
	for i, err := range <-results {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("caller %d: %v, want ErrUnavailable", i, err)
		}
	}
	if n := g.attempts.Load(); n != 1 {
		t.Fatalf("%d attempts for ten callers arriving together; want one", n)
	}

	// The next uses try again, and this time it works for good.
	for _, err := range g.answer(readyAll(ctx, g.migrationGate, 10), nil) {
		if err != nil {
			t.Fatalf("after a successful attempt: %v", err)
		}
	}
	after := g.attempts.Load()
	if after < 2 || g.maxInFlight.Load() != 1 {
		t.Fatalf("%d attempts, %d at once; want a retry, one at a time", after, g.maxInFlight.Load())
	}
	if err := g.ready(ctx); err != nil || g.attempts.Load() != after {
		t.Fatalf("a ready gate tried again (%v, %d attempts)", err, g.attempts.Load())
	}
}

func TestALastingMigrationFailureIsUnavailableAndSaysWhy(t *testing.T) {
	g := newScriptedGate()
	defer g.close()
	done := readyAll(t.Context(), g.migrationGate, 1)
	<-g.started
	g.release <- fmt.Errorf("%w: the database is at version 9", ErrSchemaNewer)
	err := (<-done)[0]
	if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("got %v, want ErrUnavailable wrapping ErrSchemaNewer", err)
	}
}

func TestAWaitingCallerGivesUpWithItsContextAndCloseStopsTheAttempt(t *testing.T) {
	g := newScriptedGate()
	ctx, cancel := context.WithCancel(t.Context())
	done := readyAll(ctx, g.migrationGate, 3)
	<-g.started
	cancel()
	for _, err := range <-done {
		if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want ErrUnavailable and context.Canceled", err)
		}
	}
	// The attempt outlives the callers that gave up: it serves whoever
	// comes next. Close ends it and waits for it.
	if g.inFlight.Load() != 1 {
		t.Fatal("the attempt stopped with its first caller")
	}
	closed := make(chan struct{})
	go func() { g.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("close did not stop the attempt")
	}
	if g.inFlight.Load() != 0 {
		t.Fatal("close returned with an attempt running")
	}
	if err := g.ready(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("ready after close: %v", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
