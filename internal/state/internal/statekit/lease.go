package statekit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// NewLease returns a lease that renews itself every ttl/3 with renew until
// Release, and is marked lost when a renewal says it is no longer held
// (ErrConflict or ErrNotFound) or when renewals fail for a whole ttl.
// release is the provider's compare-and-delete.
func NewLease(name string, token uint64, ttl time.Duration, renew, release func(ctx context.Context) error) *state.Lease {
	k := &keeper{renew: renew, release: release,
		stop: make(chan struct{}), lost: make(chan struct{}), done: make(chan struct{})}
	go k.keepAlive(ttl)
	return state.NewLease(name, token, k)
}

// keeper is the state.LeaseKeeper both providers share.
type keeper struct {
	renew   func(ctx context.Context) error
	release func(ctx context.Context) error
	stop    chan struct{}
	lost    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (k *keeper) keepAlive(ttl time.Duration) {
	defer close(k.done)
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
		err := k.renew(ctx)
		cancel()
		switch {
		case err == nil:
			lastOK = time.Now()
			continue
		case isNotHeld(err), time.Since(lastOK) >= ttl:
			close(k.lost)
			return
		}
	}
}

func isNotHeld(err error) bool {
	return errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrNotFound)
}

func (k *keeper) Lost() <-chan struct{} { return k.lost }

func (k *keeper) Renew(ctx context.Context) error { return k.renew(ctx) }

func (k *keeper) Release(ctx context.Context) error {
	first := false
	k.once.Do(func() { first = true; close(k.stop) })
	<-k.done
	if !first {
		return nil
	}
	err := k.release(ctx)
	if isNotHeld(err) {
		return nil
	}
	return err
}
