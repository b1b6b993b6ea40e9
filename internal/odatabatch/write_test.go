package odatabatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sample answers as the REST layer gives them for PnPjs's batch: two
// creates, a read, a MERGE, a DELETE and a refusal.
func sampleResponses() []Response {
	jsonLight := "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
	return []Response{
		{Status: 201, Header: http.Header{"Etag": {`"1"`}, "Location": {"http://127.0.0.1:8765/sites/dev/_api/Web/Lists(guid'4f71086b')/Items(1)"}, "Content-Type": {jsonLight}},
			Body: []byte(`{"odata.metadata":"http://127.0.0.1:8765/sites/dev/_api/$metadata#SP.ListData.TasksListItems/@Element","Id":1,"Title":"b1"}`)},
		{Status: 201, Header: http.Header{"Etag": {`"1"`}, "Content-Type": {jsonLight}}, Body: []byte(`{"Id":2,"Title":"b2"}`)},
		{Status: 200, Header: http.Header{"Content-Type": {jsonLight}}, Body: []byte("{\"value\":[\n{\"Id\":1},\n{\"Id\":2}]}")},
		{Status: 204, Header: http.Header{"Etag": {`"2"`}}},
		{Status: 200},
		ErrorResponse(400, jsonLight, []byte(`{"odata.error":{"code":"-1, Microsoft.SharePoint.Client.InvalidClientQueryException","message":{"lang":"en-US","value":"$batch part 3: bad request line"}}}`)),
	}
}

func writeString(t *testing.T, boundary string, rs []Response) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, boundary, rs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteIsReadByGoMultipart(t *testing.T) {
	boundary := NewBoundary()
	want := sampleResponses()
	out := writeString(t, boundary, want)

	mt, params, err := mime.ParseMediaType(ContentType(boundary))
	if err != nil || mt != "multipart/mixed" || params["boundary"] != boundary {
		t.Fatalf("ContentType %q: %s %v %v", ContentType(boundary), mt, params, err)
	}
	mr := multipart.NewReader(strings.NewReader(out), params["boundary"])
	for i, w := range want {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		if part.Header.Get("Content-Type") != "application/http" || part.Header.Get("Content-Transfer-Encoding") != "binary" {
			t.Errorf("part %d headers %v", i+1, part.Header)
		}
		resp, err := http.ReadResponse(bufio.NewReader(part), nil)
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("part %d body: %v", i+1, err)
		}
		if resp.StatusCode != statusOf(w) || resp.Proto != "HTTP/1.1" || !bytes.Equal(body, w.Body) {
			t.Errorf("part %d: %s, body %q; want %d, %q", i+1, resp.Status, body, w.Status, w.Body)
		}
		for k := range w.Header {
			if resp.Header.Get(k) != w.Header.Get(k) {
				t.Errorf("part %d header %s = %q, want %q", i+1, k, resp.Header.Get(k), w.Header.Get(k))
			}
		}
		if cl := resp.Header.Get("Content-Length"); bodyAllowed(resp.StatusCode) && cl != strconv.Itoa(len(w.Body)) {
			t.Errorf("part %d Content-Length %q", i+1, cl)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after the last answer: %v", err)
	}
}

// pnpjsAnswer is one answer as PnPjs 4's batch parser would see it.
type pnpjsAnswer struct {
	status     int
	statusText string
	headers    map[string]string
	body       string // lines joined without separators, as PnPjs does
}

// readAsPnPjs checks body against the constraints PnPjs's parser puts on
// a batch answer (research §3.2; packages/sp/batching.ts), with an error
// where PnPjs would throw, and returns what it would hand back. It is
// written from those constraints, line by line on "\n" as PnPjs splits:
// nothing but blank lines before a delimiter; delimiters start with
// "--batchresponse_"; a part's MIME headers end at a blank line and the
// very next line is the status line, "HTTP/x <code> <text>"; header lines
// are kept only when ":" splits them in exactly two; the body runs to the
// next delimiter line; and after the closing delimiter there is exactly
// one line break and nothing more.
func readAsPnPjs(body string) ([]pnpjsAnswer, error) {
	const prefix = "--batchresponse_"
	// JavaScript's "." stops at \r, so the status text never holds one.
	status := regexp.MustCompile(`(?i)^HTTP/[0-9.]+ +([0-9]+) +([^\r\n]*)`)
	lines := strings.Split(body, "\n")
	last := len(lines) - 2 // the closing delimiter's line
	if last < 0 || lines[last+1] != "" || !strings.HasPrefix(lines[last], prefix) || !strings.HasSuffix(strings.TrimRight(lines[last], "\r"), "--") {
		return nil, fmt.Errorf("the answer does not end in the closing delimiter and one line break: %q", body[max(0, len(body)-80):])
	}
	var answers []pnpjsAnswer
	i := 0
	more := func() error {
		if i >= last {
			return fmt.Errorf("line %d: unexpected end of input", i)
		}
		return nil
	}
	for {
		for i < last && strings.TrimSpace(lines[i]) == "" {
			i++
		}
		if !strings.HasPrefix(lines[i], prefix) {
			return nil, fmt.Errorf("line %d: %q is not a --batchresponse_ delimiter", i, lines[i])
		}
		if i == last {
			return answers, nil
		}
		for i++; i < last && strings.TrimSpace(lines[i]) != ""; i++ {
		}
		i++
		if err := more(); err != nil {
			return nil, err
		}
		m := status.FindStringSubmatch(lines[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: %q is not a status line", i, lines[i])
		}
		code, _ := strconv.Atoi(m[1])
		a := pnpjsAnswer{status: code, statusText: m[2], headers: map[string]string{}}
		for i++; i < last && strings.TrimSpace(lines[i]) != ""; i++ {
			if kv := strings.Split(lines[i], ":"); len(kv) == 2 {
				a.headers[strings.ToLower(strings.TrimSpace(kv[0]))] = strings.TrimSpace(kv[1])
			}
		}
		var b strings.Builder
		for i++; i < last && !strings.HasPrefix(lines[i], prefix); i++ {
			b.WriteString(lines[i])
		}
		a.body = b.String()
		answers = append(answers, a)
	}
}

func TestWriteIsReadByPnPjs(t *testing.T) {
	boundary := NewBoundary()
	want := sampleResponses()
	out := writeString(t, boundary, want)
	if !strings.HasPrefix(out, "--batchresponse_") {
		t.Fatalf("the answer starts with %q", out[:20])
	}
	got, err := readAsPnPjs(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("PnPjs would see %d answers for %d requests and reject the batch", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.status != statusOf(w) || g.statusText != http.StatusText(statusOf(w)) {
			t.Errorf("answer %d: %d %q", i+1, g.status, g.statusText)
		}
		for _, k := range []string{"Etag", "Content-Type"} {
			if v := w.Header.Get(k); v != "" && g.headers[strings.ToLower(k)] != v {
				t.Errorf("answer %d: PnPjs reads %s %q, want %q", i+1, k, g.headers[strings.ToLower(k)], v)
			}
		}
		switch {
		case g.status == 204:
			// PnPjs gives a 204 a null body.
		case len(w.Body) == 0:
			if strings.TrimSpace(g.body) != "" {
				t.Errorf("answer %d: empty body reads as %q", i+1, g.body)
			}
		default:
			// PnPjs drops the line breaks and JSON.parse skips the CR
			// each line keeps.
			if !json.Valid([]byte(g.body)) || strings.TrimSpace(strings.ReplaceAll(g.body, "\r", "")) != strings.ReplaceAll(string(w.Body), "\n", "") {
				t.Errorf("answer %d: PnPjs reads body %q", i+1, g.body)
			}
		}
	}
}

// The checker itself must refuse what PnPjs refuses, or the test above
// proves nothing.
func TestReadAsPnPjsRefusesWhatPnPjsRefuses(t *testing.T) {
	good := writeString(t, "batchresponse_x", []Response{{Status: 200, Body: []byte("{}")}})
	for name, body := range map[string]string{
		"preamble":                   "hello\r\n" + good,
		"two line breaks at the end": good + "\r\n",
		"no line break at the end":   strings.TrimSuffix(good, "\r\n"),
		"another boundary prefix":    strings.ReplaceAll(good, "batchresponse_", "batch_"),
		"blank line before status":   strings.Replace(good, "HTTP/1.1", "\r\nHTTP/1.1", 1),
	} {
		if _, err := readAsPnPjs(body); err == nil {
			t.Errorf("%s: accepted %q", name, body)
		}
	}
	if _, err := readAsPnPjs(good); err != nil {
		t.Errorf("refused a good answer: %v", err)
	}
}

func TestWriteFramesEachAnswer(t *testing.T) {
	out := writeString(t, "batchresponse_1", []Response{
		{Status: 204, Header: http.Header{"Etag": {`"2"`}}, Body: []byte("dropped")},
		{Header: http.Header{"X-Bad": {"a\r\nInjected: yes"}, "Transfer-Encoding": {"chunked"}, "Connection": {"close"}, "Content-Length": {"999"}, "Bad Name": {"x"}}, Body: []byte("hi"), ContentID: "7"},
		{Status: 599},
	})
	want := "--batchresponse_1\r\n" +
		"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\nEtag: \"2\"\r\n\r\n\r\n" +
		"--batchresponse_1\r\n" +
		"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 7\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nX-Bad: a  Injected: yes\r\nContent-Length: 2\r\n\r\nhi\r\n" +
		"--batchresponse_1\r\n" +
		"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 599 status code 599\r\nContent-Length: 0\r\n\r\n\r\n" +
		"--batchresponse_1--\r\n"
	if out != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
	if got := writeString(t, "batchresponse_1", nil); got != "--batchresponse_1--\r\n" {
		t.Errorf("no answers: %q", got)
	}
}

func TestWriteRefusesBeforeWritingAnything(t *testing.T) {
	for name, tc := range map[string]struct {
		boundary string
		rs       []Response
	}{
		"boundary without the batchresponse_ prefix": {"batch_1", nil},
		"boundary with a space":                      {"batchresponse_ 1", nil},
		"status below 100":                           {"batchresponse_1", []Response{{Status: 200}, {Status: 42}}},
		"status above 999":                           {"batchresponse_1", []Response{{Status: 1000}}},
		"body holding the delimiter":                 {"batchresponse_1", []Response{{Status: 200}, {Status: 200, Body: []byte("x\r\n--batchresponse_1\r\n")}}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tc.boundary, tc.rs); err == nil || b.Len() != 0 {
				t.Errorf("err %v, wrote %q", err, b.String())
			}
		})
	}
	// A 204 never carries its body, so the delimiter in it is harmless.
	if err := Write(io.Discard, "batchresponse_1", []Response{{Status: 204, Body: []byte("--batchresponse_1")}}); err != nil {
		t.Error(err)
	}
}

func TestNewBoundaryIsAFreshGUID(t *testing.T) {
	guid := regexp.MustCompile(`^batchresponse_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		b := NewBoundary()
		if !guid.MatchString(b) || seen[b] {
			t.Fatalf("%q (seen before: %v)", b, seen[b])
		}
		seen[b] = true
	}
}
