package storagetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// startUpload opens an upload on list listID with a first part of size
// bytes.
func (e *env) startUpload(listID string, size int64) *storage.Upload {
	e.t.Helper()
	var u *storage.Upload
	e.do(func(tx storage.Tx) (err error) {
		u, err = tx.Uploads().Start(e.ctx, newUpload(listID, size))
		return err
	})
	return u
}

func newUpload(listID string, size int64) storage.Upload {
	return storage.Upload{ID: storage.NewGUID(), ListID: listID, FileURL: "/sites/dev/Shared Documents/big.bin", UserID: 6,
		Parts: []storage.UploadPart{{Offset: 0, Size: size, Blob: "blob-0"}}}
}

func (e *env) appendPart(id string, offset, size int64, blob string) (*storage.Upload, error) {
	var u *storage.Upload
	err := e.s.Update(e.ctx, func(tx storage.Tx) (err error) {
		u, err = tx.Uploads().Append(e.ctx, id, offset, size, blob)
		return err
	})
	return u, err
}

func (e *env) chunkedUpload(id string) (*storage.Upload, error) {
	var u *storage.Upload
	err := e.s.View(e.ctx, func(tx storage.Tx) (err error) {
		u, err = tx.Uploads().Get(e.ctx, id)
		return err
	})
	return u, err
}

func (e *env) expired(before time.Time) []*storage.Upload {
	e.t.Helper()
	var us []*storage.Upload
	e.read(func(tx storage.Tx) (err error) {
		us, err = tx.Uploads().Expired(e.ctx, before)
		return err
	})
	return us
}

func uploadIDs(us []*storage.Upload) []string {
	ids := []string{}
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}

// waitPast returns once the store's clock (storage.Now by default) has
// moved past t, so that the next write is stamped later than t.
func waitPast(t time.Time) {
	for !storage.Now().After(t) {
		time.Sleep(time.Microsecond)
	}
}

var uploadTests = []test{
	{"an upload starts with its first part and is read back by its id in any spelling", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		in := newUpload(strings.ToUpper(l.ID), 10)
		in.ID = strings.ToUpper(in.ID)
		var u *storage.Upload
		e.do(func(tx storage.Tx) (err error) {
			u, err = tx.Uploads().Start(e.ctx, in)
			return err
		})
		if u.ID != strings.ToLower(in.ID) || u.ListID != l.ID || u.FileURL != in.FileURL || u.UserID != 6 ||
			u.Size() != 10 || len(u.Parts) != 1 || u.Started.IsZero() || !u.Touched.Equal(u.Started) {
			t.Fatalf("started %+v", u)
		}
		for _, id := range []string{u.ID, in.ID, "{" + u.ID + "}"} {
			got, err := e.chunkedUpload(id)
			if err != nil || got.ID != u.ID || !slices.Equal(got.Parts, u.Parts) || !got.Started.Equal(u.Started) ||
				!got.Touched.Equal(u.Touched) || got.ListID != l.ID || got.FileURL != u.FileURL || got.UserID != 6 {
				t.Errorf("Get(%s) = %+v, %v; started %+v", id, got, err, u)
			}
		}
	}},
	{"starting an upload id in use is a conflict and changes nothing", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		again := newUpload(l.ID, 99)
		again.ID, again.UserID = strings.ToUpper(u.ID), 7
		e.fails(storage.ErrConflict, func(tx storage.Tx) error {
			_, err := tx.Uploads().Start(e.ctx, again)
			return err
		})
		if got, err := e.chunkedUpload(u.ID); err != nil || got.Size() != 10 || got.UserID != 6 {
			t.Fatalf("after the second start %+v, %v", got, err)
		}
	}},
	{"an upload that is not a guid, names no file, or whose parts do not follow each other from 0 is invalid", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		bad := map[string]func(u *storage.Upload){
			"id not a guid":       func(u *storage.Upload) { u.ID = "upload-1" },
			"list not a guid":     func(u *storage.Upload) { u.ListID = "Tasks" },
			"no file":             func(u *storage.Upload) { u.FileURL = "" },
			"no parts":            func(u *storage.Upload) { u.Parts = nil },
			"first part not at 0": func(u *storage.Upload) { u.Parts[0].Offset = 5 },
			"gap between parts": func(u *storage.Upload) {
				u.Parts = append(u.Parts, storage.UploadPart{Offset: 11, Size: 1, Blob: "b"})
			},
			"negative size": func(u *storage.Upload) { u.Parts[0].Size = -1 },
			"no blob":       func(u *storage.Upload) { u.Parts[0].Blob = "" },
		}
		for name, spoil := range bad {
			u := newUpload(l.ID, 10)
			spoil(&u)
			err := e.s.Update(e.ctx, func(tx storage.Tx) error {
				_, err := tx.Uploads().Start(e.ctx, u)
				return err
			})
			if !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
			if _, ok := storage.UploadID(u.ID); ok {
				if _, err := e.chunkedUpload(u.ID); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s: stored anyway (%v)", name, err)
				}
			}
		}
		// Several contiguous parts at once are a valid start.
		u := newUpload(l.ID, 10)
		u.Parts = append(u.Parts, storage.UploadPart{Offset: 10, Size: 0, Blob: "b"}, storage.UploadPart{Offset: 10, Size: 5, Blob: "c"})
		e.do(func(tx storage.Tx) error {
			got, err := tx.Uploads().Start(e.ctx, u)
			if err == nil && got.Size() != 15 {
				t.Errorf("size %d", got.Size())
			}
			return err
		})
	}},
	{"an unknown upload id is not found everywhere", func(t *testing.T, e *env) {
		for _, id := range []string{storage.NewGUID(), "not-a-guid", ""} {
			if _, err := e.chunkedUpload(id); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(%q): %v", id, err)
			}
			if _, err := e.appendPart(id, 0, 1, "b"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Append(%q): %v", id, err)
			}
			e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Uploads().Delete(e.ctx, id) })
		}
	}},
	{"chunks append at the upload's size and a chunk anywhere else is a conflict that changes nothing", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		got, err := e.appendPart(u.ID, 10, 10, "blob-1")
		if err != nil || got.Size() != 20 || len(got.Parts) != 2 || got.Parts[1] != (storage.UploadPart{Offset: 10, Size: 10, Blob: "blob-1"}) {
			t.Fatalf("append: %+v, %v", got, err)
		}
		for _, offset := range []int64{0, 5, 15, 21, 30} {
			_, err := e.appendPart(u.ID, offset, 3, "stray")
			if !errors.Is(err, storage.ErrConflict) {
				t.Errorf("a chunk at %d: %v, want ErrConflict", offset, err)
			} else if !strings.Contains(err.Error(), "20") {
				t.Errorf("the conflict %q does not say where the next chunk starts", err)
			}
		}
		if got, _ := e.chunkedUpload(u.ID); got.Size() != 20 || len(got.Parts) != 2 {
			t.Fatalf("after refused chunks %+v", got)
		}
		got, err = e.appendPart(strings.ToUpper(u.ID), 20, 1, "blob-2")
		if err != nil || got.Size() != 21 || len(got.Parts) != 3 {
			t.Fatalf("third chunk: %+v, %v", got, err)
		}
	}},
	{"a resent last chunk changes nothing and answers the upload as it is", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		first, err := e.appendPart(u.ID, 10, 10, "blob-1")
		if err != nil {
			t.Fatal(err)
		}
		waitPast(first.Touched)
		for _, blob := range []string{"blob-1", "blob-1-again"} {
			got, err := e.appendPart(u.ID, 10, 10, blob)
			if err != nil || !slices.Equal(got.Parts, first.Parts) || !got.Touched.Equal(first.Touched) {
				t.Fatalf("resend (blob %s): %+v, %v; want %+v", blob, got, err, first)
			}
		}
		// Only the last part is a resend: the first again, or the last
		// part's offset with another size, is a conflict.
		for _, p := range []storage.UploadPart{{Offset: 0, Size: 10}, {Offset: 10, Size: 9}, {Offset: 10, Size: 11}} {
			if _, err := e.appendPart(u.ID, p.Offset, p.Size, "x"); !errors.Is(err, storage.ErrConflict) {
				t.Errorf("chunk %+v: %v, want ErrConflict", p, err)
			}
		}
		if got, _ := e.chunkedUpload(u.ID); !slices.Equal(got.Parts, first.Parts) || !got.Touched.Equal(first.Touched) {
			t.Fatalf("after resends %+v, want %+v", got, first)
		}
	}},
	{"an empty chunk appends once and sending it again is a resend", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		for range 2 {
			got, err := e.appendPart(u.ID, 10, 0, "empty")
			if err != nil || len(got.Parts) != 2 || got.Size() != 10 {
				t.Fatalf("empty chunk: %+v, %v", got, err)
			}
		}
		if got, err := e.appendPart(u.ID, 10, 4, "blob-2"); err != nil || len(got.Parts) != 3 || got.Size() != 14 {
			t.Fatalf("after the empty chunk: %+v, %v", got, err)
		}
	}},
	{"a chunk with a negative offset or size or without its blob is invalid", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		for _, p := range []storage.UploadPart{{Offset: -1, Size: 1, Blob: "b"}, {Offset: 10, Size: -1, Blob: "b"}, {Offset: 10, Size: 1}} {
			if _, err := e.appendPart(u.ID, p.Offset, p.Size, p.Blob); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("chunk %+v: %v, want ErrInvalid", p, err)
			}
		}
		if got, _ := e.chunkedUpload(u.ID); len(got.Parts) != 1 {
			t.Fatalf("after invalid chunks %+v", got)
		}
	}},
	{"a deleted upload is gone and deleting it again is not found", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		other := e.startUpload(l.ID, 3)
		e.do(func(tx storage.Tx) error { return tx.Uploads().Delete(e.ctx, strings.ToUpper(u.ID)) })
		if _, err := e.chunkedUpload(u.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
		if _, err := e.appendPart(u.ID, 10, 1, "b"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Append after Delete: %v", err)
		}
		e.fails(storage.ErrNotFound, func(tx storage.Tx) error { return tx.Uploads().Delete(e.ctx, u.ID) })
		if _, err := e.chunkedUpload(other.ID); err != nil {
			t.Fatalf("the other upload: %v", err)
		}
	}},
	{"expired lists the uploads last touched before the time given, oldest first", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		a := e.startUpload(l.ID, 1)
		waitPast(a.Touched)
		b := e.startUpload(l.ID, 1)
		waitPast(b.Touched)
		// Appending to a touches it again: it is now the newest.
		a2, err := e.appendPart(a.ID, 1, 1, "blob-1")
		if err != nil || !a2.Touched.After(b.Touched) || !a2.Started.Equal(a.Started) {
			t.Fatalf("append: %+v, %v", a2, err)
		}
		for _, c := range []struct {
			before time.Time
			want   []string
		}{
			{a.Touched, []string{}},
			{b.Touched, []string{}},
			{b.Touched.Add(time.Microsecond), []string{b.ID}},
			{a2.Touched, []string{b.ID}},
			{a2.Touched.Add(time.Microsecond), []string{b.ID, a.ID}},
		} {
			if got := uploadIDs(e.expired(c.before)); !slices.Equal(got, c.want) {
				t.Errorf("Expired(%v) = %v, want %v", c.before, got, c.want)
			}
		}
		got := e.expired(a2.Touched.Add(time.Hour))
		if len(got) != 2 || len(got[1].Parts) != 2 || got[1].FileURL != a.FileURL {
			t.Errorf("expired uploads are returned whole: %+v", got)
		}
	}},
	{"an upload's start, chunks and delete roll back with their transaction", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		kept := e.startUpload(l.ID, 10)
		in := newUpload(l.ID, 5)
		err := e.s.Update(e.ctx, func(tx storage.Tx) error {
			if _, err := tx.Uploads().Start(e.ctx, in); err != nil {
				return err
			}
			if _, err := tx.Uploads().Append(e.ctx, kept.ID, 10, 10, "blob-1"); err != nil {
				return err
			}
			if _, err := tx.Uploads().Append(e.ctx, in.ID, 5, 10, "blob-1"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if _, err := e.chunkedUpload(in.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("a rolled-back start: %v", err)
		}
		if got, _ := e.chunkedUpload(kept.ID); len(got.Parts) != 1 {
			t.Errorf("a rolled-back chunk stayed: %+v", got)
		}
		err = e.s.Update(e.ctx, func(tx storage.Tx) error {
			if err := tx.Uploads().Delete(e.ctx, kept.ID); err != nil {
				return err
			}
			return errBoom
		})
		if _, err2 := e.chunkedUpload(kept.ID); !errors.Is(err, errBoom) || err2 != nil {
			t.Errorf("a rolled-back delete: %v, then Get: %v", err, err2)
		}
	}},
	{"a read-only transaction cannot start, append to or delete an upload", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		u := e.startUpload(l.ID, 10)
		for name, write := range map[string]func(tx storage.Tx) error{
			"Start": func(tx storage.Tx) error { _, err := tx.Uploads().Start(e.ctx, newUpload(l.ID, 1)); return err },
			"Append": func(tx storage.Tx) error {
				_, err := tx.Uploads().Append(e.ctx, u.ID, 10, 1, "b")
				return err
			},
			"Delete": func(tx storage.Tx) error { return tx.Uploads().Delete(e.ctx, u.ID) },
		} {
			if err := e.s.View(e.ctx, write); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("%s in a View: %v, want ErrInvalid", name, err)
			}
		}
		if got, err := e.chunkedUpload(u.ID); err != nil || len(got.Parts) != 1 {
			t.Fatalf("after refused writes %+v, %v", got, err)
		}
	}},
	{"of two chunks racing to one offset exactly one is appended", func(t *testing.T, e *env) {
		l := e.list("Tasks")
		AppendConcurrently(t, []storage.Store{e.s, e.s}, l.ID, 10)
	}},
}

// AppendConcurrently races, rounds times, one chunk per store (each in a
// goroutine and a transaction of its own) to the same offset of one
// upload, with sizes that differ so that none is a resend of another,
// and checks that each time exactly one is appended and the others are
// ErrConflict.
func AppendConcurrently(t *testing.T, stores []storage.Store, listID string, rounds int) {
	t.Helper()
	ctx := t.Context()
	u := newUpload(listID, 1)
	if err := stores[0].Update(ctx, func(tx storage.Tx) error { _, err := tx.Uploads().Start(ctx, u); return err }); err != nil {
		t.Fatal(err)
	}
	size := int64(1)
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(stores))
		won := make([]*storage.Upload, len(stores))
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Update(ctx, func(tx storage.Tx) (err error) {
					won[i], err = tx.Uploads().Append(ctx, u.ID, size, int64(i+1), "blob")
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Fatalf("round %d: chunks %d and %d were both appended at offset %d", round, winner, i, size)
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("round %d: chunk %d: %v, want ErrConflict", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no chunk was appended", round)
		}
		size += int64(winner + 1)
		if got := won[winner]; got.Size() != size || len(got.Parts) != round+2 {
			t.Fatalf("round %d: the winner answered %+v", round, got)
		}
	}
	if err := stores[len(stores)-1].View(ctx, func(tx storage.Tx) error {
		got, err := tx.Uploads().Get(ctx, u.ID)
		if err == nil && (got.Size() != size || len(got.Parts) != rounds+1) {
			t.Errorf("after %d rounds the upload has %d bytes in %d parts, want %d in %d", rounds, got.Size(), len(got.Parts), size, rounds+1)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// BlobProbe is a provider's answer to which of keys something names: its
// upload or attachment part of Files.BlobsInUse, which the contract does
// not expose, so each provider's own tests hand it in.
type BlobProbe func(ctx context.Context, tx storage.Tx, keys []string) (map[string]bool, error)

// probeBlobs runs probe in a View and returns the keys in use, sorted.
func probeBlobs(t *testing.T, s storage.Store, probe BlobProbe, keys ...string) []string {
	t.Helper()
	var used map[string]bool
	if err := s.View(t.Context(), func(tx storage.Tx) (err error) {
		used, err = probe(t.Context(), tx, keys)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for k, ok := range used {
		if ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// UploadBlobsInUse checks a provider's upload probe: the blobs of the
// parts of uploads in progress are in use, others are not, and a deleted
// upload's are not any more.
func UploadBlobsInUse(t *testing.T, s storage.Store, probe BlobProbe) {
	t.Helper()
	e := newEnv(t, s)
	l := e.list("Tasks")
	a, b := newUpload(l.ID, 1), newUpload(l.ID, 1)
	a.Parts[0].Blob, b.Parts[0].Blob = "a0", "shared"
	e.do(func(tx storage.Tx) error {
		for _, u := range []storage.Upload{a, b} {
			if _, err := tx.Uploads().Start(e.ctx, u); err != nil {
				return err
			}
		}
		if _, err := tx.Uploads().Append(e.ctx, a.ID, 1, 1, "shared"); err != nil {
			return err
		}
		_, err := tx.Uploads().Append(e.ctx, a.ID, 2, 1, "a2")
		return err
	})
	all := []string{"a0", "a2", "nobody", "shared"}
	if got := probeBlobs(t, s, probe, all...); !slices.Equal(got, []string{"a0", "a2", "shared"}) {
		t.Fatalf("in use %v", got)
	}
	if got := probeBlobs(t, s, probe); len(got) != 0 {
		t.Fatalf("no keys asked, %v answered", got)
	}
	e.do(func(tx storage.Tx) error { return tx.Uploads().Delete(e.ctx, a.ID) })
	if got := probeBlobs(t, s, probe, all...); !slices.Equal(got, []string{"shared"}) {
		t.Fatalf("after deleting an upload, in use %v", got)
	}
	e.do(func(tx storage.Tx) error { return tx.Uploads().Delete(e.ctx, b.ID) })
	if got := probeBlobs(t, s, probe, all...); len(got) != 0 {
		t.Fatalf("after deleting every upload, in use %v", got)
	}
}
