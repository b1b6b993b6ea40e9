package tests

// The SharePoint REST API's farm-level acceptance (issue 8): what only a
// farm can show — several servers on one PostgreSQL, concurrent writers
// through several edges, the database going away under load, and the
// edge, not the client, choosing the origin of absolute links. Every
// request goes through an edge with a bearer token, as an API client's
// would, so no form digest is needed.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/bench"
	"github.com/cesivi/cesivi/tests/farm"
)

const (
	jsonNoMetadata = "application/json;odata=nometadata"
	// versionConflictCode is SharePoint's odata.error code for a stale
	// IF-Match.
	versionConflictCode = "-1, Microsoft.SharePoint.Client.ClientServiceException"
	// tokenRefreshAfter is well inside the development provider's access
	// token lifetime (5 minutes), so a long test never sends an expired one.
	tokenRefreshAfter = 2 * time.Minute
	// edgeHealthInterval is Caddyfile.example's health_interval.
	edgeHealthInterval = 2 * time.Second
)

// apiClient speaks SharePoint REST to a farm through its edges as an API
// client does: a bearer token (so no form digest), a timeout on every
// request (a hang fails the test instead of stalling it) and enough idle
// connections for many concurrent writers.
type apiClient struct {
	farm *farm.Farm
	http *http.Client

	// mint gets a new access token (default: the development
	// administrator's, by mintAccessToken).
	mint func(ctx context.Context) (string, error)

	mu      sync.Mutex
	token   string
	tokenAt time.Time
}

func newAPIClient(t *testing.T, f *farm.Farm) *apiClient {
	t.Helper()
	return newAPIClientAs(t, f, nil)
}

// newAPIClientAs is newAPIClient for the user whose tokens mint gets
// (nil: the development administrator).
func newAPIClientAs(t *testing.T, f *farm.Farm, mint func(ctx context.Context) (string, error)) *apiClient {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 64
	// The HTTPS edges' certificates come from their own tls internal CA.
	transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	t.Cleanup(transport.CloseIdleConnections)
	c := &apiClient{farm: f, mint: mint, http: &http.Client{Timeout: 10 * time.Second, Transport: transport}}
	if _, err := c.bearer(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// bearer returns a valid access token, fetching a new one from the farm's
// provider when the current one is getting old.
func (c *apiClient) bearer(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Since(c.tokenAt) < tokenRefreshAfter {
		return c.token, nil
	}
	mint := c.mint
	if mint == nil {
		mint = func(ctx context.Context) (string, error) { return mintAccessToken(ctx, c.farm) }
	}
	token, err := mint(ctx)
	if err != nil {
		return "", err
	}
	c.token, c.tokenAt = token, time.Now()
	return token, nil
}

// mintAccessToken gets the development user's access token from the
// farm's provider without a *testing.T, so writer goroutines can renew
// their token.
func mintAccessToken(ctx context.Context, f *farm.Farm) (string, error) {
	return mintAccessTokenVia(ctx, f, f.Edges[0])
}

// mintAccessTokenVia runs the code flow for the development user with
// edge's callback as the redirect URI.
func mintAccessTokenVia(ctx context.Context, f *farm.Farm, edge string) (string, error) {
	return bench.MintToken(ctx, f, edge)
}

// apiResponse is one answer, read completely.
type apiResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Server is the X-Cesivi-Server-Id of the server that answered
	// (empty when the edge answered by itself).
	Server string
}

func (r apiResponse) String() string {
	server := r.Server
	if server == "" {
		server = "(no server id)"
	}
	return fmt.Sprintf("%s: %d %s", server, r.Status, lastBytes(r.Body, 600))
}

// do sends one request with a JSON body (unless body is nil); headers are
// name, value pairs and override the defaults (Accept: nometadata).
func (c *apiClient) do(ctx context.Context, method, target string, body any, headers ...string) (apiResponse, error) {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apiResponse{}, err
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return apiResponse{}, err
	}
	token, err := c.bearer(ctx)
	if err != nil {
		return apiResponse{}, fmt.Errorf("access token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", jsonNoMetadata)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	return apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b, Server: resp.Header.Get("X-Cesivi-Server-Id")}, nil
}

// must is do for the test's own goroutine: an error or another status
// than want fails the test.
func (c *apiClient) must(t *testing.T, want int, method, target string, body any, headers ...string) apiResponse {
	t.Helper()
	r, err := c.do(context.Background(), method, target, body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: %v; want %d", method, target, r, want)
	}
	return r
}

// spItem is what these tests read of an item.
type spItem struct {
	ID    int64  `json:"Id"`
	Title string `json:"Title"`
}

func decodeJSON(t *testing.T, r apiResponse, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %v: %v", r, err)
	}
}

// sharePointError returns the code and message of a SharePoint error
// body (JSON light's odata.error or verbose's error); ok is false when
// body is not one.
func sharePointError(body []byte) (code, message string, ok bool) {
	var e map[string]struct {
		Code    string `json:"code"`
		Message struct {
			Lang  string `json:"lang"`
			Value string `json:"value"`
		} `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", "", false
	}
	for _, key := range []string{"odata.error", "error"} {
		if v, found := e[key]; found && v.Code != "" && v.Message.Value != "" {
			return v.Code, v.Message.Value, true
		}
	}
	return "", "", false
}

// listPath is the API path of the root web's list called title.
func listPath(title string) string {
	return "/_api/web/lists/getbytitle('" + title + "')"
}

// createList creates a generic list through edge and returns its API path.
func createList(t *testing.T, c *apiClient, edge, title string) string {
	t.Helper()
	c.must(t, http.StatusCreated, http.MethodPost, edge+"/_api/web/lists", map[string]any{"Title": title, "BaseTemplate": 100})
	return listPath(title)
}

// readAllItems reads every item's Id and Title from the list at listURL,
// following odata.nextLink from page to page of 5,000.
func readAllItems(ctx context.Context, c *apiClient, listURL string) ([]spItem, error) {
	var all []spItem
	next := listURL + "/items?$select=Id,Title&$top=5000"
	for pages := 0; next != ""; pages++ {
		if pages > 1000 {
			return nil, fmt.Errorf("more than 1000 pages: the nextLinks do not end (last %s)", next)
		}
		r, err := c.do(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		if r.Status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %v", next, r)
		}
		var page struct {
			Value []spItem `json:"value"`
			Next  string   `json:"odata.nextLink"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			return nil, fmt.Errorf("GET %s: %w", next, err)
		}
		all = append(all, page.Value...)
		next = page.Next
	}
	return all, nil
}

// itemCount is the list's ItemCount.
func itemCount(t *testing.T, c *apiClient, listURL string) int64 {
	t.Helper()
	var l struct {
		ItemCount int64 `json:"ItemCount"`
	}
	decodeJSON(t, c.must(t, http.StatusOK, http.MethodGet, listURL+"?$select=ItemCount", nil), &l)
	return l.ItemCount
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAnItemWrittenThroughOneServerIsReadThroughAnotherAtOnce(t *testing.T) {
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 2, Edges: 1})
	c := newAPIClient(t, f)
	edge := f.Edges[0]
	list := edge + createList(t, c, edge, "ReadAcrossServers")

	added := c.must(t, http.StatusCreated, http.MethodPost, list+"/items", map[string]any{"Title": "written once"})
	var item spItem
	decodeJSON(t, added, &item)
	if added.Server == "" || item.ID == 0 {
		t.Fatalf("the add answered %v; want a server id and the new item's Id", added)
	}
	itemURL := fmt.Sprintf("%s/items(%d)", list, item.ID)
	readOnAnotherServer(t, c, itemURL, added.Server, "written once", `"1"`)

	merged := c.must(t, http.StatusNoContent, http.MethodPost, itemURL, map[string]any{"Title": "merged"},
		"X-HTTP-Method", "MERGE", "IF-Match", `"1"`)
	if etag := merged.Header.Get("ETag"); etag != `"2"` || merged.Server == "" {
		t.Fatalf("the MERGE answered ETag %s from %q; want \"2\" and a server id", etag, merged.Server)
	}
	readOnAnotherServer(t, c, itemURL, merged.Server, "merged", `"2"`)
}

// readOnAnotherServer GETs itemURL until a server other than writer
// answers. Every answer on the way, whichever server gave it, must
// already show what was written: never a 404, never the old version.
func readOnAnotherServer(t *testing.T, c *apiClient, itemURL, writer, title, etag string) {
	t.Helper()
	for try := 1; try <= 200; try++ {
		r := c.must(t, http.StatusOK, http.MethodGet, itemURL, nil)
		var it spItem
		decodeJSON(t, r, &it)
		if it.Title != title || r.Header.Get("ETag") != etag {
			t.Fatalf("read %d, after the write through %s: %s answered Title %q, ETag %s; want %q, %s",
				try, writer, r.Server, it.Title, r.Header.Get("ETag"), title, etag)
		}
		if r.Server != "" && r.Server != writer {
			t.Logf("written through %s, read through %s on read %d: Title %q, ETag %s", writer, r.Server, try, it.Title, etag)
			return
		}
	}
	t.Fatalf("200 reads after the write through %s, and no other server answered one", writer)
}

func TestConcurrentAddsFromEveryServerGetGapFreeIds(t *testing.T) {
	const writers, perWriter = 24, 1000
	const total = writers * perWriter
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 3, Edges: 2})
	c := newAPIClient(t, f)
	list := createList(t, c, f.Edges[0], "GapFree")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		retries   atomic.Int64
		mu        sync.Mutex
		failure   error
		perServer = map[string]int{}
		ackedIDs  = make([][]int64, writers) // writer → n-1 → the Id its 201 named
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if failure == nil {
			failure = err
		}
		cancel()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		// The edge cannot be told which server to use; writers spread
		// over both edges and round robin spreads them over the servers.
		edge := f.Edges[w%len(f.Edges)]
		ackedIDs[w] = make([]int64, perWriter)
		wg.Go(func() {
			served := map[string]int{}
			defer func() {
				mu.Lock()
				for s, n := range served {
					perServer[s] += n
				}
				mu.Unlock()
			}()
			for n := 1; n <= perWriter; n++ {
				title := fmt.Sprintf("w%d-%d", w, n)
				r, err := addWithRetries(ctx, t, c, edge+list, title, &retries)
				if err != nil {
					if ctx.Err() == nil {
						fail(fmt.Errorf("writer %d, add %q: %w", w, title, err))
					}
					return
				}
				var it spItem
				if err := json.Unmarshal(r.Body, &it); err != nil || it.Title != title {
					fail(fmt.Errorf("writer %d, add %q answered %v (%v)", w, title, r, err))
					return
				}
				ackedIDs[w][n-1] = it.ID
				served[r.Server]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failure != nil {
		t.Fatal(failure)
	}
	t.Logf("%d adds by %d writers through %d edges in %v: %.0f items/s (information only); per server %v; %d retries after 503",
		total, writers, len(f.Edges), elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), perServer, retries.Load())
	if len(perServer) != len(f.Servers) {
		t.Errorf("adds were answered by %v; want every one of the %d servers", perServer, len(f.Servers))
	}

	// What the clients were told: every Id 1..total, once.
	acked := map[int64]int{}
	for w := range writers {
		for _, id := range ackedIDs[w] {
			acked[id]++
		}
	}
	checkEachIDOnce(t, "the 201 answers", acked, total)

	// What the list holds: the same, each title once, under the Id its
	// add was answered with.
	items, err := readAllItems(context.Background(), c, f.Edges[1]+list)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != total {
		t.Errorf("the list returns %d items; want %d", len(items), total)
	}
	stored := map[int64]int{}
	idOf := make(map[string]int64, total)
	for _, it := range items {
		stored[it.ID]++
		if prev, dup := idOf[it.Title]; dup {
			t.Errorf("title %q is stored twice, as %d and %d", it.Title, prev, it.ID)
		}
		idOf[it.Title] = it.ID
	}
	checkEachIDOnce(t, "the list", stored, total)
	var wrong []string
	for w := range writers {
		for n := 1; n <= perWriter; n++ {
			title := fmt.Sprintf("w%d-%d", w, n)
			if id, ok := idOf[title]; !ok || id != ackedIDs[w][n-1] {
				wrong = append(wrong, fmt.Sprintf("%s: stored as %d, acknowledged as %d", title, id, ackedIDs[w][n-1]))
			}
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d titles are missing or under another Id than acknowledged, e.g. %v", len(wrong), wrong[:min(len(wrong), 10)])
	}
	if n := itemCount(t, c, f.Edges[0]+list); n != total {
		t.Errorf("ItemCount = %d; want %d", n, total)
	}
}

// addWithRetries adds an item titled title, retrying as a well-behaved
// client would when the answer is 503 with Retry-After (nothing was
// written); any other answer than 201 is an error.
func addWithRetries(ctx context.Context, t *testing.T, c *apiClient, listURL, title string, retries *atomic.Int64) (apiResponse, error) {
	for attempt := 1; ; attempt++ {
		r, err := c.do(ctx, http.MethodPost, listURL+"/items", map[string]any{"Title": title})
		if err != nil {
			return r, err
		}
		if r.Status == http.StatusCreated {
			return r, nil
		}
		after, perr := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.Status != http.StatusServiceUnavailable || perr != nil || after < 0 || attempt == 20 {
			return r, fmt.Errorf("attempt %d: %v; want 201 (or 503 with Retry-After, retried up to 20 times)", attempt, r)
		}
		retries.Add(1)
		t.Logf("add %q: 503 from %s (Retry-After %d), retrying: %s", title, r.Server, after, lastBytes(r.Body, 200))
		// Honour the advice, but a test should not sit out long ones.
		wait := min(time.Duration(after)*time.Second, 2*time.Second)
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// checkEachIDOnce fails the test unless counts holds exactly the Ids
// 1..total, each once.
func checkEachIDOnce(t *testing.T, where string, counts map[int64]int, total int64) {
	t.Helper()
	var missing, repeated, outside []int64
	for id := int64(1); id <= total; id++ {
		switch {
		case counts[id] == 0:
			missing = append(missing, id)
		case counts[id] > 1:
			repeated = append(repeated, id)
		}
	}
	for id := range counts {
		if id < 1 || id > total {
			outside = append(outside, id)
		}
	}
	sort.Slice(outside, func(i, j int) bool { return outside[i] < outside[j] })
	if len(missing) > 0 || len(repeated) > 0 || len(outside) > 0 {
		t.Errorf("%s: %d Ids missing (e.g. %v), %d more than once (e.g. %v), %d outside 1..%d (e.g. %v); want 1..%d each once",
			where, len(missing), missing[:min(len(missing), 10)], len(repeated), repeated[:min(len(repeated), 10)],
			len(outside), total, outside[:min(len(outside), 10)], total)
	}
}

func TestOfConcurrentMergesWithOneETagExactlyOneWins(t *testing.T) {
	const rounds, writers = 5, 8
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 3, Edges: 2})
	c := newAPIClient(t, f)
	list := createList(t, c, f.Edges[0], "OneWins")
	added := c.must(t, http.StatusCreated, http.MethodPost, f.Edges[0]+list+"/items", map[string]any{"Title": "round 0"})
	var item spItem
	decodeJSON(t, added, &item)
	itemPath := fmt.Sprintf("%s/items(%d)", list, item.ID)

	for round := 1; round <= rounds; round++ {
		etag := fmt.Sprintf(`"%d"`, round)
		results := make([]apiResponse, writers)
		errs := make([]error, writers)
		start := make(chan struct{})
		var ready, done sync.WaitGroup
		for g := range writers {
			edge := f.Edges[g%len(f.Edges)]
			ready.Add(1)
			done.Go(func() {
				// A read first leaves an open connection in the pool, so
				// the MERGEs leave together instead of one per handshake;
				// it also confirms the ETag every writer starts from.
				r, err := c.do(context.Background(), http.MethodGet, edge+itemPath, nil)
				if err == nil && (r.Status != http.StatusOK || r.Header.Get("ETag") != etag) {
					err = fmt.Errorf("before the MERGE: %v, ETag %s; want 200 and %s", r, r.Header.Get("ETag"), etag)
				}
				ready.Done()
				if err != nil {
					errs[g] = err
					return
				}
				<-start
				results[g], errs[g] = c.do(context.Background(), http.MethodPost, edge+itemPath,
					map[string]any{"Title": fmt.Sprintf("round %d, writer %d", round, g)},
					"X-HTTP-Method", "MERGE", "IF-Match", etag)
			})
		}
		ready.Wait()
		close(start)
		done.Wait()

		winner := -1
		var summary []string
		for g, r := range results {
			if errs[g] != nil {
				t.Fatalf("round %d, writer %d: %v", round, g, errs[g])
			}
			summary = append(summary, fmt.Sprintf("%d@%s", r.Status, r.Server))
			switch r.Status {
			case http.StatusNoContent:
				if winner >= 0 {
					t.Errorf("round %d: writers %d and %d both got 204 with IF-Match %s", round, winner, g, etag)
				}
				winner = g
				if got, want := r.Header.Get("ETag"), fmt.Sprintf(`"%d"`, round+1); got != want {
					t.Errorf("round %d: the winner's ETag is %s; want %s", round, got, want)
				}
			case http.StatusPreconditionFailed:
				if code, _, ok := sharePointError(r.Body); !ok || code != versionConflictCode {
					t.Errorf("round %d, writer %d: 412 with body %s; want odata.error code %q", round, g, r.Body, versionConflictCode)
				}
			default:
				t.Errorf("round %d, writer %d: %v; want 204 or 412", round, g, r)
			}
		}
		t.Logf("round %d (IF-Match %s): %s", round, etag, strings.Join(summary, " "))
		if winner < 0 {
			t.Fatalf("round %d: none of %d MERGEs with IF-Match %s succeeded", round, writers, etag)
		}
		now := c.must(t, http.StatusOK, http.MethodGet, f.Edges[0]+itemPath, nil)
		var it spItem
		decodeJSON(t, now, &it)
		wantTitle := fmt.Sprintf("round %d, writer %d", round, winner)
		if got, want := now.Header.Get("ETag"), fmt.Sprintf(`"%d"`, round+1); got != want || it.Title != wantTitle {
			t.Fatalf("after round %d the item has ETag %s, Title %q; want %s, the winner's %q", round, got, it.Title, want, wantTitle)
		}
	}
}

// stopPostgres stops the farm's PostgreSQL as an operator's fast
// shutdown would; its data stays.
func stopPostgres(t *testing.T, f *farm.Farm) {
	t.Helper()
	if err := f.StopPostgres(); err != nil {
		t.Fatalf("stopping PostgreSQL: %v", err)
	}
}

// startPostgres starts the farm's PostgreSQL again on its cluster and
// port, so the servers' connection string stays right; the farm stops it
// with the rest.
func startPostgres(t *testing.T, f *farm.Farm) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.StartPostgres(ctx); err != nil {
		t.Fatal(err)
	}
}

// Phases of the outage test, in order.
const (
	phaseBefore int32 = iota
	phaseOutage
	phaseRecovering
	phaseAfter
)

var phaseNames = []string{"before", "outage", "recovering", "after"}

// outageLoad records what the clients of the outage test were told.
type outageLoad struct {
	phase atomic.Int32

	mu        sync.Mutex
	acked     map[string]int64  // title → the Id its 201 named
	refused   map[string]string // title → why the add was not acknowledged
	counts    map[string]int    // "phase method status" → answers
	byPhase   [4]int
	recovered map[string]bool // servers that acknowledged an add after the restart
	failures  []string
	failed    int
}

func (l *outageLoad) record(method, title string, r apiResponse, err error) {
	phase := l.phase.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byPhase[phase]++
	fail := func(format string, args ...any) {
		l.failed++
		if len(l.failures) < 20 {
			l.failures = append(l.failures, phaseNames[phase]+": "+method+" "+fmt.Sprintf(format, args...))
		}
		if title != "" {
			l.refused[title] = "failed"
		}
	}
	if err != nil {
		fail("%v", err)
		return
	}
	l.counts[fmt.Sprintf("%-10s %-4s %d", phaseNames[phase], method, r.Status)]++
	switch {
	case r.Status == http.StatusOK && method == http.MethodGet:
	case r.Status == http.StatusCreated && method == http.MethodPost:
		var it spItem
		if json.Unmarshal(r.Body, &it) != nil || it.Title != title || it.ID == 0 {
			fail("201 with %v; want the new item %q", r, title)
			return
		}
		l.acked[title] = it.ID
		if phase >= phaseRecovering {
			l.recovered[r.Server] = true
		}
	case r.Status == http.StatusServiceUnavailable:
		after, perr := strconv.Atoi(r.Header.Get("Retry-After"))
		if _, _, ok := sharePointError(r.Body); !ok || perr != nil || after <= 0 {
			who := ""
			if r.Server == "" {
				who = " (the edge answered by itself: no server in its rotation)"
			}
			fail("%v, Retry-After %q%s; want a 503 with Retry-After and a SharePoint error body", r, r.Header.Get("Retry-After"), who)
			return
		}
		if title != "" {
			l.refused[title] = "503"
		}
	default:
		fail("%v; want success or a clean 503", r)
	}
}

func (l *outageLoad) answers(phase int32) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byPhase[phase]
}

func (l *outageLoad) ackedIn(servers []string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range servers {
		if !l.recovered[s] {
			return false
		}
	}
	return true
}

func TestPostgreSQLStoppedAndStartedUnderLoad(t *testing.T) {
	const workers = 4
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 2, Edges: 1})
	c := newAPIClient(t, f)
	edge := f.Edges[0]
	list := edge + createList(t, c, edge, "Outage")
	seed := c.must(t, http.StatusCreated, http.MethodPost, list+"/items", map[string]any{"Title": "seed"})
	var seedItem spItem
	decodeJSON(t, seed, &seedItem)
	itemURL := fmt.Sprintf("%s/items(%d)", list, seedItem.ID)
	serverNames := make([]string, len(f.Servers))
	pids := map[string]int{}
	for i := range f.Servers {
		serverNames[i] = fmt.Sprintf("server-%d", i+1)
		pids[serverNames[i]] = f.PIDs[serverNames[i]]
	}

	load := &outageLoad{acked: map[string]int64{}, refused: map[string]string{}, counts: map[string]int{}, recovered: map[string]bool{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := c.do(context.Background(), http.MethodGet, itemURL, nil)
				load.record(http.MethodGet, "", r, err)
				title := fmt.Sprintf("g%d-%d", w, n)
				r, err = c.do(context.Background(), http.MethodPost, list+"/items", map[string]any{"Title": title})
				load.record(http.MethodPost, title, r, err)
			}
		})
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopLoad()

	waitFor(t, 60*time.Second, "the load runs before the outage", func() bool { return load.answers(phaseBefore) >= 40 })

	load.phase.Store(phaseOutage)
	stopPostgres(t, f)
	t.Logf("PostgreSQL stopped")
	for _, server := range f.Servers {
		waitFor(t, 30*time.Second, server+"/health/ready answers 503 while PostgreSQL is down", func() bool {
			resp, err := client.Get(server + "/health/ready")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusServiceUnavailable
		})
	}
	// An outage long enough for the edge's active health checks (every
	// 2 s, one failure takes a server out) to take every server out of
	// its rotation: the clients then meet the edge's answer too. The
	// length is the scenario's, not a wait for something to happen.
	outageFrom := time.Now()
	waitFor(t, 90*time.Second, "the load meets a long outage", func() bool {
		return time.Since(outageFrom) >= 3*edgeHealthInterval && load.answers(phaseOutage) >= 8*workers
	})

	startPostgres(t, f)
	load.phase.Store(phaseRecovering)
	t.Logf("PostgreSQL started again")
	waitFor(t, 90*time.Second, "every server acknowledges adds again", func() bool { return load.ackedIn(serverNames) })
	for _, server := range f.Servers {
		waitFor(t, 30*time.Second, server+"/health/ready answers 200 again", func() bool {
			resp, err := client.Get(server + "/health/ready")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	load.phase.Store(phaseAfter)
	waitFor(t, 60*time.Second, "the load runs after the recovery", func() bool { return load.answers(phaseAfter) >= 40 })
	stopLoad()

	var counts []string
	for k, n := range load.counts {
		counts = append(counts, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(counts)
	t.Logf("answers by phase, method and status:\n  %s", strings.Join(counts, "\n  "))
	if load.failed > 0 {
		t.Errorf("%d answers were neither a success nor a clean 503, e.g.:\n  %s", load.failed, strings.Join(load.failures, "\n  "))
	}

	// No restart: the same processes serve before and after.
	for name, pid := range pids {
		if f.PIDs[name] != pid || !testenv.PIDAlive(pid) {
			t.Errorf("%s: pid %d before, %d now (alive: %v); want the same process throughout", name, pid, f.PIDs[name], testenv.PIDAlive(pid))
		}
	}

	// Every acknowledged add is stored under its Id; refused ones may or
	// may not be (they were not acknowledged); nothing else is there.
	items, err := readAllItems(context.Background(), c, list)
	if err != nil {
		t.Fatal(err)
	}
	storedAs := map[string]int64{}
	for _, it := range items {
		if _, dup := storedAs[it.Title]; dup {
			t.Errorf("title %q stored twice", it.Title)
		}
		storedAs[it.Title] = it.ID
	}
	var lost []string
	for title, id := range load.acked {
		if got, ok := storedAs[title]; !ok || got != id {
			lost = append(lost, fmt.Sprintf("%s (acknowledged as %d, stored as %d)", title, id, got))
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged adds are missing: %v", len(lost), lost[:min(len(lost), 20)])
	}
	refusals := map[string]int{} // "503 stored", "failed absent", …
	var refusedPresent, refusedAbsent int
	for title, why := range load.refused {
		if _, ok := storedAs[title]; ok {
			refusedPresent++
			refusals[why+" stored"]++
		} else {
			refusedAbsent++
			refusals[why+" absent"]++
		}
	}
	var strangers []string
	for title := range storedAs {
		if _, ok := load.acked[title]; !ok && title != "seed" {
			if _, ok := load.refused[title]; !ok {
				strangers = append(strangers, title)
			}
		}
	}
	if len(strangers) > 0 {
		t.Errorf("the list holds items no client added: %v", strangers[:min(len(strangers), 20)])
	}
	t.Logf("%d adds acknowledged, all stored; %d not acknowledged: %d of them stored anyway, %d absent (by answer: %v)",
		len(load.acked), len(load.refused), refusedPresent, refusedAbsent, refusals)
	if n := itemCount(t, c, list); n != int64(len(items)) {
		t.Errorf("ItemCount = %d, but the list returns %d items", n, len(items))
	}
}

func TestTheEdgeDecidesThePublicOriginOfAbsoluteLinks(t *testing.T) {
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 2, Edges: 1})
	c := newAPIClient(t, f)
	list := createList(t, c, f.Edges[0], "Origins")
	for _, title := range []string{"first", "second"} {
		c.must(t, http.StatusCreated, http.MethodPost, f.Edges[0]+list+"/items", map[string]any{"Title": title})
	}
	// The client claims another host and the other scheme; the edge must
	// put its own in their place.
	spoofs := map[string]string{f.Edges[0]: "https", f.EdgesTLS[0]: "http"}
	for origin, proto := range spoofs {
		spoof := []string{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", proto,
			"X-Forwarded-Port", "4443", "Forwarded", "host=evil.example;proto=" + proto}
		mustBeOurs := func(what, link string) {
			t.Helper()
			if !strings.HasPrefix(link, origin+"/") {
				t.Errorf("%s: %s is %q; want it under %s/", origin, what, link, origin)
			}
		}
		// Every check once per server at least. Round robin alternates the
		// servers, and an iteration sends an even number of requests, so
		// an extra request shifts the rotation while one is still missing.
		answered := map[string]map[string]bool{}
		note := func(check string, r apiResponse) {
			if answered[check] == nil {
				answered[check] = map[string]bool{}
			}
			answered[check][r.Server] = true
		}
		everyServer := func() bool {
			for _, check := range []string{"items", "verbose", "list", "web", "contextinfo"} {
				if len(answered[check]) < len(f.Servers) {
					return false
				}
			}
			return true
		}
		for try := 0; !everyServer(); try++ {
			if try == 20 {
				t.Fatalf("%s: after 20 rounds the checks were answered by %v; want every server for each", origin, answered)
			}
			r := c.must(t, http.StatusOK, http.MethodGet, origin+list+"/items?$top=1", nil, append(spoof, "Accept", "application/json")...)
			note("items", r)
			if bytes.Contains(r.Body, []byte("evil.example")) {
				t.Errorf("%s: the answer from %s names the spoofed host: %s", origin, r.Server, r.Body)
			}
			var page struct {
				Metadata string `json:"odata.metadata"`
				Next     string `json:"odata.nextLink"`
				Value    []struct {
					Title string `json:"Title"`
				} `json:"value"`
			}
			decodeJSON(t, r, &page)
			if len(page.Value) != 1 || page.Next == "" {
				t.Fatalf("%s: $top=1 of 2 items answered %v; want 1 item and a nextLink", origin, r)
			}
			mustBeOurs("odata.metadata", page.Metadata)
			mustBeOurs("odata.nextLink", page.Next)
			if !strings.HasPrefix(page.Next, origin+"/") {
				// Following it would send the bearer token elsewhere.
				t.FailNow()
			}
			// The link works: it leads to the other item.
			var rest struct {
				Value []spItem `json:"value"`
			}
			decodeJSON(t, c.must(t, http.StatusOK, http.MethodGet, page.Next, nil, "Accept", jsonNoMetadata), &rest)
			if len(rest.Value) != 1 || rest.Value[0].Title == page.Value[0].Title {
				t.Errorf("%s: the nextLink after %q gave %+v; want the other item", origin, page.Value[0].Title, rest.Value)
			}

			r = c.must(t, http.StatusOK, http.MethodGet, origin+list+"/items?$top=1", nil, append(spoof, "Accept", "application/json;odata=verbose")...)
			note("verbose", r)
			var verbose struct {
				D struct {
					Next    string `json:"__next"`
					Results []struct {
						Metadata struct {
							URI string `json:"uri"`
						} `json:"__metadata"`
					} `json:"results"`
				} `json:"d"`
			}
			decodeJSON(t, r, &verbose)
			if len(verbose.D.Results) != 1 || bytes.Contains(r.Body, []byte("evil.example")) {
				t.Fatalf("%s: verbose $top=1 answered %v", origin, r)
			}
			mustBeOurs("__next", verbose.D.Next)
			mustBeOurs("__metadata.uri", verbose.D.Results[0].Metadata.URI)

			// An entity's odata.id is absolute too (an item's is its GUID,
			// as in SharePoint, so the list's).
			r = c.must(t, http.StatusOK, http.MethodGet, origin+list, nil, append(spoof, "Accept", "application/json")...)
			note("list", r)
			var l struct {
				ID string `json:"odata.id"`
			}
			decodeJSON(t, r, &l)
			mustBeOurs("the list's odata.id", l.ID)

			r = c.must(t, http.StatusOK, http.MethodGet, origin+"/_api/web", nil, spoof...)
			note("web", r)
			var web struct {
				URL string `json:"Url"`
			}
			decodeJSON(t, r, &web)
			if web.URL != origin {
				t.Errorf("%s: web Url from %s is %q; want %q", origin, r.Server, web.URL, origin)
			}

			r = c.must(t, http.StatusOK, http.MethodPost, origin+"/_api/contextinfo", nil, spoof...)
			note("contextinfo", r)
			var info struct {
				WebFullURL  string `json:"WebFullUrl"`
				SiteFullURL string `json:"SiteFullUrl"`
			}
			decodeJSON(t, r, &info)
			if info.WebFullURL != origin || info.SiteFullURL != origin {
				t.Errorf("%s: contextinfo from %s has WebFullUrl %q, SiteFullUrl %q; want %q", origin, r.Server, info.WebFullURL, info.SiteFullURL, origin)
			}
			if !everyServer() {
				c.must(t, http.StatusOK, http.MethodGet, origin+"/health/live", nil)
			}
		}
	}
}
