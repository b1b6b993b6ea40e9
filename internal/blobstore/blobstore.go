// Package blobstore holds file content for document libraries: one small
// contract with providers InMemory (memblob), Database (PostgreSQL, in
// fixed-size chunks; pgblob) and SharedDirectory (a directory every
// server of a farm mounts; dirblob), checked by one suite
// (blobstoretest).
//
// A blob is written whole, once, and never changed: Put streams content
// in and returns a key only when the content is durable. Metadata (the
// storage package's Files) names keys and commits after Put returned, so
// a crash between the two leaves at worst an orphan blob, which Sweep
// removes; never a file without content. The application never deletes
// a blob itself: a key may be shared (SharedDirectory is
// content-addressed), so only Sweep, which asks the metadata which keys
// are still named, deletes.
//
// Sweep (sweep.go) is that deletion: it walks blobs older than a grace,
// asks the metadata about them in batches, and deletes the unnamed ones
// unless they were put again meanwhile; providers whose interrupted Puts
// can leave partial content also implement PartialSweeper, which Sweep
// calls to remove it.
package blobstore

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound: no blob has this key.
	ErrNotFound = errors.New("blobstore: not found")
	// ErrTooLarge: the content was longer than Put's limit; nothing was
	// kept.
	ErrTooLarge = errors.New("blobstore: content too large")
	// ErrUnavailable: the store did not answer (database down, share not
	// mounted); nothing was kept and the request may be retried.
	ErrUnavailable = errors.New("blobstore: unavailable")
)

// Blob is what Put stored.
type Blob struct {
	Key    string
	Size   int64
	SHA256 string // lower-case hex of the content's SHA-256
}

// Reader reads one blob. It seeks, so that a download can honour Range
// (net/http's ServeContent), and it reads in pieces: a provider never
// holds a whole large blob in memory.
type Reader interface {
	io.ReadSeekCloser
	Size() int64
}

// Store is a blob provider, safe for concurrent use by many goroutines
// and, for Database and SharedDirectory, by many servers at once.
type Store interface {
	// Name is the provider's name: "InMemory", "Database" or
	// "SharedDirectory" (Cesivi:Storage:Files:Provider).
	Name() string
	// Put reads r to its end and stores the content. Content longer than
	// max bytes (max > 0) is ErrTooLarge and nothing is kept; a read
	// error or a cancelled ctx keeps nothing either (at worst an orphan
	// for Sweep). It returns once the content is durable.
	Put(ctx context.Context, r io.Reader, max int64) (Blob, error)
	// Open returns a reader of the blob's content. The reader may go on
	// using ctx for its reads (Database fetches each chunk with it): use
	// it within ctx's life, e.g. a download's request context.
	Open(ctx context.Context, key string) (Reader, error)
	// Walk calls fn for each blob stored (or, content-addressed, last
	// put) before the time given, in no particular order; fn's error
	// stops the walk and is returned.
	Walk(ctx context.Context, before time.Time, fn func(key string) error) error
	// Delete removes a blob unless it was stored (or put again) at or
	// after notAfter — so that a Sweep that decided a blob was orphaned
	// never removes one that an upload has just put again. A missing
	// blob is not an error. Only Sweep calls it.
	Delete(ctx context.Context, key string, notAfter time.Time) error
	// Ping reports whether the store answers (the Storage health entry).
	Ping(ctx context.Context) error
}
