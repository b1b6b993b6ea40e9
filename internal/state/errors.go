package state

import (
	"errors"
	"fmt"
)

// Sentinel errors. Providers wrap them with %w and callers test with
// errors.Is.
var (
	// ErrNotFound: the session, entry or lock does not exist (or expired).
	ErrNotFound = errors.New("state: not found")
	// ErrConflict: the operation lost a race or the caller does not hold
	// what it claims to (a lock held by someone else, a session id taken).
	ErrConflict = errors.New("state: conflict")
	// ErrStoreUnavailable: the store could not be reached or did not answer
	// in time. It never means "not found".
	ErrStoreUnavailable = errors.New("state: store unavailable")
)

// ErrFenced: a fenced write was refused because a newer lease holder has
// written (or claimed) the resource. It is an ErrConflict.
var ErrFenced = fmt.Errorf("state: a newer lease holder has written it: %w", ErrConflict)
