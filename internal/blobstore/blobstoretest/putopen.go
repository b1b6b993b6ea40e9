package blobstoretest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing/iotest"
	"time"
)

const mib = 1 << 20

// sizes are around the piece sizes providers are likely to use (buffers,
// pages, 1 MiB chunks), each exactly, one less and one more.
var sizes = []int{0, 1, 2, 4095, 4096, 4097, 65535, 65536, 65537, mib - 1, mib, mib + 1, 2*mib - 1, 2 * mib, 2*mib + 1}

var putOpenTests = []test{
	{"content of every size reads back whole, with its size and SHA-256", func(e *env) {
		for i, n := range sizes {
			c := content(n, uint64(i))
			b := e.put(c)
			e.mustHold(b.Key, c)
		}
	}},
	{"readers that return little at a time or data with io.EOF give the same blob", func(e *env) {
		c := content(mib+12345, 7)
		for name, r := range map[string]io.Reader{
			"half reads":    iotest.HalfReader(bytes.NewReader(c)),
			"one byte":      iotest.OneByteReader(bytes.NewReader(c[:5000])),
			"data with EOF": iotest.DataErrReader(bytes.NewReader(c)),
		} {
			want := c
			if name == "one byte" {
				want = c[:5000]
			}
			b, err := e.s.Put(e.ctx, r, 0)
			if err != nil {
				e.t.Fatalf("%s: %v", name, err)
			}
			e.checkBlob(b, want)
			e.mustHold(b.Key, want)
		}
	}},
	{"Size is known at Open and reads after the end return io.EOF", func(e *env) {
		c := content(3000, 1)
		b := e.put(c)
		r, err := e.s.Open(e.ctx, b.Key)
		if err != nil {
			e.t.Fatal(err)
		}
		defer r.Close()
		if r.Size() != 3000 {
			e.t.Fatalf("Size() = %d before any read; want 3000", r.Size())
		}
		if _, err := io.ReadAll(r); err != nil {
			e.t.Fatal(err)
		}
		for range 2 {
			if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				e.t.Fatalf("Read at the end = %d, %v; want 0, io.EOF", n, err)
			}
		}
	}},
	{"Seek from the start, the current position and the end, then read", func(e *env) {
		size := 2*mib + 1000
		c := content(size, 3)
		b := e.put(c)
		r, err := e.s.Open(e.ctx, b.Key)
		if err != nil {
			e.t.Fatal(err)
		}
		defer r.Close()
		seekRead := func(offset int64, whence int, wantPos int64, n int) {
			e.t.Helper()
			pos, err := r.Seek(offset, whence)
			if err != nil || pos != wantPos {
				e.t.Fatalf("Seek(%d, %d) = %d, %v; want %d", offset, whence, pos, err, wantPos)
			}
			got := make([]byte, n)
			if _, err := io.ReadFull(r, got); err != nil {
				e.t.Fatalf("reading %d bytes at %d: %v", n, wantPos, err)
			}
			if !bytes.Equal(got, c[wantPos:wantPos+int64(n)]) {
				e.t.Fatalf("%d bytes at %d differ from the content", n, wantPos)
			}
		}
		seekRead(10, io.SeekStart, 10, 5)
		seekRead(mib-2, io.SeekStart, mib-2, 4) // across a piece boundary
		seekRead(3, io.SeekCurrent, mib+5, 10)
		seekRead(-7, io.SeekEnd, int64(size-7), 7)
		seekRead(0, io.SeekStart, 0, 100) // back to a piece read before
		seekRead(-50, io.SeekCurrent, 50, 2*mib)
		if pos, err := r.Seek(0, io.SeekCurrent); err != nil || pos != 50+2*mib {
			e.t.Fatalf("Seek(0, SeekCurrent) = %d, %v; want %d", pos, err, 50+2*mib)
		}
		if pos, err := r.Seek(int64(size+10), io.SeekStart); err != nil || pos != int64(size+10) {
			e.t.Fatalf("Seek past the end = %d, %v; want it allowed", pos, err)
		}
		if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			e.t.Fatalf("Read past the end = %d, %v; want 0, io.EOF", n, err)
		}
		if _, err := r.Seek(-1, io.SeekStart); err == nil {
			e.t.Fatal("Seek to -1 succeeded")
		}
		seekRead(0, io.SeekEnd, int64(size), 0)
		seekRead(1, io.SeekStart, 1, size-1)
	}},
	{"http.ServeContent answers Range requests from a reader", func(e *env) {
		size := 2*mib + 77
		c := content(size, 4)
		b := e.put(c)
		for _, tc := range []struct {
			rangeHeader string
			status      int
			want        []byte
		}{
			{"", http.StatusOK, c},
			{"bytes=1048570-1048585", http.StatusPartialContent, c[1048570:1048586]},
			{"bytes=-100", http.StatusPartialContent, c[size-100:]},
			{fmt.Sprintf("bytes=%d-", size-3), http.StatusPartialContent, c[size-3:]},
			{fmt.Sprintf("bytes=%d-", size), http.StatusRequestedRangeNotSatisfiable, nil},
		} {
			r, err := e.s.Open(e.ctx, b.Key)
			if err != nil {
				e.t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/f.bin", nil)
			if tc.rangeHeader != "" {
				req.Header.Set("Range", tc.rangeHeader)
			}
			w := httptest.NewRecorder()
			http.ServeContent(w, req, "f.bin", time.Time{}, r)
			r.Close()
			if w.Code != tc.status {
				e.t.Fatalf("Range %q: status %d; want %d", tc.rangeHeader, w.Code, tc.status)
			}
			if tc.want != nil && !bytes.Equal(w.Body.Bytes(), tc.want) {
				e.t.Fatalf("Range %q: %d bytes that differ from the %d wanted", tc.rangeHeader, w.Body.Len(), len(tc.want))
			}
		}
	}},
	{"Open of a key never stored, or of no key at all, is ErrNotFound", func(e *env) {
		b := e.put([]byte("kept"))
		for _, key := range []string{"", "nope", "../../../../etc/passwd", "/etc/passwd", "..",
			"00000000-0000-0000-0000-000000000000", "0f8fad5b-d9cb-469f-a165-70867728950e",
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // the SHA-256 of nothing
			b.Key + "x", b.Key[:len(b.Key)-1], "\x00"} {
			e.mustBeGone(key)
		}
	}},
	{"a closed reader reads no more", func(e *env) {
		b := e.put(content(100, 5))
		r, err := e.s.Open(e.ctx, b.Key)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			e.t.Fatal(err)
		}
		if n, err := r.Read(make([]byte, 10)); n != 0 || err == nil || err == io.EOF {
			e.t.Fatalf("Read after Close = %d, %v; want an error", n, err)
		}
	}},
	{"Ping answers and Name is one of the configured names", func(e *env) {
		if err := e.s.Ping(e.ctx); err != nil {
			e.t.Fatal(err)
		}
		if !slices.Contains([]string{"InMemory", "Database", "SharedDirectory"}, e.s.Name()) {
			e.t.Fatalf("Name() = %q", e.s.Name())
		}
	}},
}
