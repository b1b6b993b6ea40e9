// Package redisstore keeps a key ring in Redis (go-redis UniversalClient,
// so a single server, Sentinel or Cluster), and carries the ring's change
// notices over Redis pub/sub for any backend.
//
// Three hashes share the hash tag {keyring} (one Cluster slot):
//
//	<prefix>{keyring}:keys         key id (hex) -> JSON key record
//	<prefix>{keyring}:slots        slot -> key id
//	<prefix>{keyring}:revocations  record id -> JSON revocation record
//
// A key is inserted by a Lua script that checks the id and claims the slot
// (HSETNX) and stores the record in one atomic step. Records are never
// changed or deleted. The key ring is only as durable as the Redis server:
// run it with persistence (AOF) when it holds the keys, or a restart without
// data logs everybody out.
package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/keyring"
)

// DefaultChannel is the pub/sub channel of change notices.
const DefaultChannel = "keyring:changed"

// Options configure a Store or a Notifier.
type Options struct {
	// Prefix is prepended to every key and to the channel
	// (Cesivi:DistributedState:KeyPrefix); default none.
	Prefix string
	// Channel overrides DefaultChannel (the prefix still applies).
	Channel string
}

// Store is a Redis store; it is also a keyring.Notifier.
type Store struct {
	*Notifier
	client                redis.UniversalClient
	keys, slots, revokeds string
}

// New returns a store on client (which the caller owns).
func New(client redis.UniversalClient, opt Options) *Store {
	return &Store{
		Notifier: NewNotifier(client, opt),
		client:   client,
		keys:     opt.Prefix + "{keyring}:keys",
		slots:    opt.Prefix + "{keyring}:slots",
		revokeds: opt.Prefix + "{keyring}:revocations",
	}
}

// Load implements keyring.Store (both hashes in one MULTI).
func (s *Store) Load(ctx context.Context) (keyring.Records, error) {
	var recs keyring.Records
	var keys, revs *redis.MapStringStringCmd
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		keys = p.HGetAll(ctx, s.keys)
		revs = p.HGetAll(ctx, s.revokeds)
		return nil
	})
	if err != nil {
		return recs, fmt.Errorf("redisstore: load: %w", err)
	}
	for field, v := range keys.Val() {
		var k keyring.KeyRecord
		if err := json.Unmarshal([]byte(v), &k); err != nil {
			return recs, fmt.Errorf("redisstore: key record %s: %v", field, err)
		}
		recs.Keys = append(recs.Keys, k)
	}
	for field, v := range revs.Val() {
		var rv keyring.Revocation
		if err := json.Unmarshal([]byte(v), &rv); err != nil {
			return recs, fmt.Errorf("redisstore: revocation record %s: %v", field, err)
		}
		recs.Revocations = append(recs.Revocations, rv)
	}
	return recs, nil
}

var insertKey = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`)

// InsertKey implements keyring.Store.
func (s *Store) InsertKey(ctx context.Context, rec keyring.KeyRecord) (bool, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	n, err := insertKey.Run(ctx, s.client, []string{s.slots, s.keys}, rec.Slot, rec.ID.String(), b).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: insert key: %w", err)
	}
	return n == 1, nil
}

// InsertRevocation implements keyring.Store.
func (s *Store) InsertRevocation(ctx context.Context, rv keyring.Revocation) error {
	b, err := json.Marshal(rv)
	if err != nil {
		return err
	}
	if err := s.client.HSetNX(ctx, s.revokeds, rv.ID, b).Err(); err != nil {
		return fmt.Errorf("redisstore: insert revocation: %w", err)
	}
	return nil
}

// Notifier publishes and receives key ring change notices on a Redis
// channel. Use it with any store when Redis is available.
type Notifier struct {
	client  redis.UniversalClient
	channel string
}

// NewNotifier returns a notifier on client.
func NewNotifier(client redis.UniversalClient, opt Options) *Notifier {
	ch := opt.Channel
	if ch == "" {
		ch = DefaultChannel
	}
	return &Notifier{client: client, channel: opt.Prefix + ch}
}

// Channel returns the channel name.
func (n *Notifier) Channel() string { return n.channel }

// Notify implements keyring.Notifier.
func (n *Notifier) Notify(ctx context.Context) error {
	if err := n.client.Publish(ctx, n.channel, "changed").Err(); err != nil {
		return fmt.Errorf("redisstore: publish: %w", err)
	}
	return nil
}

// Subscribe implements keyring.Notifier. onChange runs for every notice and
// after every re-subscription (go-redis reconnects on its own; notices sent
// meanwhile are lost, so a refresh is due).
func (n *Notifier) Subscribe(ctx context.Context, onChange func()) (func(), error) {
	ps := n.client.Subscribe(ctx, n.channel)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := ps.Receive(rctx)
	cancel()
	if err != nil {
		ps.Close()
		return nil, fmt.Errorf("redisstore: subscribe %s: %w", n.channel, err)
	}
	ch := ps.ChannelWithSubscriptions()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range ch {
			onChange()
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			ps.Close()
			wg.Wait()
		})
	}, nil
}

var (
	_ keyring.Store    = (*Store)(nil)
	_ keyring.Notifier = (*Notifier)(nil)
)
