-- Key ring tables (keyring/pgstore). Append-only: rows are inserted, never
-- updated or deleted by Cesivi. Applied idempotently at every start.
CREATE TABLE IF NOT EXISTS cesivi_keyring_keys (
    key_id      bigint      PRIMARY KEY,
    slot        text        NOT NULL UNIQUE,
    created     timestamptz NOT NULL,
    activation  timestamptz NOT NULL,
    expiration  timestamptz NOT NULL,
    material    bytea       NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS cesivi_keyring_revocations (
    id          text        PRIMARY KEY,
    key_id      bigint,
    before      timestamptz,
    reason      text        NOT NULL DEFAULT '',
    revoked     timestamptz NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((key_id IS NULL) <> (before IS NULL))
);
