// Package pgblob is the Database blob provider: content in PostgreSQL, in
// the storage database, as rows of fixed-size chunks ("Blobs",
// "BlobChunks"; migration 004 of pgstorage). Content streams in and out a
// chunk at a time: a Put holds one chunk in memory and a connection only
// for the statement that writes it, so a slow upload holds neither a
// transaction nor a pool connection; a reader fetches the chunk its
// position is in, so a Seek skips the chunks before it unread.
//
// A Put writes its blob's row, marked incomplete, with its first chunk;
// each later chunk in a statement of its own; and completes the row with
// its size and hash in the last. Only a complete blob can be opened or is
// listed, so a committed completion is what makes it durable. A failed
// Put deletes what it wrote; one cut short by a crash leaves an
// incomplete row, which the sweep removes (SweepPartial).
package pgblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/internal/chunks"
)

// Options configure a Store. The zero value is useful.
type Options struct {
	// Now is the clock of stored times (default time.Now).
	Now func() time.Time
	// ChunkSize is the size of the chunks of new blobs (default 1 MiB);
	// each blob records its own, so it may change between releases.
	ChunkSize int
	// Ready, when set, is called before the store's first use, and again
	// until it succeeds: the storage's Ping, which applies the schema the
	// blob tables are part of when the server started before its
	// database.
	Ready func(ctx context.Context) error
}

// Store keeps blobs in PostgreSQL over a pool it is given and never
// closes.
type Store struct {
	pool      *pgxpool.Pool
	now       func() time.Time
	chunkSize int
	ready     func(ctx context.Context) error
	isReady   atomic.Bool
	buffers   sync.Pool
}

var _ blobstore.Store = (*Store)(nil)
var _ blobstore.PartialSweeper = (*Store)(nil)

// New returns a store over pool; it does not contact the database.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = chunks.Size
	}
	s := &Store{pool: pool, now: opts.Now, chunkSize: opts.ChunkSize, ready: opts.Ready}
	s.buffers.New = func() any { return make([]byte, s.chunkSize) }
	return s
}

// Name is "Database".
func (s *Store) Name() string { return "Database" }

func (s *Store) whenReady(ctx context.Context) error {
	if s.ready == nil || s.isReady.Load() {
		return nil
	}
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("%w: pgblob: the storage database is not ready: %w", blobstore.ErrUnavailable, err)
	}
	s.isReady.Store(true)
	return nil
}

const (
	insertComplete = `INSERT INTO "Blobs" ("Key", "ChunkSize", "Size", "SHA256", "Complete", "Stored") VALUES ($1, $2, $3, $4, true, $5)`
	// The chunk's foreign key is checked at the end of the statement,
	// when the row of the blob it names is there.
	insertCompleteWithChunk = `WITH b AS (` + insertComplete + ` RETURNING "Key")
		INSERT INTO "BlobChunks" ("BlobKey", "Index", "Data") SELECT "Key", 0, $6 FROM b`
	insertFirstChunk = `WITH b AS (INSERT INTO "Blobs" ("Key", "ChunkSize", "Stored") VALUES ($1, $2, $3) RETURNING "Key")
		INSERT INTO "BlobChunks" ("BlobKey", "Index", "Data") SELECT "Key", 0, $4 FROM b`
	// A chunk keeps its blob's time fresh, so the sweep spares an upload
	// under way.
	appendChunk = `WITH c AS (INSERT INTO "BlobChunks" ("BlobKey", "Index", "Data") VALUES ($1, $2, $3))
		UPDATE "Blobs" SET "Stored" = $4 WHERE "Key" = $1 AND NOT "Complete"`
	complete = `UPDATE "Blobs" SET "Size" = $2, "SHA256" = $3, "Complete" = true, "Stored" = $4 WHERE "Key" = $1 AND NOT "Complete"`
	// appendLastChunk adds the last chunk and completes the blob.
	appendLastChunk = `WITH c AS (INSERT INTO "BlobChunks" ("BlobKey", "Index", "Data") VALUES ($1, $5, $6))
		` + complete
)

// Put implements blobstore.Store.
func (s *Store) Put(ctx context.Context, r io.Reader, max int64) (blobstore.Blob, error) {
	if err := s.whenReady(ctx); err != nil {
		return blobstore.Blob{}, err
	}
	buf := s.buffers.Get().([]byte)
	defer s.buffers.Put(buf)
	cr := chunks.NewReader(ctx, r, max, buf)
	key := chunks.NewKey()
	started := false
	fail := func(err error) (blobstore.Blob, error) {
		if started {
			s.discard(ctx, key)
		}
		return blobstore.Blob{}, err
	}
	for index := 0; ; index++ {
		piece, err := cr.Next()
		if err != nil && err != io.EOF {
			return fail(err)
		}
		last := err == io.EOF || cr.Last()
		var tag pgconn.CommandTag
		switch {
		case !started && last && piece == nil:
			tag, err = s.pool.Exec(ctx, insertComplete, key, s.chunkSize, cr.Size(), cr.SHA256(), s.now())
		case !started && last:
			tag, err = s.pool.Exec(ctx, insertCompleteWithChunk, key, s.chunkSize, cr.Size(), cr.SHA256(), s.now(), piece)
		case !started:
			tag, err = s.pool.Exec(ctx, insertFirstChunk, key, s.chunkSize, s.now(), piece)
			started = err == nil
		case last && piece == nil:
			tag, err = s.pool.Exec(ctx, complete, key, cr.Size(), cr.SHA256(), s.now())
		case last:
			tag, err = s.pool.Exec(ctx, appendLastChunk, key, cr.Size(), cr.SHA256(), s.now(), index, piece)
		default:
			tag, err = s.pool.Exec(ctx, appendChunk, key, index, piece, s.now())
		}
		if err != nil {
			return fail(s.fail(ctx, "writing the content", err))
		}
		if tag.RowsAffected() != 1 {
			return fail(errSwept)
		}
		if last {
			return blobstore.Blob{Key: key, Size: cr.Size(), SHA256: cr.SHA256()}, nil
		}
	}
}

// errSwept: the sweep removed an upload that had stalled for longer than
// its grace; it fails rather than completing without its first chunks.
var errSwept = errors.New("pgblob: the upload was removed while it was written (it stalled for longer than the sweep's grace)")

// discard deletes what a failed Put wrote, even when the Put failed
// because its context ended; when that fails too (the database is down)
// the sweep removes the incomplete blob later.
func (s *Store) discard(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	s.pool.Exec(ctx, `DELETE FROM "Blobs" WHERE "Key" = $1 AND NOT "Complete"`, key)
}

// Open implements blobstore.Store. The reader fetches chunks with ctx, so
// it reads for as long as ctx lasts (a download's request).
func (s *Store) Open(ctx context.Context, key string) (blobstore.Reader, error) {
	if !chunks.IsKey(key) {
		return nil, blobstore.ErrNotFound
	}
	if err := s.whenReady(ctx); err != nil {
		return nil, err
	}
	r := &reader{s: s, ctx: ctx, key: key, loaded: -1}
	err := s.pool.QueryRow(ctx, `SELECT "Size", "ChunkSize" FROM "Blobs" WHERE "Key" = $1 AND "Complete"`, key).Scan(&r.size, &r.chunkSize)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, blobstore.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, "opening a blob", err)
	}
	return r, nil
}

// walkPage is how many keys Walk reads per statement; it holds no
// connection while fn runs, so fn may use the store (Sweep deletes).
const walkPage = 1000

// Walk implements blobstore.Store, in key order.
func (s *Store) Walk(ctx context.Context, before time.Time, fn func(key string) error) error {
	if err := s.whenReady(ctx); err != nil {
		return err
	}
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := s.pool.Query(ctx, `SELECT "Key"::text FROM "Blobs" WHERE "Complete" AND "Stored" < $1 AND "Key" > $2 ORDER BY "Key" LIMIT $3`,
			before, after, walkPage)
		if err != nil {
			return s.fail(ctx, "listing the blobs", err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return s.fail(ctx, "listing the blobs", err)
		}
		for _, k := range keys {
			if err := fn(k); err != nil {
				return err
			}
		}
		if len(keys) < walkPage {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

// Delete implements blobstore.Store; the chunks go with the blob's row.
func (s *Store) Delete(ctx context.Context, key string, notAfter time.Time) error {
	if !chunks.IsKey(key) {
		return nil
	}
	if err := s.whenReady(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM "Blobs" WHERE "Key" = $1 AND "Complete" AND "Stored" < $2`, key, notAfter)
	return s.fail(ctx, "deleting a blob", err)
}

// SweepPartial implements blobstore.PartialSweeper: incomplete blobs that
// received no chunk since notAfter.
func (s *Store) SweepPartial(ctx context.Context, notAfter time.Time) (int, error) {
	if err := s.whenReady(ctx); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM "Blobs" WHERE NOT "Complete" AND "Stored" < $1`, notAfter)
	if err != nil {
		return 0, s.fail(ctx, "removing interrupted uploads", err)
	}
	return int(tag.RowsAffected()), nil
}

// Ping checks that the database answers and holds the blob tables.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.whenReady(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `SELECT FROM "Blobs" LIMIT 0`)
	return s.fail(ctx, "checking the database", err)
}

// fail classifies a database error: the end of ctx as itself, an outage
// or a schema not yet applied as ErrUnavailable.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("pgblob: %s: %w", op, cerr)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch class := pe.Code[:2]; {
		case pe.Code == "42P01":
			return fmt.Errorf("%w: pgblob: %s: the blob tables do not exist yet (the storage schema is not applied)", blobstore.ErrUnavailable, op)
		case pe.Code == "23503":
			return errSwept
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "57014", class == "08", class == "53", class == "57", class == "58":
			return fmt.Errorf("%w: pgblob: %s: postgres %s: %s", blobstore.ErrUnavailable, op, pe.Code, pe.Message)
		}
		return fmt.Errorf("pgblob: %s: postgres %s: %s", op, pe.Code, pe.Message)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "closed pool") || strings.Contains(err.Error(), "conn closed") {
		return fmt.Errorf("%w: pgblob: %s: %w", blobstore.ErrUnavailable, op, err)
	}
	return fmt.Errorf("pgblob: %s: %w", op, err)
}

// reader reads a blob a chunk at a time into one buffer.
type reader struct {
	s         *Store
	ctx       context.Context
	key       string
	size      int64
	chunkSize int64
	pos       int64
	// loaded is the index of the chunk in buf, -1 for none.
	loaded int64
	buf    []byte
	closed bool
}

func (r *reader) Size() int64 { return r.size }

func (r *reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, fs.ErrClosed
	}
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	index := r.pos / r.chunkSize
	if index != r.loaded {
		if err := r.fetch(index); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.pos-index*r.chunkSize:])
	r.pos += int64(n)
	return n, nil
}

// fetch loads chunk index into the buffer, checking it has the length
// the blob's size gives it.
func (r *reader) fetch(index int64) error {
	want := min(r.chunkSize, r.size-index*r.chunkSize)
	if r.buf == nil {
		if r.chunkSize == int64(r.s.chunkSize) && r.size >= r.chunkSize {
			r.buf = r.s.buffers.Get().([]byte)[:0]
		} else {
			r.buf = make([]byte, 0, min(r.chunkSize, r.size))
		}
	}
	r.loaded = -1
	dst := chunkBuffer{buf: &r.buf}
	err := r.s.pool.QueryRow(r.ctx, `SELECT "Data" FROM "BlobChunks" WHERE "BlobKey" = $1 AND "Index" = $2`, r.key, index).Scan(&dst)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgblob: chunk %d of a blob is missing", index)
	}
	if err != nil {
		return r.s.fail(r.ctx, "reading a blob", err)
	}
	if int64(len(r.buf)) != want {
		return fmt.Errorf("pgblob: chunk %d of a blob has %d bytes, not %d", index, len(r.buf), want)
	}
	r.loaded = index
	return nil
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	if r.closed {
		return 0, fs.ErrClosed
	}
	pos, err := chunks.Seek(r.pos, r.size, offset, whence)
	r.pos = pos
	return pos, err
}

func (r *reader) Close() error {
	if !r.closed && cap(r.buf) == r.s.chunkSize {
		r.s.buffers.Put(r.buf[:cap(r.buf)])
	}
	r.closed, r.buf = true, nil
	return nil
}

// chunkBuffer scans a bytea into a reused buffer (pgx would allocate a
// new slice for every chunk).
type chunkBuffer struct{ buf *[]byte }

func (c chunkBuffer) ScanBytes(src []byte) error {
	*c.buf = append((*c.buf)[:0], src...)
	return nil
}
