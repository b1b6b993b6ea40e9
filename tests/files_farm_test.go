package tests

// Document libraries through the farm (issue 9): what only real processes
// behind an edge can show — the chunks of one upload served by different
// servers, a server killed in the middle of an upload, and the edge
// passing Range and If-None-Match through to the servers. Each test runs
// once per blob provider a PostgreSQL farm can use (filesProviders).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/tests/bench"
	"github.com/cesivi/cesivi/tests/farm"
)

const (
	libraryFolder = "/Shared Documents"
	mib           = 1 << 20
	// transferTimeout bounds one request of these tests; a 30 MiB chunked
	// upload on a loaded machine takes seconds.
	transferTimeout = 2 * time.Minute
)

// filesFarm is a PostgreSQL farm of three servers behind one edge whose
// file content lives in one blob provider.
type filesFarm struct {
	*farm.Farm
	provider string
	// dir is SharedDirectory's directory, shared by every server.
	dir string
	lib *bench.Library
}

func startFilesFarm(t *testing.T, provider string) *filesFarm {
	t.Helper()
	ff := &filesFarm{provider: provider}
	env := []string{"Cesivi__Storage__Files__Provider=" + provider}
	if provider == "SharedDirectory" {
		ff.dir = t.TempDir()
		env = append(env, "Cesivi__Storage__Files__Path="+ff.dir)
	}
	ff.Farm = startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL, Servers: 3, Edges: 1, ServerEnv: env})
	c := newAPIClient(t, ff.Farm)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	ff.lib = &bench.Library{Edge: ff.Edges[0], Token: c.bearer,
		Client: &http.Client{Timeout: transferTimeout, Transport: transport}}
	return ff
}

// eachFilesProvider runs test once per blob provider, each on a farm of
// its own.
func eachFilesProvider(t *testing.T, test func(t *testing.T, ff *filesFarm)) {
	for _, provider := range filesProviders {
		t.Run(provider, func(t *testing.T) { test(t, startFilesFarm(t, provider)) })
	}
}

// fileContent is n pseudo-random bytes, the same for the same seed:
// content no blob store can compress or find twice.
func fileContent(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = mrand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16)}).Read(b)
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newUploadID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// mustSend fails the test unless the call answered want.
func mustSend(t *testing.T, want int, a bench.Answer, err error, what string) bench.Answer {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if a.Status != want {
		t.Fatalf("%s: %v; want %d", what, a, want)
	}
	return a
}

// uploadFile stores content as name in the library with a simple upload.
func (ff *filesFarm) uploadFile(t *testing.T, name string, content []byte) bench.Answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	a, err := ff.lib.Upload(ctx, libraryFolder, name, bytes.NewReader(content), int64(len(content)))
	return mustSend(t, http.StatusOK, a, err, "uploading "+name)
}

// download reads a file's content through the edge with header added.
func (ff *filesFarm) download(t *testing.T, name string, header http.Header) (bench.Answer, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	var buf bytes.Buffer
	a, _, err := ff.lib.Download(ctx, libraryFolder+"/"+name, &buf, header)
	if err != nil {
		t.Fatalf("downloading %s: %v", name, err)
	}
	return a, buf.Bytes()
}

func TestAChunkedUploadThroughTheFarmIsServedBySeveralServers(t *testing.T) {
	const size, chunk = 30 * mib, 8 * mib // four chunks: 8, 8, 8 and 6 MiB
	eachFilesProvider(t, func(t *testing.T, ff *filesFarm) {
		content := fileContent(size, 30)
		const name = "chunked 30 MiB.bin"
		file := libraryFolder + "/" + name
		ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
		defer cancel()
		// Empty first, as PnPjs's addChunked makes it.
		ff.uploadFile(t, name, nil)
		id := newUploadID(t)
		servedBy := map[string]int{}
		var order []string
		for offset := 0; offset < size; offset += chunk {
			end := min(offset+chunk, size)
			fn := "continueUpload"
			switch {
			case offset == 0:
				fn = "startUpload"
			case end == size:
				fn = "finishUpload"
			}
			a, err := ff.lib.Chunk(ctx, file, fn, id, int64(offset), bytes.NewReader(content[offset:end]), int64(end-offset))
			what := fmt.Sprintf("%s at offset %d", fn, offset)
			mustSend(t, http.StatusOK, a, err, what)
			if a.Server == "" {
				t.Fatalf("%s: the answer names no server (X-Cesivi-Server-Id); the edge must pass it on", what)
			}
			servedBy[a.Server]++
			order = append(order, a.Server)
			var answer map[string]any
			if err := json.Unmarshal(a.Body, &answer); err != nil {
				t.Fatalf("%s: %v", what, a)
			}
			if fn == "finishUpload" {
				if answer["Length"] != strconv.Itoa(size) || answer["Name"] != name {
					t.Fatalf("%s answered %v; want the file with Length %d", what, a, size)
				}
			} else if answer["value"] != strconv.Itoa(end) {
				t.Fatalf("%s answered %v; want the bytes received so far, %d", what, a, end)
			}
		}
		t.Logf("the %d chunks were served by %s", len(order), strings.Join(order, ", "))
		if len(order) < 4 || len(servedBy) < 2 {
			t.Fatalf("the chunks were served by %v; want at least 4 chunks on at least 2 servers", servedBy)
		}

		a, got := ff.download(t, name, nil)
		if a.Status != http.StatusOK || a.Header.Get("Content-Length") != strconv.Itoa(size) {
			t.Fatalf("download: %d with Content-Length %q; want 200 and %d", a.Status, a.Header.Get("Content-Length"), size)
		}
		if sha256Hex(got) != sha256Hex(content) {
			t.Fatalf("downloaded %d bytes through %s with SHA-256 %s; uploaded %d with %s",
				len(got), a.Server, sha256Hex(got), size, sha256Hex(content))
		}
	})
}

func TestRangeAndConditionalDownloadsPassThroughTheEdge(t *testing.T) {
	// Past a Database chunk boundary (1 MiB), so a range spans two chunks.
	const size = 3*mib + 17
	eachFilesProvider(t, func(t *testing.T, ff *filesFarm) {
		content := fileContent(size, 3)
		ff.uploadFile(t, "ranges.bin", content)

		full, body := ff.download(t, "ranges.bin", nil)
		etag := full.Header.Get("ETag")
		if full.Status != http.StatusOK || !bytes.Equal(body, content) || etag == "" {
			t.Fatalf("plain download: %d, %d bytes, ETag %q; want 200, the %d bytes and an ETag", full.Status, len(body), etag, size)
		}
		ranges := []struct {
			header     string
			start, end int // content[start:end]
		}{
			{"bytes=1048000-1049999", 1048000, 1050000}, // across a chunk boundary
			{"bytes=0-0", 0, 1},
			{fmt.Sprintf("bytes=%d-", size-10), size - 10, size},
			{"bytes=-100", size - 100, size},
		}
		for _, r := range ranges {
			a, got := ff.download(t, "ranges.bin", http.Header{"Range": {r.header}})
			wantRange := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end-1, size)
			if a.Status != http.StatusPartialContent || a.Header.Get("Content-Range") != wantRange || !bytes.Equal(got, content[r.start:r.end]) {
				t.Errorf("Range %s through %s: %d, Content-Range %q, %d bytes (right ones: %t); want 206, %q and bytes %d to %d",
					r.header, a.Server, a.Status, a.Header.Get("Content-Range"), len(got), bytes.Equal(got, content[r.start:r.end]), wantRange, r.start, r.end-1)
			}
		}
		beyond := fmt.Sprintf("bytes=%d-", size)
		if a, got := ff.download(t, "ranges.bin", http.Header{"Range": {beyond}}); a.Status != http.StatusRequestedRangeNotSatisfiable ||
			a.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
			t.Errorf("Range %s through %s: %d, Content-Range %q, %q; want 416 and bytes */%d", beyond, a.Server, a.Status, a.Header.Get("Content-Range"), got, size)
		}

		if a, got := ff.download(t, "ranges.bin", http.Header{"If-None-Match": {etag}}); a.Status != http.StatusNotModified || len(got) != 0 {
			t.Errorf("If-None-Match %s through %s: %d with %d bytes; want 304 and none", etag, a.Server, a.Status, len(got))
		}
		// Another version of the file no longer matches.
		ff.uploadFile(t, "ranges.bin", content[:size-1])
		a, got := ff.download(t, "ranges.bin", http.Header{"If-None-Match": {etag}})
		if a.Status != http.StatusOK || len(got) != size-1 || a.Header.Get("ETag") == etag {
			t.Errorf("If-None-Match of the old ETag after an overwrite, through %s: %d, %d bytes, ETag %s; want 200, %d bytes and a new ETag",
				a.Server, a.Status, len(got), a.Header.Get("ETag"), size-1)
		}
	})
}

// stalledBody is an upload's body of size bytes that sends the first
// stallAt of them, then waits (a client on a link that stopped) until
// resume is closed or the body is closed.
type stalledBody struct {
	size, stallAt int64
	sent          atomic.Int64
	resume        <-chan struct{}
	closed        chan struct{}
	closeOnce     atomic.Bool
}

func newStalledBody(size, stallAt int64, resume <-chan struct{}) *stalledBody {
	return &stalledBody{size: size, stallAt: stallAt, resume: resume, closed: make(chan struct{})}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	sent := b.sent.Load()
	if sent == b.stallAt {
		select {
		case <-b.resume:
		case <-b.closed:
			return 0, errors.New("the upload's body was closed")
		}
	}
	if sent >= b.size {
		return 0, io.EOF
	}
	limit := b.size
	if sent < b.stallAt {
		limit = b.stallAt
	}
	n := int(min(int64(len(p)), limit-sent, 256<<10))
	for i := range p[:n] {
		p[i] = byte(int(sent) + i)
	}
	b.sent.Add(int64(n))
	return n, nil
}

func (b *stalledBody) Close() error {
	if b.closeOnce.CompareAndSwap(false, true) {
		close(b.closed)
	}
	return nil
}

// bytesRead is what a process has read through read(2) and its kin,
// sockets included (/proc/<pid>/io rchar).
func bytesRead(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "rchar: "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io has no rchar", pid)
}

func serverPID(t *testing.T, f *farm.Farm, i int) int {
	t.Helper()
	pid := f.PIDs[fmt.Sprintf("server-%d", i+1)]
	if pid == 0 {
		t.Fatalf("the farm recorded no PID for server-%d", i+1)
	}
	return pid
}

func TestSIGKILLMidUploadLeavesNoFileAndTheSweepNoOrphan(t *testing.T) {
	// The server must have received a good part of the body (several
	// Database chunks) before it is killed; the rest never arrives.
	const size, stallAt = 64 * mib, 16 * mib
	eachFilesProvider(t, func(t *testing.T, ff *filesFarm) {
		// A file that stays: the sweep must keep its content.
		keeper := fileContent(2*mib+5, 7)
		ff.uploadFile(t, "keeper.bin", keeper)

		db, err := pgx.Connect(context.Background(), ff.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close(context.Background()) })

		// Which server takes the upload is the edge's choice; the one
		// whose reads grow by the body's bytes has it. Metrics would not
		// say: the bytes-uploaded counter moves when an upload ends.
		readBefore := make([]int64, len(ff.Servers))
		for i := range ff.Servers {
			if readBefore[i], err = bytesRead(serverPID(t, ff.Farm, i)); err != nil {
				t.Fatal(err)
			}
		}
		resume := make(chan struct{})
		body := newStalledBody(size, stallAt, resume)
		type outcome struct {
			a   bench.Answer
			err error
		}
		done := make(chan outcome, 1)
		ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
		defer cancel()
		go func() {
			a, err := ff.lib.Upload(ctx, libraryFolder, "killed.bin", body, size)
			done <- outcome{a, err}
		}()
		handler := -1
		waitFor(t, 30*time.Second, "a server reading the first half of what the client sent", func() bool {
			if body.sent.Load() < stallAt {
				return false
			}
			for i := range ff.Servers {
				n, err := bytesRead(serverPID(t, ff.Farm, i))
				if err == nil && n-readBefore[i] >= stallAt/2 {
					handler = i
					return true
				}
			}
			return false
		})
		// And storing it: the partial content the sweep must remove.
		waitFor(t, 30*time.Second, "partial content in the blob store", func() bool {
			return len(ff.partialContent(t, db)) > 0
		})
		pid := serverPID(t, ff.Farm, handler)
		t.Logf("server-%d (PID %d) is receiving the upload; partial content: %v; SIGKILL", handler+1, pid, ff.partialContent(t, db))
		if err := ff.KillServer(handler); err != nil {
			t.Fatal(err)
		}
		close(resume)
		var res outcome
		select {
		case res = <-done:
		case <-time.After(transferTimeout):
			t.Fatal("the upload did not end after its server was killed")
		}
		if res.err == nil && res.a.Status < 500 {
			t.Fatalf("the client's upload answered %v after its server was killed; want a 5xx or a broken connection", res.a)
		}
		if res.err != nil {
			t.Logf("the client saw: %v", res.err)
		} else {
			t.Logf("the client saw: %d %s", res.a.Status, res.a.Body)
		}

		restartCtx, restartCancel := context.WithTimeout(context.Background(), time.Minute)
		defer restartCancel()
		if err := ff.RestartServer(restartCtx, handler); err != nil {
			t.Fatal(err)
		}
		if a, _ := ff.download(t, "killed.bin", nil); a.Status != http.StatusNotFound {
			t.Fatalf("GET killed.bin after the kill: %v; want 404", a)
		}
		if names := ff.folderFiles(t); slices.Contains(names, "killed.bin") || !slices.Contains(names, "keeper.bin") {
			t.Fatalf("the folder's files after the kill: %v; want keeper.bin and not killed.bin", names)
		}

		out := ff.sweep(t)
		t.Logf("cesivi-server storage sweep -grace 0s: %s", out)
		if partial := ff.partialContent(t, db); len(partial) > 0 {
			t.Errorf("after the sweep, partial content is left: %v", partial)
		}
		if orphans := ff.orphans(t, db); len(orphans) > 0 {
			t.Errorf("after the sweep, content no file names is left: %v", orphans)
		}
		if a, got := ff.download(t, "keeper.bin", nil); a.Status != http.StatusOK || !bytes.Equal(got, keeper) {
			t.Errorf("keeper.bin after the sweep: %d, %d bytes (right ones: %t); want 200 and its %d bytes",
				a.Status, len(got), bytes.Equal(got, keeper), len(keeper))
		}
	})
}

// folderFiles lists the names of the library root's files.
func (ff *filesFarm) folderFiles(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	a, err := ff.lib.Send(ctx, http.MethodGet, bench.FolderAPI(libraryFolder)+"/files?$select=Name", nil, 0, nil)
	mustSend(t, http.StatusOK, a, err, "listing the folder's files")
	var page struct {
		Value []struct{ Name string } `json:"value"`
	}
	if err := json.Unmarshal(a.Body, &page); err != nil {
		t.Fatalf("the folder's files: %v (%v)", a, err)
	}
	var names []string
	for _, f := range page.Value {
		names = append(names, f.Name)
	}
	return names
}

// sweep runs `cesivi-server storage sweep -grace 0s` as an operator of the
// farm would and returns what it printed.
func (ff *filesFarm) sweep(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ff.ServerBinary(), "storage", "sweep", "-grace", "0s")
	cmd.Env = ff.AdminEnv()
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cesivi-server storage sweep -grace 0s: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// partialContent names what interrupted uploads left: Database's
// incomplete "Blobs" rows, SharedDirectory's temporary files (with their
// sizes).
func (ff *filesFarm) partialContent(t *testing.T, db *pgx.Conn) []string {
	t.Helper()
	if ff.provider == "Database" {
		return queryStrings(t, db, `SELECT b."Key"::text || ' (' || count(c."Index") || ' chunks)' FROM "Blobs" b
			LEFT JOIN "BlobChunks" c ON c."BlobKey" = b."Key" WHERE NOT b."Complete" GROUP BY b."Key"`)
	}
	entries, err := os.ReadDir(filepath.Join(ff.dir, ".incoming"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Size() > 0 {
			out = append(out, fmt.Sprintf("%s (%d bytes)", e.Name(), info.Size()))
		}
	}
	return out
}

// orphans names the content no file names: "Blobs" rows no "Files" row
// names, or files of the shared directory that are not the content of a
// file (temporary files included).
func (ff *filesFarm) orphans(t *testing.T, db *pgx.Conn) []string {
	t.Helper()
	if ff.provider == "Database" {
		return queryStrings(t, db, `SELECT b."Key"::text FROM "Blobs" b
			WHERE NOT EXISTS (SELECT 1 FROM "Files" f WHERE f."Blob" = b."Key"::text)`)
	}
	named := map[string]bool{}
	for _, k := range queryStrings(t, db, `SELECT "Blob" FROM "Files" WHERE "Blob" <> ''`) {
		named[k] = true
	}
	var out []string
	err := filepath.WalkDir(ff.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !named[d.Name()] {
			rel, _ := filepath.Rel(ff.dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func queryStrings(t *testing.T, db *pgx.Conn, sql string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, _ := db.Query(ctx, sql)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}
