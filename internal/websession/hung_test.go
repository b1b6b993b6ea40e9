package websession_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/internal/websession"
)

// TestStrictResolvesFromAPausedRedisEndWithinTheStoreTimeout: Redis
// accepts and answers nothing; many requests at once, whose own contexts
// have no deadline, resolve strict sessions (every one loads from the
// store). Each fails as unavailable (its cookie kept) within the store
// timeout, even while an earlier turn of the load batcher holds Redis,
// not after the client's timeouts and retries.
func TestStrictResolvesFromAPausedRedisEndWithinTheStoreTimeout(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	f := newFarm(t, r.Addr)
	p, err := redisstate.Open(context.Background(), r.Addr, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const timeout = 400 * time.Millisecond
	res, err := websession.New(context.Background(), websession.Options{Ring: f.ring, Sessions: p.Sessions, CacheTTL: -1, StoreTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	_, cookie := create(t, res, "u")
	if err := syscall.Kill(r.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(r.PID, syscall.SIGCONT)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	// They come while a turn is held: the first to queue sends it.
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			_, err := res.Resolve(context.Background(), cookie)
			took := time.Since(start)
			switch {
			case !errors.Is(err, state.ErrStoreUnavailable) || errors.Is(err, websession.ErrInvalid):
				errs <- fmt.Errorf("resolve %d = %v; want the store unavailable", i, err)
			case took > timeout+2*time.Second: // slack for a loaded machine
				errs <- fmt.Errorf("resolve %d took %v with a store timeout of %v", i, took, timeout)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
