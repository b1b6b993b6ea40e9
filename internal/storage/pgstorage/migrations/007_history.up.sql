-- Versions, check-out and the recycle bin of document management.

-- A file's earlier versions. They belong to the file by its UniqueId,
-- which a move keeps (into another library too, where the file's row is
-- written anew under a new item): so the key is the file's id, and the
-- list only takes them along when it goes. A file's delete (deleteTree)
-- deletes its versions in the same statement. The comment the current
-- content was checked in with is the row with "VersionId" 0 (no version
-- has it: the first is 1.0, 512), so that it goes wherever the versions
-- go and becomes theirs when the content does.
CREATE TABLE "FileVersions" (
	"FileId" uuid NOT NULL,
	"ListId" uuid NOT NULL REFERENCES "Lists" ("Id") ON DELETE CASCADE,
	-- 512 × major + minor.
	"VersionId" integer NOT NULL,
	"Blob" text NOT NULL,
	"Length" bigint NOT NULL,
	-- When this content became current, and by whom.
	"Created" timestamptz NOT NULL,
	"CreatedBy" bigint NOT NULL,
	"CheckInComment" text NOT NULL DEFAULT '',
	PRIMARY KEY ("FileId", "VersionId")
);
CREATE INDEX "IX_FileVersions_ListId" ON "FileVersions" ("ListId");
-- The blob sweep asks which keys are named.
CREATE INDEX "IX_FileVersions_Blob" ON "FileVersions" ("Blob");

-- The values an item had before each change, in a list that keeps
-- versions; they go with the item.
CREATE TABLE "ItemVersions" (
	"ListId" uuid NOT NULL,
	"ItemId" bigint NOT NULL,
	-- 512 × the item's version then.
	"VersionId" integer NOT NULL,
	"Data" jsonb NOT NULL,
	"Modified" timestamptz NOT NULL,
	"EditorId" bigint NOT NULL,
	PRIMARY KEY ("ListId", "ItemId", "VersionId"),
	FOREIGN KEY ("ListId", "ItemId") REFERENCES "ListItems" ("ListId", "Id") ON DELETE CASCADE
);

-- The recycle bin: one row per thing recycled. What it holds is moved
-- out of the live tables into "RecycleBinRows" (each row as jsonb, by
-- the table it came from), so no read of the live tables, and no unique
-- index on them, ever sees it; a restore inserts the rows back with
-- their ids. Entries go with their web and site.
CREATE TABLE "RecycleBin" (
	"Id" uuid PRIMARY KEY,
	"SiteId" uuid NOT NULL REFERENCES "Sites" ("Id") ON DELETE CASCADE,
	"WebId" uuid NOT NULL REFERENCES "Webs" ("Id") ON DELETE CASCADE,
	-- The order of recycling, for what was deleted at one time.
	"Seq" bigserial NOT NULL,
	"ItemType" integer NOT NULL,
	"LeafName" text NOT NULL,
	"DirName" text NOT NULL,
	"Title" text NOT NULL,
	"DeletedBy" bigint NOT NULL,
	"DeletedDate" timestamptz NOT NULL,
	"Size" bigint NOT NULL,
	-- Where a restore puts it back: the list (a list's own id), the item
	-- of an attachment, and the folder a file or folder was in.
	"ListId" uuid NOT NULL,
	"ItemId" bigint NOT NULL DEFAULT 0,
	"FolderUrl" text NOT NULL DEFAULT ''
);
-- A site's bin, newest first.
CREATE INDEX "IX_RecycleBin_SiteId" ON "RecycleBin" ("SiteId", "DeletedDate" DESC, "Seq" DESC);
CREATE INDEX "IX_RecycleBin_WebId" ON "RecycleBin" ("WebId");

CREATE TABLE "RecycleBinRows" (
	"BinId" uuid NOT NULL REFERENCES "RecycleBin" ("Id") ON DELETE CASCADE,
	-- "Lists", "Fields", "Views", "ListItems", "Files", "FileVersions",
	-- "ItemVersions" or "Attachments".
	"Table" text NOT NULL,
	"Row" jsonb NOT NULL
);
CREATE INDEX "IX_RecycleBinRows_BinId" ON "RecycleBinRows" ("BinId", "Table");
-- The blobs of recycled files, versions and attachments stay in use.
CREATE INDEX "IX_RecycleBinRows_Blob" ON "RecycleBinRows" (("Row" ->> 'Blob')) WHERE "Row" ? 'Blob';
