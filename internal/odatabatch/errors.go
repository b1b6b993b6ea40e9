package odatabatch

import (
	"errors"
	"fmt"
	"strings"
)

// Errors that refuse the whole batch. Parse wraps them with detail; test
// with errors.Is.
var (
	// ErrNotMultipart: the request's Content-Type is missing, unreadable
	// or not multipart/mixed.
	ErrNotMultipart = errors.New("$batch: the Content-Type is not multipart/mixed")
	// ErrNoBoundary: the Content-Type has no boundary parameter, or one
	// that is empty or too long.
	ErrNoBoundary = errors.New("$batch: the Content-Type has no usable boundary")
	// ErrTooLarge: the body is larger than Limits.MaxBytes.
	ErrTooLarge = errors.New("$batch: the body is too large")
	// ErrTooManyRequests: the batch holds more inner requests than
	// Limits.MaxRequests (a malformed part counts as many as it owes
	// answers).
	ErrTooManyRequests = errors.New("$batch: too many requests")
	// ErrMalformedBatch: the body has no delimiter line for the
	// boundary, or no closing one (a truncated body must not run half).
	ErrMalformedBatch = errors.New("$batch: malformed body")
)

// Errors that refuse one part. Part.Err is a *PartError wrapping one of
// them.
var (
	// ErrBadRequestLine: the inner request line is not
	// "METHOD target HTTP/1.x", or its target is neither an absolute
	// http(s) URL nor a path starting with "/".
	ErrBadRequestLine = errors.New("bad request line")
	// ErrBadHeader: a header line has no colon, an empty or invalid
	// name, or continues a header that does not exist.
	ErrBadHeader = errors.New("bad header line")
	// ErrHeaderTooLong: a header section is longer than
	// Limits.MaxHeaderBytes.
	ErrHeaderTooLong = errors.New("header section too long")
	// ErrUnsupportedPart: the part is neither application/http nor
	// multipart/mixed, its Content-Type is unreadable, its
	// Content-Transfer-Encoding is not binary, 7bit or 8bit, its inner
	// body is chunked, or it has headers but no content.
	ErrUnsupportedPart = errors.New("unsupported part")
	// ErrNestedChangeset: a changeset holds a multipart part.
	ErrNestedChangeset = errors.New("changeset inside a changeset")
	// ErrBadChangeset: a changeset has no usable boundary, or no closing
	// delimiter.
	ErrBadChangeset = errors.New("malformed changeset")
)

// PartError is why one top-level part of a batch cannot run.
type PartError struct {
	// Part is the part's position in the batch, from 1.
	Part int
	// Request is the inner request's position in a changeset, from 1;
	// 0 for the part itself.
	Request int
	// Err wraps one of the part sentinels with detail.
	Err error
}

// Error reads "$batch part 2, request 3: bad request line: …", which is
// what the client sees in the 400's message.
func (e *PartError) Error() string {
	if e.Request > 0 {
		return fmt.Sprintf("$batch part %d, request %d: %v", e.Part, e.Request, e.Err)
	}
	return fmt.Sprintf("$batch part %d: %v", e.Part, e.Err)
}

// Unwrap returns Err.
func (e *PartError) Unwrap() error { return e.Err }

// maxQuoted bounds how much of a client's request line an error quotes.
const maxQuoted = 120

// quote shortens s for an error message.
func quote(s string) string {
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q…", s[:maxQuoted])
	}
	return fmt.Sprintf("%q", s)
}

// quoteTarget quotes a request line or URL without its query, which may
// carry a token.
func quoteTarget(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return quote(s[:i] + "?…")
	}
	return quote(s)
}
