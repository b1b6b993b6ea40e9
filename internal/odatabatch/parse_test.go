package odatabatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// pnpjsContentType is what PnPjs 4.21.0 sent with testdata/pnpjs-request.txt
// (research §3.2): the batch boundary unquoted.
const pnpjsContentType = "multipart/mixed; boundary=batch_f0822b3f-5c78-477a-919a-65820f3f555e"

func readPnPjs(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/pnpjs-request.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func mustParse(t *testing.T, contentType, body string, lim Limits) []Part {
	t.Helper()
	parts, err := Parse(contentType, strings.NewReader(body), lim)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return parts
}

// The exact bytes PnPjs sends (bare LF, as its batching.ts builds them)
// and the same batch with CRLF, as RFC 2046 clients send it.
func TestParseReadsThePnPjsBatchInEitherLineEnding(t *testing.T) {
	for _, tc := range []struct {
		name, eol string
		body      string
	}{
		{"bare LF as PnPjs sends", "\n", readPnPjs(t)},
		{"CRLF", "\r\n", crlf(readPnPjs(t))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := mustParse(t, pnpjsContentType, tc.body, Limits{})
			if len(parts) != 2 {
				t.Fatalf("%d parts, want 2", len(parts))
			}
			cs, get := parts[0], parts[1]
			if !cs.Changeset || cs.Err != nil || len(cs.Requests) != 2 || cs.ResponseCount() != 2 {
				t.Fatalf("first part: %+v", cs)
			}
			for i, title := range []string{"b1", "b2"} {
				r := cs.Requests[i]
				if r.Method != "POST" || r.URL != "http://127.0.0.1:8765/sites/dev/_api/web/lists/getByTitle('Tasks')/items" {
					t.Errorf("request %d: %s %s", i, r.Method, r.URL)
				}
				// The line break PnPjs puts after the body is the
				// body's; the one before the delimiter is not.
				if want := `{"Title":"` + title + `"}` + tc.eol; string(r.Body) != want {
					t.Errorf("request %d body %q, want %q", i, r.Body, want)
				}
				if r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "application/json;charset=utf-8" || len(r.Header) != 2 {
					t.Errorf("request %d headers %v", i, r.Header)
				}
			}
			if get.Changeset || get.Err != nil || len(get.Requests) != 1 || get.ResponseCount() != 1 {
				t.Fatalf("second part: %+v", get)
			}
			g := get.Requests[0]
			if g.Method != "GET" || g.URL != "http://127.0.0.1:8765/sites/dev/_api/web/lists/getByTitle('Tasks')/items?%24select=Id%2CTitle" || g.Body != nil {
				t.Errorf("GET: %s %s body %q", g.Method, g.URL, g.Body)
			}
			if len(g.Header) != 2 {
				t.Errorf("GET headers %v", g.Header)
			}

			req, err := g.HTTPRequest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if req.Host != "127.0.0.1:8765" || req.RequestURI != "/sites/dev/_api/web/lists/getByTitle('Tasks')/items?%24select=Id%2CTitle" ||
				req.URL.EscapedPath() != "/sites/dev/_api/web/lists/getByTitle('Tasks')/items" || req.URL.Query().Get("$select") != "Id,Title" ||
				req.URL.Host != "" || req.URL.Scheme != "" {
				t.Errorf("GET as *http.Request: host %q, URI %q, URL %#v", req.Host, req.RequestURI, req.URL)
			}
		})
	}
}

const mixed = `preamble that clients may send
--batch_m
Content-Type: application/http

GET http://host/sites/dev/_api/web HTTP/1.1
accept: application/json;odata=verbose

--batch_m
Content-Type: multipart/mixed; boundary=changeset_a

--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

MERGE http://host/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1) HTTP/1.1
IF-Match: "2"
content-type: application/json;charset=utf-8

{"Title":"x"}
--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

DELETE http://host/sites/dev/_api/web/lists/getByTitle('Tasks')/items(2) HTTP/1.1
IF-Match: *

--changeset_a--
--batch_m
Content-Type: application/http

GET /sites/dev/_api/web/currentUser HTTP/1.1

--batch_m
Content-Type: multipart/mixed; boundary="changeset_b"

--changeset_b
Content-Type: application/http

POST http://host/sites/dev/_api/web/ensureuser HTTP/1.1

{"logonName":"carol@contoso.com"}
--changeset_b--
--batch_m--
epilogue, ignored
`

func TestParseKeepsTheOrderOfGETsAndChangesets(t *testing.T) {
	for _, body := range []string{mixed, crlf(mixed)} {
		parts := mustParse(t, "multipart/mixed; boundary=batch_m", body, Limits{})
		type got struct {
			changeset bool
			lines     []string
		}
		var have []got
		for _, p := range parts {
			if p.Err != nil {
				t.Fatalf("part error: %v", p.Err)
			}
			g := got{changeset: p.Changeset}
			for _, r := range p.Requests {
				g.lines = append(g.lines, fmt.Sprintf("%s %s %s %q", r.Method, r.URL, r.ContentID, r.Body))
			}
			have = append(have, g)
		}
		want := []got{
			{false, []string{`GET http://host/sites/dev/_api/web  ""`}},
			{true, []string{
				`MERGE http://host/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1) 1 "{\"Title\":\"x\"}"`,
				`DELETE http://host/sites/dev/_api/web/lists/getByTitle('Tasks')/items(2) 2 ""`,
			}},
			{false, []string{`GET /sites/dev/_api/web/currentUser  ""`}},
			{true, []string{`POST http://host/sites/dev/_api/web/ensureuser  "{\"logonName\":\"carol@contoso.com\"}"`}},
		}
		if !reflect.DeepEqual(have, want) {
			t.Errorf("got  %+v\nwant %+v", have, want)
		}
		if h := parts[1].Requests[0].Header; h.Get("If-Match") != `"2"` {
			t.Errorf("IF-Match lost: %v", h)
		}
	}
}

func TestParseAcceptsQuotedAndUnquotedBoundaries(t *testing.T) {
	body := "--b.1\nContent-Type: multipart/mixed; BOUNDARY=cs\n\n--cs\nContent-Type: application/http\n\nPOST /x HTTP/1.1\n\n--cs--\n--b.1\nContent-Type: Application/HTTP\n\nGET /y HTTP/1.1\n--b.1--\n"
	for _, ct := range []string{
		`multipart/mixed; boundary="b.1"`,
		`multipart/mixed; boundary=b.1`,
		`Multipart/Mixed;boundary=b.1`,
		`multipart/mixed; charset=utf-8; boundary="b.1"`,
	} {
		parts := mustParse(t, ct, body, Limits{})
		if len(parts) != 2 || parts[0].Err != nil || parts[1].Err != nil || parts[0].Requests[0].URL != "/x" || parts[1].Requests[0].URL != "/y" {
			t.Errorf("%s: %+v", ct, parts)
		}
	}
}

func TestParseToleratesSloppyButReadableInput(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		check      func(*testing.T, Request)
	}{
		{"transport padding after delimiters and trailing whitespace on lines",
			"--b \t\nContent-Type: application/http  \n\nGET  /x   HTTP/1.1  \nAccept:   application/json \t\n\n--b--  \n",
			func(t *testing.T, r Request) {
				if r.Method != "GET" || r.URL != "/x" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("%+v", r)
				}
			}},
		{"a part without Content-Type is application/http",
			"--b\n\nGET /x HTTP/1.1\n--b--\n",
			func(t *testing.T, r Request) {
				if r.URL != "/x" {
					t.Errorf("%+v", r)
				}
			}},
		{"a blank line before the request line",
			"--b\nContent-Type: application/http\n\n\nGET /x HTTP/1.1\n--b--\n",
			func(t *testing.T, r Request) {
				if r.URL != "/x" {
					t.Errorf("%+v", r)
				}
			}},
		{"no HTTP version",
			"--b\nContent-Type: application/http\n\nDELETE /x\n--b--\n",
			func(t *testing.T, r Request) {
				if r.Method != "DELETE" || r.URL != "/x" {
					t.Errorf("%+v", r)
				}
			}},
		{"folded header",
			"--b\nContent-Type: application/http\n\nGET /x HTTP/1.1\nX-Long: one\n  two\n\n--b--\n",
			func(t *testing.T, r Request) {
				if r.Header.Get("X-Long") != "one two" {
					t.Errorf("%q", r.Header.Get("X-Long"))
				}
			}},
		{"an inner Content-Length drops padding line breaks",
			"--b\nContent-Type: application/http\n\nPOST /x HTTP/1.1\nContent-Length: 5\n\nhello\n\n\n--b--\n",
			func(t *testing.T, r Request) {
				if string(r.Body) != "hello" {
					t.Errorf("%q", r.Body)
				}
			}},
		{"an inner Content-Length that disagrees otherwise is ignored",
			"--b\nContent-Type: application/http\n\nPOST /x HTTP/1.1\nContent-Length: 2\n\nhello\n--b--\n",
			func(t *testing.T, r Request) {
				if string(r.Body) != "hello" {
					t.Errorf("%q", r.Body)
				}
			}},
		{"lines that only look like delimiters are body",
			"--b\nContent-Type: application/http\n\nPOST /x HTTP/1.1\n\n--bx\n --b\nx--b\n--b--x\n--b--\n",
			func(t *testing.T, r Request) {
				if string(r.Body) != "--bx\n --b\nx--b\n--b--x" {
					t.Errorf("%q", r.Body)
				}
			}},
		{"binary body kept byte for byte",
			"--b\nContent-Type: application/http\nContent-Transfer-Encoding: 8bit\n\nPOST /x HTTP/1.1\n\n\x00\xff\r\n\r\n--b--",
			func(t *testing.T, r Request) {
				if string(r.Body) != "\x00\xff\r\n" {
					t.Errorf("%q", r.Body)
				}
			}},
		{"a GET inside a changeset",
			"--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: application/http\n\nGET /x HTTP/1.1\n--c--\n--b--\n",
			func(t *testing.T, r Request) {
				if r.Method != "GET" {
					t.Errorf("%+v", r)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := mustParse(t, "multipart/mixed; boundary=b", tc.body, Limits{})
			if len(parts) != 1 || parts[0].Err != nil || len(parts[0].Requests) != 1 {
				t.Fatalf("%+v", parts)
			}
			tc.check(t, parts[0].Requests[0])
		})
	}
}

func TestParseAnswersAnEmptyBatchWithNoParts(t *testing.T) {
	parts := mustParse(t, "multipart/mixed; boundary=b", "--b--\n", Limits{})
	if len(parts) != 0 {
		t.Fatalf("%+v", parts)
	}
}

// Each malformed part sits between two good GETs, which must come through.
func TestParseIsolatesAMalformedPart(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name, part string
		want       error
		owed       int
		changeset  bool
	}{
		{"request line without target", "Content-Type: application/http\n\nGARBAGE\n", ErrBadRequestLine, 1, false},
		{"invalid method", "Content-Type: application/http\n\nGE(T /x HTTP/1.1\n", ErrBadRequestLine, 1, false},
		{"relative target", "Content-Type: application/http\n\nGET web/lists HTTP/1.1\n", ErrBadRequestLine, 1, false},
		{"ftp target", "Content-Type: application/http\n\nGET ftp://host/x HTTP/1.1\n", ErrBadRequestLine, 1, false},
		{"absolute URL without host", "Content-Type: application/http\n\nGET http:///x HTTP/1.1\n", ErrBadRequestLine, 1, false},
		{"bad HTTP version", "Content-Type: application/http\n\nGET /x HTTP/one\n", ErrBadRequestLine, 1, false},
		{"empty part", "Content-Type: application/http\n\n", ErrBadRequestLine, 1, false},
		{"MIME headers and no content", "Content-Type: application/http", ErrUnsupportedPart, 1, false},
		{"inner header without colon", "Content-Type: application/http\n\nGET /x HTTP/1.1\nnocolon\n\n", ErrBadHeader, 1, false},
		{"inner header with a space in its name", "Content-Type: application/http\n\nGET /x HTTP/1.1\nbad name: v\n\n", ErrBadHeader, 1, false},
		{"continuation first", "Content-Type: application/http\n\nGET /x HTTP/1.1\n  folded\n\n", ErrBadHeader, 1, false},
		{"MIME header section too long", "Content-Type: application/http\nX-Pad: " + long + "\n\nGET /x HTTP/1.1\n", ErrHeaderTooLong, 1, false},
		{"inner header section too long", "Content-Type: application/http\n\nGET /x HTTP/1.1\nX-Pad: " + long + "\n\n", ErrHeaderTooLong, 1, false},
		{"request line too long", "Content-Type: application/http\n\nGET /" + long + " HTTP/1.1\n", ErrHeaderTooLong, 1, false},
		{"unknown part type", "Content-Type: text/plain\n\nhello\n", ErrUnsupportedPart, 1, false},
		{"unreadable part type", "Content-Type: ;;;\n\nhello\n", ErrUnsupportedPart, 1, false},
		{"base64 transfer encoding", "Content-Type: application/http\nContent-Transfer-Encoding: base64\n\nR0VUIC94\n", ErrUnsupportedPart, 1, false},
		{"chunked inner body", "Content-Type: application/http\n\nPOST /x HTTP/1.1\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n", ErrUnsupportedPart, 1, false},
		{"changeset without boundary", "Content-Type: multipart/mixed\n\n--c\n\nGET /x\n--c--\n", ErrBadChangeset, 1, true},
		{"changeset without closing delimiter", "Content-Type: multipart/mixed; boundary=c\n\n--c\n\nPOST /x\n--c\n\nPOST /y\n", ErrBadChangeset, 2, true},
		{"changeset without any delimiter", "Content-Type: multipart/mixed; boundary=c\n\nPOST /x\n", ErrBadChangeset, 1, true},
		{"nested changeset, counted per inner part",
			"Content-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: application/http\n\nPOST /x\n--c\nContent-Type: multipart/mixed; boundary=d\n\n--d\n\nPOST /y\n--d--\n--c\n\nPOST /z\n--c--\n",
			ErrNestedChangeset, 3, true},
		{"bad request in a changeset fails all of it",
			"Content-Type: multipart/mixed; boundary=c\n\n--c\n\nPOST /x\n--c\n\nPOST nope\n--c--\n",
			ErrBadRequestLine, 2, true},
		{"unknown part type in a changeset", "Content-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\n\nhi\n--c--\n", ErrUnsupportedPart, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "--b\n\nGET /before HTTP/1.1\n--b\n" + tc.part + "\n--b\n\nGET /after HTTP/1.1\n--b--\n"
			for _, body := range []string{body, crlf(body)} {
				parts := mustParse(t, "multipart/mixed; boundary=b", body, Limits{MaxHeaderBytes: 128})
				if len(parts) != 3 {
					t.Fatalf("%d parts: %+v", len(parts), parts)
				}
				for i, url := range map[int]string{0: "/before", 2: "/after"} {
					if p := parts[i]; p.Err != nil || len(p.Requests) != 1 || p.Requests[0].URL != url {
						t.Errorf("part %d damaged: %+v", i+1, p)
					}
				}
				bad := parts[1]
				var pe *PartError
				if !errors.Is(bad.Err, tc.want) || !errors.As(bad.Err, &pe) || pe.Part != 2 {
					t.Fatalf("part 2 error %v, want %v in a *PartError for part 2", bad.Err, tc.want)
				}
				if bad.Requests != nil || bad.ResponseCount() != tc.owed || bad.Changeset != tc.changeset {
					t.Errorf("part 2: requests %v, owes %d answers (want %d), changeset %v", bad.Requests, bad.ResponseCount(), tc.owed, bad.Changeset)
				}
				if !strings.HasPrefix(bad.Err.Error(), "$batch part 2") {
					t.Errorf("message %q does not name the part", bad.Err)
				}
			}
		})
	}
}

func TestPartErrorsNeverQuoteHeadersOrQueries(t *testing.T) {
	for _, part := range []string{
		"GET /x HTTP/1.1\nAuthorization: Bearer secret-token\nbad header line secret-token\n\n",
		"GET /x HTTP/1.1\nAuthorization=Bearer secret-token: x\n\n",
		"GET /x?access_token=secret-token HTTP/one\n",
		"GET x?access_token=secret-token HTTP/1.1\n",
	} {
		parts := mustParse(t, "multipart/mixed; boundary=b", "--b\n\n"+part+"--b--\n", Limits{})
		if parts[0].Err == nil || strings.Contains(parts[0].Err.Error(), "secret") {
			t.Errorf("%q: error %v", part, parts[0].Err)
		}
	}
	_, err := Request{Method: "GET", URL: "ftp://h/x?access_token=secret-token"}.HTTPRequest(context.Background())
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("HTTPRequest: %v", err)
	}
}

func TestParseRefusesTheWholeBatch(t *testing.T) {
	readErr := errors.New("connection reset")
	for _, tc := range []struct {
		name, contentType string
		body              io.Reader
		lim               Limits
		want              error
	}{
		{"JSON content type", "application/json", strings.NewReader("{}"), Limits{}, ErrNotMultipart},
		{"no content type", "", strings.NewReader(""), Limits{}, ErrNotMultipart},
		{"multipart/form-data", "multipart/form-data; boundary=b", strings.NewReader("--b--\n"), Limits{}, ErrNotMultipart},
		{"no boundary", "multipart/mixed", strings.NewReader("--b--\n"), Limits{}, ErrNoBoundary},
		{"empty boundary", `multipart/mixed; boundary=""`, strings.NewReader("----\n"), Limits{}, ErrNoBoundary},
		{"boundary too long", "multipart/mixed; boundary=" + strings.Repeat("b", 201), strings.NewReader(""), Limits{}, ErrNoBoundary},
		{"no delimiter", "multipart/mixed; boundary=b", strings.NewReader("GET /x HTTP/1.1\n"), Limits{}, ErrMalformedBatch},
		{"truncated: no closing delimiter", "multipart/mixed; boundary=b", strings.NewReader("--b\n\nPOST /x HTTP/1.1\n\n{}\n"), Limits{}, ErrMalformedBatch},
		{"over the size limit", "multipart/mixed; boundary=b", strings.NewReader("--b\n\nGET /x\n--b--\n"), Limits{MaxBytes: 17}, ErrTooLarge},
		{"over the request limit", "multipart/mixed; boundary=b", strings.NewReader(strings.Repeat("--b\n\nGET /x\n", 4) + "--b--\n"), Limits{MaxRequests: 3}, ErrTooManyRequests},
		{"over the request limit inside a changeset", "multipart/mixed; boundary=b",
			strings.NewReader("--b\n\nGET /x\n--b\nContent-Type: multipart/mixed; boundary=c\n\n" + strings.Repeat("--c\n\nPOST /x\n", 3) + "--c--\n--b--\n"), Limits{MaxRequests: 3}, ErrTooManyRequests},
		{"malformed parts count against the limit", "multipart/mixed; boundary=b", strings.NewReader(strings.Repeat("--b\nContent-Type: text/plain\n\nx\n", 4) + "--b--\n"), Limits{MaxRequests: 3}, ErrTooManyRequests},
		{"the reader's error", "multipart/mixed; boundary=b", iotest.ErrReader(readErr), Limits{}, readErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Parse(tc.contentType, tc.body, tc.lim)
			if !errors.Is(err, tc.want) || parts != nil {
				t.Fatalf("Parse = %v, %v; want %v", parts, err, tc.want)
			}
		})
	}
}

func TestParseAcceptsExactlyTheLimits(t *testing.T) {
	body := "--b\n\nGET /x\n--b--\n"
	if _, err := Parse("multipart/mixed; boundary=b", strings.NewReader(body), Limits{MaxBytes: int64(len(body))}); err != nil {
		t.Errorf("a body of exactly MaxBytes: %v", err)
	}
	three := strings.Repeat("--b\n\nGET /x\n", 1) + "--b\nContent-Type: multipart/mixed; boundary=c\n\n" + strings.Repeat("--c\n\nPOST /x\n", 2) + "--c--\n--b--\n"
	if parts, err := Parse("multipart/mixed; boundary=b", strings.NewReader(three), Limits{MaxRequests: 3}); err != nil || len(parts) != 2 {
		t.Errorf("exactly MaxRequests: %v %v", parts, err)
	}
	// A header section of exactly MaxHeaderBytes, line breaks included.
	hdr := "Content-Type: application/http\n\n" // 32 bytes
	if parts := mustParse(t, "multipart/mixed; boundary=b", "--b\n"+hdr+"GET /x\n--b--\n", Limits{MaxHeaderBytes: len(hdr)}); parts[0].Err != nil {
		t.Errorf("a section of exactly MaxHeaderBytes: %v", parts[0].Err)
	}
	if parts := mustParse(t, "multipart/mixed; boundary=b", "--b\n"+hdr+"GET /x\n--b--\n", Limits{MaxHeaderBytes: len(hdr) - 1}); !errors.Is(parts[0].Err, ErrHeaderTooLong) {
		t.Errorf("one byte over MaxHeaderBytes: %v", parts[0].Err)
	}
}

// Parse's allocations stay linear in its input however the input is
// shaped: many tiny parts, one endless header line, endless header lines,
// many tiny changeset parts.
func TestParseAllocatesInProportionToItsInput(t *testing.T) {
	const size = 1 << 20
	for _, tc := range []struct {
		name string
		body string
	}{
		{"many empty parts", strings.Repeat("--b\n", size/4)},
		{"one endless header line", "--b\nX-A: " + strings.Repeat("a", size) + "\n\nGET /x\n--b--\n"},
		{"endless header lines", "--b\n\nGET /x\n" + strings.Repeat("a:b\n", size/4) + "\n--b--\n"},
		{"many tiny changeset parts", "--b\nContent-Type: multipart/mixed; boundary=c\n\n" + strings.Repeat("--c\n\nPOST /\n", size/12) + "--c--\n--b--\n"},
		{"many bad parts", strings.Repeat("--b\nContent-Type: x/y\n\n", size/22) + "--b--\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			Parse("multipart/mixed; boundary=b", strings.NewReader(tc.body), Limits{})
			runtime.ReadMemStats(&after)
			got, bound := after.TotalAlloc-before.TotalAlloc, uint64(6*len(tc.body)+(2<<20))
			t.Logf("%d bytes allocated for %d of input", got, len(tc.body))
			if got > bound {
				t.Errorf("allocated %d bytes for %d of input (bound %d)", got, len(tc.body), bound)
			}
		})
	}
}

// A 100-request batch shaped as PnPjs builds them: GETs and changesets of
// ten writes, alternating.
func hundredRequestBatch() (contentType string, body []byte) {
	var b bytes.Buffer
	item := "http://127.0.0.1:8765/sites/dev/_api/web/lists/getByTitle('Tasks')/items"
	for i := 0; i < 5; i++ {
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "--batch_bench\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nGET %s(%d)?%%24select=Id%%2CTitle HTTP/1.1\naccept: application/json\ncontent-type: application/json;charset=utf-8\n\n", item, i*10+j)
		}
		fmt.Fprintf(&b, "--batch_bench\nContent-Type: multipart/mixed; boundary=\"changeset_%d\"\n\n", i)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "--changeset_%d\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nPOST %s HTTP/1.1\naccept: application/json\ncontent-type: application/json;charset=utf-8\n\n{\"Title\":\"Task %d\",\"Priority\":%d}\n\n", i, item, j, j)
		}
		fmt.Fprintf(&b, "--changeset_%d--\n\n", i)
	}
	b.WriteString("--batch_bench--\n")
	return "multipart/mixed; boundary=batch_bench", b.Bytes()
}

func TestHundredRequestBatchParses(t *testing.T) {
	ct, body := hundredRequestBatch()
	parts, err := Parse(ct, bytes.NewReader(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range parts {
		if p.Err != nil {
			t.Fatal(p.Err)
		}
		n += p.ResponseCount()
	}
	if len(parts) != 55 || n != 100 {
		t.Fatalf("%d parts, %d requests", len(parts), n)
	}
}

func BenchmarkParse100Requests(b *testing.B) {
	ct, body := hundredRequestBatch()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(ct, bytes.NewReader(body), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
