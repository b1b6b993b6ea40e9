package odatabatch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Defaults for the Limits fields left at zero.
const (
	DefaultMaxBytes       = 16 << 20
	DefaultMaxRequests    = 1000
	DefaultMaxHeaderBytes = 16 << 10
)

// maxBoundaryLength is far above RFC 2046's 70 (PnPjs's boundaries are
// 42 and 46 bytes) and only stops a boundary from being a body of its own.
const maxBoundaryLength = 200

// Limits bound what Parse accepts. A field at zero or below takes its
// default.
type Limits struct {
	// MaxBytes is the largest body read, in bytes; default 16 MiB. The
	// caller's own request body limit applies as well.
	MaxBytes int64
	// MaxRequests is the most inner requests in the whole batch, those
	// in changesets included; default 1000.
	MaxRequests int
	// MaxHeaderBytes bounds each header section, line breaks included: a
	// part's MIME headers, and an inner request line with its headers;
	// default 16 KiB.
	MaxHeaderBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = DefaultMaxRequests
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// Request is one inner request as the client wrote it.
type Request struct {
	// Method is the request line's method as written (PnPjs writes MERGE
	// and DELETE there instead of tunnelling them through X-HTTP-Method).
	Method string
	// URL is the request line's target as written: an absolute URL or a
	// server-relative path, escaping untouched.
	URL string
	// Header holds the inner request's headers, keys canonical.
	Header http.Header
	// Body is the inner body, nil when there is none. It shares memory
	// with the buffer Parse read.
	Body []byte
	// ContentID is the part's Content-ID header, if any.
	ContentID string
}

// Part is one top-level part of a batch.
type Part struct {
	// Requests holds the one request of a plain part, or those of a
	// changeset, in order; nil when Err is set.
	Requests []Request
	// Changeset is true for a multipart/mixed part.
	Changeset bool
	// Err is why the part cannot run (a *PartError); the other parts are
	// unaffected.
	Err error

	// owed is how many answers a malformed part owes: its inner parts
	// for a changeset that could be split.
	owed int
}

// ResponseCount is how many responses this part takes in the flat
// answer: one per request, and for a malformed part one per request the
// client meant to send (at least one), so that answers stay aligned with
// requests.
func (p Part) ResponseCount() int {
	if p.Err == nil {
		return len(p.Requests)
	}
	return max(p.owed, 1)
}

// Parse reads a $batch body whose request Content-Type is contentType.
// It fails only when the batch as a whole cannot be read (see the package
// doc); a malformed part is reported in that Part's Err.
func Parse(contentType string, body io.Reader, lim Limits) ([]Part, error) {
	lim = lim.withDefaults()
	boundary, err := batchBoundary(contentType)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(body, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("$batch: reading the body: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}

	p := parser{lim: lim, budget: lim.MaxRequests}
	sp := newSplitter(data, boundary)
	var parts []Part
	for {
		content, ok := sp.next()
		if !ok {
			break
		}
		part, err := p.part(len(parts)+1, content)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	switch {
	case !sp.found:
		return nil, fmt.Errorf("%w: no delimiter line --%s", ErrMalformedBatch, boundary)
	case !sp.closed:
		return nil, fmt.Errorf("%w: no closing delimiter --%s--", ErrMalformedBatch, boundary)
	}
	return parts, nil
}

// batchBoundary reads the boundary from the request's Content-Type.
func batchBoundary(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrNotMultipart, quote(contentType))
	}
	if mt != "multipart/mixed" {
		return "", fmt.Errorf("%w: %s", ErrNotMultipart, quote(mt))
	}
	b, err := checkBoundary(params)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoBoundary, err)
	}
	return b, nil
}

func checkBoundary(params map[string]string) (string, error) {
	b, ok := params["boundary"]
	switch {
	case !ok:
		return "", errors.New("the boundary parameter is missing")
	case b == "":
		return "", errors.New("the boundary is empty")
	case len(b) > maxBoundaryLength:
		return "", fmt.Errorf("the boundary is longer than %d bytes", maxBoundaryLength)
	case strings.ContainsAny(b, "\r\n"):
		return "", errors.New("the boundary holds a line break")
	}
	return b, nil
}

// parser carries the limits and how many more requests the batch may
// hold.
type parser struct {
	lim    Limits
	budget int
}

// spend counts n answers against the batch's limit.
func (p *parser) spend(n int) error {
	p.budget -= n
	if p.budget < 0 {
		return fmt.Errorf("%w: more than %d", ErrTooManyRequests, p.lim.MaxRequests)
	}
	return nil
}

// part parses one top-level part; its error is for the whole batch (the
// request limit), a malformed part comes back in Part.Err.
func (p *parser) part(index int, content []byte) (Part, error) {
	hdr, rest, err := p.mimeHeaders(content)
	if err != nil {
		return Part{Err: &PartError{Part: index, Err: err}, owed: 1}, p.spend(1)
	}
	mt, params, err := partType(hdr)
	if err != nil {
		return Part{Err: &PartError{Part: index, Err: err}, owed: 1}, p.spend(1)
	}
	switch mt {
	case "application/http":
		if err := p.spend(1); err != nil {
			return Part{}, err
		}
		req, err := p.request(hdr, rest)
		if err != nil {
			return Part{Err: &PartError{Part: index, Err: err}, owed: 1}, nil
		}
		return Part{Requests: []Request{req}}, nil
	case "multipart/mixed":
		return p.changeset(index, params, rest)
	default:
		return Part{Err: &PartError{Part: index, Err: fmt.Errorf("%w: Content-Type %s", ErrUnsupportedPart, quote(mt))}, owed: 1}, p.spend(1)
	}
}

// changeset parses a multipart/mixed part. Any bad inner part fails the
// whole changeset, which is all-or-nothing; the inner parts are still
// counted so the answer has one error per intended request.
func (p *parser) changeset(index int, params map[string]string, content []byte) (Part, error) {
	fail := func(request, owed int, err error) (Part, error) {
		return Part{Changeset: true, Err: &PartError{Part: index, Request: request, Err: err}, owed: owed}, nil
	}
	boundary, err := checkBoundary(params)
	if err != nil {
		if err := p.spend(1); err != nil {
			return Part{}, err
		}
		return fail(0, 1, fmt.Errorf("%w: %v", ErrBadChangeset, err))
	}
	sp := newSplitter(content, boundary)
	var (
		requests []Request
		first    *PartError
		n        int
	)
	for {
		sub, ok := sp.next()
		if !ok {
			break
		}
		n++
		if err := p.spend(1); err != nil {
			return Part{}, err
		}
		if first != nil {
			continue
		}
		req, err := p.changesetRequest(sub)
		if err != nil {
			first = &PartError{Part: index, Request: n, Err: err}
			continue
		}
		requests = append(requests, req)
	}
	switch {
	case first != nil:
		return Part{Changeset: true, Err: first, owed: n}, nil
	case !sp.found || !sp.closed:
		if n == 0 {
			if err := p.spend(1); err != nil {
				return Part{}, err
			}
		}
		return fail(0, n, fmt.Errorf("%w: no closing delimiter --%s--", ErrBadChangeset, boundary))
	}
	return Part{Requests: requests, Changeset: true}, nil
}

// changesetRequest parses one part of a changeset.
func (p *parser) changesetRequest(content []byte) (Request, error) {
	hdr, rest, err := p.mimeHeaders(content)
	if err != nil {
		return Request{}, err
	}
	mt, _, err := partType(hdr)
	switch {
	case err != nil:
		return Request{}, err
	case strings.HasPrefix(mt, "multipart/"):
		return Request{}, ErrNestedChangeset
	case mt != "application/http":
		return Request{}, fmt.Errorf("%w: Content-Type %s", ErrUnsupportedPart, quote(mt))
	}
	return p.request(hdr, rest)
}

// mimeHeaders reads a part's MIME header section. A part must have
// content after it: a section running to the end of the part is refused.
func (p *parser) mimeHeaders(content []byte) (http.Header, []byte, error) {
	hdr, rest, complete, err := readHeaders(content, p.lim.MaxHeaderBytes)
	if err != nil {
		return nil, nil, err
	}
	if !complete {
		return nil, nil, fmt.Errorf("%w: the part's headers are not followed by a blank line and content", ErrUnsupportedPart)
	}
	return hdr, rest, nil
}

// partType reads a part's Content-Type (application/http when absent) and
// checks its transfer encoding.
func partType(hdr http.Header) (string, map[string]string, error) {
	if cte := strings.ToLower(hdr.Get("Content-Transfer-Encoding")); cte != "" && cte != "binary" && cte != "8bit" && cte != "7bit" {
		return "", nil, fmt.Errorf("%w: Content-Transfer-Encoding %s", ErrUnsupportedPart, quote(cte))
	}
	ct := hdr.Get("Content-Type")
	if ct == "" {
		return "application/http", nil, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, fmt.Errorf("%w: unreadable Content-Type %s", ErrUnsupportedPart, quote(ct))
	}
	return mt, params, nil
}

// request parses an application/http part's content: request line,
// headers, body.
func (p *parser) request(mimeHdr http.Header, content []byte) (Request, error) {
	pos := 0
	var line []byte
	for {
		if pos >= len(content) {
			return Request{}, fmt.Errorf("%w: the part holds no request", ErrBadRequestLine)
		}
		var next int
		line, next = cutLine(content, pos, p.lim.MaxHeaderBytes-pos)
		if next > p.lim.MaxHeaderBytes {
			return Request{}, fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLong, p.lim.MaxHeaderBytes)
		}
		pos = next
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
	}
	method, target, err := parseRequestLine(string(line))
	if err != nil {
		return Request{}, err
	}
	hdr, body, _, err := readHeaders(content[pos:], p.lim.MaxHeaderBytes-pos)
	if err != nil {
		return Request{}, err
	}
	if te := hdr.Get("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		return Request{}, fmt.Errorf("%w: Transfer-Encoding %s in an inner request", ErrUnsupportedPart, quote(te))
	}
	body = trimToContentLength(body, hdr.Get("Content-Length"))
	if len(body) == 0 {
		body = nil
	}
	return Request{
		Method:    method,
		URL:       target,
		Header:    hdr,
		Body:      body,
		ContentID: mimeHdr.Get("Content-ID"),
	}, nil
}

// trimToContentLength drops line breaks a client put after a body whose
// length it declared. A Content-Length that disagrees otherwise is
// ignored: JavaScript clients count UTF-16 units, and the delimiter is
// what frames the body.
func trimToContentLength(body []byte, cl string) []byte {
	if cl == "" {
		return body
	}
	n, err := strconv.Atoi(strings.TrimSpace(cl))
	if err != nil || n < 0 || n >= len(body) {
		return body
	}
	if len(bytes.Trim(body[n:], "\r\n")) > 0 {
		return body
	}
	return body[:n]
}

// parseRequestLine reads "METHOD target HTTP/1.1". The version may be
// missing; a target with spaces in it is kept whole.
func parseRequestLine(line string) (method, target string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%w: %s %s", ErrBadRequestLine, quoteTarget(line), why)
	}
	s := strings.Trim(line, " \t\r")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return bad("is not METHOD URL HTTP/1.1")
	}
	method, rest := s[:i], strings.TrimLeft(s[i:], " \t")
	if !isToken(method) {
		return bad("has an invalid method")
	}
	if j := strings.LastIndexAny(rest, " \t"); j >= 0 && len(rest)-j > 5 && strings.EqualFold(rest[j+1:j+6], "HTTP/") {
		if _, _, ok := http.ParseHTTPVersion(strings.ToUpper(rest[j+1:])); !ok {
			return bad("has an invalid HTTP version")
		}
		rest = strings.TrimRight(rest[:j], " \t")
	}
	if _, err := parseTarget(rest); err != nil {
		return bad(err.Error())
	}
	return method, rest, nil
}

// cutLine returns the line starting at pos without its line break, and
// where the next line starts. It looks no further than limit bytes past
// pos, so a header section without line breaks costs at most limit.
func cutLine(data []byte, pos, limit int) (line []byte, next int) {
	window := data[pos:]
	if limit >= 0 && len(window) > limit+1 {
		window = window[:limit+1]
	}
	i := bytes.IndexByte(window, '\n')
	if i < 0 {
		if len(window) < len(data)-pos {
			// No line break within the limit: report a line longer
			// than it so the caller refuses the section.
			return window, pos + len(window)
		}
		return bytes.TrimSuffix(window, []byte{'\r'}), len(data)
	}
	return bytes.TrimSuffix(window[:i], []byte{'\r'}), pos + i + 1
}

// readHeaders reads header lines until a blank line. complete is false
// when the data ended first (PnPjs's GET parts end their headers at the
// delimiter); rest is then empty. Lines starting with a space or tab
// continue the previous header.
func readHeaders(data []byte, max int) (hdr http.Header, rest []byte, complete bool, err error) {
	hdr = http.Header{}
	var last string
	pos := 0
	for pos < len(data) {
		line, next := cutLine(data, pos, max-pos)
		if next > max {
			return nil, nil, false, fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLong, max)
		}
		pos = next
		if len(bytes.Trim(line, " \t")) == 0 {
			return hdr, data[pos:], true, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return nil, nil, false, fmt.Errorf("%w: a continuation line comes first", ErrBadHeader)
			}
			vs := hdr[last]
			vs[len(vs)-1] += " " + string(bytes.Trim(line, " \t"))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil, nil, false, fmt.Errorf("%w: a line has no colon", ErrBadHeader)
		}
		name = bytes.TrimRight(name, " \t")
		if !isToken(string(name)) {
			// Not quoted: a mangled line may be a credential.
			return nil, nil, false, fmt.Errorf("%w: a header name is empty or holds an invalid character", ErrBadHeader)
		}
		last = textproto.CanonicalMIMEHeaderKey(string(name))
		hdr[last] = append(hdr[last], string(bytes.Trim(value, " \t")))
	}
	return hdr, nil, false, nil
}

// isToken reports whether s is an RFC 9110 token (a method or a header
// name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// splitter walks the parts of a multipart body without copying: a
// delimiter is a line that starts with "--" + boundary, optionally "--"
// (the closing one), then only spaces or tabs. The line break before a
// delimiter belongs to it, not to the part; text before the first
// delimiter (preamble) and after the closing one (epilogue) is ignored.
type splitter struct {
	data  []byte
	dash  []byte
	pos   int
	found bool // a delimiter line was seen
	done  bool
	// closed is set when the closing delimiter was reached.
	closed bool
}

func newSplitter(data []byte, boundary string) *splitter {
	return &splitter{data: data, dash: []byte("--" + boundary)}
}

// next returns the next part's content; ok is false at the end.
func (s *splitter) next() (content []byte, ok bool) {
	if s.done {
		return nil, false
	}
	if !s.found {
		_, after, closing, ok := s.delimiter(0)
		if !ok {
			s.done = true
			return nil, false
		}
		s.found = true
		if closing {
			s.done, s.closed = true, true
			return nil, false
		}
		s.pos = after
	}
	start, after, closing, ok := s.delimiter(s.pos)
	if !ok {
		// Unterminated: the rest is the last part, so a broken
		// changeset still owes an answer for it. closed stays false.
		s.done = true
		rest := s.data[s.pos:]
		return rest, len(bytes.TrimSpace(rest)) > 0
	}
	end := start
	if end > s.pos && s.data[end-1] == '\n' {
		end--
		if end > s.pos && s.data[end-1] == '\r' {
			end--
		}
	}
	content = s.data[s.pos:end]
	if closing {
		s.done, s.closed = true, true
	} else {
		s.pos = after
	}
	return content, true
}

// delimiter finds the next delimiter line at or after from: where it
// starts, where the line after it starts, and whether it is the closing
// one.
func (s *splitter) delimiter(from int) (start, after int, closing, ok bool) {
	for from <= len(s.data) {
		i := bytes.Index(s.data[from:], s.dash)
		if i < 0 {
			return 0, 0, false, false
		}
		start = from + i
		from = start + 1
		if start > 0 && s.data[start-1] != '\n' {
			continue
		}
		k := start + len(s.dash)
		closing = bytes.HasPrefix(s.data[k:], []byte("--"))
		if closing {
			k += 2
		}
		for k < len(s.data) && (s.data[k] == ' ' || s.data[k] == '\t') {
			k++
		}
		switch {
		case k == len(s.data):
			return start, k, closing, true
		case s.data[k] == '\n':
			return start, k + 1, closing, true
		case s.data[k] == '\r' && (k+1 == len(s.data) || s.data[k+1] == '\n'):
			return start, min(k+2, len(s.data)), closing, true
		}
	}
	return 0, 0, false, false
}
