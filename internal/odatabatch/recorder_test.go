package odatabatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func record(t *testing.T, maxBody int, h http.HandlerFunc) (Response, error) {
	t.Helper()
	rec := NewResponseRecorder(maxBody)
	req, err := Request{Method: "GET", URL: "/x"}.HTTPRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h(rec, req)
	return rec.Result()
}

func TestResponseRecorderBehavesAsNetHTTPsWriter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		status  int
		header  map[string]string
		body    string
	}{
		{"nothing written is 200 with no body", func(w http.ResponseWriter, r *http.Request) {}, 200, nil, ""},
		{"Write alone is 200 and sniffs the Content-Type", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>hi")
		}, 200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, "<html>hi"},
		{"http.Error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nope", http.StatusNotFound)
		}, 404, map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}, "nope\n"},
		{"headers set after WriteHeader are not sent", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", `"2"`)
			w.WriteHeader(http.StatusNoContent)
			w.Header().Set("X-Late", "1")
		}, 204, map[string]string{"Etag": `"2"`, "X-Late": ""}, ""},
		{"headers set after the first Write are not sent", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{}")
			w.Header().Set("X-Late", "1")
			w.WriteHeader(500)
		}, 200, map[string]string{"Content-Type": "application/json", "X-Late": ""}, "{}"},
		{"1xx is skipped, a second WriteHeader ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusContinue)
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "a")
			io.WriteString(w, "b")
		}, 201, nil, "ab"},
		{"Flush through http.ResponseController", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "x")
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
		}, 200, nil, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := record(t, 0, tc.handler)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.status || string(got.Body) != tc.body {
				t.Errorf("%d %q, want %d %q", got.Status, got.Body, tc.status, tc.body)
			}
			for k, v := range tc.header {
				if got.Header.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Header.Get(k), v)
				}
			}
		})
	}
}

func TestResponseRecorderRefusesABodyWhereNoneIsAllowed(t *testing.T) {
	for _, code := range []int{http.StatusNoContent, http.StatusNotModified} {
		var werr error
		got, err := record(t, 0, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			_, werr = io.WriteString(w, "x")
		})
		if !errors.Is(werr, http.ErrBodyNotAllowed) || err != nil || got.Body != nil {
			t.Errorf("%d: Write error %v, result %v %q", code, werr, err, got.Body)
		}
	}
}

func TestResponseRecorderStopsAtItsLimit(t *testing.T) {
	var werr error
	var n int
	got, err := record(t, 5, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "abc")
		n, werr = io.WriteString(w, "defg")
	})
	if !errors.Is(err, ErrResponseTooLarge) || !errors.Is(werr, ErrResponseTooLarge) || n != 2 || string(got.Body) != "abcde" {
		t.Errorf("result %v, write %d %v, body %q", err, n, werr, got.Body)
	}
	if _, err := record(t, 5, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "abcde") }); err != nil {
		t.Errorf("a body of exactly the limit: %v", err)
	}
}

func TestResponseRecorderPanicsOnAnInvalidCode(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("WriteHeader(42) did not panic")
		}
	}()
	NewResponseRecorder(0).WriteHeader(42)
}

// The whole path the REST layer takes: parse PnPjs's batch, serve each
// inner request through an ordinary handler, write the flat answer, and
// read it back as PnPjs and as Go's multipart reader would.
func TestPnPjsBatchRoundTripsThroughAHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/sites/dev/_api/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
		if r.Method == "POST" {
			w.Header().Set("ETag", `"1"`)
			w.WriteHeader(http.StatusCreated)
		}
		fmt.Fprintf(w, `{"method":%q,"path":%q,"host":%q,"body":%q}`, r.Method, r.URL.EscapedPath(), r.Host, strings.TrimSpace(string(body)))
	})
	parts := mustParse(t, pnpjsContentType, readPnPjs(t), Limits{})
	var answers []Response
	for _, p := range parts {
		if p.Err != nil {
			t.Fatal(p.Err)
		}
		for _, r := range p.Requests {
			req, err := r.HTTPRequest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rec := NewResponseRecorder(1 << 20)
			mux.ServeHTTP(rec, req)
			resp, err := rec.Result()
			if err != nil {
				t.Fatal(err)
			}
			answers = append(answers, resp)
		}
	}
	boundary := NewBoundary()
	out := writeString(t, boundary, answers)
	got, err := readAsPnPjs(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status int
		body   string
	}{
		{201, `{"method":"POST","path":"/sites/dev/_api/web/lists/getByTitle('Tasks')/items","host":"127.0.0.1:8765","body":"{\"Title\":\"b1\"}"}`},
		{201, `{"method":"POST","path":"/sites/dev/_api/web/lists/getByTitle('Tasks')/items","host":"127.0.0.1:8765","body":"{\"Title\":\"b2\"}"}`},
		{200, `{"method":"GET","path":"/sites/dev/_api/web/lists/getByTitle('Tasks')/items","host":"127.0.0.1:8765","body":""}`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d answers", len(got))
	}
	for i, w := range want {
		if got[i].status != w.status || strings.TrimRight(got[i].body, "\r") != w.body || (w.status == 201 && got[i].headers["etag"] != `"1"`) {
			t.Errorf("answer %d: %+v", i+1, got[i])
		}
	}
}
