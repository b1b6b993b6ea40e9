// Package storage is Cesivi's SharePoint content contract: sites, webs,
// lists, fields, views, list items and users, one small interface per
// aggregate, the model types, and the sentinel errors callers test with
// errors.Is. The REST layer builds on it; it knows nothing of HTTP.
//
// Two providers implement it: memstorage (InMemory, a single development
// server) and pgstorage (PostgreSQL, a farm of identical servers on one
// database). Both pass the shared suite in storagetest; a provider is done
// when it passes the suite, not when it compiles. Only packages that run
// storagetest.Exercise against themselves may implement Store.
//
// The validation, naming and query planning both providers need lives
// here (NewList, NewField, Schema.Prepare, Schema.Plan…), so that every
// provider refuses the same input with the same message and derives the
// same URL and entity names.
//
// # Webhooks (coming)
//
// Subscriptions are a list's webhook subscriptions (SharePoint's, at
// most 180 days each); Changes is every list's change log, one entry
// per item added, updated, deleted, recycled, restored, renamed or moved,
// written in the transaction of the change, numbered per list and read
// from a SharePoint change token (ChangeToken). Delivery (the outbox and
// job queue) and the REST surface build on them (see changes.go).
//
// # Transactions
//
// Every write request is one transaction: Store.Update runs a function
// against a Tx and commits only when it returns nil, so a failed request
// leaves nothing behind. Creating a web creates its default lists
// (Documents at "Shared Documents", Site Assets, Site Pages, and on a
// root web the hidden User Information List) in that transaction, and
// every list gets its system fields (ID, Title, Created, Modified,
// Author, Editor, GUID, ContentTypeId, Attachments, FileSystemObjectType,
// _UIVersionString) and its default view. Store.View runs reads in one
// read-only snapshot.
//
// # Consistency model
//
// Every read sees every write committed before it began, on every
// server: no provider caches content between transactions. Within a
// transaction, reads see the transaction's own writes.
//
//   - ETag = item version: 1 at creation, one more per update. An update
//     or delete that names a version (If-Match "n") succeeds only if it
//     is current; of concurrent writers naming one version exactly one
//     wins, the others get ErrConflict.
//   - Item ids are allocated per list inside the inserting transaction:
//     1, 2, 3… without gaps or duplicates under concurrent inserts from
//     any number of servers, and never reused after a delete. Inserts
//     into one list are therefore serialised (a per-list counter row).
//   - Ensure creates one user per login per site, whoever calls it and
//     however often at once. User ids are per site.
//   - Titles of lists and views, internal names of fields and URLs of
//     lists, webs and sites are unique, ignoring case (ErrConflict).
//
// # Values
//
// Item values are odata.Values of the kind their field's type holds
// (FieldType.Kind): text, note, choice, URL ("url, description") and
// MultiChoice (";#a;#b;#") are strings, number and currency decimals,
// integer, lookup and user fields integers (the target's id), boolean,
// datetime (to the microsecond) and guid their kinds. Coerce converts
// what JSON gives (strings for datetimes and guids, 0 and 1 for
// booleans). An empty text is null. Required is metadata only, as in
// SharePoint's API.
//
// # Queries
//
// Items.Query takes the $filter AST of package odata with its semantics
// (two-valued null logic, case-insensitive text), the $orderby keys, a
// page size and a $skiptoken. Pages are keyset pages: ordered by the keys
// then ID, a token resumes strictly after the row it names, so walking
// the nextLinks returns every row once even while rows change. Nulls sort
// first; text sorts ignoring case. A filter naming an unknown field, or
// comparing a field with a literal of another kind, is ErrInvalid wrapping
// the *odata.Error (400) to send, whatever the data.
//
// # Errors
//
// ErrNotFound, ErrConflict (stale version, duplicate name), ErrInvalid
// (bad input; the message says which field or property, never a value a
// user wrote), ErrUnavailable (the database does not answer; nothing was
// written, retry) and ErrThrottled (a query ran past the statement
// timeout, typically one no index serves).
package storage
