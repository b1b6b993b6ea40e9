-- Chunked uploads in progress and the attachments of list items.

-- An upload's state is one row: its parts are a jsonb array
-- ([{"Offset":0,"Size":10485760,"Blob":"…"}, …]) beside "Size", the
-- bytes received. An append is then one conditional UPDATE of one row
-- (WHERE "Size" = the chunk's offset): the row lock serialises two
-- servers appending at once, and the one that waited re-reads the row
-- the other wrote, so it never acts on parts it did not see. The array
-- is rewritten on each append, which costs a few kilobytes for the at
-- most thousands of parts of a file of the largest size; parts in a
-- table of their own would need the row lock taken first and the parts
-- read in a second statement, for no gain at that size.
CREATE TABLE "UploadSessions" (
	"Id" uuid PRIMARY KEY,
	"ListId" uuid NOT NULL,
	"FileUrl" text NOT NULL,
	"UserId" bigint NOT NULL,
	"Parts" jsonb NOT NULL,
	"Size" bigint NOT NULL,
	"Started" timestamptz NOT NULL,
	"Touched" timestamptz NOT NULL
);
-- The sweep lists abandoned uploads by when their last chunk arrived.
CREATE INDEX "IX_UploadSessions_Touched" ON "UploadSessions" ("Touched");

-- An item's attachments go with the item, and so with its list, web and
-- site. Their URL is not stored: it is the list's root folder URL, which
-- never changes, plus /Attachments/<item id>/<name>.
CREATE TABLE "Attachments" (
	"Id" uuid PRIMARY KEY,
	"ListId" uuid NOT NULL,
	"ItemId" bigint NOT NULL,
	"Name" text NOT NULL,
	"Blob" text NOT NULL,
	"Length" bigint NOT NULL,
	"Version" integer NOT NULL,
	"Created" timestamptz NOT NULL,
	"Modified" timestamptz NOT NULL,
	"AuthorId" bigint NOT NULL,
	"EditorId" bigint NOT NULL,
	FOREIGN KEY ("ListId", "ItemId") REFERENCES "ListItems" ("ListId", "Id") ON DELETE CASCADE
);
-- One name per item, ignoring case as SharePoint does; it also serves
-- the cascade from "ListItems" and listing an item's attachments.
CREATE UNIQUE INDEX "UX_Attachments_Item_Name" ON "Attachments" ("ListId", "ItemId", lower("Name"));
-- The blob sweep asks which keys are named.
CREATE INDEX "IX_Attachments_Blob" ON "Attachments" ("Blob");
