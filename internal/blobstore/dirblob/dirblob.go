// Package dirblob is the SharedDirectory blob provider: content in a
// directory every server of a farm mounts (NFS, SMB), addressed by its
// SHA-256, so that the same content is stored once however many files
// name it and whichever servers upload it.
//
// Layout under the root:
//
//	ab/cd/abcd…            a blob, named by the hex SHA-256 of its content
//	.incoming/put-…        content being written (or left by a crash)
//	.incoming/del-…        a blob being deleted
//
// A Put writes to a temporary file in .incoming, syncs it, sets its time,
// and publishes it with link(2), which fails when the name exists: two
// servers putting the same content at once both succeed, one publishes
// and the other refreshes the time of what is there. Published files are
// never replaced, so a reader on another server never has a file pulled
// from under it. Readers never see a partial file. Where the file system
// has no hard links (some SMB mounts) the temporary file is renamed into
// place unless the name exists.
//
// A blob's time is its file's modification time, set by the server that
// put it from its own clock: the farm's servers must keep their clocks
// within the sweep's grace of each other, and write as the same user
// (only a file's owner may set its time).
package dirblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/internal/chunks"
)

// Options configure a Store. The zero value is useful.
type Options struct {
	// Now is the clock of stored times (default time.Now).
	Now func() time.Time
	// SkipCheck makes New touch nothing: for commands that may never use
	// file content. Without it New checks that the directory exists and
	// takes a write, a rename and a remove.
	SkipCheck bool
}

// Store is a shared directory. It keeps no state besides its paths, so
// any number of Stores, in any number of processes, may share one.
type Store struct {
	root     string
	incoming string
	now      func() time.Time
	// noHardLinks takes the rename path, as on a file system without
	// hard links (tests).
	noHardLinks bool
	// afterDeleteCheck runs between Delete's check of the time and its
	// move (tests: a Put in that moment).
	afterDeleteCheck func()
}

var _ blobstore.Store = (*Store)(nil)
var _ blobstore.PartialSweeper = (*Store)(nil)

const incomingDir = ".incoming"

// New opens the directory dir, which must exist: a missing directory is
// more likely a share that is not mounted than one to create.
func New(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{root: dir, incoming: filepath.Join(dir, incomingDir), now: opts.Now}
	if opts.SkipCheck {
		return s, nil
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("dirblob: the directory %s does not exist (is the share mounted?)", dir)
	case err != nil:
		return nil, fmt.Errorf("dirblob: the directory %s cannot be read: %w", dir, pathless(err))
	case !st.IsDir():
		return nil, fmt.Errorf("dirblob: %s is not a directory", dir)
	}
	if err := os.MkdirAll(s.incoming, 0o750); err != nil {
		return nil, fmt.Errorf("dirblob: the directory %s is not writable: %w", dir, pathless(err))
	}
	if err := s.probe(); err != nil {
		return nil, fmt.Errorf("dirblob: the directory %s is not writable: %w", dir, err)
	}
	return s, nil
}

// probe writes, renames and removes a file, as every Put and Delete will.
func (s *Store) probe() error {
	f, err := os.CreateTemp(s.incoming, "put-probe-")
	if err != nil {
		return pathless(err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString("cesivi")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return pathless(err)
	}
	moved := filepath.Join(s.root, ".probe-"+randomName())
	if err := os.Rename(tmp, moved); err != nil {
		return pathless(err)
	}
	return pathless(os.Remove(moved))
}

// Name is "SharedDirectory".
func (s *Store) Name() string { return "SharedDirectory" }

var buffers = sync.Pool{New: func() any { return make([]byte, chunks.Size) }}

// Put implements blobstore.Store.
func (s *Store) Put(ctx context.Context, r io.Reader, max int64) (blobstore.Blob, error) {
	f, err := os.CreateTemp(s.incoming, "put-")
	if err != nil {
		return blobstore.Blob{}, s.fail("creating a temporary file", err)
	}
	tmp := f.Name()
	// Linked or renamed, the temporary name goes; on failure, the content.
	defer os.Remove(tmp)
	size, sum, err := s.write(ctx, f, r, max)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = s.fail("writing the content", cerr)
	}
	if err != nil {
		return blobstore.Blob{}, err
	}
	now := s.now()
	if err := os.Chtimes(tmp, now, now); err != nil {
		return blobstore.Blob{}, s.fail("setting the content's time", err)
	}
	if err := s.publish(tmp, sum, now); err != nil {
		return blobstore.Blob{}, err
	}
	return blobstore.Blob{Key: sum, Size: size, SHA256: sum}, nil
}

// write copies the content into f and syncs it.
func (s *Store) write(ctx context.Context, f *os.File, r io.Reader, max int64) (int64, string, error) {
	buf := buffers.Get().([]byte)
	defer buffers.Put(buf)
	cr := chunks.NewReader(ctx, r, max, buf)
	for {
		piece, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "", err
		}
		if _, err := f.Write(piece); err != nil {
			return 0, "", s.fail("writing the content", err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, "", s.fail("syncing the content", err)
	}
	return cr.Size(), cr.SHA256(), nil
}

// publish gives the synced temporary file its content's name, or, when
// that content is there already, refreshes its time instead, so that a
// sweep that found it orphaned spares it.
func (s *Store) publish(tmp, key string, now time.Time) error {
	final := s.path(key)
	if err := s.ensureDir(filepath.Dir(final)); err != nil {
		return err
	}
	for range 3 {
		err := s.place(tmp, final)
		if err == nil {
			syncDir(filepath.Dir(final))
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return s.fail("publishing the content", err)
		}
		err = os.Chtimes(final, now, now)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return s.fail("refreshing the time of content already stored", err)
		}
		// A sweep removed it between the two calls: publish ours.
	}
	return fmt.Errorf("dirblob: publishing the content: its name kept appearing and disappearing")
}

// errNoHardLinks stands for link(2) failing on a file system without hard
// links.
var errNoHardLinks = errors.New("hard links not supported")

// place gives the file at src the name dst unless dst exists
// (fs.ErrExist): with a hard link, atomically; without, by a rename after
// a check, where two writers may both rename — harmless, since a name
// only ever holds its content.
func (s *Store) place(src, dst string) error {
	err := errNoHardLinks
	if !s.noHardLinks {
		err = os.Link(src, dst)
	}
	switch {
	case err == nil, errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		return err
	case errors.Is(err, errNoHardLinks), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.ENOTSUP),
		errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.EMLINK):
		if _, serr := os.Lstat(dst); serr == nil {
			return fs.ErrExist
		}
		return os.Rename(src, dst)
	}
	return err
}

// ensureDir makes a fan-out directory, syncing its parents when it is new
// so that its name survives a crash.
func (s *Store) ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return s.fail("creating a directory", err)
	}
	syncDir(filepath.Dir(dir))
	syncDir(s.root)
	return nil
}

// Open implements blobstore.Store. The reader is the file itself.
func (s *Store) Open(ctx context.Context, key string) (blobstore.Reader, error) {
	if !isKey(key) {
		return nil, blobstore.ErrNotFound
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(s.incoming); serr != nil {
			return nil, s.fail("opening a blob", serr)
		}
		return nil, blobstore.ErrNotFound
	}
	if err != nil {
		return nil, s.fail("opening a blob", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, s.fail("opening a blob", err)
	}
	return &fileReader{File: f, size: st.Size()}, nil
}

type fileReader struct {
	*os.File
	size int64
}

func (r *fileReader) Size() int64 { return r.size }

// Walk implements blobstore.Store: every file of the fan-out whose name
// is a key, by its modification time.
func (s *Store) Walk(ctx context.Context, before time.Time, fn func(key string) error) error {
	top, err := os.ReadDir(s.root)
	if err != nil {
		return s.fail("listing the blobs", err)
	}
	for _, d1 := range top {
		if !d1.IsDir() || !isFanOut(d1.Name()) {
			continue
		}
		mid, err := readDir(filepath.Join(s.root, d1.Name()))
		if err != nil {
			return s.fail("listing the blobs", err)
		}
		for _, d2 := range mid {
			if !d2.IsDir() || !isFanOut(d2.Name()) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			files, err := readDir(filepath.Join(s.root, d1.Name(), d2.Name()))
			if err != nil {
				return s.fail("listing the blobs", err)
			}
			for _, f := range files {
				key := f.Name()
				if !f.Type().IsRegular() || !isKey(key) || key[0:2] != d1.Name() || key[2:4] != d2.Name() {
					continue
				}
				info, err := f.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted since the listing
				}
				if err != nil {
					return s.fail("listing the blobs", err)
				}
				if !info.ModTime().Before(before) {
					continue
				}
				if err := fn(key); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readDir lists dir; one that is gone lists nothing.
func readDir(dir string) ([]fs.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

// Delete implements blobstore.Store. The blob is first moved aside, then
// its time checked again: content put again between the first check and
// the move is put back, so an upload that refreshed it keeps it. (Its
// name is then missing for the moment between the move and the putting
// back; only a reader that opened it within that moment, after the
// uploader's metadata committed, could see ErrNotFound.)
func (s *Store) Delete(ctx context.Context, key string, notAfter time.Time) error {
	if !isKey(key) {
		return nil
	}
	final := s.path(key)
	st, err := os.Stat(final)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return s.fail("deleting a blob", err)
	}
	if !st.ModTime().Before(notAfter) {
		return nil
	}
	if s.afterDeleteCheck != nil {
		s.afterDeleteCheck()
	}
	aside := filepath.Join(s.incoming, "del-"+randomName())
	if err := os.Rename(final, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return s.fail("deleting a blob", err)
	}
	if st, err := os.Stat(aside); err == nil && !st.ModTime().Before(notAfter) {
		if err := s.place(aside, final); err != nil && !errors.Is(err, fs.ErrExist) {
			return s.fail("putting back a blob put again during its delete", err)
		}
		syncDir(filepath.Dir(final))
	}
	if err := os.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.fail("deleting a blob", err)
	}
	return nil
}

// SweepPartial implements blobstore.PartialSweeper: temporary files last
// written before notAfter (a Put writing keeps its file's time fresh) and
// deletes interrupted half way.
func (s *Store) SweepPartial(ctx context.Context, notAfter time.Time) (int, error) {
	entries, err := os.ReadDir(s.incoming)
	if err != nil {
		return 0, s.fail("listing temporary files", err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasPrefix(name, "put-") || strings.HasPrefix(name, "del-")) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, s.fail("listing temporary files", err)
		}
		if !info.ModTime().Before(notAfter) {
			continue
		}
		if err := os.Remove(filepath.Join(s.incoming, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, s.fail("removing a temporary file", err)
		}
		n++
	}
	return n, nil
}

// Ping checks that the directory is there and is the one New opened (its
// .incoming directory exists: an unmounted share's mount point has none).
// A share that hangs is reported when ctx ends; the stat left behind
// returns when the share does.
func (s *Store) Ping(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		st, err := os.Stat(s.incoming)
		if err == nil && !st.IsDir() {
			err = fmt.Errorf("%s is not a directory", incomingDir)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return s.fail("checking the directory", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: dirblob: the directory did not answer: %w", blobstore.ErrUnavailable, ctx.Err())
	}
}

func (s *Store) path(key string) string {
	return filepath.Join(s.root, key[0:2], key[2:4], key)
}

// fail describes a file system error without the machine's paths, as
// ErrUnavailable when the share is gone or not answering.
func (s *Store) fail(op string, err error) error {
	err = pathless(err)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(s.incoming); serr != nil {
			return fmt.Errorf("%w: dirblob: %s: the directory's %s is gone (is the share mounted?)", blobstore.ErrUnavailable, op, incomingDir)
		}
	}
	for _, errno := range []syscall.Errno{syscall.ESTALE, syscall.EIO, syscall.ENOTCONN, syscall.ETIMEDOUT, syscall.EHOSTDOWN, syscall.EHOSTUNREACH} {
		if errors.Is(err, errno) {
			return fmt.Errorf("%w: dirblob: %s: %w", blobstore.ErrUnavailable, op, err)
		}
	}
	return fmt.Errorf("dirblob: %s: %w", op, err)
}

// pathless unwraps a *fs.PathError or *os.LinkError to its cause.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// syncDir makes new names in dir durable; some file systems cannot, which
// is not an error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func randomName() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isKey: 64 lower-case hex digits.
func isKey(key string) bool { return len(key) == 64 && isHex(key) }

func isFanOut(name string) bool { return len(name) == 2 && isHex(name) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
