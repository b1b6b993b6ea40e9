package memstate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

type memQueue struct {
	ready    []*statekit.Delivery
	inflight map[string]*memFlight
	retry    []memRetry
	dead     []state.DeadJob
	dedup    map[string]time.Time
	// dedupOrder lists dedup entries oldest first, so expired ones are
	// dropped without scanning the map and a long-running server does not
	// keep every key it ever saw.
	dedupOrder []dedupEntry
	seq        int
}

type dedupEntry struct {
	key string
	at  time.Time
}

// remember records key as enqueued at now and forgets keys whose window
// has passed.
func (q *memQueue) remember(key string, now time.Time) {
	for len(q.dedupOrder) > 0 && now.Sub(q.dedupOrder[0].at) >= state.DedupWindow {
		e := q.dedupOrder[0]
		q.dedupOrder = q.dedupOrder[1:]
		if q.dedup[e.key].Equal(e.at) { // not re-enqueued since
			delete(q.dedup, e.key)
		}
	}
	q.dedup[key] = now
	q.dedupOrder = append(q.dedupOrder, dedupEntry{key, now})
}

type memFlight struct {
	d        *statekit.Delivery
	consumer string
	beat     time.Time
}

type memRetry struct {
	d   *statekit.Delivery
	due time.Time
}

type queue struct{ s *Store }

// q returns the job type's queue; callers hold s.mu.
func (s *Store) q(jobType string) *memQueue {
	if s.queues == nil {
		s.queues = map[string]*memQueue{}
	}
	q := s.queues[jobType]
	if q == nil {
		q = &memQueue{inflight: map[string]*memFlight{}, dedup: map[string]time.Time{}}
		s.queues[jobType] = q
	}
	return q
}

func (m *queue) Enqueue(ctx context.Context, jobType, key string, payload []byte) (bool, error) {
	if key == "" {
		key = state.NewID()
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	q := m.s.q(jobType)
	now := time.Now()
	if t, ok := q.dedup[key]; ok && now.Sub(t) < state.DedupWindow {
		return false, nil
	}
	q.remember(key, now)
	q.seq++
	q.ready = append(q.ready, &statekit.Delivery{Ref: strconv.Itoa(q.seq),
		Job: state.Job{Type: jobType, Key: key, Payload: slices.Clone(payload), Attempt: 1}})
	return true, nil
}

func (m *queue) Work(ctx context.Context, jobType string, h func(context.Context, state.Job) error, opt state.WorkerOptions) error {
	return statekit.RunWorker(ctx, m, jobType, h, opt)
}

func (m *queue) DeadLetters(ctx context.Context, jobType string) ([]state.DeadJob, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	d := slices.Clone(m.s.q(jobType).dead)
	slices.Reverse(d)
	return d, nil
}

func (m *queue) Fetch(ctx context.Context, jobType string, opt state.WorkerOptions) (*statekit.Delivery, error) {
	deadline := time.Now().Add(100 * time.Millisecond)
	for {
		if d := m.take(jobType, opt); d != nil {
			return d, nil
		}
		if time.Now().After(deadline) {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (m *queue) take(jobType string, opt state.WorkerOptions) *statekit.Delivery {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	q := m.s.q(jobType)
	now := time.Now()
	for ref, f := range q.inflight {
		if now.Sub(f.beat) >= opt.Visibility {
			// Its worker died or hung: that attempt failed.
			if opt.MaxAttempts > 0 && f.d.Attempt >= opt.MaxAttempts {
				delete(q.inflight, ref)
				q.dead = append(q.dead, state.DeadJob{Job: f.d.Job, Error: state.AbandonedReason, At: now})
				if opt.MaxDead > 0 && len(q.dead) > opt.MaxDead {
					q.dead = q.dead[len(q.dead)-opt.MaxDead:]
				}
				continue
			}
			// A new delivery: the hung worker's one no longer owns the job.
			nd := *f.d
			nd.Attempt++
			f.d, f.consumer, f.beat = &nd, opt.Consumer, now
			return &nd
		}
	}
	for i, r := range q.retry {
		if !now.Before(r.due) {
			q.retry = slices.Delete(q.retry, i, i+1)
			q.ready = append(q.ready, r.d)
			break
		}
	}
	if len(q.ready) == 0 {
		return nil
	}
	d := q.ready[0]
	q.ready = q.ready[1:]
	q.inflight[d.Ref] = &memFlight{d: d, consumer: opt.Consumer, beat: now}
	return d
}

// owned runs f if consumer still owns the delivery.
func (m *queue) owned(jobType string, d *statekit.Delivery, f func(q *memQueue)) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	q := m.s.q(jobType)
	if fl, ok := q.inflight[d.Ref]; !ok || fl.d != d {
		return fmt.Errorf("memstate: job %s: %w", d.Key, state.ErrConflict)
	}
	f(q)
	return nil
}

func (m *queue) Heartbeat(ctx context.Context, jobType string, d *statekit.Delivery, opt state.WorkerOptions) error {
	return m.owned(jobType, d, func(q *memQueue) { q.inflight[d.Ref].beat = time.Now() })
}

func (m *queue) Ack(ctx context.Context, jobType string, d *statekit.Delivery) error {
	return m.owned(jobType, d, func(q *memQueue) { delete(q.inflight, d.Ref) })
}

func (m *queue) Retry(ctx context.Context, jobType string, d *statekit.Delivery, due time.Time) error {
	return m.owned(jobType, d, func(q *memQueue) {
		delete(q.inflight, d.Ref)
		q.seq++
		next := &statekit.Delivery{Ref: strconv.Itoa(q.seq), Job: d.Job}
		next.Attempt++
		q.retry = append(q.retry, memRetry{d: next, due: due})
	})
}

func (m *queue) Dead(ctx context.Context, jobType string, d *statekit.Delivery, reason string, maxDead int) error {
	return m.owned(jobType, d, func(q *memQueue) {
		delete(q.inflight, d.Ref)
		q.dead = append(q.dead, state.DeadJob{Job: d.Job, Error: reason, At: time.Now()})
		if len(q.dead) > maxDead {
			q.dead = q.dead[len(q.dead)-maxDead:]
		}
	})
}
