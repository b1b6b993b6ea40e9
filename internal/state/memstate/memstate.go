// Package memstate is the InMemory distributed state provider: everything
// lives in this process, for a single server and for tests. It passes the
// same suite (statetest) as the Redis provider. Several providers made from
// one Store behave like servers of a farm sharing one store.
package memstate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

// Store is the shared backing state. Its zero value is not usable; call
// NewStore.
type Store struct {
	mu       sync.Mutex
	sessions map[string]*state.Session
	// sessionFences: the fence of the last fenced update of each session
	// (SessionUpdate.Fence), dropped with the session.
	sessionFences map[string]state.Fence
	locks         map[string]memLock
	fences        map[string]uint64
	uc            map[string]ucEntry // namespace + "\x00" + id
	ucVer         map[string]uint64  // the same keys
	ucEpoch       map[string]uint64  // by namespace
	subs          map[string]map[*memSub]struct{}
	queues        map[string]*memQueue
	tickets       map[string]memTicket
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		sessions: map[string]*state.Session{}, sessionFences: map[string]state.Fence{}, locks: map[string]memLock{},
		fences: map[string]uint64{}, uc: map[string]ucEntry{}, ucVer: map[string]uint64{}, ucEpoch: map[string]uint64{},
		subs: map[string]map[*memSub]struct{}{},
	}
}

// New returns a provider over a store of its own.
func New(opt state.Options) (*state.Provider, error) { return NewStore().Provider(opt) }

// Provider returns a provider ("a server") over s.
func (s *Store) Provider(opt state.Options) (*state.Provider, error) {
	opt = opt.WithDefaults()
	ps := &memPubSub{s: s}
	ss := &sessions{s: s, opt: opt}
	if opt.Registerer != nil {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redis_sessions_active",
			Help: "Sessions alive in the distributed state store."}, func() float64 { return float64(ss.count()) })
		if err := opt.Registerer.Register(g); err != nil {
			return nil, fmt.Errorf("memstate: %w", err)
		}
	}
	uc, sub, err := statekit.NewUserContextCache(context.Background(), &ucShared{s: s, ns: "usercontext", now: opt.Now}, ps, opt)
	if err != nil {
		return nil, err
	}
	tokens, tokenSub, err := statekit.NewTokenCache(context.Background(), &ucShared{s: s, ns: "token", now: opt.Now}, ps, opt)
	if err != nil {
		sub.Close()
		return nil, err
	}
	return &state.Provider{
		Name: "InMemory", Sessions: statekit.WithRevocationNotices(ss, ps), UserContexts: uc, Tokens: tokens, Locks: &locker{s: s, now: opt.Now}, PubSub: ps, Queue: &queue{s: s},
		Tickets: &tickets{s: s, now: opt.Now},
		Ping:    func(context.Context) error { return nil },
		Close:   func() error { return errors.Join(tokenSub.Close(), sub.Close()) },
	}, nil
}
