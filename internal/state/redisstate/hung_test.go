package redisstate_test

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

// TestALoadFromAPausedRedisEndsAtTheCallersDeadline: Redis accepts and
// answers nothing; a session load (queued for a pipeline turn that Redis
// holds) fails as unavailable when the caller's deadline passes, not
// after the client's 25 s of timeouts and retries.
func TestALoadFromAPausedRedisEndsAtTheCallersDeadline(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	p, err := redisstate.Open(context.Background(), r.Addr, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := &state.Session{UserID: "u"}
	if err := p.Sessions.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(r.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(r.PID, syscall.SIGCONT)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.Sessions.Load(ctx, s.ID)
	if !errors.Is(err, state.ErrStoreUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load = %v after %v; want unavailable at the caller's deadline", err, time.Since(start))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Load took %v", took)
	}
}

// TestManyLoadsFromAPausedRedisHoldNoGoroutines: loads of many requests
// at once against a paused Redis all end at their callers' deadline, and
// none leaves a goroutine behind (the turn that holds them is one
// goroutine, whatever the number of loads).
func TestManyLoadsFromAPausedRedisHoldNoGoroutines(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	p, err := redisstate.Open(context.Background(), r.Addr, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := &state.Session{UserID: "u"}
	if err := p.Sessions.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sessions.Load(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(r.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(r.PID, syscall.SIGCONT)
	before := runtime.NumGoroutine()
	const n = 300
	errs := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := p.Sessions.Load(ctx, s.ID)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; !errors.Is(err, state.ErrStoreUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Load = %v; want unavailable at the caller's deadline", err)
		}
	}
	// The loaders have returned; what is left is the turn waiting on Redis.
	if extra := runtime.NumGoroutine() - before; extra > 10 {
		t.Fatalf("%d more goroutines than before the loads: they pile up behind the hung Redis", extra)
	}
}
