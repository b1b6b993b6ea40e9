package state

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Lease is a held lock. Token is its fencing token: it is strictly greater
// than the token of every earlier lease on the same name, so a resource
// protected by the lock checks it on every write and refuses a token lower
// than the highest it has seen. For a PostgreSQL row that is
//
//	UPDATE t SET ..., fence = $token WHERE id = $id AND fence <= $token
//
// (zero rows updated: a newer holder got there first, abandon the work);
// for a Redis value, a script comparing a stored fence field does the same.
// Checking Lost before writing is not enough on its own: the lease can
// expire between the check and the write.
type Lease struct {
	Name  string
	Token uint64

	renew   func(ctx context.Context) error
	release func(ctx context.Context) error
	stop    chan struct{}
	lost    chan struct{}
	done    chan struct{}
	once    sync.Once
	lostErr error
	mu      sync.Mutex
}

// NewLease is for providers: it starts renewing every ttl/3 with renew until
// Release, and marks the lease lost when a renewal says it is no longer
// held (ErrConflict or ErrNotFound) or when renewals fail for a whole ttl.
func NewLease(name string, token uint64, ttl time.Duration, renew, release func(ctx context.Context) error) *Lease {
	l := &Lease{Name: name, Token: token, renew: renew, release: release,
		stop: make(chan struct{}), lost: make(chan struct{}), done: make(chan struct{})}
	go l.keepAlive(ttl)
	return l
}

func (l *Lease) keepAlive(ttl time.Duration) {
	defer close(l.done)
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
		err := l.renew(ctx)
		cancel()
		switch {
		case err == nil:
			lastOK = time.Now()
			continue
		case isNotHeld(err), time.Since(lastOK) >= ttl:
			l.mu.Lock()
			l.lostErr = err
			l.mu.Unlock()
			close(l.lost)
			return
		}
	}
}

func isNotHeld(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound)
}

// Lost is closed when the lease is known to be lost.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Renew extends the lease now; the background renewal makes calling it
// optional. ErrConflict means it is no longer held.
func (l *Lease) Renew(ctx context.Context) error { return l.renew(ctx) }

// Release stops renewal and deletes the lock if this lease still holds it
// (compare-and-delete: a lease that expired and was taken by someone else
// is left alone). Releasing twice is harmless.
func (l *Lease) Release(ctx context.Context) error {
	first := false
	l.once.Do(func() { first = true; close(l.stop) })
	<-l.done
	if !first {
		return nil
	}
	err := l.release(ctx)
	if isNotHeld(err) {
		return nil
	}
	return err
}
