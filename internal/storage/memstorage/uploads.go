package memstorage

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// Chunked uploads live in the store's db, by id. Transactions are
// serial, so of two appends at one offset the second sees the first's
// part: a resend when it is the same, ErrConflict otherwise.

type uploads struct{ t *tx }

func (t *tx) Uploads() storage.Uploads { return uploads{t} }

var errNoUpload = storage.NotFound("no upload in progress has this id")

func cloneUpload(u *storage.Upload) *storage.Upload {
	c := clone(u)
	c.Parts = slices.Clone(u.Parts)
	return c
}

// upload finds an upload by its id in any spelling of the guid.
func (a uploads) upload(ctx context.Context, id string, write bool) (*storage.Upload, error) {
	if err := a.t.check(ctx, write); err != nil {
		return nil, err
	}
	key, ok := storage.UploadID(id)
	if !ok {
		return nil, errNoUpload
	}
	u, ok := a.t.s.db.uploads[key]
	if !ok {
		return nil, errNoUpload
	}
	return u, nil
}

func (a uploads) Start(ctx context.Context, in storage.Upload) (*storage.Upload, error) {
	t := a.t
	if err := t.check(ctx, true); err != nil {
		return nil, err
	}
	if err := storage.CheckUploadStart(in); err != nil {
		return nil, err
	}
	u := cloneUpload(&in)
	u.ID, _ = storage.UploadID(in.ID)
	u.ListID = fold(in.ListID)
	u.Started, u.Touched = t.now, t.now
	if _, taken := t.s.db.uploads[u.ID]; taken {
		return nil, storage.Conflict("an upload with this id is in progress")
	}
	set(t, t.s.db.uploads, u.ID, u)
	return cloneUpload(u), nil
}

func (a uploads) Get(ctx context.Context, id string) (*storage.Upload, error) {
	u, err := a.upload(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return cloneUpload(u), nil
}

func (a uploads) Append(ctx context.Context, id string, offset, size int64, blob string) (*storage.Upload, error) {
	if err := a.t.check(ctx, true); err != nil {
		return nil, err
	}
	if err := storage.CheckUploadPart(offset, size, blob); err != nil {
		return nil, err
	}
	u, err := a.upload(ctx, id, true)
	if err != nil {
		return nil, err
	}
	resend, err := u.Accept(offset, size)
	switch {
	case err != nil:
		return nil, err
	case resend:
		return cloneUpload(u), nil
	}
	n := cloneUpload(u)
	n.Parts = append(n.Parts, storage.UploadPart{Offset: offset, Size: size, Blob: blob})
	n.Touched = a.t.now
	set(a.t, a.t.s.db.uploads, n.ID, n)
	return cloneUpload(n), nil
}

func (a uploads) Delete(ctx context.Context, id string) error {
	u, err := a.upload(ctx, id, true)
	if err != nil {
		return err
	}
	del(a.t, a.t.s.db.uploads, u.ID)
	return nil
}

func (a uploads) Expired(ctx context.Context, before time.Time) ([]*storage.Upload, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	out := []*storage.Upload{}
	for _, u := range a.t.s.db.uploads {
		if u.Touched.Before(before) {
			out = append(out, cloneUpload(u))
		}
	}
	slices.SortFunc(out, func(a, b *storage.Upload) int {
		if c := a.Touched.Compare(b.Touched); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// uploadBlobs reports which of keys a part of an upload in progress
// names, for the blob sweep (Files.BlobsInUse): a chunk received but not
// yet finished into a file is still in use.
func (t *tx) uploadBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	used := map[string]bool{}
	for _, u := range t.s.db.uploads {
		for _, p := range u.Parts {
			if want[p.Blob] {
				used[p.Blob] = true
			}
		}
	}
	return used, nil
}
