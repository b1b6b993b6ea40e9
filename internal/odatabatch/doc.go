// Package odatabatch is the wire format of SharePoint's OData $batch
// (POST {web}/_api/$batch): it splits a multipart/mixed request body into
// inner HTTP requests, turns each into an *http.Request the REST handler
// can serve as if it had arrived alone, captures each answer with a
// ResponseRecorder, and writes the answers back as the flat
// multipart/mixed body that @pnp/sp v4 and other clients read. It is pure:
// the standard library only, no Cesivi package; it neither routes nor
// authorises, and knows nothing of lists or storage.
//
// # Requests
//
// The body is multipart/mixed with the boundary of the request's
// Content-Type. Each top-level part is either
//
//   - Content-Type: application/http: one inner request, or
//   - Content-Type: multipart/mixed; boundary=changeset_…: a changeset,
//     several inner requests meant to succeed or fail together.
//
// An inner request is an HTTP/1.1 request line whose target is an
// absolute URL (what PnPjs writes) or a server-relative path, header
// lines, a blank line and the body. The body is everything up to the line
// break before the next delimiter, so PnPjs's "body\n\n--changeset_…"
// yields "body\n"; an inner Content-Length shorter than that, followed
// only by line breaks, trims it.
//
// Parsing is tolerant where clients differ: CRLF or bare LF line endings
// (PnPjs 4 writes bare LF throughout, see testdata/pnpjs-request.txt),
// quoted or unquoted boundary parameters, transport padding after a
// delimiter, trailing whitespace on header and request lines, preamble
// and epilogue, an inner header section that ends at the delimiter
// without a blank line (PnPjs's GET parts), Content-ID and
// Content-Transfer-Encoding: binary (7bit and 8bit too), a part without
// Content-Type (taken as application/http), and GET requests inside a
// changeset. What it refuses is listed below.
//
// # Errors: the whole batch or one part
//
// Parse fails as a whole only when the batch cannot be read at all: a
// Content-Type that is not multipart/mixed or has no usable boundary
// (ErrNotMultipart, ErrNoBoundary), a body over Limits.MaxBytes
// (ErrTooLarge), more inner requests than Limits.MaxRequests
// (ErrTooManyRequests), no opening or no closing delimiter
// (ErrMalformedBatch), or the reader's own error. The caller answers 400
// (or 413 for ErrTooLarge) and runs nothing.
//
// A malformed part — a bad request line or target, a bad or too long
// header section, a part type other than application/http or
// multipart/mixed, a Content-Transfer-Encoding other than binary, 7bit or
// 8bit, a chunked inner body, a changeset without boundary or closing
// delimiter, a changeset nested in a changeset — yields a Part with Err
// set (a *PartError naming the part and the problem, matching one of the
// Err… sentinels with errors.Is) and no Requests, while the other parts
// are still parsed and run. The caller answers such a part with
// Part.ResponseCount error responses (ErrorResponse builds one), 400
// Bad Request in SharePoint's odata.error shape: one for a plain part,
// one per inner request for a changeset, because PnPjs maps answers to
// requests by position and rejects the whole batch when the counts
// differ. The texts of these errors are meant for the client: they quote
// at most a shortened request line without its query, or the value of a
// framing header (Content-Type, Content-Transfer-Encoding,
// Transfer-Encoding), never any other header, which may carry a
// credential.
//
// # Responses
//
// Write answers flat, as SharePoint Online does and as PnPjs requires:
// one application/http part per inner request, in request order,
// changeset answers not nested; each part holds "HTTP/1.1 <code> <text>",
// "Name: value" header lines, a blank line and the body; the closing
// delimiter is followed by exactly one CRLF and nothing else. Lines end
// in CRLF (RFC 2046); PnPjs splits on "\n" and trims, so it reads them.
// The boundary must start with "batchresponse_" because PnPjs looks for
// that literal prefix; NewBoundary makes one and ContentType the header
// value.
//
// # Limits
//
// Parse reads the whole body into memory (never more than MaxBytes + 1
// bytes) and its other allocations are linear in that input; inner bodies
// are slices of the buffer it read. The defaults, used for every Limits
// field left at zero, are DefaultMaxBytes (16 MiB), DefaultMaxRequests
// (1000 inner requests in the whole batch, changesets included: every
// inner request costs the server the same wherever it sits, so one total
// is the bound that matters; OData libraries also cap parts per batch and
// operations per changeset separately, but the research records no
// SharePoint figure) and DefaultMaxHeaderBytes (16 KiB for each header
// section: a part's MIME headers, and an inner request line with its
// headers).
//
// # What the caller does
//
// For each Part in order: when Err is set, append ResponseCount error
// responses; otherwise, for each Request, build the *http.Request with
// HTTPRequest, copy onto it what belongs to the outer request (RemoteAddr,
// TLS, the verified identity, and Host for a server-relative target),
// serve it through the normal handler into a ResponseRecorder, and append
// its Result. Changeset atomicity (rolling back the earlier requests of a
// changeset when a later one fails) is the caller's: this package only
// says which requests belong together. Content-ID references ($1 in a
// later request's URL) are not resolved.
package odatabatch
