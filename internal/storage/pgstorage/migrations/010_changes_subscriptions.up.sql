-- Webhooks (issue 11): each list's change log and its webhook
-- subscriptions.
--
-- "LastChange" is the last change number handed out: like "NextItemId",
-- a per-list counter on the list's row, advanced by the statement that
-- writes the item, so numbers are gap-free and committed in order (the
-- row lock is held to commit). "ChangesPrunedThrough" is the highest
-- number Changes.Prune removed: a token before it has expired.
ALTER TABLE "Lists"
	ADD COLUMN "LastChange" bigint NOT NULL DEFAULT 0,
	ADD COLUMN "ChangesPrunedThrough" bigint NOT NULL DEFAULT 0;

CREATE TABLE "Changes" (
	"ListId" uuid NOT NULL REFERENCES "Lists" ("Id") ON DELETE CASCADE,
	"Number" bigint NOT NULL,
	-- SharePoint's ChangeType: 1 Add, 2 Update, 3 DeleteObject, 4 Rename,
	-- 5 MoveAway, 6 MoveInto, 7 Restore.
	"Kind" integer NOT NULL,
	"ItemId" bigint NOT NULL,
	"UniqueId" uuid NOT NULL,
	"Time" timestamptz NOT NULL,
	PRIMARY KEY ("ListId", "Number")
);
-- Prune deletes by time, across lists.
CREATE INDEX "IX_Changes_Time" ON "Changes" ("Time");

CREATE TABLE "Subscriptions" (
	"Id" uuid PRIMARY KEY,
	"ListId" uuid NOT NULL REFERENCES "Lists" ("Id") ON DELETE CASCADE,
	"SiteId" uuid NOT NULL,
	"WebId" uuid NOT NULL,
	"NotificationUrl" text NOT NULL,
	"ClientState" text NOT NULL,
	"ExpirationDateTime" timestamptz NOT NULL,
	"CreatedBy" bigint NOT NULL,
	"Created" timestamptz NOT NULL
);
CREATE INDEX "IX_Subscriptions_ListId" ON "Subscriptions" ("ListId");
CREATE INDEX "IX_Subscriptions_ExpirationDateTime" ON "Subscriptions" ("ExpirationDateTime");
