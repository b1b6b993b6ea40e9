// Package httperr is the one error vocabulary Cesivi speaks over HTTP: the
// edge and the app servers refuse requests with an *Error and write it with
// Write, so every refusal has the same JSON shape,
//
//	{"error":{"code":"LoginRequired","message":"sign in first","loginUrl":"/oauth2/login?rd=%2F"}}
//
// the same headers (Cache-Control: no-store, Retry-After when the client
// should come back) and a message written for people, chosen where the
// refusal is decided, never taken from a dependency's err.Error() (which
// can hold addresses, key ids or worse). WriteOAuth writes the shape OAuth
// endpoints must use instead (RFC 6749 section 5.2), for the edge's
// back-channel logout. SharePoint's odata.error bodies live beside this
// package, in the SharePoint API's own.
package httperr

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Error is a refusal to send to a client.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is stable and machine-readable ("LoginRequired"); clients and
	// tests match on it.
	Code string
	// Message says, for a person, what is wrong and what to do. It never
	// holds a secret, a token, a cookie or a dependency's own error text.
	Message string
	// RetryAfter, when positive, is sent as Retry-After (whole seconds,
	// at least 1): the request may succeed if sent again then.
	RetryAfter time.Duration
	// LoginURL, for LoginRequired, is where a client starts a sign-in.
	LoginURL string
	// Cause is what went wrong inside, for the caller's logs; it is never
	// written to the client.
	Cause error
}

// New returns a refusal with status, code and message.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Unavailable is a 503 whose client should retry after retryAfter: a
// dependency (the session store, the identity provider, the database) did
// not answer. cause is kept for logs only.
func Unavailable(code, message string, retryAfter time.Duration, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: code, Message: message, RetryAfter: retryAfter, Cause: cause}
}

// Error reads "Code: Message", with the cause when there is one, for logs.
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause, so errors.Is sees through a refusal.
func (e *Error) Unwrap() error { return e.Cause }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// body is the wire shape of an *Error.
type body struct {
	Error struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		LoginURL string `json:"loginUrl,omitempty"`
	} `json:"error"`
}

// Write sends e as the response: its status, Content-Type JSON,
// Cache-Control no-store, Retry-After when set, and the JSON body.
func Write(w http.ResponseWriter, e *Error) {
	var b body
	b.Error.Code, b.Error.Message, b.Error.LoginURL = e.Code, e.Message, e.LoginURL
	writeJSON(w, e.Status, e.RetryAfter, b)
}

// oauthBody is RFC 6749 section 5.2's error response.
type oauthBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// WriteOAuth answers an OAuth or OpenID Connect endpoint's client in the
// shape its specification requires ({"error":"invalid_request",
// "error_description":"…"}). retryAfter as in Error.
func WriteOAuth(w http.ResponseWriter, status int, code, description string, retryAfter time.Duration) {
	writeJSON(w, status, retryAfter, oauthBody{Error: code, ErrorDescription: description})
}

func writeJSON(w http.ResponseWriter, status int, retryAfter time.Duration, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	w.WriteHeader(status)
	// json.Marshal of these types cannot fail.
	data, _ := json.Marshal(v)
	_, _ = w.Write(append(data, '\n'))
}
