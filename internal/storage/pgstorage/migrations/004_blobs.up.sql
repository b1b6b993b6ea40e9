-- File content of document libraries for the Database blob provider
-- (internal/blobstore/pgblob): a blob is a row of "Blobs" and its content
-- rows of "BlobChunks" of a fixed size, written one chunk per statement
-- so that an upload never holds a transaction (or the whole content) for
-- its duration.
CREATE TABLE "Blobs" (
	"Key" uuid PRIMARY KEY,
	-- The size of every chunk but the last, as written: a reader seeks to
	-- a chunk by its index.
	"ChunkSize" integer NOT NULL,
	"Size" bigint NOT NULL DEFAULT 0,
	"SHA256" text NOT NULL DEFAULT '',
	-- False while the upload runs: such a blob cannot be opened, and one
	-- left by a server that died is removed by the sweep.
	"Complete" boolean NOT NULL DEFAULT false,
	-- When the blob was completed; while it is written, when it last
	-- received a chunk.
	"Stored" timestamptz NOT NULL
);
CREATE INDEX "IX_Blobs_Incomplete_Stored" ON "Blobs" ("Stored") WHERE NOT "Complete";

CREATE TABLE "BlobChunks" (
	"BlobKey" uuid NOT NULL REFERENCES "Blobs" ("Key") ON DELETE CASCADE,
	"Index" integer NOT NULL,
	"Data" bytea NOT NULL,
	PRIMARY KEY ("BlobKey", "Index")
);
-- Documents are mostly compressed already (docx, pdf, images): store the
-- chunks out of line without trying to compress them again.
ALTER TABLE "BlobChunks" ALTER COLUMN "Data" SET STORAGE EXTERNAL;
