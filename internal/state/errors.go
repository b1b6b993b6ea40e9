package state

import "errors"

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
