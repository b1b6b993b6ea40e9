package sharepoint_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cesivi/cesivi/appserver/sharepoint"
)

// A write retried with its Idempotency-Key is answered from the first
// one's record, whatever the first changed, and stored once; a key
// reused for another request, or by another user, is never replayed.
func TestAWriteRetriedWithItsIdempotencyKeyIsCarriedOutOnce(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks", "BaseTemplate": 100}).must(t, 201)
		items := "/_api/web/lists/getbytitle('Tasks')/items"
		count := func() float64 {
			t.Helper()
			return a.req("GET", "/_api/web/lists/getbytitle('Tasks')", nil).must(t, 200).json["ItemCount"].(float64)
		}

		first := a.req("POST", items, map[string]any{"Title": "once"}, "Idempotency-Key", "add-1").must(t, 201)
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the first request was marked replayed")
		}
		again := a.req("POST", items, map[string]any{"Title": "once"}, "Idempotency-Key", `"add-1"`).must(t, 201)
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) ||
			again.header.Get("ETag") != first.header.Get("ETag") || again.header.Get("Content-Type") != first.header.Get("Content-Type") {
			t.Fatalf("the retry: %v %s; want the first's answer %v %s", again.header, again.body, first.header, first.body)
		}
		if n := count(); n != 1 {
			t.Fatalf("%v items after a retried add; want 1", n)
		}

		// The same key for another body is refused, and stores nothing.
		other := a.req("POST", items, map[string]any{"Title": "twice"}, "Idempotency-Key", "add-1").must(t, 422)
		if other.errorMessage() == "" {
			t.Errorf("422 without a message: %s", other.body)
		}
		// Malformed keys are refused before anything runs.
		for _, key := range []string{"has space", "é"} {
			a.req("POST", items, map[string]any{"Title": "bad"}, "Idempotency-Key", key).must(t, 400)
		}
		if n := count(); n != 1 {
			t.Fatalf("%v items after refused requests; want 1", n)
		}

		// A delete's retry gets the delete's answer, though the item is
		// gone: the replay does not run the request again.
		item := items + "(1)"
		del := a.req("POST", item, nil, "X-HTTP-Method", "DELETE", "IF-MATCH", "*", "Idempotency-Key", "del-1")
		if del.status != http.StatusOK {
			t.Fatalf("delete: %d %s", del.status, del.body)
		}
		if r := a.req("POST", item, nil, "X-HTTP-Method", "DELETE", "IF-MATCH", "*", "Idempotency-Key", "del-1"); r.status != del.status ||
			r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the delete's retry: %d %v %s", r.status, r.header, r.body)
		}
		if r := a.req("POST", item, nil, "X-HTTP-Method", "DELETE", "IF-MATCH", "*"); r.status != 404 {
			t.Fatalf("a delete without its key ran again: %d %s; want 404", r.status, r.body)
		}

		// A failed write keeps no record: its retry runs (and now works).
		a.req("POST", items, map[string]any{"NoSuchField": "x"}, "Idempotency-Key", "add-2").must(t, 400)
		a.req("POST", items, map[string]any{"Title": "second"}, "Idempotency-Key", "add-2").must(t, 201)

		// Uploads: the same content under the key is a replay; other
		// content is refused.
		up := a.upload("/Shared Documents", "a.txt", []byte("one"), true, "Idempotency-Key", "up-1").must(t, 200)
		if r := a.upload("/Shared Documents", "a.txt", []byte("one"), true, "Idempotency-Key", "up-1").must(t, 200); r.header.Get("Idempotent-Replayed") != "true" ||
			string(r.body) != string(up.body) {
			t.Fatalf("the upload's retry: %v %s", r.header, r.body)
		}
		a.upload("/Shared Documents", "a.txt", []byte("two"), true, "Idempotency-Key", "up-1").must(t, 422)
		if v := a.req("GET", "/_api/web/GetFileByServerRelativePath(decodedurl='/Shared Documents/a.txt')", nil).must(t, 200); v.json["UIVersionLabel"] != "1.0" {
			t.Errorf("the file after a replayed upload: %s; want version 1.0", v.body)
		}

		// Another user's request with alice's key is not alice's answer:
		// bob, who may not write, is refused.
		a.as("bob-subject", "bob@example.com")
		if r := a.req("POST", items, map[string]any{"Title": "once"}, "Idempotency-Key", "add-1"); r.status != 403 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("bob with alice's key: %d %v %s; want 403", r.status, r.header, r.body)
		}
	})
}

// An answer is kept IdempotencyRetention: pruned after it, the key is
// free again.
func TestKeptAnswersArePrunedAfterTheirRetention(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks", "BaseTemplate": 100}).must(t, 201)
		items := "/_api/web/lists/getbytitle('Tasks')/items"
		a.req("POST", items, map[string]any{"Title": "a"}, "Idempotency-Key", "k").must(t, 201)
		if n, err := a.handler.PruneRequests(t.Context(), time.Now()); err != nil || n != 0 {
			t.Fatalf("a prune within the retention removed %d, %v", n, err)
		}
		if r := a.req("POST", items, map[string]any{"Title": "a"}, "Idempotency-Key", "k").must(t, 201); r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("not replayed within the retention")
		}
		if n, err := a.handler.PruneRequests(t.Context(), time.Now().Add(sharepoint.IdempotencyRetention+time.Minute)); err != nil || n != 1 {
			t.Fatalf("a prune past the retention removed %d, %v; want 1", n, err)
		}
		if r := a.req("POST", items, map[string]any{"Title": "a"}, "Idempotency-Key", "k").must(t, 201); r.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("replayed after the retention")
		}
	})
}
