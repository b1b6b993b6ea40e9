package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore/memblob"
)

func TestFileAPIEscapesTheLiteral(t *testing.T) {
	got := FileAPI("/Shared Documents/it's 50% #1.bin")
	// The quote doubled inside the literal, then everything but unreserved
	// characters escaped, as the appserver's own tests send it.
	want := "/_api/web/getFileByServerRelativePath(decodedUrl='%2FShared%20Documents%2Fit%27%27s%2050%25%20%231.bin')"
	if got != want {
		t.Errorf("FileAPI = %s\nwant     %s", got, want)
	}
}

func TestLibraryUploadStreamsTheBodyWithItsLengthAndToken(t *testing.T) {
	var gotPath, gotAuth string
	var gotLength int64
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth, gotLength = r.URL.EscapedPath(), r.Header.Get("Authorization"), r.ContentLength
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Cesivi-Server-Id", "server-2")
		w.Write([]byte(`{"Name":"a.bin"}`))
	}))
	defer srv.Close()
	lib := &Library{Edge: srv.URL, Client: srv.Client(),
		Token: func(context.Context) (string, error) { return "tok", nil }}
	a, err := lib.Upload(context.Background(), "/Shared Documents", "a.bin", strings.NewReader("content"), 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != 200 || a.Server != "server-2" || string(a.Body) != `{"Name":"a.bin"}` {
		t.Errorf("answer %v", a)
	}
	wantPath := "/_api/web/getFolderByServerRelativePath(decodedUrl='%2FShared%20Documents')/files/addUsingPath(decodedurl='a.bin',Overwrite=true)"
	if gotPath != wantPath || gotAuth != "Bearer tok" || gotLength != 7 || string(gotBody) != "content" {
		t.Errorf("sent %s, %q, length %d, body %q", gotPath, gotAuth, gotLength, gotBody)
	}
}

func TestEachBodyIsUniqueAndOfItsSize(t *testing.T) {
	r := &filesRun{content: bytes.Repeat([]byte{7}, 1000)}
	a, _ := io.ReadAll(r.body(1000))
	b, _ := io.ReadAll(r.body(1000))
	small, _ := io.ReadAll(r.body(5))
	if len(a) != 1000 || len(b) != 1000 || bytes.Equal(a, b) || !bytes.Equal(a[8:], b[8:]) || len(small) != 5 {
		t.Errorf("bodies of %d, %d and %d bytes; equal: %t", len(a), len(b), len(small), bytes.Equal(a, b))
	}
}

func TestTheSamplerSeesAPeakOfThisProcess(t *testing.T) {
	s, err := SampleRSS([]int{os.Getpid()}, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// 64 MiB touched page by page, so that it is resident.
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	got := s.Stop()
	runtime.KeepAlive(b)
	if got[0].Before <= 0 || got[0].Growth() < 48<<20 {
		t.Errorf("RSS before %d, growth %d; want a growth of about 64 MiB", got[0].Before, got[0].Growth())
	}
}

func TestTheReportMarksWhatMissesTheBar(t *testing.T) {
	const m = 1 << 20 // figures in MiB/s
	res := []FilesResult{{Provider: "Database", Clients: 8, LargeSize: 100 << 20,
		Transfers: []Transfer{{Upload: true, Size: 1 << 20, Edge: []float64{40 * m, 60 * m, 50 * m}, Raw: []float64{100 * m, 100 * m, 100 * m}, Hop: []float64{50 * m, 50 * m, 50 * m}},
			{Size: 1 << 20, Edge: []float64{10 * m, 20 * m, 30 * m}, Raw: []float64{100 * m, 100 * m, 100 * m}, Hop: []float64{40 * m, 40 * m, 40 * m}}},
		Servers: []ServerLoad{{Name: "server-1", Requests: 5, ProcessRSS: ProcessRSS{Before: 20 << 20, Peak: 60 << 20}}}}}
	md := FilesMarkdown(res, FilesOptions{}, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	for _, want := range []string{
		"| Database | upload 1 MiB | 0.50 | 1.00 | 50 | 50 | 100 | 0.40, 0.60, 0.50 |",
		"| Database | download 1 MiB | 0.20 (misses the bar) | 0.50 |",
		"| Database | server-1 | 5 | 20.0 | 60.0 | 40.0 (misses the bar) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report has no %q:\n%s", want, md)
		}
	}
}

func TestThePlainHopStoresAndServesThroughCaddy(t *testing.T) {
	bin := os.Getenv("CESIVI_BIN")
	if bin == "" {
		t.Skip("CESIVI_BIN (the directory with cesivi-edge) is not set")
	}
	ctx := context.Background()
	hop, err := startPlainHop(ctx, filepath.Join(bin, "cesivi-edge"), t.TempDir(), memblob.New(memblob.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer hop.close()
	key, err := hop.put(ctx, strings.NewReader("content"), 7)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := hop.get(ctx, key); err != nil || n != 7 {
		t.Errorf("get %s: %d bytes, %v; want 7", key, n, err)
	}
}
