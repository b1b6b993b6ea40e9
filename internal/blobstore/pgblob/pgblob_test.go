package pgblob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/blobstoretest"
	"github.com/cesivi/cesivi/internal/blobstore/pgblob"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// migratedPool is a pool on a new database with the storage schema
// applied, as a server has it; query adds URL parameters ("&a=b").
func migratedPool(t *testing.T, query string) *pgxpool.Pool {
	t.Helper()
	pool := newPool(t, testenv.Postgres(t)+query)
	if err := pgstorage.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestDatabasePassesTheSuite(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T, now func() time.Time) blobstore.Store {
		return pgblob.New(migratedPool(t, ""), pgblob.Options{Now: now})
	})
}

// TestDatabaseWithSmallOddChunksPassesTheSuite: many chunks per blob,
// none on a power of two, so every boundary of the suite's sizes falls
// inside one.
func TestDatabaseWithSmallOddChunksPassesTheSuite(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T, now func() time.Time) blobstore.Store {
		return pgblob.New(migratedPool(t, ""), pgblob.Options{Now: now, ChunkSize: 300_007})
	})
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*) FROM %q`, table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestContentIsStoredInChunksOfTheConfiguredSize(t *testing.T) {
	pool := migratedPool(t, "")
	s := pgblob.New(pool, pgblob.Options{ChunkSize: 1000})
	b, err := s.Put(t.Context(), bytes.NewReader(bytes.Repeat([]byte("z"), 2500)), 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(t.Context(), `SELECT "Index", length("Data") FROM "BlobChunks" WHERE "BlobKey" = $1 ORDER BY "Index"`, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var i, n int
		rows.Scan(&i, &n)
		got = append(got, fmt.Sprintf("%d:%d", i, n))
	}
	if strings.Join(got, " ") != "0:1000 1:1000 2:500" {
		t.Fatalf("chunks %v; want 0:1000 1:1000 2:500", got)
	}
	var storage string
	if err := pool.QueryRow(t.Context(), `SELECT attstorage FROM pg_attribute WHERE attrelid = '"BlobChunks"'::regclass AND attname = 'Data'`).Scan(&storage); err != nil || storage != "e" {
		t.Fatalf("the chunks' storage is %q (%v); want e (external, not compressed again)", storage, err)
	}
}

// TestASeekFetchesOnlyTheChunkItLandsIn: with the chunks before the last
// removed behind the store's back, reading the end still works and
// reading the start fails.
func TestASeekFetchesOnlyTheChunkItLandsIn(t *testing.T) {
	pool := migratedPool(t, "")
	s := pgblob.New(pool, pgblob.Options{ChunkSize: 1000})
	content := bytes.Repeat([]byte("0123456789"), 1000) // 10 chunks
	b, err := s.Put(t.Context(), bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `DELETE FROM "BlobChunks" WHERE "BlobKey" = $1 AND "Index" < 9`, b.Key); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(t.Context(), b.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Seek(-15, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "567890123456789" {
		t.Fatalf("the last 15 bytes: %q, %v", got, err)
	}
	r.Seek(0, io.SeekStart)
	if _, err := r.Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "chunk 0") {
		t.Fatalf("reading a removed chunk: %v; want an error naming it", err)
	}
}

// TestAFailedPutLeavesNoRows: nothing of it in either table, not even an
// incomplete row for the sweep.
func TestAFailedPutLeavesNoRows(t *testing.T) {
	pool := migratedPool(t, "")
	s := pgblob.New(pool, pgblob.Options{ChunkSize: 1000})
	broken := errors.New("broken")
	if _, err := s.Put(t.Context(), io.MultiReader(bytes.NewReader(make([]byte, 3500)), iotestErr{broken}), 0); !errors.Is(err, broken) {
		t.Fatalf("Put = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &cancelAfter{n: 2500, cancel: cancel}
	if _, err := s.Put(ctx, r, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v", err)
	}
	if _, err := s.Put(t.Context(), bytes.NewReader(make([]byte, 5001)), 5000); !errors.Is(err, blobstore.ErrTooLarge) {
		t.Fatalf("Put = %v", err)
	}
	if b, c := count(t, pool, "Blobs"), count(t, pool, "BlobChunks"); b != 0 || c != 0 {
		t.Fatalf("%d blob rows and %d chunk rows after failed Puts; want none", b, c)
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

// cancelAfter hands out zeros and cancels its context after n bytes.
type cancelAfter struct {
	n      int
	cancel func()
}

func (r *cancelAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		r.cancel()
	}
	r.n -= len(p)
	clear(p)
	return len(p), nil
}

// TestAnUploadCutShortByACrashIsSweptOnceStale: the rows a server killed
// mid-Put leaves are never opened or listed, and the sweep removes them
// once they are older than the grace, not before.
func TestAnUploadCutShortByACrashIsSweptOnceStale(t *testing.T) {
	pool := migratedPool(t, "")
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := pgblob.New(pool, pgblob.Options{Now: func() time.Time { return now }})
	const stale, fresh = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	for key, at := range map[string]time.Time{stale: now.Add(-3 * time.Hour), fresh: now.Add(-time.Minute)} {
		if _, err := pool.Exec(t.Context(), `INSERT INTO "Blobs" ("Key", "ChunkSize", "Stored") VALUES ($1, 1048576, $2)`, key, at); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(t.Context(), `INSERT INTO "BlobChunks" VALUES ($1, 0, '\x00')`, key); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{stale, fresh} {
		if _, err := s.Open(t.Context(), key); !errors.Is(err, blobstore.ErrNotFound) {
			t.Fatalf("Open of an incomplete blob: %v; want ErrNotFound", err)
		}
	}
	res, err := blobstore.Sweep(t.Context(), s, nil, time.Hour, now)
	if err != nil || res.Checked != 0 || res.Partial != 1 {
		t.Fatalf("Sweep = %+v, %v; want the stale incomplete blob removed, nothing asked about", res, err)
	}
	if b, c := count(t, pool, "Blobs"), count(t, pool, "BlobChunks"); b != 1 || c != 1 {
		t.Fatalf("%d blob rows and %d chunk rows; want the fresh upload's only", b, c)
	}
}

// TestAnUploadStalledPastTheGraceFailsRatherThanCompleting: the sweep
// removes it between two of its chunks; its next chunk fails.
func TestAnUploadStalledPastTheGraceFailsRatherThanCompleting(t *testing.T) {
	pool := migratedPool(t, "")
	s := pgblob.New(pool, pgblob.Options{ChunkSize: 1000})
	r := &hook{data: make([]byte, 5000), at: 2500, fn: func() {
		if n, err := s.SweepPartial(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Errorf("SweepPartial = %d, %v; want the upload under way", n, err)
		}
	}}
	_, err := s.Put(t.Context(), r, 0)
	if err == nil || !strings.Contains(err.Error(), "removed while it was written") {
		t.Fatalf("Put = %v; want it to fail, saying the sweep removed it", err)
	}
	if b, c := count(t, pool, "Blobs"), count(t, pool, "BlobChunks"); b != 0 || c != 0 {
		t.Fatalf("%d blob rows and %d chunk rows left", b, c)
	}
}

// hook hands out data, calling fn once after at bytes.
type hook struct {
	data []byte
	at   int
	fn   func()
	read int
}

func (h *hook) Read(p []byte) (int, error) {
	if len(h.data) == 0 {
		return 0, io.EOF
	}
	if h.read >= h.at && h.fn != nil {
		h.fn()
		h.fn = nil
	}
	n := copy(p[:min(len(p), 500)], h.data)
	h.data = h.data[n:]
	h.read += n
	return n, nil
}

// TestOnePooledConnectionIsEnough: a reader holds no connection between
// reads and Walk none while its callback runs, so a Put in the middle of
// a download and a Sweep that deletes as it walks work on a pool of one.
func TestOnePooledConnectionIsEnough(t *testing.T) {
	pool := migratedPool(t, "&pool_max_conns=1")
	clock := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := pgblob.New(pool, pgblob.Options{ChunkSize: 1000, Now: func() time.Time { return clock }})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	content := bytes.Repeat([]byte("abc"), 1000)
	b, err := s.Put(ctx, bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first := make([]byte, 1500)
	if _, err := io.ReadFull(r, first); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Put(ctx, bytes.NewReader(content[:10]), 0); err != nil {
			t.Fatalf("Put during a download: %v", err)
		}
	}
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(append(first, rest...), content) {
		t.Fatalf("the download after the Puts: %v", err)
	}
	clock = clock.Add(2 * time.Hour)
	res, err := blobstore.Sweep(ctx, s, func(context.Context, []string) (map[string]bool, error) { return nil, nil }, time.Hour, clock)
	if err != nil || res.Orphans != 4 {
		t.Fatalf("Sweep = %+v, %v; want the 4 blobs deleted", res, err)
	}
}

// TestBeforeTheSchemaAndWithoutADatabaseTheStoreIsUnavailable: a server
// that started before its database was migrated, or while it was down,
// answers ErrUnavailable, never "not found"; Ready runs until it
// succeeds, then never again.
func TestBeforeTheSchemaAndWithoutADatabaseTheStoreIsUnavailable(t *testing.T) {
	empty := newPool(t, testenv.Postgres(t))
	s := pgblob.New(empty, pgblob.Options{})
	if err := s.Ping(t.Context()); !errors.Is(err, blobstore.ErrUnavailable) || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("Ping before the schema: %v; want ErrUnavailable naming the schema", err)
	}
	if _, err := s.Put(t.Context(), strings.NewReader("x"), 0); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Put before the schema: %v", err)
	}

	calls := 0
	s = pgblob.New(empty, pgblob.Options{Ready: func(ctx context.Context) error {
		calls++
		if calls == 1 {
			return errors.New("the database is starting")
		}
		return pgstorage.Migrate(ctx, empty)
	}})
	if _, err := s.Put(t.Context(), strings.NewReader("x"), 0); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Put while Ready fails: %v; want ErrUnavailable", err)
	}
	b, err := s.Put(t.Context(), strings.NewReader("x"), 0)
	if err != nil {
		t.Fatalf("Put once Ready succeeds: %v", err)
	}
	if _, err := s.Open(t.Context(), b.Key); err != nil || s.Ping(t.Context()) != nil || calls != 2 {
		t.Fatalf("Open %v after %d calls of Ready; want 2", err, calls)
	}

	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	down := newPool(t, fmt.Sprintf("postgres://u@127.0.0.1:%d/d?connect_timeout=2", port))
	s = pgblob.New(down, pgblob.Options{})
	if _, err := s.Open(t.Context(), b.Key); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Open with the database down: %v; want ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, blobstore.ErrUnavailable) {
		t.Fatalf("Ping with the database down: %v; want ErrUnavailable", err)
	}
}

func BenchmarkDatabase16MiB(b *testing.B) {
	url := testenv.Postgres(b)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if err := pgstorage.Migrate(context.Background(), pool); err != nil {
		b.Fatal(err)
	}
	blobstoretest.Bench(b, pgblob.New(pool, pgblob.Options{}), 16<<20)
}
