// Package fakeclock is the fake clock every test suite injects where the
// code under test takes a `now func() time.Time` (state.Options.Now,
// keyring.Options.Now, oidclogin.Config.Now), so that suites move time
// forward instead of sleeping. It imports only the standard library, so any
// test (state, key ring, edge) can use it.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a fake clock safe for concurrent use; pass its Now method where
// a clock is injected. It either stands still (New) or follows the real
// clock (Real), and Set and Advance move it in both cases.
type Clock struct {
	mu     sync.Mutex
	at     time.Time     // standing still: the time
	off    time.Duration // following: added to the real time
	follow bool
}

// New returns a clock standing still at t.
func New(t time.Time) *Clock { return &Clock{at: t} }

// Real returns a clock that follows the real one until moved: for tests
// whose peers use the real time (an identity provider's tokens) but that
// need to jump past an expiry.
func Real() *Clock { return &Clock{follow: true} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.follow {
		return time.Now().Add(c.off)
	}
	return c.at
}

// Set moves the clock to t (a following clock then goes on from t).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.follow {
		c.off = time.Until(t)
		return
	}
	c.at = t
}

// Advance moves the clock by d (backwards for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.follow {
		c.off += d
		return
	}
	c.at = c.at.Add(d)
}
