package memstorage

import (
	"context"
	"slices"

	"github.com/cesivi/cesivi/internal/storage"
)

// A check-out is the file record's CheckOutType and CheckedOutBy. The
// content the file had when it was checked out is kept, at the holder's
// first overwrite, as a version with the file's own label (see
// overwrite); check-in keeps it as the earlier version, Undo puts it
// back.

type checkOuts struct{ t *tx }

func (t *tx) CheckOuts() storage.CheckOuts { return checkOuts{t} }

func (a checkOuts) CheckOut(ctx context.Context, listID, url string, by int64) (*storage.File, error) {
	l, f, err := versions(a).fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	changed, err := storage.CheckOutDecision(f, by)
	if err != nil || !changed {
		return f, err
	}
	rec := storage.CheckedOut(l.files[f.ItemID], by)
	a.t.putFile(l, rec)
	return l.out(rec), nil
}

func (a checkOuts) CheckIn(ctx context.Context, listID, url string, by int64, comment string, kind int) (*storage.File, error) {
	t := a.t
	l, f, err := versions(a).fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckEndOfCheckOut(f, by); err != nil {
		return nil, err
	}
	if err := storage.CheckInComment(comment); err != nil {
		return nil, err
	}
	major, minor, err := storage.CheckedInLabel(f, kind)
	if err != nil {
		return nil, err
	}
	h := l.history(f.UniqueID)
	vs, was := h.versions, h.comment
	if t.heldContentKept(l, f) {
		was = vs[len(vs)-1].CheckInComment
		vs = vs[:len(vs)-1]
	}
	// The content of the check-out becomes the earlier version, unless
	// the check-in overwrites it or the library keeps no versions.
	if kind != storage.CheckInOverwrite && l.l.EnableVersioning {
		vs = append(slices.Clip(vs), storage.ContentVersion(t.contentAtCheckOut(l, f), was))
		vs = vs[storage.VersionsToDrop(len(vs), l.l.MajorVersionLimit):]
	}
	t.setHistory(l, f.UniqueID, &fileHistory{versions: vs, comment: comment})
	n := *f
	n.MajorVersion, n.MinorVersion = major, minor
	n.CheckOutType, n.CheckedOutBy = storage.CheckOutNone, 0
	n.Version++
	n.Modified, n.EditorID = t.now, by
	t.saveContent(l, &n)
	return l.out(&n), nil
}

// contentAtCheckOut is f as it was when it was checked out, as far as
// its content goes: f itself unless its holder replaced it.
func (t *tx) contentAtCheckOut(l *list, f *storage.File) *storage.File {
	if !t.heldContentKept(l, f) {
		return f
	}
	vs := l.history(f.UniqueID).versions
	v := vs[len(vs)-1]
	c := *f
	c.Blob, c.Length, c.Modified, c.EditorID = v.Blob, v.Length, v.Created, v.CreatedBy
	return &c
}

func (a checkOuts) Undo(ctx context.Context, listID, url string, by int64) (*storage.File, error) {
	t := a.t
	l, f, err := versions(a).fileFor(ctx, listID, url, true)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckEndOfCheckOut(f, by); err != nil {
		return nil, err
	}
	n := *f
	n.CheckOutType, n.CheckedOutBy = storage.CheckOutNone, 0
	if !t.heldContentKept(l, f) {
		rec := clone(l.files[f.ItemID])
		rec.CheckOutType, rec.CheckedOutBy = storage.CheckOutNone, 0
		t.putFile(l, rec)
		return l.out(rec), nil
	}
	h := l.history(f.UniqueID)
	v := h.versions[len(h.versions)-1]
	n = *t.contentAtCheckOut(l, &n)
	n.Version++
	t.setHistory(l, f.UniqueID, &fileHistory{versions: h.versions[:len(h.versions)-1], comment: v.CheckInComment})
	t.storeContent(l, &n)
	return l.out(&n), nil
}
