package storage

import (
	"context"
	"net/http"
	"time"
)

// Requests remember the answers to writes a client marked with an
// Idempotency-Key header, so that the retry of a write whose answer was
// lost (the server was killed between its commit and its reply, the
// network dropped) is answered from the record instead of being carried
// out twice. The record is written in the write's own transaction: it
// exists exactly when the write does.
type Requests interface {
	// Claim records the key for the owner in this transaction, with the
	// request's fingerprint. When the key is already recorded (by a
	// transaction that committed), Claim returns that record and writes
	// nothing; while another transaction holding the key is still open,
	// Claim waits for it to end. A nil record means the key was free and
	// is now this transaction's.
	Claim(ctx context.Context, owner, key, fingerprint string) (*RequestRecord, error)
	// Answer stores the answer to the key this transaction claimed.
	Answer(ctx context.Context, owner, key string, ans RequestAnswer) error
	// Release gives up this transaction's claim (a request whose answer
	// cannot be kept: the key is then free again once it commits).
	Release(ctx context.Context, owner, key string) error
	// Prune removes the records made before olderThan and reports how
	// many went.
	Prune(ctx context.Context, olderThan time.Time) (int64, error)
}

// RequestRecord is a remembered write: who made it, what it was, and
// its answer.
type RequestRecord struct {
	Owner, Key  string
	Fingerprint string
	Answer      RequestAnswer
	Created     time.Time
}

// RequestAnswer is the answer a write gave: what a retry gets back.
type RequestAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

// CheckIdempotencyKey refuses a key that is empty, too long or not
// printable ASCII.
func CheckIdempotencyKey(key string) error {
	if key == "" || len(key) > MaxIdempotencyKey {
		return Invalid("an Idempotency-Key must have 1 to %d characters", MaxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return Invalid("an Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}
