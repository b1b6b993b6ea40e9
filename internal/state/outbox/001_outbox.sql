-- Transactional outbox (internal/state/outbox). Applied idempotently by
-- outbox.Migrate at every start, under an advisory lock.
--
-- A row is a job written in the same transaction as the change that
-- produced it; the relay enqueues it on the job queue and deletes it.
-- idempotency_key is never NULL: a row inserted without one (by hand, or
-- by a trigger of another table) gets a random key here, stored with the
-- row, so every relay of the row enqueues it under the same key.
CREATE TABLE IF NOT EXISTS cesivi_outbox (
    id              bigserial   PRIMARY KEY,
    job_type        text        NOT NULL CHECK (job_type <> ''),
    payload         bytea       NOT NULL DEFAULT ''::bytea,
    idempotency_key text        NOT NULL DEFAULT 'outbox:' || gen_random_uuid()::text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Every insert wakes the relays (LISTEN cesivi_outbox). NOTIFY is
-- transactional: it is delivered on commit and dropped on rollback, and
-- several in one transaction collapse into one.
CREATE OR REPLACE FUNCTION cesivi_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cesivi_outbox', '');
    RETURN NULL;
END;
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger
                   WHERE tgname = 'cesivi_outbox_notify'
                     AND tgrelid = 'cesivi_outbox'::regclass) THEN
        CREATE TRIGGER cesivi_outbox_notify
            AFTER INSERT ON cesivi_outbox
            FOR EACH STATEMENT EXECUTE FUNCTION cesivi_outbox_notify();
    END IF;
END;
$$;
