package memstorage

import (
	"context"
	"slices"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// The change log and the subscriptions live on their list (list.changes,
// list.subs): deleting the list deletes them.

func (t *tx) Changes() storage.Changes             { return changes{t} }
func (t *tx) Subscriptions() storage.Subscriptions { return subscriptions{t} }

type changes struct{ t *tx }

// record logs a change of kind for each item, numbered on from the
// list's last one.
func (t *tx) record(l *list, kind storage.ChangeType, its ...*storage.Item) {
	for _, it := range its {
		t.recordID(l, kind, it.ID, it.GUID)
	}
}

// recordFiles logs a change of kind for the item of each file or folder.
func (t *tx) recordFiles(l *list, kind storage.ChangeType, fs ...*storage.File) {
	for _, f := range fs {
		t.recordID(l, kind, f.ItemID, f.UniqueID)
	}
}

func (t *tx) recordID(l *list, kind storage.ChangeType, itemID int64, guid string) {
	assign(t, &l.lastChange, l.lastChange+1)
	c := &storage.Change{ListID: l.l.ID, Number: l.lastChange, Kind: kind, ItemID: itemID, UniqueID: guid, Time: t.now}
	assign(t, &l.changes, append(l.changes, c))
}

func (a changes) Since(ctx context.Context, listID string, afterNumber int64, limit int) ([]*storage.Change, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckLimit(limit); err != nil {
		return nil, err
	}
	if afterNumber < l.prunedThrough {
		return nil, storage.ChangeTokenExpired()
	}
	out := []*storage.Change{}
	// changes are in number order (numbers are handed out in order).
	i, _ := slices.BinarySearchFunc(l.changes, afterNumber+1, func(c *storage.Change, n int64) int { return cmpInt(c.Number, n) })
	for ; i < len(l.changes) && len(out) < limit; i++ {
		out = append(out, clone(l.changes[i]))
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a changes) Latest(ctx context.Context, listID string) (storage.ChangeToken, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return storage.ChangeToken{}, err
	}
	tok := storage.ChangeToken{ListID: l.l.ID, Number: l.lastChange, Time: l.l.Created}
	if n := len(l.changes); n > 0 && l.changes[n-1].Number == l.lastChange {
		tok.Time = l.changes[n-1].Time
	}
	return tok, nil
}

func (a changes) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	if err := a.t.check(ctx, true); err != nil {
		return 0, err
	}
	var n int64
	for _, l := range a.t.s.db.lists {
		kept := make([]*storage.Change, 0, len(l.changes))
		pruned := l.prunedThrough
		for _, c := range l.changes {
			if c.Time.Before(olderThan) {
				pruned = max(pruned, c.Number)
				continue
			}
			kept = append(kept, c)
		}
		if len(kept) == len(l.changes) {
			continue
		}
		n += int64(len(l.changes) - len(kept))
		assign(a.t, &l.changes, kept)
		assign(a.t, &l.prunedThrough, pruned)
	}
	return n, nil
}

type subscriptions struct{ t *tx }

func (a subscriptions) Create(ctx context.Context, in storage.SubscriptionInput) (*storage.Subscription, error) {
	t := a.t
	l, err := t.listOf(ctx, in.ListID, true)
	if err != nil {
		return nil, err
	}
	s, err := storage.NewSubscription(l.l, t.siteOf(l), in, t.now)
	if err != nil {
		return nil, err
	}
	s.NotifiedThrough = l.lastChange
	if l.subs == nil {
		assign(t, &l.subs, map[string]*storage.Subscription{})
	}
	set(t, l.subs, s.ID, s)
	return clone(s), nil
}

func (a subscriptions) sub(ctx context.Context, listID, id string, write bool) (*list, *storage.Subscription, error) {
	l, err := a.t.listOf(ctx, listID, write)
	if err != nil {
		return nil, nil, err
	}
	s, ok := l.subs[fold(id)]
	if !ok {
		return nil, nil, storage.SubscriptionNotFound()
	}
	return l, s, nil
}

func (a subscriptions) Get(ctx context.Context, listID, id string) (*storage.Subscription, error) {
	_, s, err := a.sub(ctx, listID, id, false)
	if err != nil {
		return nil, err
	}
	return clone(s), nil
}

// sorted returns copies of subs in less's order.
func sorted(subs []*storage.Subscription, less func(a, b *storage.Subscription) int) []*storage.Subscription {
	out := make([]*storage.Subscription, 0, len(subs))
	for _, s := range subs {
		out = append(out, clone(s))
	}
	slices.SortFunc(out, less)
	return out
}

func byCreation(a, b *storage.Subscription) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return compareStrings(a.ID, b.ID)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a subscriptions) List(ctx context.Context, listID string) ([]*storage.Subscription, error) {
	return a.Active(ctx, listID, time.Time{})
}

func (a subscriptions) Active(ctx context.Context, listID string, now time.Time) ([]*storage.Subscription, error) {
	l, err := a.t.listOf(ctx, listID, false)
	if err != nil {
		return nil, err
	}
	var subs []*storage.Subscription
	for _, s := range l.subs {
		if s.ExpirationDateTime.After(now) {
			subs = append(subs, s)
		}
	}
	return sorted(subs, byCreation), nil
}

func (a subscriptions) Update(ctx context.Context, listID, id string, upd storage.SubscriptionUpdate) (*storage.Subscription, error) {
	l, s, err := a.sub(ctx, listID, id, true)
	if err != nil {
		return nil, err
	}
	n, err := storage.ApplySubscriptionUpdate(s, upd, a.t.now)
	if err != nil {
		return nil, err
	}
	set(a.t, l.subs, n.ID, n)
	return clone(n), nil
}

func (a subscriptions) Delete(ctx context.Context, listID, id string) error {
	l, s, err := a.sub(ctx, listID, id, true)
	if err != nil {
		return err
	}
	del(a.t, l.subs, s.ID)
	return nil
}

func (a subscriptions) Expired(ctx context.Context, before time.Time, limit int) ([]*storage.Subscription, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	if err := storage.CheckLimit(limit); err != nil {
		return nil, err
	}
	var subs []*storage.Subscription
	for _, l := range a.t.s.db.lists {
		for _, s := range l.subs {
			if !s.ExpirationDateTime.After(before) {
				subs = append(subs, s)
			}
		}
	}
	out := sorted(subs, func(a, b *storage.Subscription) int {
		if c := a.ExpirationDateTime.Compare(b.ExpirationDateTime); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (a subscriptions) Due(ctx context.Context, now time.Time, limit int) ([]*storage.Subscription, error) {
	if err := a.t.check(ctx, false); err != nil {
		return nil, err
	}
	if err := storage.CheckLimit(limit); err != nil {
		return nil, err
	}
	var subs []*storage.Subscription
	for _, l := range a.t.s.db.lists {
		for _, s := range l.subs {
			if s.ExpirationDateTime.After(now) && l.lastChange > s.NotifiedThrough {
				c := clone(s)
				c.LastChange = l.lastChange
				subs = append(subs, c)
			}
		}
	}
	slices.SortFunc(subs, func(a, b *storage.Subscription) int { return compareStrings(a.ID, b.ID) })
	if len(subs) > limit {
		subs = subs[:limit]
	}
	return subs, nil
}

func (a subscriptions) MarkNotified(ctx context.Context, listID, id string, through int64) error {
	l, s, err := a.sub(ctx, listID, id, true)
	if err != nil {
		return err
	}
	if through > s.NotifiedThrough {
		n := clone(s)
		n.NotifiedThrough = through
		set(a.t, l.subs, n.ID, n)
	}
	return nil
}
