package odatabatch

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
)

// ErrResponseTooLarge is a ResponseRecorder's answer to a body over its
// limit.
var ErrResponseTooLarge = errors.New("odatabatch: the inner response is larger than the recorder's limit")

// ResponseRecorder is the http.ResponseWriter an inner request is served
// into, so the REST API's ordinary handler answers batched requests too.
// It behaves as net/http's writer does where handlers can tell: headers
// changed after WriteHeader (or the first Write) are not part of the
// answer, Write defaults the status to 200 and sniffs a missing
// Content-Type, 1xx codes are ignored, a second WriteHeader is ignored,
// and 204 and 304 refuse a body with http.ErrBodyNotAllowed. It is not
// safe for concurrent use, as no ResponseWriter is.
type ResponseRecorder struct {
	maxBody int
	header  http.Header
	sent    http.Header // header as of WriteHeader
	status  int
	body    bytes.Buffer
	err     error
}

// NewResponseRecorder returns a recorder that keeps at most maxBody body
// bytes (no limit when maxBody <= 0): a batch answer is held in memory
// until it is written.
func NewResponseRecorder(maxBody int) *ResponseRecorder {
	return &ResponseRecorder{maxBody: maxBody, header: http.Header{}}
}

// Header returns the header map the handler fills.
func (r *ResponseRecorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

// WriteHeader records the status and the header as they are now. Like
// net/http it panics on a code outside 100-999.
func (r *ResponseRecorder) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if r.status != 0 || code < 200 {
		return
	}
	r.status = code
	r.sent = r.Header().Clone()
}

// Write appends to the body. Beyond the recorder's limit it keeps what
// fits and answers ErrResponseTooLarge, which Result reports.
func (r *ResponseRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(r.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if r.body.Len() == 0 && len(p) > 0 {
		if _, ok := r.sent["Content-Type"]; !ok {
			r.sent.Set("Content-Type", http.DetectContentType(p))
		}
	}
	if r.maxBody > 0 && r.body.Len()+len(p) > r.maxBody {
		n, _ := r.body.Write(p[:r.maxBody-r.body.Len()])
		r.err = ErrResponseTooLarge
		return n, r.err
	}
	return r.body.Write(p)
}

// Flush does nothing: the answer is written when the whole batch is.
// It exists for handlers that flush through http.ResponseController.
func (r *ResponseRecorder) Flush() {}

// Result is the recorded answer; a handler that wrote nothing answered
// 200 with no body. The error is ErrResponseTooLarge when the body was
// cut at the limit: the caller should then answer that request with an
// error instead. Body shares the recorder's buffer.
func (r *ResponseRecorder) Result() (Response, error) {
	if r.status == 0 {
		return Response{Status: http.StatusOK, Header: r.Header().Clone()}, r.err
	}
	var body []byte
	if r.body.Len() > 0 {
		body = r.body.Bytes()
	}
	return Response{Status: r.status, Header: r.sent, Body: body}, r.err
}
