package keyring_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/keyring"
)

// stalledNotifier is a notifier whose server is down: like the Redis
// pub/sub facade, Subscribe waits for the first confirmation until ctx
// ends, then returns a live subscription that would come up later.
type stalledNotifier struct{ waited atomic.Bool }

func (n *stalledNotifier) Notify(context.Context) error { return nil }

func (n *stalledNotifier) Subscribe(ctx context.Context, onChange func()) (func(), error) {
	<-ctx.Done()
	n.waited.Store(true)
	return func() {}, nil
}

// A process whose notices' server is down at start (Redis restarting, or
// not up yet when the whole farm starts) still gets its ring, from the
// store, instead of hanging before it listens.
func TestNewDoesNotWaitForADownNotifier(t *testing.T) {
	n := &stalledNotifier{}
	done := make(chan error, 1)
	var ring *keyring.Ring
	go func() {
		var err error
		ring, err = keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), Notifier: n})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		defer ring.Close()
	case <-time.After(time.Minute): // a hang, not a timing claim
		t.Fatal("keyring.New is still waiting for the notifier's subscription")
	}
	if !n.waited.Load() {
		t.Error("New did not try to subscribe")
	}
}
