// Package odata is the wire format of Cesivi's SharePoint REST API: the
// OData v3 dialect that SharePoint speaks under /_api/ and that real
// clients, above all @pnp/sp v4 unmodified, send and expect. It is pure:
// the standard library only, no Cesivi package, no HTTP handler, no
// database. The REST handlers, the storage providers and the in-memory
// provider build on it:
//
//   - SplitAPIPath finds /_api/ in the escaped request path, and
//     ParsePath splits the escaped path after /_api/ into segments
//     (web, lists, getByTitle('Tasks'), items(3), lists(guid'…'),
//     getFolderByServerRelativePath(decodedUrl='…'), $value, $batch)
//     with typed arguments; a quote inside a literal is doubled. Names match
//     case-insensitively (Segment.Is); %2F inside a literal stays part of
//     the value, which is why the handlers must pass
//     url.URL.EscapedPath, never url.URL.Path.
//   - ParseQuery reads the system query options: $select, $expand,
//     $filter, $orderby, $top, $skip, $skiptoken and $format, refusing
//     unknown $-options; Query.NextLink builds the absolute link to the
//     next page. ParseSkipToken and SkipToken.String read and write
//     SharePoint's Paged=TRUE&p_Field=v&p_ID=n tokens.
//   - ParseFilter parses $filter into an AST (*Logical, *Not, *Compare,
//     *Func, *Field) with OData's precedence: not, then comparisons, then
//     and, then or. Fields lists the fields a filter names, for
//     validation against a list's schema; Eval evaluates a filter against
//     one row for the in-memory provider; the PostgreSQL provider walks
//     the same tree into parameterised SQL.
//   - Negotiate picks the response format (JSON light minimal or no
//     metadata, or verbose) from Accept and $format, and Format.ContentType
//     is the Content-Type SharePoint Online sends.
//   - Encoder writes entities, collections, function results and
//     odata.error bodies in that format from a generic representation
//     (Entity: type, id, edit link, etag and ordered properties), with
//     absolute URLs built from the site's public address.
//   - ETag writes an item version as SharePoint does ("3"), and
//     ParseIfMatch reads If-Match in every form clients send (*, "3",
//     W/"3", "<guid>,3").
//   - Error is a SharePoint refusal (status, "<HRESULT>, <exception>" code,
//     message); constructors cover the codes the research records (list
//     or item not found, version conflict, security validation, invalid
//     query, throttling…), and ErrorOf maps this package's parse errors
//     onto 400 InvalidClientQueryException.
//
// It deliberately does not: serve HTTP or read headers itself; know lists,
// fields or permissions (the caller validates Fields, $select and
// $orderby against the schema); produce Atom/XML (a request that accepts
// only XML gets 406) or $metadata documents; support $filter arithmetic
// (add, sub…), functions other than startswith, endswith and
// substringof, comparisons of two fields, lambda operators, parameter
// aliases (@v) or OData type suffixes (1L, 2.5M); page backwards
// (PagedPrev); parse $batch bodies.
//
// Every parser is linear in its input, never panics, and refuses input
// beyond these limits with a *LimitError (a 400 through ErrorOf):
//
//	path after /_api/          MaxPathLength    8 KiB, MaxPathSegments 64, MaxArgs 16 per call
//	any query option           MaxOptionLength  16 KiB after decoding
//	$filter                    MaxFilterLength  16 KiB, MaxFilterDepth 32 ('(' and not), MaxFilterTerms 500
//	$select / $expand          MaxSelectFields 256, MaxExpand 12 (SharePoint's lookup threshold)
//	$orderby and $skiptoken    MaxOrderKeys 16, MaxSkipTokenLength 4 KiB
//	$top                       DefaultTop 100, MaxTop 5000 (above: refused, as SharePoint does)
//	Accept                     MaxAcceptLength 4 KiB read, the rest ignored
//	If-Match                   MaxIfMatchLength 1 KiB
//
// Syntax errors are *SyntaxError values naming the input ("$filter",
// "path"…), the byte offset and the problem; their text is what the
// client reads in the 400's message ("$filter: at character 10: the
// string literal starting here has no closing quote").
//
// SharePoint semantics chosen where the research is silent: text
// comparisons and the string functions ignore case (SharePoint's SQL
// collation is case-insensitive); eq and ne treat null as a value and
// ordering comparisons with null are false (two-valued logic); a literal
// on the left of a comparison is moved to the right; booleans also compare
// with 1 and 0, datetimes also with quoted ISO strings (what PnPjs's
// fluent filters send), guids with quoted guids.
package odata
