// Package pgstore keeps a key ring in PostgreSQL (pgx): one table of key
// records with a unique key id and a unique slot, one of revocation records,
// both append-only. The schema (001_keyring.sql, embedded) is applied
// idempotently by New under an advisory lock, so several nodes may start
// together.
package pgstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/keyring"
)

//go:embed 001_keyring.sql
var schema string

// migrationLock is the advisory lock key New holds while applying the schema
// ("cesivi keyring" in ASCII, truncated to 63 bits).
const migrationLock int64 = 0x6365736976696b72

// Store is a PostgreSQL store.
type Store struct{ pool *pgxpool.Pool }

// New applies the schema on pool and returns the store. The caller owns the
// pool.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return nil, fmt.Errorf("pgstore: migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, schema); err != nil {
		return nil, fmt.Errorf("pgstore: migration: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("pgstore: migration: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Load implements keyring.Store: both tables in one repeatable-read
// transaction, so a key and its revocation are seen together.
func (s *Store) Load(ctx context.Context) (keyring.Records, error) {
	var recs keyring.Records
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT key_id, slot, created, activation, expiration, material FROM cesivi_keyring_keys")
		if err != nil {
			return err
		}
		for rows.Next() {
			var rec keyring.KeyRecord
			var id int64
			if err := rows.Scan(&id, &rec.Slot, &rec.Created, &rec.Activation, &rec.Expiration, &rec.Material); err != nil {
				rows.Close()
				return err
			}
			rec.ID = keyring.KeyID(id)
			recs.Keys = append(recs.Keys, rec)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, "SELECT id, key_id, before, reason, revoked FROM cesivi_keyring_revocations")
		if err != nil {
			return err
		}
		for rows.Next() {
			var rv keyring.Revocation
			var id *int64
			var before *time.Time
			if err := rows.Scan(&rv.ID, &id, &before, &rv.Reason, &rv.Revoked); err != nil {
				rows.Close()
				return err
			}
			if id != nil {
				rv.KeyID = keyring.KeyID(*id)
			}
			if before != nil {
				rv.Before = *before
			}
			recs.Revocations = append(recs.Revocations, rv)
		}
		return rows.Err()
	})
	if err != nil {
		return keyring.Records{}, fmt.Errorf("pgstore: load: %w", err)
	}
	return recs, nil
}

// InsertKey implements keyring.Store with INSERT … ON CONFLICT DO NOTHING:
// the unique slot and key id make it one atomic conditional insert.
func (s *Store) InsertKey(ctx context.Context, rec keyring.KeyRecord) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO cesivi_keyring_keys (key_id, slot, created, activation, expiration, material)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		int64(rec.ID), rec.Slot, rec.Created, rec.Activation, rec.Expiration, rec.Material)
	if err != nil {
		return false, fmt.Errorf("pgstore: insert key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// InsertRevocation implements keyring.Store.
func (s *Store) InsertRevocation(ctx context.Context, rv keyring.Revocation) error {
	var id *int64
	var before *time.Time
	if rv.KeyID != 0 {
		v := int64(rv.KeyID)
		id = &v
	}
	if !rv.Before.IsZero() {
		before = &rv.Before
	}
	if (id == nil) == (before == nil) {
		return errors.New("pgstore: a revocation names a key or a time, not both")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO cesivi_keyring_revocations (id, key_id, before, reason, revoked)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`, rv.ID, id, before, rv.Reason, rv.Revoked)
	if err != nil {
		return fmt.Errorf("pgstore: insert revocation: %w", err)
	}
	return nil
}

var _ keyring.Store = (*Store)(nil)
