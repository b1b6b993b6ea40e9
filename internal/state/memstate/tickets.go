package memstate

import (
	"context"
	"fmt"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

type memTicket struct {
	val []byte
	exp time.Time
}

type tickets struct {
	s   *Store
	now func() time.Time
}

func (t *tickets) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memstate: ticket ttl must be positive, got %v", ttl)
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	now := t.now()
	if t.s.tickets == nil {
		t.s.tickets = map[string]memTicket{}
	}
	if old, ok := t.s.tickets[key]; ok && now.Before(old.exp) {
		return fmt.Errorf("memstate: ticket %q: %w", key, state.ErrConflict)
	}
	// Sweep expired tickets now and then so abandoned logins do not pile up.
	if len(t.s.tickets) > 1024 {
		for k, v := range t.s.tickets {
			if !now.Before(v.exp) {
				delete(t.s.tickets, k)
			}
		}
	}
	t.s.tickets[key] = memTicket{val: append([]byte(nil), value...), exp: now.Add(ttl)}
	return nil
}

func (t *tickets) Take(_ context.Context, key string) ([]byte, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	v, ok := t.s.tickets[key]
	delete(t.s.tickets, key)
	if !ok || !t.now().Before(v.exp) {
		return nil, fmt.Errorf("memstate: ticket: %w", state.ErrNotFound)
	}
	return v.val, nil
}
