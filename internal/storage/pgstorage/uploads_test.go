package pgstorage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/storagetest"
	"github.com/cesivi/cesivi/internal/testenv"
)

// Tests of uploads and attachments that need this package's insides
// (the blob probes) or more than one server on one database.

// serverPool opens a pool of its own on url, as one server has.
func serverPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// servers are n stores over one database, each with its own pool.
func servers(t *testing.T, n int) ([]storage.Store, string) {
	t.Helper()
	url := testenv.Postgres(t)
	stores := make([]storage.Store, n)
	for i := range stores {
		s, err := New(t.Context(), serverPool(t, url), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
	}
	return stores, url
}

// aList creates a site with a list through s.
func aList(t *testing.T, s storage.Store) *storage.List {
	t.Helper()
	var l *storage.List
	if err := s.Update(t.Context(), func(tx storage.Tx) error {
		site, err := tx.Sites().Create(t.Context(), storage.SiteInput{URL: "/sites/up", Title: "Up"})
		if err != nil {
			return err
		}
		l, err = tx.Lists().Create(t.Context(), site.RootWebID, storage.ListInput{Title: "Tasks"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTheUploadProbeNamesTheBlobsOfUploadsInProgress(t *testing.T) {
	t.Parallel()
	stores, _ := servers(t, 1)
	storagetest.UploadBlobsInUse(t, stores[0], func(ctx context.Context, stx storage.Tx, keys []string) (map[string]bool, error) {
		return stx.(*tx).uploadBlobs(ctx, keys)
	})
}

func TestTheAttachmentProbeNamesTheBlobsOfAttachmentsThatExist(t *testing.T) {
	t.Parallel()
	stores, _ := servers(t, 1)
	storagetest.AttachmentBlobsInUse(t, stores[0], func(ctx context.Context, stx storage.Tx, keys []string) (map[string]bool, error) {
		return stx.(*tx).attachmentBlobs(ctx, keys)
	})
}

func TestTwoServersRacingChunksToOneOffsetAppendOne(t *testing.T) {
	t.Parallel()
	stores, _ := servers(t, 2)
	storagetest.AppendConcurrently(t, stores, aList(t, stores[0]).ID, 20)
}

func TestTwoServersAddingOneAttachmentNameAtOnceAddOne(t *testing.T) {
	t.Parallel()
	stores, _ := servers(t, 2)
	l := aList(t, stores[0])
	var it *storage.Item
	if err := stores[0].Update(t.Context(), func(tx storage.Tx) (err error) {
		it, err = tx.Items().Create(t.Context(), l.ID, storage.ItemInput{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	storagetest.AttachConcurrently(t, stores, l.ID, it.ID, 4)
}

// waitForALockWait returns once a session of the database waits for a
// lock: the second server's append queued behind the first's.
func waitForALockWait(t *testing.T, observer *pgxpool.Pool) {
	t.Helper()
	for {
		var waiting int
		if err := observer.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// The race made deterministic: server A appends and holds its
// transaction open until server B's append at the same offset is seen
// waiting on the row lock; B then acts on the row A committed, never on
// the one it first read.
func TestAChunkQueuedBehindAnotherServersChunkAtItsOffsetIsAConflictOrAResend(t *testing.T) {
	t.Parallel()
	stores, url := servers(t, 2)
	observer := serverPool(t, url)
	ctx := t.Context()
	l := aList(t, stores[0])
	u := storage.Upload{ID: storage.NewGUID(), ListID: l.ID, FileURL: "/sites/up/Shared Documents/f.bin", UserID: 1,
		Parts: []storage.UploadPart{{Offset: 0, Size: 10, Blob: "first"}}}
	if err := stores[0].Update(ctx, func(tx storage.Tx) error { _, err := tx.Uploads().Start(ctx, u); return err }); err != nil {
		t.Fatal(err)
	}
	offset := int64(10)
	for _, c := range []struct {
		name   string
		bSize  int64
		wantB  error
		resend bool
	}{{"another size", 5, storage.ErrConflict, false}, {"the same size", 4, nil, true}} {
		holding, release := make(chan struct{}), make(chan struct{})
		errA, errB := make(chan error, 1), make(chan error, 1)
		go func() {
			errA <- stores[0].Update(ctx, func(tx storage.Tx) error {
				_, err := tx.Uploads().Append(ctx, u.ID, offset, 4, "from-a")
				close(holding)
				if err != nil {
					return err
				}
				<-release
				return nil
			})
		}()
		<-holding
		var answered *storage.Upload
		go func() {
			errB <- stores[1].Update(ctx, func(tx storage.Tx) (err error) {
				answered, err = tx.Uploads().Append(ctx, u.ID, offset, c.bSize, "from-b")
				return err
			})
		}()
		waitForALockWait(t, observer)
		close(release)
		if err := <-errA; err != nil {
			t.Fatalf("%s: server A: %v", c.name, err)
		}
		err := <-errB
		if c.wantB == nil && err != nil || c.wantB != nil && !errors.Is(err, c.wantB) {
			t.Fatalf("%s: server B: %v, want %v", c.name, err, c.wantB)
		}
		offset += 4
		var got *storage.Upload
		if err := stores[1].View(ctx, func(tx storage.Tx) (err error) {
			got, err = tx.Uploads().Get(ctx, u.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		last := got.Parts[len(got.Parts)-1]
		if got.Size() != offset || last.Blob != "from-a" {
			t.Fatalf("%s: the upload has %d bytes, last part %+v; want %d, A's", c.name, got.Size(), last, offset)
		}
		if c.resend && (answered == nil || answered.Size() != offset) {
			t.Fatalf("%s: B's resend answered %+v", c.name, answered)
		}
	}
}
