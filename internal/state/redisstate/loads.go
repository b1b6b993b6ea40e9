package redisstate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
)

// maxWaitingLoads bounds the loads queued or in flight at once; past it
// (a hung Redis holding the turn while requests keep coming), loads fail
// at once.
const maxWaitingLoads = 1024

// loadBatcher sends the session loads (HGETALL) of concurrent requests
// to Redis together: callers queue their key and wait, and one goroutine
// sends whatever is queued as one pipeline per turn (one write, one read
// of all the answers), while the next turn's loads queue behind it. Under
// load a round trip, its system calls and wake-ups are shared by every
// request of the turn, which is what an edge without a session cache pays
// most for.
//
// Unlike go-redis' auto-pipeliner (which waits out its own timeouts and
// retries whatever the context, and cost a goroutine and a channel per
// load to bound), a caller leaves at its own deadline without any
// goroutine of its own, a turn's pipeline runs under the latest deadline
// of the loads in it (the client's ContextTimeoutEnabled makes it bound
// the whole pipeline, retries included), loads whose callers have left
// are not sent, and the queue is bounded (maxWaitingLoads): a hung Redis
// holds one goroutine and at most maxWaitingLoads small entries. A
// caller whose context has a deadline that no timer enforces (Done not
// closing at it, as websession passes) is bounded by the turns: the one
// before its own ends by its loads' deadlines, its own is skipped once
// its deadline has passed, else ends by its loads' latest deadline.
//
// Turns carry whatever queued while the previous one was in flight (one
// pipeline at a time, no timer): BenchmarkStrictLoad reports loads/turn
// (22.7 at 64 concurrent loads on 2 cores).
type loadBatcher struct {
	c redis.UniversalClient

	mu   sync.Mutex
	next *loadBatch // the turn loads join; nil until one does
	// queued counts loads queued or in the turn being sent.
	queued atomic.Int64

	wake chan struct{} // a turn is due (capacity 1)
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// loadBatch is one turn: its loads, and their answers once ready is closed.
type loadBatch struct {
	keys  []string
	ctxs  []context.Context
	cmds  []*redis.MapStringStringCmd // the answers (a left caller's: its context's error)
	err   error                       // set instead of cmds when the turn could not run
	ready chan struct{}
}

func newLoadBatcher(c redis.UniversalClient) *loadBatcher {
	b := &loadBatcher{c: c, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// close ends the turns: the turn being sent finishes (by its deadline),
// loads queued behind it fail, later ones fail at once.
func (b *loadBatcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

var errBatcherClosed = fmt.Errorf("%w: the session store is closed", state.ErrStoreUnavailable)

// hgetall reads the hash at key in the next turn, returning when the
// answer comes or ctx ends, whichever is first.
func (b *loadBatcher) hgetall(ctx context.Context, key string) (map[string]string, error) {
	if b.queued.Add(1) > maxWaitingLoads {
		b.queued.Add(-1)
		return nil, fmt.Errorf("%w: too many loads waiting for Redis", state.ErrStoreUnavailable)
	}
	b.mu.Lock()
	select {
	case <-b.stop:
		b.mu.Unlock()
		b.queued.Add(-1)
		return nil, errBatcherClosed
	default:
	}
	t := b.next
	if t == nil {
		t = &loadBatch{ready: make(chan struct{})}
		b.next = t
	}
	i := len(t.keys)
	t.keys = append(t.keys, key)
	t.ctxs = append(t.ctxs, ctx)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // a turn is already due
	}
	select {
	case <-t.ready:
		if t.err != nil {
			return nil, t.err
		}
		m, err := t.cmds[i].Result()
		if err != nil {
			// The turn failed as this caller's context ended (the turn
			// runs to the latest deadline of its loads, so at the same
			// moment): report the context's end, as if it had left first.
			// The socket's deadline can fire before the context's timer
			// has marked it done, so a passed deadline counts too.
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("%w: %w", cerr, err)
			}
			if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
				return nil, fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
			}
		}
		return m, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *loadBatcher) run() {
	defer close(b.done)
	for {
		select {
		case <-b.wake:
		case <-b.stop:
			b.mu.Lock()
			t := b.next
			b.next = nil
			b.mu.Unlock()
			if t != nil {
				b.queued.Add(-int64(len(t.keys)))
				t.err = errBatcherClosed
				close(t.ready)
			}
			return
		}
		for {
			// Loads that came while a turn was sent make the next one.
			b.mu.Lock()
			t := b.next
			b.next = nil
			b.mu.Unlock()
			if t == nil {
				break
			}
			b.send(t)
		}
	}
}

// send runs one turn: the loads whose callers still wait, as one
// pipeline under the latest of their deadlines.
func (b *loadBatcher) send(t *loadBatch) {
	defer close(t.ready)
	defer b.queued.Add(-int64(len(t.keys)))
	t.cmds = make([]*redis.MapStringStringCmd, len(t.keys))
	var latest time.Time
	for _, ctx := range t.ctxs {
		if ctx.Err() != nil {
			continue // its caller has left
		}
		d, ok := ctx.Deadline()
		if !ok {
			d = time.Now().Add(loadTurnTimeout)
		}
		if d.After(latest) {
			latest = d
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), latest)
	defer cancel()
	p := b.c.Pipeline()
	n := 0
	for i, key := range t.keys {
		if t.ctxs[i].Err() != nil {
			t.cmds[i] = redis.NewMapStringStringResult(nil, t.ctxs[i].Err())
			continue
		}
		t.cmds[i] = p.HGetAll(ctx, key)
		n++
	}
	if n > 0 {
		turnsSent.Add(1)
		loadsSent.Add(uint64(n))
		_, _ = p.Exec(ctx) // each command keeps its own error
	}
}

// turnsSent and loadsSent count the pipelines sent and the loads in
// them, over every batcher of the process (two atomic adds a turn): their
// ratio is how many loads a turn carries.
var turnsSent, loadsSent atomic.Uint64

// loadTurnTimeout bounds a turn for a caller without a deadline.
const loadTurnTimeout = 5 * time.Second

// aside runs a rare call (the load script) in a goroutine of its own and
// returns at ctx's end if it has not: with a client whose commands do not
// end at the context's deadline (ContextTimeoutEnabled unset) a hung Redis
// would otherwise hold the caller for the client's timeouts and retries.
// It counts against maxWaitingLoads like a queued load.
func (b *loadBatcher) aside(ctx context.Context, call func(context.Context) error) error {
	if b.queued.Add(1) > maxWaitingLoads {
		b.queued.Add(-1)
		return fmt.Errorf("%w: too many loads waiting for Redis", state.ErrStoreUnavailable)
	}
	done := make(chan error, 1)
	go func() {
		defer b.queued.Add(-1)
		done <- call(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
