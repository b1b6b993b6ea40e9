package keyring

import (
	"context"
	"sync"
)

// MemoryStore is a Store (and Notifier) in process memory: for single-node
// mode with InMemory providers and for tests. Its keys die with the process.
type MemoryStore struct {
	mu    sync.Mutex
	recs  Records
	slots map[string]bool
	ids   map[KeyID]bool
	revs  map[string]bool
	subs  map[int]func()
	next  int
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{slots: map[string]bool{}, ids: map[KeyID]bool{}, revs: map[string]bool{}, subs: map[int]func(){}}
}

// Load implements Store.
func (m *MemoryStore) Load(ctx context.Context) (Records, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Records{
		Keys:        append([]KeyRecord(nil), m.recs.Keys...),
		Revocations: append([]Revocation(nil), m.recs.Revocations...),
	}, ctx.Err()
}

// InsertKey implements Store.
func (m *MemoryStore) InsertKey(ctx context.Context, rec KeyRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slots[rec.Slot] || m.ids[rec.ID] {
		return false, nil
	}
	m.slots[rec.Slot], m.ids[rec.ID] = true, true
	rec.Material = append([]byte(nil), rec.Material...)
	m.recs.Keys = append(m.recs.Keys, rec)
	return true, nil
}

// InsertRevocation implements Store.
func (m *MemoryStore) InsertRevocation(ctx context.Context, rv Revocation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.revs[rv.ID] {
		m.revs[rv.ID] = true
		m.recs.Revocations = append(m.recs.Revocations, rv)
	}
	return nil
}

// Notify implements Notifier: it calls every subscriber.
func (m *MemoryStore) Notify(ctx context.Context) error {
	m.mu.Lock()
	subs := make([]func(), 0, len(m.subs))
	for _, f := range m.subs {
		subs = append(subs, f)
	}
	m.mu.Unlock()
	for _, f := range subs {
		f()
	}
	return nil
}

// Subscribe implements Notifier.
func (m *MemoryStore) Subscribe(ctx context.Context, onChange func()) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.next
	m.next++
	m.subs[id] = onChange
	return func() {
		m.mu.Lock()
		delete(m.subs, id)
		m.mu.Unlock()
	}, nil
}
