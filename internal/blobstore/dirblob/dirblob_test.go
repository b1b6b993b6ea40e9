package dirblob_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/blobstoretest"
	"github.com/cesivi/cesivi/internal/blobstore/dirblob"
	"github.com/cesivi/cesivi/internal/fakeclock"
)

func newStore(t *testing.T, dir string, now func() time.Time) *dirblob.Store {
	t.Helper()
	s, err := dirblob.New(dir, dirblob.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSharedDirectoryPassesTheSuite(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T, now func() time.Time) blobstore.Store {
		return newStore(t, t.TempDir(), now)
	})
}

func TestSharedDirectoryWithoutHardLinksPassesTheSuite(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T, now func() time.Time) blobstore.Store {
		return dirblob.WithoutHardLinks(newStore(t, t.TempDir(), now))
	})
}

// files lists the files under dir, relative, with "/" separators.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestContentIsStoredOnceUnderItsSHA256WithAFanOut(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, nil)
	a, err := s.Put(t.Context(), strings.NewReader("hello"), 0)
	if err != nil {
		t.Fatal(err)
	}
	const sum = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if a.Key != sum || a.SHA256 != sum || a.Size != 5 {
		t.Fatalf("Put = %+v; want the SHA-256 of hello as key", a)
	}
	b, err := s.Put(t.Context(), strings.NewReader("hello"), 0)
	if err != nil || b != a {
		t.Fatalf("second Put = %+v, %v; want the same blob", b, err)
	}
	if got := files(t, dir); len(got) != 1 || got[0] != "2c/f2/"+sum {
		t.Fatalf("files %v; want one, 2c/f2/%s, and no temporary left", got, sum)
	}
}

// TestServersPuttingTheSameContentAtOnceAllSucceed: eight stores on one
// directory, as eight servers on one share, each put the same content
// and other content at the same moment.
func TestServersPuttingTheSameContentAtOnceAllSucceed(t *testing.T) {
	dir := t.TempDir()
	same := bytes.Repeat([]byte("shared content "), 150_000) // about 2 MiB
	var wg sync.WaitGroup
	keys := make([]string, 8)
	errs := make([]error, 8)
	start := make(chan struct{})
	for i := range keys {
		s := newStore(t, dir, nil)
		wg.Go(func() {
			<-start
			var b blobstore.Blob
			if b, errs[i] = s.Put(t.Context(), bytes.NewReader(same), 0); errs[i] == nil {
				keys[i] = b.Key
				_, errs[i] = s.Put(t.Context(), bytes.NewReader(append([]byte{byte(i)}, same...)), 0)
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if keys[i] != keys[0] {
			t.Fatalf("server %d got key %s, server 0 %s", i, keys[i], keys[0])
		}
	}
	r, err := newStore(t, dir, nil).Open(t.Context(), keys[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(r); err != nil || !bytes.Equal(got.Bytes(), same) {
		t.Fatalf("the shared blob reads back %d bytes (%v); want the %d put", got.Len(), err, len(same))
	}
	if n := len(files(t, dir)); n != 9 {
		t.Fatalf("%d files; want 9 (the shared content once, eight others), no temporaries", n)
	}
}

// TestTheSweepRemovesStaleTemporariesAndWalkNeverListsThem: what a server
// killed mid-upload (or mid-delete) leaves in .incoming goes once it is
// older than the grace; a fresh one, which may be an upload under way,
// stays; stray names in the fan-out are not blobs.
func TestTheSweepRemovesStaleTemporariesAndWalkNeverListsThem(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.New(time.Now())
	s := newStore(t, dir, clock.Now)
	incoming := filepath.Join(dir, ".incoming")
	write := func(path string, age time.Duration) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := clock.Now().Add(-age)
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(incoming, "put-1234"), 3*time.Hour)
	write(filepath.Join(incoming, "del-5678"), 3*time.Hour)
	write(filepath.Join(incoming, "put-fresh"), time.Minute)
	write(filepath.Join(dir, "ab", "cd", "abcd-not-a-key"), 3*time.Hour)
	write(filepath.Join(dir, "ab", "cd", strings.Repeat("e", 64)), 3*time.Hour) // a key in the wrong place
	write(filepath.Join(dir, "notes.txt"), 3*time.Hour)

	var listed []string
	if err := s.Walk(t.Context(), clock.Now().Add(time.Hour), func(k string) error { listed = append(listed, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Fatalf("Walk listed %v; none of these is a blob", listed)
	}
	res, err := blobstore.Sweep(t.Context(), s, nil, time.Hour, clock.Now())
	if err != nil || res.Partial != 2 {
		t.Fatalf("Sweep = %+v, %v; want the 2 stale temporaries removed", res, err)
	}
	if _, err := os.Stat(filepath.Join(incoming, "put-fresh")); err != nil {
		t.Fatalf("the fresh temporary is gone: %v", err)
	}
}

func TestNewRefusesADirectoryItCannotUse(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "does not exist"},
		{file, "not a directory"},
		{filepath.Join(file, "below"), "not a directory"},
	} {
		_, err := dirblob.New(c.path, dirblob.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("New(%s) = %v; want an error saying %q", c.path, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("New created the missing directory")
	}
	empty := t.TempDir()
	if _, err := dirblob.New(empty, dirblob.Options{}); err != nil {
		t.Fatalf("New of an empty directory: %v", err)
	}
	if left := files(t, empty); len(left) != 0 {
		t.Fatalf("New's check left %v behind", left)
	}
}

// TestAShareThatGoesAwayIsUnavailableNotEmpty: with the directory's
// contents gone (the share unmounted under a running server), every call
// says the store is unavailable rather than that a blob does not exist.
func TestAShareThatGoesAwayIsUnavailableNotEmpty(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, nil)
	b, err := s.Put(t.Context(), strings.NewReader("content"), 0)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ping(t.Context()); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Ping = %v; want ErrUnavailable", err)
	}
	if _, err := s.Open(t.Context(), b.Key); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Open = %v; want ErrUnavailable", err)
	}
	if _, err := s.Put(t.Context(), strings.NewReader("more"), 0); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Put = %v; want ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), dir) {
		t.Fatalf("the error shows the machine's path: %v", err)
	}
}

// TestAPutRacingTheSweepsDeleteAlwaysLeavesItsContent: the content is
// old (an orphan to the sweep) when an upload puts it again while Delete
// runs; however the two interleave, the upload's content is there after.
func TestAPutRacingTheSweepsDeleteAlwaysLeavesItsContent(t *testing.T) {
	dir := t.TempDir()
	epoch := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := fakeclock.New(epoch.Add(time.Hour))
	s := newStore(t, dir, clock.Now)
	content := bytes.Repeat([]byte("x"), 100_000)
	b, err := s.Put(t.Context(), bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, b.Key[0:2], b.Key[2:4], b.Key)
	for i := range 100 {
		if err := os.Chtimes(path, epoch, epoch); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		var wg sync.WaitGroup
		var putErr, delErr error
		wg.Go(func() { _, putErr = s.Put(t.Context(), bytes.NewReader(content), 0) })
		wg.Go(func() { delErr = s.Delete(t.Context(), b.Key, epoch.Add(30*time.Minute)) })
		wg.Wait()
		if putErr != nil || delErr != nil {
			t.Fatalf("round %d: Put %v, Delete %v", i, putErr, delErr)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatalf("round %d: the content put again is gone: %v", i, err)
		}
		if !st.ModTime().Equal(clock.Now()) {
			t.Fatalf("round %d: its time is %v; want the upload's", i, st.ModTime())
		}
	}
}

// TestContentPutAgainJustAfterDeleteCheckedItIsPutBack: the upload lands
// in the moment between Delete's check and its move, on both paths.
func TestContentPutAgainJustAfterDeleteCheckedItIsPutBack(t *testing.T) {
	for _, noLinks := range []bool{false, true} {
		dir := t.TempDir()
		epoch := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		clock := fakeclock.New(epoch)
		s := newStore(t, dir, clock.Now)
		if noLinks {
			dirblob.WithoutHardLinks(s)
		}
		content := []byte("put again at the worst moment")
		b, err := s.Put(t.Context(), bytes.NewReader(content), 0)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)
		var again error
		dirblob.AfterDeleteCheck(s, func() { _, again = s.Put(t.Context(), bytes.NewReader(content), 0) })
		if err := s.Delete(t.Context(), b.Key, epoch.Add(time.Hour)); err != nil || again != nil {
			t.Fatalf("Delete %v, Put %v", err, again)
		}
		r, err := s.Open(t.Context(), b.Key)
		if err != nil {
			t.Fatalf("without hard links %v: the content put again is gone: %v", noLinks, err)
		}
		r.Close()
		if got := files(t, dir); len(got) != 1 {
			t.Fatalf("files %v; want the blob only", got)
		}
	}
}

func BenchmarkSharedDirectory16MiB(b *testing.B) {
	s, err := dirblob.New(b.TempDir(), dirblob.Options{})
	if err != nil {
		b.Fatal(err)
	}
	blobstoretest.Bench(b, s, 16<<20)
}
