package memstorage

import (
	"context"
	"slices"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Attachments live in their list, by item, so that deleting the list (or
// its web or site) takes them along; deleting the item drops its entry
// (items.Delete).

type attachments struct{ t *tx }

func (t *tx) Attachments() storage.Attachments { return attachments{t} }

var errNoAttachment = storage.NotFound("the item has no attachment with this name")

func (a attachments) List(ctx context.Context, listID string, itemID int64) ([]*storage.File, error) {
	l, _, err := items(a).item(ctx, listID, itemID, false)
	if err != nil {
		return nil, err
	}
	out := []*storage.File{}
	for _, f := range l.attachments[itemID] {
		out = append(out, clone(f))
	}
	slices.SortFunc(out, func(a, b *storage.File) int {
		if c := strings.Compare(fold(a.Name), fold(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

func (a attachments) Get(ctx context.Context, listID string, itemID int64, name string) (*storage.File, error) {
	l, _, err := items(a).item(ctx, listID, itemID, false)
	if err != nil {
		return nil, err
	}
	f, ok := l.attachments[itemID][fold(name)]
	if !ok {
		return nil, errNoAttachment
	}
	return clone(f), nil
}

func (a attachments) Put(ctx context.Context, listID string, itemID int64, in storage.FileInput) (*storage.File, error) {
	t := a.t
	l, it, err := items(a).item(ctx, listID, itemID, true)
	if err != nil {
		return nil, err
	}
	f, err := storage.PutAttachment(l.l, itemID, l.attachments[itemID][fold(in.Name)], in, t.now)
	if err != nil {
		return nil, err
	}
	if l.attachments == nil {
		assign(t, &l.attachments, map[int64]map[string]*storage.File{})
	}
	byName, ok := l.attachments[itemID]
	if !ok {
		byName = map[string]*storage.File{}
		set(t, l.attachments, itemID, byName)
	}
	set(t, byName, fold(f.Name), f)
	a.saveItem(l, it, &in.By)
	return clone(f), nil
}

func (a attachments) Delete(ctx context.Context, listID string, itemID int64, name string) error {
	t := a.t
	l, it, err := items(a).item(ctx, listID, itemID, true)
	if err != nil {
		return err
	}
	byName := l.attachments[itemID]
	if _, ok := byName[fold(name)]; !ok {
		return errNoAttachment
	}
	del(t, byName, fold(name))
	if len(byName) == 0 {
		del(t, l.attachments, itemID)
	}
	a.saveItem(l, it, nil)
	return nil
}

// saveItem records on the item that its attachments changed, as
// SharePoint saves an item with them: its Attachments value, a new
// version (the ETag changes), Modified and, when known, the editor.
func (a attachments) saveItem(l *list, it *storage.Item, by *int64) {
	n := cloneItem(it)
	n.Values[storage.FieldAttachments] = odata.Bool(len(l.attachments[it.ID]) > 0)
	n.Version++
	n.Modified = a.t.now
	if by != nil {
		n.EditorID = *by
	}
	set(a.t, l.items, it.ID, n)
	a.t.record(l, storage.ChangeUpdate, n)
	items(a).touch(l, 0)
}

// attachmentBlobs reports which of keys an attachment names, for the
// blob sweep (Files.BlobsInUse).
func (t *tx) attachmentBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := t.check(ctx, false); err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	used := map[string]bool{}
	for _, l := range t.s.db.lists {
		for _, byName := range l.attachments {
			for _, f := range byName {
				if want[f.Blob] {
					used[f.Blob] = true
				}
			}
		}
	}
	return used, nil
}
