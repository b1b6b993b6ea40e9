// Package memblob is the InMemory blob provider: content in the process's
// memory, for a single development server and for tests. It is lost at
// exit and never shared, which is why the configuration refuses it for a
// farm whose metadata lives in PostgreSQL.
package memblob

import (
	"context"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/internal/chunks"
)

// Options configure a Store. The zero value is useful.
type Options struct {
	// Now is the clock of stored times (default time.Now).
	Now func() time.Time
}

// Store keeps blobs in memory. Keys are random, so every Put makes a new
// blob, even of content already held.
type Store struct {
	now func() time.Time

	mu    sync.RWMutex
	blobs map[string]*blob
}

// blob is content in pieces of chunks.Size (the last one shorter), so
// that a large Put never copies what it already read to grow a buffer.
type blob struct {
	pieces [][]byte
	size   int64
	stored time.Time
}

var _ blobstore.Store = (*Store)(nil)

// New returns an empty store.
func New(opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{now: opts.Now, blobs: map[string]*blob{}}
}

// Name is "InMemory".
func (s *Store) Name() string { return "InMemory" }

// Put implements blobstore.Store.
func (s *Store) Put(ctx context.Context, r io.Reader, max int64) (blobstore.Blob, error) {
	cr := chunks.NewReader(ctx, r, max, make([]byte, chunks.Size))
	b := &blob{}
	for {
		piece, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return blobstore.Blob{}, err
		}
		b.pieces = append(b.pieces, append([]byte(nil), piece...))
	}
	b.size = cr.Size()
	key := chunks.NewKey()
	s.mu.Lock()
	b.stored = s.now()
	s.blobs[key] = b
	s.mu.Unlock()
	return blobstore.Blob{Key: key, Size: b.size, SHA256: cr.SHA256()}, nil
}

// Open implements blobstore.Store.
func (s *Store) Open(ctx context.Context, key string) (blobstore.Reader, error) {
	s.mu.RLock()
	b, ok := s.blobs[key]
	s.mu.RUnlock()
	if !ok {
		return nil, blobstore.ErrNotFound
	}
	return &reader{b: b}, nil
}

// Walk implements blobstore.Store. fn runs without the store's lock held,
// so it may Put and Delete.
func (s *Store) Walk(ctx context.Context, before time.Time, fn func(key string) error) error {
	s.mu.RLock()
	var keys []string
	for k, b := range s.blobs {
		if b.stored.Before(before) {
			keys = append(keys, k)
		}
	}
	s.mu.RUnlock()
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements blobstore.Store.
func (s *Store) Delete(ctx context.Context, key string, notAfter time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.blobs[key]; ok && b.stored.Before(notAfter) {
		delete(s.blobs, key)
	}
	return nil
}

// Ping always answers.
func (s *Store) Ping(context.Context) error { return nil }

// reader reads a blob's pieces; the pieces are never changed, so readers
// need no lock.
type reader struct {
	b      *blob
	pos    int64
	closed bool
}

func (r *reader) Size() int64 { return r.b.size }

func (r *reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, fs.ErrClosed
	}
	if r.pos >= r.b.size {
		return 0, io.EOF
	}
	piece := r.b.pieces[r.pos/chunks.Size]
	n := copy(p, piece[r.pos%chunks.Size:])
	r.pos += int64(n)
	return n, nil
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	if r.closed {
		return 0, fs.ErrClosed
	}
	pos, err := chunks.Seek(r.pos, r.b.size, offset, whence)
	r.pos = pos
	return pos, err
}

func (r *reader) Close() error {
	r.closed = true
	return nil
}
