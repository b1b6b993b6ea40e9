package outbox

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cesivi/cesivi/internal/state"
)

//go:embed 001_outbox.sql
var schema string

// Table is the outbox table Migrate creates.
const Table = "cesivi_outbox"

// Channel is the PostgreSQL notification channel an insert into the outbox
// notifies (on commit) and the relays listen on.
const Channel = "cesivi_outbox"

// KeyPrefix starts the idempotency key of a job added without one.
const KeyPrefix = "outbox:"

// migrationLock is the advisory lock key Migrate holds while applying the
// schema ("cesiviob" in ASCII; the key ring's is "cesivikr").
const migrationLock int64 = 0x636573697669_6f62

// Beginner is what Migrate needs: a *pgxpool.Pool or a *pgx.Conn.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Execer is what Add needs. Pass the pgx.Tx of the change the job comes
// from: that is what makes the job exist if and only if the change
// committed. (A pool or a connection outside a transaction also satisfies
// it, but then the job commits on its own.)
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Migrate creates the outbox table, its notification trigger and function
// if they are missing. It is idempotent and takes a transaction-scoped
// advisory lock, so several servers may run it at once.
func Migrate(ctx context.Context, db Beginner) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("outbox: migration: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("outbox: migration lock: %w", err)
	}
	// No arguments: the simple protocol runs the whole script.
	if _, err := tx.Exec(ctx, schema); err != nil {
		return fmt.Errorf("outbox: migration: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("outbox: migration: %w", err)
	}
	return nil
}

// Add writes a job into the outbox within tx; the arguments are those of
// state.Queue.Enqueue. Once tx commits, a Relay enqueues the job with
// Enqueue(ctx, jobType, key, payload); if tx rolls back, the job never
// existed.
//
// An empty key is replaced by KeyPrefix and a random id, stored with the
// row, so that every attempt to relay the row uses the same key. A key the
// caller gives has Enqueue's meaning: a second job with the same type and
// key within state.DedupWindow of the first is dropped by the queue.
func Add(ctx context.Context, tx Execer, jobType, key string, payload []byte) error {
	if jobType == "" {
		return errors.New("outbox: empty job type")
	}
	if key == "" {
		key = KeyPrefix + state.NewID()
	}
	if payload == nil {
		payload = []byte{}
	}
	_, err := tx.Exec(ctx,
		"INSERT INTO cesivi_outbox (job_type, idempotency_key, payload) VALUES ($1, $2, $3)",
		jobType, key, payload)
	if err != nil {
		return fmt.Errorf("outbox: add %s job: %w", jobType, err)
	}
	return nil
}
