-- A list's versioning (SharePoint's EnableVersioning and
-- MajorVersionLimit): on for libraries, off for lists, 500 versions kept.
ALTER TABLE "Lists" ADD COLUMN IF NOT EXISTS "EnableVersioning" boolean NOT NULL DEFAULT false;
ALTER TABLE "Lists" ADD COLUMN IF NOT EXISTS "MajorVersionLimit" integer NOT NULL DEFAULT 500;
UPDATE "Lists" SET "EnableVersioning" = true WHERE "BaseType" = 1;
