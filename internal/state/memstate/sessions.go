package memstate

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

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
		m.drop(id)
		return nil
	}
	return se
}

// drop removes a session and its fence. Callers hold s.mu.
func (m *sessions) drop(id string) {
	delete(m.s.sessions, id)
	delete(m.s.sessionFences, id)
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
	out := m.out(se)
	out.Tokens = nil // as redisstate: Load leaves the tokens out
	return out, nil
}

func (m *sessions) Tokens(ctx context.Context, id string) ([]byte, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	se := m.live(id, m.opt.Now())
	if se == nil {
		return nil, fmt.Errorf("memstate: session tokens: %w", state.ErrNotFound)
	}
	return append([]byte{}, se.Tokens...), nil
}

func (m *sessions) Update(ctx context.Context, id string, upd state.SessionUpdate) error {
	now := m.opt.Now()
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	se := m.live(id, now)
	if se == nil {
		return fmt.Errorf("memstate: update session: %w", state.ErrNotFound)
	}
	if upd.Fence != nil && m.s.sessionFences[id].Newer(*upd.Fence) {
		return fmt.Errorf("memstate: update session: %w", state.ErrFenced)
	}
	if upd.IfTokens != nil && !bytes.Equal(se.Tokens, *upd.IfTokens) {
		return fmt.Errorf("memstate: update session: the tokens changed meanwhile: %w", state.ErrConflict)
	}
	if upd.Fence != nil {
		m.s.sessionFences[id] = *upd.Fence
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
	m.drop(id)
	return nil
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
		c := m.out(se)
		c.Tokens = nil
		out = append(out, c)
	}
	return out, nil
}

func (m *sessions) revoke(pred func(*state.Session) bool) int {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	found := m.match(pred)
	for _, se := range found {
		m.drop(se.ID)
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

// expiresAt is the session expiry rule: the earlier of the idle timeout
// after the last refresh and the absolute lifetime after creation.
func expiresAt(created, lastSeen time.Time, idle, absolute time.Duration) time.Time {
	e := lastSeen.Add(idle)
	if a := created.Add(absolute); a.Before(e) {
		e = a
	}
	return e
}
