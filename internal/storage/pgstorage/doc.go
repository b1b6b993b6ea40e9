// Package pgstorage is the PostgreSQL storage provider: plain SQL over
// pgx v5 on a pool the caller owns, for a farm of identical servers on one
// database. It passes storagetest.Exercise like every provider.
//
// Schema: migrations/NNN_*.up.sql, embedded and applied by Migrate (also
// from New) through pgmigrate, once however many servers start together.
// A database at a version newer than the binary knows is ErrSchemaNewer.
// A server must start while PostgreSQL is down, so with
// MigrateInNewOrFirstUse a database that does not answer defers the
// migrations to the store's first use (Update, View or Ping), retried
// at each use until they succeed, one attempt at a time per process.
// Tables "Sites", "Webs", "Lists", "Fields", "Views", "ListItems",
// "Users" and (empty, for the files aggregate) "Files", with the seed's
// indexes IX_ListItems_ListId, IX_ListItems_Created, IX_Files_Url and
// IX_Users_LoginName, plus unique indexes on lower-cased names. Item
// values live in ListItems."Data" (jsonb), keyed by internal name;
// datetimes as Unix microseconds.
//
// Consistency: every Update is one read-committed transaction, every View
// a read-only repeatable-read snapshot; nothing is cached, so every read
// sees every write committed before it, on every server.
//
//   - Item ids: the list's row holds the last id handed out; an insert
//     increments it in its own transaction (UPDATE … RETURNING), so ids
//     are gap-free and unique across servers, and inserts into one list
//     are serialised by that row lock (a few hundred per second per list;
//     different lists do not wait for each other).
//   - ETags: an update or delete reads the item FOR UPDATE, then checks
//     the version; of concurrent writers naming one version one wins.
//   - Users: Ensure locks the site row before allocating an id and reads
//     again under the lock, so concurrent calls create one user.
//   - Chunked uploads ("UploadSessions", migration 005): an append is
//     one conditional UPDATE of the upload's row (its size must be the
//     chunk's offset), so of two servers appending at one offset the one
//     that waited for the row lock updates nothing and gets ErrConflict
//     (or, for the same chunk, the upload as a resend answers it).
//   - Attachments ("Attachments", migration 005): a write locks the
//     item's row first, then reads the names under the lock; deleting the
//     item cascades to them.
//
// What is fast and what is not: lookups by id, title or URL and item
// queries ordered by ID use indexes. A field marked Indexed gets an
// expression index ("ListId", value) built with CREATE INDEX
// CONCURRENTLY after the transaction commits (it cannot run inside one,
// and does not block writers; Update returns once it is built, a
// failure is logged and retried at the next index change). Filters and
// orders on other fields scan the list; every statement runs under
// Options.StatementTimeout (default 5 s), and a query past it is
// ErrThrottled, SharePoint's list view threshold in another form.
//
// Filters: the $filter AST becomes parameterised SQL with odata.Eval's
// semantics (see sqlfilter.go); values are always parameters, field names
// come from the list's schema.
//
// Errors: interpretError maps PostgreSQL errors onto the contract's
// sentinels in one place: unique violations are ErrConflict, foreign-key
// violations ErrNotFound, statement timeouts ErrThrottled, connection
// failures, serialisation failures and deadlocks ErrUnavailable.
package pgstorage
