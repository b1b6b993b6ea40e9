-- Permissions: scopes, levels, site groups and role assignments.

-- Every securable object's effective scope. Webs and lists carry theirs
-- (few rows: breaking a web's inheritance rewrites those that inherited);
-- an item carries '' while it inherits its list's, so a list's items are
-- not written when the list's scope changes. Until now nothing had unique
-- permissions: everything inherits its site's root web.
ALTER TABLE "Webs" ADD COLUMN "ScopeId" text;
UPDATE "Webs" w SET "ScopeId" = s."RootWebId"::text FROM "Sites" s WHERE s."Id" = w."SiteId";
ALTER TABLE "Webs" ALTER COLUMN "ScopeId" SET NOT NULL;
ALTER TABLE "Lists" ADD COLUMN "ScopeId" text;
UPDATE "Lists" l SET "ScopeId" = w."ScopeId" FROM "Webs" w WHERE w."Id" = l."WebId";
ALTER TABLE "Lists" ALTER COLUMN "ScopeId" SET NOT NULL;
ALTER TABLE "ListItems" ADD COLUMN "ScopeId" text NOT NULL DEFAULT '';
-- Few items have a scope of their own: the viewer filter and the visible
-- count read only those.
CREATE INDEX "IX_ListItems_ListId_ScopeId" ON "ListItems" ("ListId", "ScopeId") WHERE "ScopeId" <> '';

-- Rows in the recycle bin are restored with jsonb_populate_record: give
-- them the new columns' values, or they would restore as NULL.
UPDATE "RecycleBinRows" r SET "Row" = r."Row" || jsonb_build_object('ScopeId', s."RootWebId"::text)
	FROM "Webs" w JOIN "Sites" s ON s."Id" = w."SiteId"
	WHERE r."Table" = 'Lists' AND w."Id" = (r."Row"->>'WebId')::uuid;
UPDATE "RecycleBinRows" SET "Row" = "Row" || '{"ScopeId": ""}' WHERE "Table" = 'ListItems';

-- Custom levels are numbered from SharePoint's first custom id and never
-- reused.
ALTER TABLE "Sites" ADD COLUMN "NextRoleId" bigint NOT NULL DEFAULT 1073741831;

CREATE TABLE "RoleDefinitions" (
	"SiteId" uuid NOT NULL REFERENCES "Sites" ("Id") ON DELETE CASCADE,
	"Id" bigint NOT NULL,
	"Name" text NOT NULL,
	"Description" text NOT NULL,
	"Type" integer NOT NULL,
	"Order" integer NOT NULL,
	"Hidden" boolean NOT NULL,
	-- permissions.Mask: 63 bits, so it fits a bigint.
	"Mask" bigint NOT NULL,
	PRIMARY KEY ("SiteId", "Id")
);
CREATE UNIQUE INDEX "UX_RoleDefinitions_SiteId_Name" ON "RoleDefinitions" ("SiteId", lower("Name"));

-- Site groups take their ids from "Sites"."NextUserId": one id space with
-- the site's users.
CREATE TABLE "SiteGroups" (
	"SiteId" uuid NOT NULL REFERENCES "Sites" ("Id") ON DELETE CASCADE,
	"Id" bigint NOT NULL,
	"Title" text NOT NULL,
	"Description" text NOT NULL,
	"OwnerId" bigint NOT NULL,
	"OnlyAllowMembersViewMembership" boolean NOT NULL,
	"AllowMembersEditMembership" boolean NOT NULL,
	"Created" timestamptz NOT NULL,
	PRIMARY KEY ("SiteId", "Id")
);
CREATE UNIQUE INDEX "UX_SiteGroups_SiteId_Title" ON "SiteGroups" ("SiteId", lower("Title"));

-- Members are users (people and identity-provider groups): a user's
-- delete removes its memberships.
CREATE TABLE "GroupMembers" (
	"SiteId" uuid NOT NULL,
	"GroupId" bigint NOT NULL,
	"PrincipalId" bigint NOT NULL,
	PRIMARY KEY ("SiteId", "GroupId", "PrincipalId"),
	FOREIGN KEY ("SiteId", "GroupId") REFERENCES "SiteGroups" ("SiteId", "Id") ON DELETE CASCADE,
	FOREIGN KEY ("SiteId", "PrincipalId") REFERENCES "Users" ("SiteId", "Id") ON DELETE CASCADE
);
CREATE INDEX "IX_GroupMembers_SiteId_PrincipalId" ON "GroupMembers" ("SiteId", "PrincipalId");

-- A scope id is a web's or list's id or "<list id>/<item id>"; the
-- principal is a user or a group of the site. A level's delete removes
-- it from every assignment.
CREATE TABLE "RoleAssignments" (
	"SiteId" uuid NOT NULL,
	"ScopeId" text NOT NULL,
	"PrincipalId" bigint NOT NULL,
	"RoleId" bigint NOT NULL,
	PRIMARY KEY ("ScopeId", "PrincipalId", "RoleId"),
	FOREIGN KEY ("SiteId", "RoleId") REFERENCES "RoleDefinitions" ("SiteId", "Id") ON DELETE CASCADE
);
CREATE INDEX "IX_RoleAssignments_SiteId_PrincipalId" ON "RoleAssignments" ("SiteId", "PrincipalId");

-- Existing sites get what Sites.Create now seeds (storage.security.go's
-- "Site creation"): the built-in levels, the three groups titled after
-- the root web, owned by the Owners group, and their levels on the root
-- web. The levels' masks are permissions.DefaultRoles' (migrate_test
-- compares them).
INSERT INTO "RoleDefinitions" ("SiteId", "Id", "Name", "Description", "Type", "Order", "Hidden", "Mask")
SELECT s."Id", r.* FROM "Sites" s, (VALUES
	(1073741829::bigint, 'Full Control', 'Has full control.', 5, 1, false, 9223372036854775807::bigint),
	(1073741828, 'Design', 'Can view, add, update, delete, approve, and customize.', 4, 32, false, 1856438737919),
	(1073741830, 'Edit', 'Can add, edit and delete lists; can view, add, update and delete list items and documents.', 6, 48, false, 1856436902639),
	(1073741827, 'Contribute', 'Can view, add, update, and delete list items and documents.', 3, 64, false, 1856436900591),
	(1073741826, 'Read', 'Can view pages and list items and download documents.', 2, 128, false, 756052856929),
	(1073741825, 'Limited Access', 'Can view specific lists, document libraries, list items, folders, or documents when given permissions.', 1, 160, true, 206292713472)
) AS r;

INSERT INTO "SiteGroups" ("SiteId", "Id", "Title", "Description", "OwnerId", "OnlyAllowMembersViewMembership", "AllowMembersEditMembership", "Created")
SELECT s."Id", s."NextUserId" + g.n, w."Title" || g.suffix, '', s."NextUserId", false, false, now()
FROM "Sites" s JOIN "Webs" w ON w."Id" = s."RootWebId", (VALUES (0, ' Owners'), (1, ' Members'), (2, ' Visitors')) AS g(n, suffix);

INSERT INTO "RoleAssignments" ("SiteId", "ScopeId", "PrincipalId", "RoleId")
SELECT s."Id", s."RootWebId"::text, s."NextUserId" + g.n, g.role
FROM "Sites" s, (VALUES (0, 1073741829::bigint), (1, 1073741830), (2, 1073741826)) AS g(n, role);

UPDATE "Sites" SET "NextUserId" = "NextUserId" + 3;
