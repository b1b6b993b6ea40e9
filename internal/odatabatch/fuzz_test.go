package odatabatch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// fuzzLimits are small so the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxBytes: 1 << 16, MaxRequests: 20, MaxHeaderBytes: 256}

// FuzzParse: Parse never panics, refuses only with its own errors, keeps
// every part within the limits, never holds more bytes than it read, and
// what it accepts can be turned into *http.Requests and answered with a
// body Go's multipart reader splits back into one part per request. The
// seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(pnpjsContentType, []byte(readPnPjs(f)))
	f.Add("multipart/mixed; boundary=batch_m", []byte(crlf(mixed)))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		parts, err := Parse(contentType, bytes.NewReader(body), fuzzLimits)
		if err != nil {
			for _, want := range []error{ErrNotMultipart, ErrNoBoundary, ErrTooLarge, ErrTooManyRequests, ErrMalformedBatch} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("unexpected error %T %v", err, err)
		}
		owed, held := 0, 0
		var answers []Response
		for i, p := range parts {
			owed += p.ResponseCount()
			if p.Err != nil {
				var pe *PartError
				if p.Requests != nil || !errors.As(p.Err, &pe) || pe.Part != i+1 {
					t.Fatalf("part %d: requests %v with error %v", i+1, p.Requests, p.Err)
				}
				for range p.ResponseCount() {
					answers = append(answers, ErrorResponse(400, "text/plain", []byte(p.Err.Error())))
				}
				continue
			}
			if !p.Changeset && len(p.Requests) != 1 {
				t.Fatalf("plain part %d holds %d requests", i+1, len(p.Requests))
			}
			for _, r := range p.Requests {
				held += len(r.Body)
				hdr := 0
				for k, vs := range r.Header {
					for _, v := range vs {
						hdr += len(k) + len(v)
					}
				}
				if hdr > fuzzLimits.MaxHeaderBytes {
					t.Fatalf("%d header bytes", hdr)
				}
				req, err := r.HTTPRequest(context.Background())
				if err != nil {
					t.Fatalf("Parse accepted %q %q, HTTPRequest refuses it: %v", r.Method, r.URL, err)
				}
				if !strings.HasPrefix(req.RequestURI, req.URL.EscapedPath()) || req.ContentLength != int64(len(r.Body)) {
					t.Fatalf("RequestURI %q, EscapedPath %q, ContentLength %d", req.RequestURI, req.URL.EscapedPath(), req.ContentLength)
				}
				answers = append(answers, Response{Status: 200, Header: http.Header{"X-Method": {r.Method}}, Body: r.Body})
			}
		}
		if owed > fuzzLimits.MaxRequests || held > len(body) {
			t.Fatalf("%d answers owed, %d body bytes held from %d read", owed, held, len(body))
		}
		if len(answers) != owed {
			t.Fatalf("%d answers for %d owed", len(answers), owed)
		}

		boundary := NewBoundary()
		var out bytes.Buffer
		if err := Write(&out, boundary, answers); err != nil {
			t.Fatalf("Write: %v", err) // the boundary is random: no body can hold it
		}
		mr := multipart.NewReader(&out, boundary)
		for i, a := range answers {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("answer %d: %v", i+1, err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(part), nil)
			if err != nil {
				t.Fatalf("answer %d: %v", i+1, err)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(b, a.Body) || resp.StatusCode != a.Status {
				t.Fatalf("answer %d: %d %q (%v), want %d %q", i+1, resp.StatusCode, b, err, a.Status, a.Body)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Fatalf("after %d answers: %v", len(answers), err)
		}
	})
}
