// Package memstate is the InMemory distributed state provider: everything
// lives in this process, for a single server and for tests. It passes the
// same suite (statetest) as the Redis provider. Several providers made from
// one Store behave like servers of a farm sharing one store.
package memstate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

// Store is the shared backing state. Its zero value is not usable; call
// NewStore.
type Store struct {
	mu       sync.Mutex
	sessions map[string]*state.Session
	locks    map[string]memLock
	fences   map[string]uint64
	uc       map[string]ucEntry // namespace + "\x00" + id
	ucVer    map[string]uint64  // the same keys
	ucEpoch  map[string]uint64  // by namespace
	subs     map[string]map[*memSub]struct{}
	queues   map[string]*memQueue
	tickets  map[string]memTicket
}

type memLock struct {
	holder string
	token  uint64
	exp    time.Time
}

type ucEntry struct {
	val      []byte
	ver, epo uint64
	exp      time.Time
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		sessions: map[string]*state.Session{}, locks: map[string]memLock{},
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

// ---- sessions ----

type sessions struct {
	s   *Store
	opt state.Options
}

func (m *sessions) expires(se *state.Session) time.Time {
	return expiresAt(se.Created, se.LastSeen, m.opt.IdleTimeout, m.opt.AbsoluteLifetime)
}

// live returns the session if it has not expired, deleting it otherwise.
// Callers hold s.mu.
func (m *sessions) live(id string, now time.Time) *state.Session {
	se := m.s.sessions[id]
	if se == nil {
		return nil
	}
	if !now.Before(m.expires(se)) {
		delete(m.s.sessions, id)
		return nil
	}
	return se
}

func (m *sessions) count() int {
	now := m.opt.Now()
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	n := 0
	for id := range m.s.sessions {
		if m.live(id, now) != nil {
			n++
		}
	}
	return n
}

func copySession(se *state.Session, idle, abs time.Duration) *state.Session {
	c := *se
	c.Tokens = append([]byte(nil), se.Tokens...)
	c.Data = maps.Clone(se.Data)
	if c.Data == nil {
		c.Data = map[string]string{}
	}
	c.Expires = expiresAt(c.Created, c.LastSeen, idle, abs)
	return &c
}

func (m *sessions) out(se *state.Session) *state.Session {
	return copySession(se, m.opt.IdleTimeout, m.opt.AbsoluteLifetime)
}

func (m *sessions) Create(ctx context.Context, se *state.Session) error {
	if se.ID == "" {
		se.ID = state.NewID()
	}
	now := m.opt.Now()
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.live(se.ID, now) != nil {
		return fmt.Errorf("memstate: create session: %w", state.ErrConflict)
	}
	se.Created, se.LastSeen = now.Truncate(time.Millisecond), now.Truncate(time.Millisecond)
	se.Expires = m.expires(se)
	m.s.sessions[se.ID] = m.out(se)
	return nil
}

func (m *sessions) Load(ctx context.Context, id string) (*state.Session, error) {
	now := m.opt.Now()
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	se := m.live(id, now)
	if se == nil {
		return nil, fmt.Errorf("memstate: load session: %w", state.ErrNotFound)
	}
	if now.Sub(se.LastSeen) >= m.opt.IdleTimeout/4 {
		se.LastSeen = now.Truncate(time.Millisecond)
	}
	return m.out(se), nil
}

func (m *sessions) Update(ctx context.Context, id string, upd state.SessionUpdate) error {
	now := m.opt.Now()
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	se := m.live(id, now)
	if se == nil {
		return fmt.Errorf("memstate: update session: %w", state.ErrNotFound)
	}
	if upd.Tokens != nil {
		se.Tokens = append([]byte(nil), (*upd.Tokens)...)
	}
	if se.Data == nil {
		se.Data = map[string]string{}
	}
	maps.Copy(se.Data, upd.Set)
	for _, k := range upd.Delete {
		delete(se.Data, k)
	}
	return nil
}

func (m *sessions) Delete(ctx context.Context, id string) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	delete(m.s.sessions, id)
	return nil
}

func (m *sessions) ChangeID(ctx context.Context, id string) (string, error) {
	now := m.opt.Now()
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	se := m.live(id, now)
	if se == nil {
		return "", fmt.Errorf("memstate: change session id: %w", state.ErrNotFound)
	}
	nid := state.NewID()
	delete(m.s.sessions, id)
	se.ID = nid
	m.s.sessions[nid] = se
	return nid, nil
}

func (m *sessions) match(pred func(*state.Session) bool) []*state.Session {
	now := m.opt.Now()
	var out []*state.Session
	for id := range m.s.sessions {
		if se := m.live(id, now); se != nil && pred(se) {
			out = append(out, se)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID
	})
	return out
}

func (m *sessions) ListUser(ctx context.Context, userID string) ([]*state.Session, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var out []*state.Session
	for _, se := range m.match(func(se *state.Session) bool { return se.UserID == userID }) {
		out = append(out, m.out(se))
	}
	return out, nil
}

func (m *sessions) revoke(pred func(*state.Session) bool) int {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	found := m.match(pred)
	for _, se := range found {
		delete(m.s.sessions, se.ID)
	}
	return len(found)
}

func (m *sessions) RevokeUser(ctx context.Context, userID string) (int, error) {
	return m.revoke(func(se *state.Session) bool { return se.UserID == userID }), nil
}

func (m *sessions) RevokeSID(ctx context.Context, sid string) (int, error) {
	if sid == "" {
		return 0, nil
	}
	return m.revoke(func(se *state.Session) bool { return se.SID == sid }), nil
}

// ---- user-context shared layer ----

type ucShared struct {
	s   *Store
	ns  string // namespace: "usercontext" or "token"
	now func() time.Time
}

type ucVersion struct{ ver, epo uint64 }

func (u *ucShared) key(id string) string { return u.ns + "\x00" + id }

func (u *ucShared) Read(ctx context.Context, userID string) ([]byte, bool, any, error) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	k := u.key(userID)
	v := ucVersion{u.s.ucVer[k], u.s.ucEpoch[u.ns]}
	e, ok := u.s.uc[k]
	if ok && e.ver == v.ver && e.epo == v.epo && u.now().Before(e.exp) {
		return append([]byte(nil), e.val...), true, v, nil
	}
	return nil, false, v, nil
}

func (u *ucShared) Write(ctx context.Context, userID string, version any, val []byte, ttl time.Duration) (bool, error) {
	v := version.(ucVersion)
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	k := u.key(userID)
	if u.s.ucVer[k] != v.ver || u.s.ucEpoch[u.ns] != v.epo {
		return false, nil // invalidated while loading: do not store
	}
	u.s.uc[k] = ucEntry{val: append([]byte(nil), val...), ver: v.ver, epo: v.epo, exp: u.now().Add(ttl)}
	return true, nil
}

func (u *ucShared) Invalidate(ctx context.Context, userID string) error {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if userID == "*" {
		u.s.ucEpoch[u.ns]++
		for k := range u.s.uc {
			if strings.HasPrefix(k, u.ns+"\x00") {
				delete(u.s.uc, k)
			}
		}
		return nil
	}
	k := u.key(userID)
	u.s.ucVer[k]++
	delete(u.s.uc, k)
	return nil
}

// ---- locks ----

type locker struct {
	s   *Store
	now func() time.Time
}

var holderSeq atomic.Uint64

func (l *locker) Acquire(ctx context.Context, name string, ttl time.Duration) (*state.Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("memstate: lock %q: ttl must be positive", name)
	}
	holder := fmt.Sprint(holderSeq.Add(1))
	l.s.mu.Lock()
	if cur, ok := l.s.locks[name]; ok && l.now().Before(cur.exp) {
		l.s.mu.Unlock()
		return nil, fmt.Errorf("memstate: lock %q: %w", name, state.ErrConflict)
	}
	l.s.fences[name]++
	tok := l.s.fences[name]
	l.s.locks[name] = memLock{holder: holder, token: tok, exp: l.now().Add(ttl)}
	l.s.mu.Unlock()

	held := func(f func()) error {
		l.s.mu.Lock()
		defer l.s.mu.Unlock()
		cur, ok := l.s.locks[name]
		if !ok || cur.holder != holder || !l.now().Before(cur.exp) {
			return fmt.Errorf("memstate: lock %q: %w", name, state.ErrConflict)
		}
		f()
		return nil
	}
	renew := func(context.Context) error {
		return held(func() { c := l.s.locks[name]; c.exp = l.now().Add(ttl); l.s.locks[name] = c })
	}
	release := func(context.Context) error {
		return held(func() { delete(l.s.locks, name) })
	}
	return statekit.NewLease(name, tok, ttl, renew, release), nil
}

// ---- pub/sub ----

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

// expiresAt is the session expiry rule: the earlier of the idle timeout
// after the last refresh and the absolute lifetime after creation.
func expiresAt(created, lastSeen time.Time, idle, absolute time.Duration) time.Time {
	e := lastSeen.Add(idle)
	if a := created.Add(absolute); a.Before(e) {
		e = a
	}
	return e
}
