-- Files and folders of document libraries. 001's placeholder "Files" was
-- never written to: it is replaced by the real table.
DROP TABLE "Files";

-- One row per file or folder, linked to the item of its library that
-- carries it (a library's root folder is no item and has no row). The
-- item holds what items have (Version, Created, Modified, AuthorId,
-- EditorId, and FileLeafRef, FileRef, FileDirRef, FSObjType in "Data"),
-- written in the same transaction as the row.
CREATE TABLE "Files" (
	-- Id is the UniqueId, also the item's "Guid".
	"Id" uuid PRIMARY KEY,
	-- SiteId and WebId place the row for lookups by URL (unique in a
	-- site collection) and by id (in a web) without joins.
	"SiteId" uuid NOT NULL,
	"WebId" uuid NOT NULL,
	"ListId" uuid NOT NULL,
	"ItemId" bigint NOT NULL,
	-- Server-relative, as created ("/sites/dev/Shared Documents/a.docx");
	-- compared ignoring case.
	"Url" text NOT NULL,
	"DirUrl" text NOT NULL,
	"Name" text NOT NULL,
	"IsFolder" boolean NOT NULL,
	"Length" bigint NOT NULL DEFAULT 0,
	-- The blob store key of the current content ('' for a folder).
	"Blob" text NOT NULL DEFAULT '',
	"MajorVersion" integer NOT NULL DEFAULT 1,
	"MinorVersion" integer NOT NULL DEFAULT 0,
	-- Check-out: SP.CheckOutType (2 is none), by a site user id.
	"CheckOutType" integer NOT NULL DEFAULT 2,
	"CheckedOutBy" bigint NOT NULL DEFAULT 0,
	"CheckedOutDate" timestamptz,
	FOREIGN KEY ("ListId", "ItemId") REFERENCES "ListItems" ("ListId", "Id") ON DELETE CASCADE
);
-- The seed's index on Files(Url): here unique in a site, ignoring case.
-- In byte order (COLLATE "C"), so the rows below a folder are one range
-- of it: those from "<url>/" up to "<url>0" ('0' follows '/').
CREATE UNIQUE INDEX "IX_Files_Url" ON "Files" ("SiteId", (lower("Url") COLLATE "C"));
-- A folder's children, by name.
CREATE INDEX "IX_Files_DirUrl" ON "Files" ("ListId", (lower("DirUrl") COLLATE "C"), (lower("Name") COLLATE "C"));
-- An item's file (and the cascade from "ListItems").
CREATE UNIQUE INDEX "UX_Files_ListId_ItemId" ON "Files" ("ListId", "ItemId");
-- The blob sweep asks which keys are still named.
CREATE INDEX "IX_Files_Blob" ON "Files" ("Blob") WHERE "Blob" <> '';

-- Libraries made before this migration get the fields of a library's
-- items (storage.SystemFields), after their other fields.
INSERT INTO "Fields" ("Id", "ListId", "InternalName", "Title", "Description", "TypeAsString", "Required", "Indexed",
	"ReadOnly", "Hidden", "System", "Choices", "LookupList", "LookupField", "DefaultValue", "MaxLength")
SELECT gen_random_uuid(), l."Id", f.name, f.title, '', f.type, false, false, true, f.hidden, true, '{}', '', '', '', f.max_length
FROM "Lists" l
CROSS JOIN (VALUES
	(1, 'FileLeafRef', 'Name', 'File', false, 0),
	(2, 'FileRef', 'URL Path', 'Text', true, 400),
	(3, 'FileDirRef', 'Path', 'Text', true, 400),
	(4, 'FSObjType', 'Item Type', 'Integer', true, 0)
) AS f(ord, name, title, type, hidden, max_length)
WHERE l."BaseType" = 1
	AND NOT EXISTS (SELECT 1 FROM "Fields" x WHERE x."ListId" = l."Id" AND lower(x."InternalName") = lower(f.name))
ORDER BY l."Id", f.ord;
