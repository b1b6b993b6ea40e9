package state

import "context"

// PubSub is a small facade over publish/subscribe. Delivery is at most
// once: a subscriber that was disconnected has missed messages, which is
// what Handler.OnReset is for.
type PubSub interface {
	Publish(ctx context.Context, channel, payload string) error
	// Subscribe calls h.OnMessage for each message until the subscription
	// is closed. It returns once the first subscription is in place.
	Subscribe(ctx context.Context, channel string, h Handler) (Subscription, error)
}

// Handler receives a subscription's events. Both functions run on the
// subscription's goroutine.
type Handler struct {
	OnMessage func(payload string)
	// OnReset is called when the subscription is (re)established and when
	// its connection is lost: messages may have been missed, so anything
	// derived from them must be dropped. connected tells which.
	OnReset func(connected bool)
}

// Subscription is an active subscription.
type Subscription interface {
	// Connected reports whether the subscription is currently in place.
	Connected() bool
	Close() error
}

// ChangeNotices turns a channel into "something changed, re-read it"
// notices: the shape of keyring.Notifier, which it satisfies without this
// package importing the key ring. Every message and every reset of the
// subscription (notices may have been missed) calls onChange, so a reader
// that re-reads on each call never stays stale past a reconnect.
//
// It is part of the contract, not of the providers' kit, because consumers
// build it over a provider's PubSub (dataprotection hands it to the key
// ring as its Notifier).
type ChangeNotices struct {
	PubSub  PubSub
	Channel string
}

// Notify tells every subscriber on every server that something changed.
func (n ChangeNotices) Notify(ctx context.Context) error {
	return n.PubSub.Publish(ctx, n.Channel, "changed")
}

// Subscribe calls onChange for every notice and every reset until stop is
// called. It returns once the subscription is in place.
func (n ChangeNotices) Subscribe(ctx context.Context, onChange func()) (stop func(), err error) {
	sub, err := n.PubSub.Subscribe(ctx, n.Channel, Handler{
		OnMessage: func(string) { onChange() },
		OnReset:   func(bool) { onChange() },
	})
	if err != nil {
		return nil, err
	}
	return func() { _ = sub.Close() }, nil
}
