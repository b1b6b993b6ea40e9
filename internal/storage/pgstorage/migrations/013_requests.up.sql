-- Idempotent writes: the answer to each write a client marked with an
-- Idempotency-Key, written in the write's own transaction, so a retry is
-- answered from here instead of being carried out twice. Kept a day.
CREATE TABLE "Requests" (
    "Owner"       text        NOT NULL,
    "Key"         text        NOT NULL,
    "Fingerprint" text        NOT NULL,
    "Status"      integer     NOT NULL DEFAULT 0,
    "Header"      jsonb,
    "Body"        bytea,
    "Created"     timestamptz NOT NULL,
    PRIMARY KEY ("Owner", "Key")
);
CREATE INDEX "IX_Requests_Created" ON "Requests" ("Created");
