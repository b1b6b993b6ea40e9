package odata

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SharePoint's error codes: "<HRESULT>, <.NET exception type>", as the
// odata.error body's "code" carries them. Clients (and the people reading
// PnPjs's HttpRequestError messages) match on them, so they are
// SharePoint's own wherever the research knows them.
const (
	// CodeInvalidQuery is a malformed URL, query option or body: 400.
	CodeInvalidQuery = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
	// CodeArgument is SharePoint's list-not-found code (and other bad
	// arguments): "List 'X' does not exist at site with URL '…'.", 404.
	CodeArgument = "-1, System.ArgumentException"
	// CodeItemNotFound is "Item does not exist. It may have been deleted
	// by another user.", 404.
	CodeItemNotFound = "-2147024809, System.ArgumentException"
	// CodeFileNotFound is "The file … does not exist." (and a missing
	// folder), 404.
	CodeFileNotFound = "-2130575338, Microsoft.SharePoint.SPException"
	// CodeResourceNotFound is a path segment the API does not know:
	// "Cannot find resource for the request x.", 404.
	CodeResourceNotFound = "-1, Microsoft.SharePoint.Client.ResourceNotFoundException"
	// CodeVersionConflict is a stale If-Match: "The request ETag value …
	// does not match the object's ETag value …", 412.
	CodeVersionConflict = "-1, Microsoft.SharePoint.Client.ClientServiceException"
	// CodeSecurityValidation is a missing, invalid or expired request
	// digest, 403.
	CodeSecurityValidation = "-2130575252, Microsoft.SharePoint.SPException"
	// CodeAccessDenied is a permission refusal, 403.
	CodeAccessDenied = "-2147024891, System.UnauthorizedAccessException"
	// CodeListExists is "A list, survey, discussion board, or document
	// library with the specified title already exists in this Web site.",
	// which SharePoint answers with 500.
	CodeListExists = "-2130575342, Microsoft.SharePoint.SPException"
	// CodeFileExists is "The file … already exists.", 400.
	CodeFileExists = "-2130575257, Microsoft.SharePoint.SPException"
	// CodeThrottled is SharePoint's throttling exception; Cesivi uses it
	// for 429 with Retry-After (the research records no 429 body).
	CodeThrottled = "-2147024860, Microsoft.SharePoint.SPQueryThrottledException"
	// CodeFieldNotFound is a field (column) the list does not have:
	// "Column 'X' does not exist. It may have been deleted by another
	// user.", 400.
	CodeFieldNotFound = "-2146232832, Microsoft.SharePoint.SPException"
	// CodeNotAcceptable is Cesivi's refusal of Atom/XML: it answers JSON
	// only. SharePoint would answer XML; there is no SharePoint code.
	CodeNotAcceptable = "-1, Microsoft.SharePoint.Client.ClientServiceException"
)

// Error is a SharePoint REST refusal: the status, the odata.error code and
// the message written into the body. The API maps every failure onto one
// and writes it with an Encoder. Message is for people and never holds a
// secret or a dependency's own error text.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when positive, is for a Retry-After header (429, 503).
	RetryAfter time.Duration
	// Cause is kept for logs and errors.Is; it is never written out.
	Cause error
}

// Error reads "status code: message".
func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// NewError returns a refusal.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// InvalidQuery is a 400 for a malformed request (query option, path, body).
func InvalidQuery(message string) *Error {
	return NewError(http.StatusBadRequest, CodeInvalidQuery, message)
}

// ListNotFound is SharePoint's 404 for a list that does not exist; webURL
// is the absolute URL of the site it was looked for in.
func ListNotFound(title, webURL string) *Error {
	return NewError(http.StatusNotFound, CodeArgument,
		fmt.Sprintf("List '%s' does not exist at site with URL '%s'.", title, webURL))
}

// ItemNotFound is SharePoint's 404 for a list item that does not exist.
func ItemNotFound() *Error {
	return NewError(http.StatusNotFound, CodeItemNotFound,
		"Item does not exist. It may have been deleted by another user.")
}

// FileNotFound is the 404 for a file or folder; url is its server-relative
// URL.
func FileNotFound(url string) *Error {
	return NewError(http.StatusNotFound, CodeFileNotFound,
		fmt.Sprintf("The file %s does not exist.", url))
}

// ResourceNotFound is the 404 for a path segment the API does not serve.
func ResourceNotFound(segment string) *Error {
	return NewError(http.StatusNotFound, CodeResourceNotFound,
		fmt.Sprintf("Cannot find resource for the request %s.", segment))
}

// VersionConflict is the 412 for an If-Match that names another version;
// both etags are as on the wire, quotes included ("\"2\"").
func VersionConflict(requestETag, currentETag string) *Error {
	return NewError(http.StatusPreconditionFailed, CodeVersionConflict,
		fmt.Sprintf("The request ETag value '%s' does not match the object's ETag value '%s'.", requestETag, currentETag))
}

// SecurityValidation is the 403 for a missing or invalid X-RequestDigest.
func SecurityValidation() *Error {
	return NewError(http.StatusForbidden, CodeSecurityValidation,
		"The security validation for this page is invalid and might be corrupted. Please use your web browser's Back button to try your operation again.")
}

// AccessDenied is the 403 for a user without the permission.
func AccessDenied() *Error {
	return NewError(http.StatusForbidden, CodeAccessDenied,
		"Access denied. You do not have permission to perform this action or access this resource.")
}

// ListExists is SharePoint's answer (500) to a list title already taken.
func ListExists() *Error {
	return NewError(http.StatusInternalServerError, CodeListExists,
		"A list, survey, discussion board, or document library with the specified title already exists in this Web site.  Please choose another title.")
}

// FileExists is the 400 for an upload onto an existing file without
// Overwrite; url is its server-relative URL.
func FileExists(url string) *Error {
	return NewError(http.StatusBadRequest, CodeFileExists,
		fmt.Sprintf("The file %s already exists.", url))
}

// Throttled is a 429 whose client should retry after retryAfter.
func Throttled(retryAfter time.Duration) *Error {
	e := NewError(http.StatusTooManyRequests, CodeThrottled,
		"The request has been throttled. Please retry after the time given in Retry-After.")
	e.RetryAfter = retryAfter
	return e
}

// TypeNotResolved is the 400 for a verbose body whose __metadata.type is
// not the entity's type.
func TypeNotResolved(typeName string) *Error {
	return InvalidQuery(fmt.Sprintf("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", typeName))
}

// SyntaxError is malformed input to one of the parsers: what was being
// read (a query option such as "$filter", or "path"), where (a byte
// offset into that text) and what is wrong.
type SyntaxError struct {
	// Input names the text: "$filter", "$orderby", "$skiptoken", "path"…
	Input string
	// Offset is the 0-based byte offset of the problem in that text (for
	// a path, in the escaped path as received).
	Offset int
	// Msg says what is wrong, for people.
	Msg string
}

// Error reads "$filter: at character 13: expected ')' …" (characters
// counted from 1).
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: at character %d: %s", e.Input, e.Offset+1, e.Msg)
}

// LimitError is input that is well formed but larger than a limit.
type LimitError struct {
	Input string
	Msg   string
}

// Error reads "$filter: too long: …".
func (e *LimitError) Error() string { return e.Input + ": " + e.Msg }

// ErrorOf maps any error from this package onto the refusal to send:
// an *Error as it is, a *SyntaxError or *LimitError as a 400
// InvalidClientQueryException whose message is the error's text, anything
// else as a 500 whose message says nothing of the cause.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *SyntaxError
	var le *LimitError
	if errors.As(err, &se) || errors.As(err, &le) {
		ie := InvalidQuery(err.Error())
		ie.Cause = err
		return ie
	}
	return &Error{Status: http.StatusInternalServerError, Code: "-1, System.InvalidOperationException",
		Message: "The server could not complete the request.", Cause: err}
}

// FieldNotFound is SharePoint's 400 for a query or body naming a field
// the list does not have.
func FieldNotFound(name string) *Error {
	return NewError(http.StatusBadRequest, CodeFieldNotFound,
		fmt.Sprintf("Column '%s' does not exist. It may have been deleted by another user.", name))
}
