package memstorage

import (
	"context"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// Update holds the store alone, so a claim never meets an open one.

func (t *tx) Requests() storage.Requests { return requests{t} }

type requests struct{ t *tx }

func requestKey(owner, key string) string { return owner + "\x00" + key }

func (a requests) Claim(ctx context.Context, owner, key, fingerprint string) (*storage.RequestRecord, error) {
	if err := a.t.check(ctx, true); err != nil {
		return nil, err
	}
	if err := storage.CheckIdempotencyKey(key); err != nil {
		return nil, err
	}
	db := &a.t.s.db
	if db.requests == nil {
		db.requests = map[string]*storage.RequestRecord{}
	}
	k := requestKey(owner, key)
	if r, ok := db.requests[k]; ok {
		return copyRecord(r), nil
	}
	set(a.t, db.requests, k, &storage.RequestRecord{Owner: owner, Key: key, Fingerprint: fingerprint, Created: a.t.now})
	return nil, nil
}

func (a requests) Answer(ctx context.Context, owner, key string, ans storage.RequestAnswer) error {
	if err := a.t.check(ctx, true); err != nil {
		return err
	}
	k := requestKey(owner, key)
	r, ok := a.t.s.db.requests[k]
	if !ok {
		return storage.NotFound("no request was claimed with this key")
	}
	c := *r
	c.Answer = copyAnswer(ans)
	set(a.t, a.t.s.db.requests, k, &c)
	return nil
}

func (a requests) Release(ctx context.Context, owner, key string) error {
	if err := a.t.check(ctx, true); err != nil {
		return err
	}
	del(a.t, a.t.s.db.requests, requestKey(owner, key))
	return nil
}

func (a requests) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	if err := a.t.check(ctx, true); err != nil {
		return 0, err
	}
	var n int64
	for k, r := range a.t.s.db.requests {
		if r.Created.Before(olderThan) {
			del(a.t, a.t.s.db.requests, k)
			n++
		}
	}
	return n, nil
}

func copyRecord(r *storage.RequestRecord) *storage.RequestRecord {
	c := *r
	c.Answer = copyAnswer(r.Answer)
	return &c
}

func copyAnswer(a storage.RequestAnswer) storage.RequestAnswer {
	c := storage.RequestAnswer{Status: a.Status, Body: append([]byte(nil), a.Body...)}
	if a.Header != nil {
		c.Header = a.Header.Clone()
	}
	return c
}
