package odatabatch

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHTTPRequestKeepsTheEscapingAsSent(t *testing.T) {
	for _, tc := range []struct {
		name, target           string
		host, escapedPath, uri string
		path, query            string
	}{
		{"%2F in a decodedUrl literal",
			"http://127.0.0.1:8765/sites/dev/_api/web/getFileByServerRelativePath(decodedUrl='%2Fsites%2Fdev%2FShared%20Documents%2Fhello.txt')/$value",
			"127.0.0.1:8765",
			"/sites/dev/_api/web/getFileByServerRelativePath(decodedUrl='%2Fsites%2Fdev%2FShared%20Documents%2Fhello.txt')/$value",
			"/sites/dev/_api/web/getFileByServerRelativePath(decodedUrl='%2Fsites%2Fdev%2FShared%20Documents%2Fhello.txt')/$value",
			"/sites/dev/_api/web/getFileByServerRelativePath(decodedUrl='/sites/dev/Shared Documents/hello.txt')/$value", ""},
		{"%27 quotes and %28 parentheses",
			"https://cesivi.example.com/sites/dev/_api/web/lists/getByTitle(%27Bob%27%27s%20List%27)/items?%24filter=Title+eq+%27a%27",
			"cesivi.example.com",
			"/sites/dev/_api/web/lists/getByTitle(%27Bob%27%27s%20List%27)/items",
			"/sites/dev/_api/web/lists/getByTitle(%27Bob%27%27s%20List%27)/items?%24filter=Title+eq+%27a%27",
			"/sites/dev/_api/web/lists/getByTitle('Bob''s List')/items", "%24filter=Title+eq+%27a%27"},
		{"raw quotes and parentheses",
			"/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1)",
			"",
			"/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1)",
			"/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1)",
			"/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1)", ""},
		{"%24value and an empty query",
			"/sites/dev/_api/web/getFileByServerRelativeUrl('%2Fa')/%24value?",
			"",
			"/sites/dev/_api/web/getFileByServerRelativeUrl('%2Fa')/%24value",
			"/sites/dev/_api/web/getFileByServerRelativeUrl('%2Fa')/%24value?",
			"/sites/dev/_api/web/getFileByServerRelativeUrl('/a')/$value", ""},
		{"an absolute URL without a path",
			"HTTP://Host:80?x=1", "Host:80", "/", "/?x=1", "/", "x=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "--b\n\nGET " + tc.target + " HTTP/1.1\n--b--\n"
			parts := mustParse(t, "multipart/mixed; boundary=b", body, Limits{})
			if parts[0].Err != nil {
				t.Fatal(parts[0].Err)
			}
			r := parts[0].Requests[0]
			if r.URL != tc.target {
				t.Errorf("URL %q, want it as written", r.URL)
			}
			req, err := r.HTTPRequest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if req.Host != tc.host || req.URL.EscapedPath() != tc.escapedPath || req.RequestURI != tc.uri || req.URL.Path != tc.path || req.URL.RawQuery != tc.query {
				t.Errorf("host %q, EscapedPath %q, RequestURI %q, Path %q, RawQuery %q", req.Host, req.URL.EscapedPath(), req.RequestURI, req.URL.Path, req.URL.RawQuery)
			}
		})
	}
}

func TestHTTPRequestIsWhatAServerHandlerExpects(t *testing.T) {
	ctx := context.WithValue(context.Background(), struct{}{}, "outer")
	r := Request{
		Method: "MERGE",
		URL:    "/sites/dev/_api/web/lists/getByTitle('Tasks')/items(1)",
		Header: http.Header{"Host": {"inner.example"}, "If-Match": {`"2"`}, "Content-Length": {"99"}},
		Body:   []byte(`{"Title":"x"}`),
	}
	req, err := r.HTTPRequest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if req.Context() != ctx || req.Method != "MERGE" || req.Proto != "HTTP/1.1" || !req.ProtoAtLeast(1, 1) {
		t.Errorf("method %q proto %q", req.Method, req.Proto)
	}
	if req.Host != "inner.example" || req.Header.Get("Host") != "" || req.Header.Get("Content-Length") != "" || req.Header.Get("If-Match") != `"2"` {
		t.Errorf("host %q, header %v", req.Host, req.Header)
	}
	if r.Header.Get("Content-Length") != "99" {
		t.Error("HTTPRequest changed the Request's own header")
	}
	if req.ContentLength != 13 {
		t.Errorf("ContentLength %d", req.ContentLength)
	}
	for range 2 { // the body, and GetBody's copy for a second read
		b, _ := io.ReadAll(req.Body)
		if string(b) != `{"Title":"x"}` {
			t.Errorf("body %q", b)
		}
		req.Body, _ = req.GetBody()
	}

	empty, err := Request{Method: "GET", URL: "/x"}.HTTPRequest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Body != http.NoBody || empty.ContentLength != 0 || empty.Host != "" || empty.Header == nil {
		t.Errorf("bodiless request: body %v, length %d, host %q", empty.Body, empty.ContentLength, empty.Host)
	}
}

func TestHTTPRequestRefusesWhatParseWouldHave(t *testing.T) {
	for _, r := range []Request{
		{Method: "", URL: "/x"},
		{Method: "G T", URL: "/x"},
		{Method: "GET", URL: ""},
		{Method: "GET", URL: "x"},
		{Method: "GET", URL: "mailto:a@b"},
		{Method: "GET", URL: "/x\r\nHost: evil"},
	} {
		if _, err := r.HTTPRequest(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "odatabatch: ") {
			t.Errorf("%q %q: %v", r.Method, r.URL, err)
		}
	}
	var noContext context.Context
	if _, err := (Request{Method: "GET", URL: "/x"}).HTTPRequest(noContext); err == nil {
		t.Error("a nil context was accepted")
	}
}
