package state

import (
	"context"
	"time"
)

// Locker hands out leases.
type Locker interface {
	// Acquire takes the named lease for ttl, renewing it in the background
	// at ttl/3 until Release. A lease held by someone else is ErrConflict.
	Acquire(ctx context.Context, name string, ttl time.Duration) (*Lease, error)
}

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

	keeper LeaseKeeper
	holder string // Fence's Holder: this lease and no other
}

// Fence is what a write protected by a lease carries (a store that keeps
// fences, such as SessionUpdate.Fence, records the newest it accepted).
// A write is refused when the recorded fence is newer: a greater Token,
// or the same Token with another Holder. The Holder is there because a
// Redis failover can hand the same token to two holders (the new primary
// may have missed the last increments of the fence counter, see
// redisstate's Acquire); whichever of them records its fence first keeps
// the resource, and the other is refused as if it were older. Tokens
// start at 1, so the zero Fence is older than every lease's.
type Fence struct {
	Token  uint64
	Holder string
}

// Newer reports whether f must refuse a write carrying w: f is a later
// lease's fence, or the same token held by another holder.
func (f Fence) Newer(w Fence) bool {
	return f.Token > w.Token || f.Token == w.Token && f.Holder != w.Holder
}

// Fence is the lease's fence: its Token and a holder id of its own, drawn
// when the lease was taken.
func (l *Lease) Fence() Fence { return Fence{Token: l.Token, Holder: l.holder} }

// LeaseKeeper keeps a Lease held: a provider's renewal loop and its
// compare-and-delete. It is an interface so that the loop lives with the
// providers while callers keep holding the plain Lease struct (its Name
// and Token fields are read by callers such as the edge).
type LeaseKeeper interface {
	Lost() <-chan struct{}
	Renew(ctx context.Context) error
	Release(ctx context.Context) error
}

// NewLease is for providers: it wraps the keeper that holds the lease.
// Callers get leases from Locker.Acquire.
func NewLease(name string, token uint64, k LeaseKeeper) *Lease {
	return &Lease{Name: name, Token: token, keeper: k, holder: NewID()}
}

// Lost is closed when the lease is known to be lost: a renewal found it
// held by someone else or gone, or renewals failed for a whole ttl.
func (l *Lease) Lost() <-chan struct{} { return l.keeper.Lost() }

// Renew extends the lease now; the background renewal makes calling it
// optional. ErrConflict means it is no longer held.
func (l *Lease) Renew(ctx context.Context) error { return l.keeper.Renew(ctx) }

// Release stops renewal and deletes the lock if this lease still holds it
// (compare-and-delete: a lease that expired and was taken by someone else
// is left alone). Releasing twice is harmless.
func (l *Lease) Release(ctx context.Context) error { return l.keeper.Release(ctx) }
