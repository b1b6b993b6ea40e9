package memstate

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

type memLock struct {
	holder string
	token  uint64
	exp    time.Time
}

type locker struct {
	s   *Store
	now func() time.Time
}

var holderSeq atomic.Uint64

func (l *locker) Acquire(ctx context.Context, name string, ttl time.Duration) (*state.Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("memstate: lock %q: ttl must be positive", name)
	}
	holder := fmt.Sprint(holderSeq.Add(1))
	l.s.mu.Lock()
	if cur, ok := l.s.locks[name]; ok && l.now().Before(cur.exp) {
		l.s.mu.Unlock()
		return nil, fmt.Errorf("memstate: lock %q: %w", name, state.ErrConflict)
	}
	l.s.fences[name]++
	tok := l.s.fences[name]
	l.s.locks[name] = memLock{holder: holder, token: tok, exp: l.now().Add(ttl)}
	l.s.mu.Unlock()

	held := func(f func()) error {
		l.s.mu.Lock()
		defer l.s.mu.Unlock()
		cur, ok := l.s.locks[name]
		if !ok || cur.holder != holder || !l.now().Before(cur.exp) {
			return fmt.Errorf("memstate: lock %q: %w", name, state.ErrConflict)
		}
		f()
		return nil
	}
	renew := func(context.Context) error {
		return held(func() { c := l.s.locks[name]; c.exp = l.now().Add(ttl); l.s.locks[name] = c })
	}
	release := func(context.Context) error {
		return held(func() { delete(l.s.locks, name) })
	}
	return statekit.NewLease(name, tok, ttl, renew, release), nil
}
