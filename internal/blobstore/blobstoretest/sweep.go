package blobstoretest

import (
	"context"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
)

const grace = time.Hour

// inUseOf answers Sweep from a set of named keys, recording what it was
// asked.
type inUseOf struct {
	named map[string]bool
	asked map[string]bool
	// during runs at the first call, as a request would while the sweep
	// is under way.
	during func()
}

func (u *inUseOf) fn(_ context.Context, keys []string) (map[string]bool, error) {
	if u.asked == nil {
		u.asked = map[string]bool{}
	}
	if u.during != nil {
		u.during()
		u.during = nil
	}
	out := map[string]bool{}
	for _, k := range keys {
		u.asked[k] = true
		if u.named[k] {
			out[k] = true
		}
	}
	return out, nil
}

func (e *env) sweep(u *inUseOf) blobstore.SweepResult {
	e.t.Helper()
	res, err := blobstore.Sweep(e.ctx, e.s, u.fn, grace, e.clock.Now())
	if err != nil {
		e.t.Fatalf("Sweep: %v", err)
	}
	return res
}

var sweepTests = []test{
	{"Sweep deletes the blobs nothing names and keeps the named", func(e *env) {
		ca, cb := content(mib+1, 20), content(10, 21)
		a, b := e.put(ca), e.put(cb)
		e.clock.Advance(grace + time.Second)
		res := e.sweep(&inUseOf{named: map[string]bool{a.Key: true}})
		if res.Checked != 2 || res.InUse != 1 || res.Orphans != 1 {
			e.t.Fatalf("Sweep = %+v; want 2 checked, 1 in use, 1 orphan", res)
		}
		e.mustHold(a.Key, ca)
		e.mustBeGone(b.Key)
	}},
	{"Sweep leaves blobs younger than the grace alone and does not ask about them", func(e *env) {
		old := e.put(content(100, 22))
		e.clock.Advance(grace)
		young := e.put(content(100, 23))
		e.clock.Advance(time.Second)
		u := &inUseOf{}
		res := e.sweep(u)
		if u.asked[young.Key] || !u.asked[old.Key] || res.Orphans != 1 {
			e.t.Fatalf("Sweep = %+v, asked %v; want only the old blob asked about and deleted", res, u.asked)
		}
		e.mustBeGone(old.Key)
		e.read(young.Key)
	}},
	{"a blob put again while the sweep runs survives it", func(e *env) {
		c := content(mib+7, 24)
		first := e.put(c)
		e.clock.Advance(2 * grace)
		var again, fresh blobstore.Blob
		u := &inUseOf{during: func() {
			// An upload of the same content, and one of new content,
			// whose metadata is not committed yet.
			again = e.put(c)
			fresh = e.put(content(50, 25))
		}}
		e.sweep(u)
		e.mustHold(again.Key, c)
		e.read(fresh.Key)
		if again.Key != first.Key {
			e.mustBeGone(first.Key)
		}
	}},
	{"Sweep of an empty store does nothing", func(e *env) {
		res := e.sweep(&inUseOf{})
		if res.Checked != 0 || res.Orphans != 0 || res.Partial != 0 {
			e.t.Fatalf("Sweep = %+v", res)
		}
	}},
}
