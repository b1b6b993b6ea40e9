-- Security.Access reads a person's levels on web and list scopes only
-- (an item's scope id holds a '/'). With the assignments of a group
-- that sees many items with their own permissions in the same index,
-- every read walked all of them (50,000 rows, 50 ms, for a group named
-- on 5 % of a million items): this index holds web and list
-- assignments only, and Access's predicate is written to match it.
CREATE INDEX "IX_RoleAssignments_SiteId_PrincipalId_WebList" ON "RoleAssignments" ("SiteId", "PrincipalId")
	WHERE strpos("ScopeId", '/') = 0;
