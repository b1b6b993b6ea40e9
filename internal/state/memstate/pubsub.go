package memstate

import (
	"context"
	"sync"

	"github.com/cesivi/cesivi/internal/state"
)

type memPubSub struct{ s *Store }

type memSub struct {
	ch     chan string
	closed chan struct{}
	done   chan struct{}
	once   sync.Once
	s      *Store
	name   string
}

func (p *memPubSub) Publish(ctx context.Context, channel, payload string) error {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	for sub := range p.s.subs[channel] {
		select {
		case sub.ch <- payload:
		default:
			// A subscriber that cannot keep up loses the message, as a
			// Redis subscriber past its output buffer limit would.
		}
	}
	return nil
}

func (p *memPubSub) Subscribe(ctx context.Context, channel string, h state.Handler) (state.Subscription, error) {
	sub := &memSub{ch: make(chan string, 1024), closed: make(chan struct{}), done: make(chan struct{}), s: p.s, name: channel}
	p.s.mu.Lock()
	if p.s.subs[channel] == nil {
		p.s.subs[channel] = map[*memSub]struct{}{}
	}
	p.s.subs[channel][sub] = struct{}{}
	p.s.mu.Unlock()
	if h.OnReset != nil {
		h.OnReset(true)
	}
	go func() {
		defer close(sub.done)
		for {
			select {
			case <-sub.closed:
				return
			case msg := <-sub.ch:
				if h.OnMessage != nil {
					h.OnMessage(msg)
				}
			}
		}
	}()
	return sub, nil
}

func (s *memSub) Connected() bool { return true }

func (s *memSub) Close() error {
	s.once.Do(func() {
		s.s.mu.Lock()
		delete(s.s.subs[s.name], s)
		s.s.mu.Unlock()
		close(s.closed)
	})
	<-s.done
	return nil
}
