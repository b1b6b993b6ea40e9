// Package sharepoint serves SharePoint's REST API (/_api/… and
// /<web>/_api/…) over the storage contract: the wire format real clients
// (above all @pnp/sp v4) send and read, as research/sharepoint-rest.md
// records it.
//
// A request runs one way down: the edge's assertion (verified before
// this handler) says who calls; newCall reads the path, the query and
// the format without touching storage; prepare checks the form digest
// for browser-session writes; then the whole request runs in one storage
// transaction (read-only for GET): the router walks the path segment by
// segment (a file per resource family: web.go and site.go, lists.go,
// fields.go, views.go, items.go, users.go, context.go; what a family
// reads from bodies is in its *input.go or itembody.go, how items look on
// the wire in itemwire.go), the handler at the end
// answers with a response value, and the response is written only after
// the transaction committed. A failed request leaves nothing behind, and
// no client sees a success that was rolled back.
//
// Errors are SharePoint's odata.error bodies with its codes; storage's
// sentinels map onto statuses in one place (Handler.errorOf):
// ErrUnavailable is 503 with Retry-After (nothing was written, retry),
// ErrThrottled the list view threshold error, ErrNotFound 404, ErrInvalid
// 400.
package sharepoint
