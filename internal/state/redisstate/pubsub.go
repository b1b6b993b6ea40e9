package redisstate

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
)

type pubSub struct {
	c redis.UniversalClient
	k keys
}

func (p *pubSub) Publish(ctx context.Context, channel, payload string) error {
	if err := p.c.Publish(ctx, p.k.channel(channel), payload).Err(); err != nil {
		return unavailable("publish", err)
	}
	return nil
}

// Subscribe runs one go-redis PubSub on its own goroutine. go-redis
// redials and resubscribes after a connection error by itself; this loop
// turns each loss (a receive error, or a health ping that fails after a
// quiet period) into OnReset(false) and each subscription confirmation into
// OnReset(true), which is how callers learn they may have missed messages.
func (p *pubSub) Subscribe(ctx context.Context, channel string, h state.Handler) (state.Subscription, error) {
	ps := p.c.Subscribe(context.Background())
	runCtx, cancel := context.WithCancel(context.Background())
	s := &subscription{ps: ps, cancel: cancel, done: make(chan struct{}), first: make(chan struct{})}
	if err := ps.Subscribe(ctx, p.k.channel(channel)); err != nil {
		// Redis is down: the loop below keeps trying.
		s.connected.Store(false)
	}
	go s.run(runCtx, h)
	select {
	case <-s.first:
	case <-ctx.Done():
	}
	return s, nil
}

type subscription struct {
	ps        *redis.PubSub
	cancel    context.CancelFunc
	done      chan struct{}
	first     chan struct{}
	firstOnce sync.Once
	connected atomic.Bool
	closeOnce sync.Once
}

// quiet is how long a silent subscription waits before it pings to check
// its connection (a dead peer sends no RST).
const quiet = 15 * time.Second

func (s *subscription) run(ctx context.Context, h state.Handler) {
	defer close(s.done)
	reset := func(up bool) {
		s.connected.Store(up)
		if h.OnReset != nil {
			h.OnReset(up)
		}
		if up {
			s.firstOnce.Do(func() { close(s.first) })
		}
	}
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		msg, err := s.ps.ReceiveTimeout(ctx, quiet)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && s.connected.Load() {
				if perr := s.ps.Ping(ctx); perr == nil {
					continue
				}
			}
			if s.connected.Load() {
				reset(false)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				reset(true)
			}
		case *redis.Message:
			if h.OnMessage != nil {
				h.OnMessage(m.Payload)
			}
		}
	}
}

func (s *subscription) Connected() bool { return s.connected.Load() }

func (s *subscription) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel()
		err = s.ps.Close()
		<-s.done
	})
	return err
}

// NewPubSub returns the pub/sub facade over an existing client, for users
// that need only notices (the key ring's change notices), with the same
// channel prefixing as a full provider.
func NewPubSub(c redis.UniversalClient, keyPrefix string) state.PubSub {
	return &pubSub{c: c, k: keys{prefix: keyPrefix}}
}
