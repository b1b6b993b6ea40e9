package redisstate_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

// TestALoadFromAPausedRedisEndsAtTheCallersDeadline: Redis accepts and
// answers nothing; a session load (through the auto-pipeliner, which does
// not watch contexts) fails as unavailable when the caller's deadline
// passes, not after the client's 25 s of timeouts and retries.
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
