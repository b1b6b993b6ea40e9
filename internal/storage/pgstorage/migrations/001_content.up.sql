-- SharePoint content: the seed's tables and indexes, names quoted as the
-- seed's runbook writes them.
CREATE TABLE "Sites" (
	"Id" uuid PRIMARY KEY,
	"Url" text NOT NULL,
	"RootWebId" uuid NOT NULL,
	"NextUserId" bigint NOT NULL DEFAULT 1,
	"Created" timestamptz NOT NULL
);
CREATE UNIQUE INDEX "UX_Sites_Url" ON "Sites" (lower("Url"));

CREATE TABLE "Webs" (
	"Id" uuid PRIMARY KEY,
	"SiteId" uuid NOT NULL REFERENCES "Sites" ("Id") ON DELETE CASCADE,
	"ParentId" uuid REFERENCES "Webs" ("Id") ON DELETE CASCADE,
	"ServerRelativeUrl" text NOT NULL,
	"Title" text NOT NULL,
	"Description" text NOT NULL,
	"Language" integer NOT NULL,
	"WebTemplate" text NOT NULL,
	"Created" timestamptz NOT NULL,
	"LastItemModifiedDate" timestamptz NOT NULL
);
CREATE UNIQUE INDEX "UX_Webs_ServerRelativeUrl" ON "Webs" (lower("ServerRelativeUrl"));
CREATE INDEX "IX_Webs_ParentId" ON "Webs" ("ParentId");
CREATE INDEX "IX_Webs_SiteId" ON "Webs" ("SiteId");

CREATE TABLE "Lists" (
	"Id" uuid PRIMARY KEY,
	"WebId" uuid NOT NULL REFERENCES "Webs" ("Id") ON DELETE CASCADE,
	"Title" text NOT NULL,
	"Description" text NOT NULL,
	"BaseTemplate" integer NOT NULL,
	"BaseType" integer NOT NULL,
	"UrlName" text NOT NULL,
	"RootFolderUrl" text NOT NULL,
	"EntityTypeName" text NOT NULL,
	"ListItemEntityTypeFullName" text NOT NULL,
	"ItemCount" bigint NOT NULL DEFAULT 0,
	-- NextItemId is the last item id handed out: the per-list counter row
	-- that makes ids gap-free (updated in the inserting transaction).
	"NextItemId" bigint NOT NULL DEFAULT 0,
	"Hidden" boolean NOT NULL,
	"Created" timestamptz NOT NULL,
	"LastItemModifiedDate" timestamptz NOT NULL
);
CREATE UNIQUE INDEX "UX_Lists_WebId_Title" ON "Lists" ("WebId", lower("Title"));
CREATE UNIQUE INDEX "UX_Lists_WebId_UrlName" ON "Lists" ("WebId", lower("UrlName"));

CREATE TABLE "Fields" (
	"Id" uuid PRIMARY KEY,
	"ListId" uuid NOT NULL REFERENCES "Lists" ("Id") ON DELETE CASCADE,
	"Position" serial NOT NULL,
	"InternalName" text NOT NULL,
	"Title" text NOT NULL,
	"Description" text NOT NULL,
	"TypeAsString" text NOT NULL,
	"Required" boolean NOT NULL,
	"Indexed" boolean NOT NULL,
	"ReadOnly" boolean NOT NULL,
	"Hidden" boolean NOT NULL,
	"System" boolean NOT NULL,
	"Choices" text[] NOT NULL,
	"LookupList" text NOT NULL,
	"LookupField" text NOT NULL,
	"DefaultValue" text NOT NULL
);
CREATE UNIQUE INDEX "UX_Fields_ListId_InternalName" ON "Fields" ("ListId", lower("InternalName"));

CREATE TABLE "Views" (
	"Id" uuid PRIMARY KEY,
	"ListId" uuid NOT NULL REFERENCES "Lists" ("Id") ON DELETE CASCADE,
	"Position" serial NOT NULL,
	"Title" text NOT NULL,
	"DefaultView" boolean NOT NULL,
	"Hidden" boolean NOT NULL,
	"RowLimit" integer NOT NULL,
	"ViewQuery" text NOT NULL,
	"ViewFields" text[] NOT NULL
);
CREATE UNIQUE INDEX "UX_Views_ListId_Title" ON "Views" ("ListId", lower("Title"));

CREATE TABLE "ListItems" (
	"ListId" uuid NOT NULL REFERENCES "Lists" ("Id") ON DELETE CASCADE,
	"Id" bigint NOT NULL,
	"Guid" uuid NOT NULL,
	"Version" integer NOT NULL,
	"Created" timestamptz NOT NULL,
	"Modified" timestamptz NOT NULL,
	"AuthorId" bigint NOT NULL,
	"EditorId" bigint NOT NULL,
	-- Field values by internal name; datetimes as Unix microseconds.
	"Data" jsonb NOT NULL,
	PRIMARY KEY ("ListId", "Id")
);
CREATE INDEX "IX_ListItems_ListId" ON "ListItems" ("ListId");
CREATE INDEX "IX_ListItems_Created" ON "ListItems" ("Created");

CREATE TABLE "Users" (
	"SiteId" uuid NOT NULL REFERENCES "Sites" ("Id") ON DELETE CASCADE,
	"Id" bigint NOT NULL,
	"LoginName" text NOT NULL,
	"Title" text NOT NULL,
	"Email" text NOT NULL,
	"IsSiteAdmin" boolean NOT NULL,
	"PrincipalType" integer NOT NULL,
	"Created" timestamptz NOT NULL,
	PRIMARY KEY ("SiteId", "Id")
);
CREATE UNIQUE INDEX "UX_Users_SiteId_LoginName" ON "Users" ("SiteId", "LoginName");
CREATE INDEX "IX_Users_LoginName" ON "Users" ("LoginName");

-- Files arrive with the files and folders aggregate; the table exists so
-- the seed's index does.
CREATE TABLE "Files" (
	"Id" uuid PRIMARY KEY,
	"Url" text NOT NULL
);
CREATE INDEX "IX_Files_Url" ON "Files" ("Url");
