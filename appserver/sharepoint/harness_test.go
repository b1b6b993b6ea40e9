package sharepoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/appserver/sharepoint"
	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/memblob"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/memstorage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// providers are the storage providers every API test runs on.
var providers = []struct {
	name string
	open func(t *testing.T) storage.Store
}{
	{"InMemory", func(t *testing.T) storage.Store { return memstorage.New(memstorage.Options{}) }},
	{"PostgreSQL", func(t *testing.T) storage.Store {
		cfg, err := pgxpool.ParseConfig(testenv.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = 8
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s, err := pgstorage.New(t.Context(), pool, pgstorage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}},
}

// eachProvider runs fn against a fresh API on every provider.
func eachProvider(t *testing.T, fn func(t *testing.T, a *api)) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newAPI(t, p.open(t)))
		})
	}
}

// api is the handler behind an HTTP server, as the app server mounts it.
// The edge's part (a verified assertion) is played by the test: the
// user of each request is put into the request context, as the
// assertion verifier does, from the test-only header testUser.
type api struct {
	t       testing.TB
	srv     *httptest.Server
	store   storage.Store
	digests sharepoint.Digests
	// user and session are who requests are from; session "" is a
	// bearer-token request (no digest needed).
	user, email, session string
	// groups are the identity provider's groups of the user.
	groups []string
	digest string
	// handler is the API's handler (tests may change its limits before
	// the first request); blobs its file store.
	handler *sharepoint.Handler
	blobs   blobstore.Store
	// finished counts requests the handler has finished.
	finished atomic.Int64
}

const testUser = "X-Test-User"

// testLog sends the handler's log to the test's.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newAPI(t *testing.T, store storage.Store) *api { return newAPIFor(t, store) }

func newAPIFor(t testing.TB, store storage.Store) *api {
	a := &api{t: t, store: store, digests: newDigests(t), user: "alice-subject", email: "alice@example.com", session: "s1"}
	a.blobs = memblob.New(memblob.Options{})
	h := &sharepoint.Handler{Store: store, Digests: a.digests, Log: slog.New(slog.NewTextHandler(testLog{t}, nil)), Blobs: a.blobs,
		Admins: permissions.ParseAdministrators([]string{"alice-subject"})}
	a.handler = h
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer a.finished.Add(1)
		if u := r.Header.Get(testUser); u != "" {
			var id identity.User
			_ = json.Unmarshal([]byte(u), &id)
			r = r.WithContext(identity.NewContext(r.Context(), &id))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// result is an answer: status, headers, body and the body as JSON.
type result struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// req sends a request; headers are name, value pairs.
func (a *api) req(method, path string, body any, headers ...string) *result {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	// Tests write queries readably; the wire needs spaces escaped.
	path = strings.ReplaceAll(path, " ", "%20")
	r, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	a.sign(r)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := &result{status: resp.StatusCode, header: resp.Header}
	out.body, _ = io.ReadAll(resp.Body)
	if len(out.body) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(out.body, &out.json); err != nil {
			a.t.Fatalf("%s %s: body is not JSON: %v: %s", method, path, err, out.body)
		}
	}
	return out
}

// sign gives a request the harness's user, digest and PnPjs's headers.
func (a *api) sign(r *http.Request) {
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Content-Type", "application/json;charset=utf-8")
	if a.user != "" {
		u, _ := json.Marshal(identity.User{Subject: a.user, Email: a.email, Name: "Alice", SessionID: a.session, Groups: a.groups})
		r.Header.Set(testUser, string(u))
	}
	if a.digest != "" && r.Method != http.MethodGet {
		r.Header.Set("X-RequestDigest", a.digest)
	}
}

// waitFinished waits until the handler has finished more than n
// requests (one whose client went away included).
func (a *api) waitFinished(n int64) {
	a.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for a.finished.Load() <= n {
		if time.Now().After(deadline) {
			a.t.Fatalf("the handler did not finish request %d", n+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// blobCount is how many blobs the file store holds.
func (a *api) blobCount() int {
	a.t.Helper()
	n := 0
	if err := a.blobs.Walk(context.Background(), time.Now().Add(time.Hour), func(string) error { n++; return nil }); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// signIn gets a digest for the web, as PnPjs does before its first
// write.
func (a *api) signIn(web string) {
	a.t.Helper()
	r := a.req(http.MethodPost, web+"/_api/contextinfo", nil)
	if r.status != http.StatusOK {
		a.t.Fatalf("contextinfo: %d %s", r.status, r.body)
	}
	a.digest = r.json["FormDigestValue"].(string)
}

// must fails the test unless the answer has the status.
func (r *result) must(t *testing.T, status int) *result {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// errorCode is the odata.error (or verbose error) code.
func (r *result) errorCode() string {
	for _, k := range []string{"odata.error", "error"} {
		if e, ok := r.json[k].(map[string]any); ok {
			code, _ := e["code"].(string)
			return code
		}
	}
	return ""
}

func (r *result) errorMessage() string {
	for _, k := range []string{"odata.error", "error"} {
		if e, ok := r.json[k].(map[string]any); ok {
			m, _ := e["message"].(map[string]any)
			v, _ := m["value"].(string)
			return v
		}
	}
	return ""
}

// values is the "value" array of a JSON light collection.
func (r *result) values(t *testing.T) []map[string]any {
	t.Helper()
	raw, ok := r.json["value"].([]any)
	if !ok {
		t.Fatalf("no value array: %s", r.body)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}
