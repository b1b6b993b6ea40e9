package odatabatch

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ResponseBoundaryPrefix starts every response boundary: PnPjs finds the
// parts of a batch answer by this literal.
const ResponseBoundaryPrefix = "batchresponse_"

// Response is the answer to one inner request.
type Response struct {
	// Status is the HTTP status; 0 means 200, as for net/http.
	Status int
	// Header holds the answer's headers. Write leaves out hop-by-hop
	// headers and sets Content-Length itself.
	Header http.Header
	// Body is the answer's body; it is not written for 1xx, 204 and 304.
	Body []byte
	// ContentID, when set, is echoed as the part's Content-ID (OData
	// clients match changeset answers by it; PnPjs ignores it).
	ContentID string
}

// ErrorResponse is the answer to a part that cannot run (Part.Err): a
// status, normally 400, with a body in the format the client negotiated,
// typically an odata.error document, and its Content-Type.
func ErrorResponse(status int, contentType string, body []byte) Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return Response{Status: status, Header: h, Body: body}
}

// NewBoundary returns a fresh response boundary,
// "batchresponse_<random GUID>".
func NewBoundary() string {
	var b [16]byte
	rand.Read(b[:])         // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%s%x-%x-%x-%x-%x", ResponseBoundaryPrefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ContentType is the Content-Type of a batch answer written with
// boundary.
func ContentType(boundary string) string {
	return "multipart/mixed; boundary=" + boundary
}

// hopByHop headers describe the outer connection, not an inner answer.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}

// Write writes the flat batch answer: one application/http part per
// response, in order. It checks everything before writing a byte, so an
// error leaves w untouched: a boundary that does not start with
// "batchresponse_" or is not a plain token, a status outside 100-999, a
// body holding the delimiter.
func Write(w io.Writer, boundary string, responses []Response) error {
	if !strings.HasPrefix(boundary, ResponseBoundaryPrefix) || !isToken(boundary) || len(boundary) > maxBoundaryLength {
		return fmt.Errorf("odatabatch: response boundary %s must be a token starting with %q", quote(boundary), ResponseBoundaryPrefix)
	}
	delim := []byte("--" + boundary)
	for i, r := range responses {
		status := statusOf(r)
		if status < 100 || status > 999 {
			return fmt.Errorf("odatabatch: response %d: invalid status %d", i+1, r.Status)
		}
		if bodyAllowed(status) && bytes.Contains(r.Body, delim) {
			return fmt.Errorf("odatabatch: response %d: the body holds the boundary", i+1)
		}
	}

	bw := bufio.NewWriter(w)
	for _, r := range responses {
		writePart(bw, delim, r)
	}
	bw.Write(delim)
	bw.WriteString("--\r\n")
	return bw.Flush()
}

func writePart(bw *bufio.Writer, delim []byte, r Response) {
	status := statusOf(r)
	bw.Write(delim)
	bw.WriteString("\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
	if r.ContentID != "" {
		bw.WriteString("Content-ID: " + headerValue(r.ContentID) + "\r\n")
	}
	text := http.StatusText(status)
	if text == "" {
		text = "status code " + strconv.Itoa(status)
	}
	fmt.Fprintf(bw, "\r\nHTTP/1.1 %d %s\r\n", status, text)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		if isToken(k) && !slices.Contains(hopByHop, http.CanonicalHeaderKey(k)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			bw.WriteString(k + ": " + headerValue(v) + "\r\n")
		}
	}
	body := r.Body
	if bodyAllowed(status) {
		bw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	} else {
		body = nil
	}
	bw.WriteString("\r\n")
	bw.Write(body)
	bw.WriteString("\r\n")
}

func statusOf(r Response) int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}

// bodyAllowed follows RFC 9110: no content in 1xx, 204 and 304 answers.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// headerValue keeps a value on its line: a line break in it would end
// the header section early.
func headerValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}
