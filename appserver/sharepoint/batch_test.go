package sharepoint_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// batchPart is one inner request of a test batch.
type batchPart struct {
	method, path, body string
}

// batchBody writes a $batch as PnPjs does (research §3.2): CRLF lines,
// absolute inner URLs, writes grouped in changesets. groups with more
// than one part, or any write, become a changeset.
func batchBody(base string, groups ...[]batchPart) (string, []byte) {
	const boundary = "batch_f0822b3f-5c78-477a-919a-65820f3f555e"
	var b bytes.Buffer
	inner := func(p batchPart) {
		b.WriteString("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
		fmt.Fprintf(&b, "%s %s%s HTTP/1.1\r\naccept: application/json\r\ncontent-type: application/json;charset=utf-8\r\n\r\n", p.method, base, p.path)
		if p.body != "" {
			b.WriteString(p.body + "\r\n")
		}
		b.WriteString("\r\n")
	}
	for gi, g := range groups {
		fmt.Fprintf(&b, "--%s\r\n", boundary)
		if len(g) == 1 && g[0].method == "GET" {
			inner(g[0])
			continue
		}
		cs := fmt.Sprintf("changeset_%08d-c46a-46a5-8ff5-5ed6cc8c8696", gi)
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", cs)
		for _, p := range g {
			fmt.Fprintf(&b, "--%s\r\n", cs)
			inner(p)
		}
		fmt.Fprintf(&b, "--%s--\r\n\r\n", cs)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return "multipart/mixed; boundary=" + boundary, b.Bytes()
}

// batchAnswer is one part of a batch response.
type batchAnswer struct {
	status int
	body   map[string]any
}

// readBatch parses a batch response the way PnPjs's parser needs it:
// a flat list of application/http parts under --batchresponse_.
func readBatch(t *testing.T, r *result) []batchAnswer {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || !strings.HasPrefix(params["boundary"], "batchresponse_") {
		t.Fatalf("batch content type %q", r.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	var out []batchAnswer
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(p), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		a := batchAnswer{status: resp.StatusCode}
		if len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, &a.body); err != nil {
				t.Fatalf("part body: %v: %s", err, raw)
			}
		}
		out = append(out, a)
	}
	return out
}

func TestBatchRunsPartsInOrderAndChangesetsWhole(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks"}).must(t, 201)
		items := "/_api/web/lists/getByTitle('Tasks')/items"
		ct, body := batchBody(a.srv.URL,
			[]batchPart{{"POST", items, `{"Title":"b1"}`}, {"POST", items, `{"Title":"b2"}`}},
			[]batchPart{{"GET", items + "?%24select=Id%2CTitle", ""}},
		)
		r := a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 200)
		parts := readBatch(t, r)
		if len(parts) != 3 || parts[0].status != 201 || parts[1].status != 201 || parts[2].status != 200 {
			t.Fatalf("parts: %+v", parts)
		}
		if vs, _ := parts[2].body["value"].([]any); len(vs) != 2 {
			t.Errorf("the GET after the changeset sees %d items: %v", len(vs), parts[2].body)
		}

		// A changeset whose second request fails keeps none of its writes;
		// the parts around it still answer.
		ct, body = batchBody(a.srv.URL,
			[]batchPart{{"POST", items, `{"Title":"c1"}`}, {"POST", items, `{"Nope":1}`}, {"POST", items, `{"Title":"c3"}`}},
			[]batchPart{{"GET", items + "?$select=Title", ""}},
		)
		r = a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 200)
		parts = readBatch(t, r)
		if len(parts) != 4 || parts[0].status != 424 || parts[1].status != 400 || parts[2].status != 424 || parts[3].status != 200 {
			t.Fatalf("failed changeset parts: %+v", parts)
		}
		if vs, _ := parts[3].body["value"].([]any); len(vs) != 2 {
			t.Errorf("a failed changeset left writes behind: %v", parts[3].body)
		}

		// A malformed part: 400 for it, the others run.
		good := "--batch_x\r\nContent-Type: application/http\r\n\r\nGET " + a.srv.URL + items + " HTTP/1.1\r\naccept: application/json\r\n\r\n\r\n"
		bad := "--batch_x\r\nContent-Type: application/http\r\n\r\nNOT A REQUEST LINE\r\n\r\n\r\n"
		raw := good + bad + good + "--batch_x--\r\n"
		r = a.req("POST", "/_api/$batch", raw, "Content-Type", "multipart/mixed; boundary=batch_x").must(t, 200)
		parts = readBatch(t, r)
		if len(parts) != 3 || parts[0].status != 200 || parts[1].status != 400 || parts[2].status != 200 {
			t.Fatalf("malformed part: %+v", parts)
		}

		// The batch itself needs the digest of a browser session, and a body
		// that is not multipart is a 400.
		a.digest = ""
		a.req("POST", "/_api/$batch", body, "Content-Type", ct).must(t, 403)
		a.signIn("")
		a.req("POST", "/_api/$batch", `{"x":1}`).must(t, 400)
	})
}
