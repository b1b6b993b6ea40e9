package statetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// Benchmark runs the hot-path benchmarks against a provider: session load
// (with its sliding expiry), a user-context cache hit, and a lock
// acquire/release pair, and a job from Enqueue to its handler (one idle
// worker; a fetch blocks 100 ms at most, so this is the notification path).
func Benchmark(b *testing.B, p *state.Provider) {
	ctx := context.Background()
	b.Run("SessionLoad", func(b *testing.B) {
		s := &state.Session{UserID: "bench", Tokens: make([]byte, 512), Data: map[string]string{"a": "1", "b": "2"}}
		if err := p.Sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.Sessions.Load(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UserContextHit", func(b *testing.B) {
		val := make([]byte, 256)
		load := func(context.Context) ([]byte, error) { return val, nil }
		if _, err := p.UserContexts.Get(ctx, "bench", load); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := p.UserContexts.Get(ctx, "bench", load); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LockAcquireRelease", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			l, err := p.Locks.Acquire(ctx, fmt.Sprint("bench-", i%8), time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if err := l.Release(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EnqueueToDone", func(b *testing.B) {
		done := make(chan struct{}, 1)
		wctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			p.Queue.Work(wctx, "bench", func(context.Context, state.Job) error { done <- struct{}{}; return nil }, state.WorkerOptions{Concurrency: 1})
		}()
		defer func() { cancel(); <-stopped }()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Queue.Enqueue(ctx, "bench", "", []byte("x")); err != nil {
				b.Fatal(err)
			}
			<-done
		}
	})
}
