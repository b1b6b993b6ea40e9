package pgstorage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/storage"
)

// A claim is an INSERT on the table's primary key: a second transaction
// claiming the same key waits on the index until the first ends, then
// (read committed) sees its row, or takes the key when it rolled back.

func (t *tx) Requests() storage.Requests { return requests{t} }

type requests struct{ t *tx }

func (a requests) Claim(ctx context.Context, owner, key, fingerprint string) (*storage.RequestRecord, error) {
	if err := a.t.check(true); err != nil {
		return nil, err
	}
	if err := storage.CheckIdempotencyKey(key); err != nil {
		return nil, err
	}
	var claimed bool
	var r storage.RequestRecord
	var header []byte
	// One statement either inserts the claim or, when the key is taken,
	// returns the record that holds it.
	err := a.t.tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO "Requests" ("Owner", "Key", "Fingerprint", "Created") VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING RETURNING true AS claimed)
		SELECT true, '', 0, NULL::jsonb, NULL::bytea, $4::timestamptz FROM ins
		UNION ALL
		SELECT false, r."Fingerprint", r."Status", r."Header", r."Body", r."Created"
		FROM "Requests" r WHERE r."Owner" = $1 AND r."Key" = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
		owner, key, fingerprint, a.t.now).Scan(&claimed, &r.Fingerprint, &r.Answer.Status, &header, &r.Answer.Body, &r.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		// The statement's snapshot predates the other claim's commit; the
		// next statement sees it.
		return a.existing(ctx, owner, key)
	}
	if err != nil {
		return nil, interpretError(err)
	}
	if claimed {
		return nil, nil
	}
	return a.record(owner, key, r, header)
}

// existing reads a committed claim in a statement of its own.
func (a requests) existing(ctx context.Context, owner, key string) (*storage.RequestRecord, error) {
	var r storage.RequestRecord
	var header []byte
	err := a.t.tx.QueryRow(ctx, `SELECT "Fingerprint", "Status", "Header", "Body", "Created" FROM "Requests"
		WHERE "Owner" = $1 AND "Key" = $2`, owner, key).Scan(&r.Fingerprint, &r.Answer.Status, &header, &r.Answer.Body, &r.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		// Taken and released between the two statements: a retry of
		// the whole request takes it.
		return nil, storage.ErrUnavailable
	}
	if err != nil {
		return nil, interpretError(err)
	}
	return a.record(owner, key, r, header)
}

func (a requests) record(owner, key string, r storage.RequestRecord, header []byte) (*storage.RequestRecord, error) {
	r.Owner, r.Key, r.Created = owner, key, r.Created.UTC()
	if len(header) > 0 {
		if err := json.Unmarshal(header, &r.Answer.Header); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func (a requests) Answer(ctx context.Context, owner, key string, ans storage.RequestAnswer) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	var header []byte
	if ans.Header != nil {
		var err error
		if header, err = json.Marshal(http.Header(ans.Header)); err != nil {
			return err
		}
	}
	n, err := a.t.exec(ctx, `UPDATE "Requests" SET "Status" = $3, "Header" = $4, "Body" = $5 WHERE "Owner" = $1 AND "Key" = $2`,
		owner, key, ans.Status, header, ans.Body)
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.NotFound("no request was claimed with this key")
	}
	return nil
}

func (a requests) Release(ctx context.Context, owner, key string) error {
	if err := a.t.check(true); err != nil {
		return err
	}
	_, err := a.t.exec(ctx, `DELETE FROM "Requests" WHERE "Owner" = $1 AND "Key" = $2`, owner, key)
	return err
}

func (a requests) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	if err := a.t.check(true); err != nil {
		return 0, err
	}
	return a.t.exec(ctx, `DELETE FROM "Requests" WHERE "Created" < $1`, olderThan)
}
