package blobstoretest

import (
	"errors"
	"time"
)

// Providers keep times to the millisecond at least; the tests step by
// that much.
const tick = time.Millisecond

var timeTests = []test{
	{"Walk lists the blobs stored before the time given", func(e *env) {
		a := e.put([]byte("a"))
		e.clock.Advance(time.Second)
		b := e.put([]byte("b"))
		for _, tc := range []struct {
			before time.Time
			want   []string
		}{
			{Epoch, nil},
			{Epoch.Add(tick), []string{a.Key}},
			{Epoch.Add(time.Second), []string{a.Key}},
			{Epoch.Add(time.Second + tick), []string{a.Key, b.Key}},
		} {
			got := e.walk(tc.before)
			if len(got) != len(tc.want) {
				e.t.Fatalf("Walk(before %v) = %v; want %v", tc.before.Sub(Epoch), got, tc.want)
			}
			for _, k := range tc.want {
				if !got[k] {
					e.t.Fatalf("Walk(before %v) = %v; want %v", tc.before.Sub(Epoch), got, tc.want)
				}
			}
		}
	}},
	{"fn's error stops Walk and is returned", func(e *env) {
		for i := range 3 {
			e.put(content(10, uint64(i)))
		}
		stop := errors.New("stop")
		calls := 0
		err := e.s.Walk(e.ctx, Epoch.Add(time.Hour), func(string) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			e.t.Fatalf("Walk = %v after %d calls; want fn's error after 1", err, calls)
		}
	}},
	{"Delete removes a blob stored before notAfter, never one stored at or after it", func(e *env) {
		c := content(mib+5, 11)
		b := e.put(c)
		for _, notAfter := range []time.Time{Epoch.Add(-time.Hour), Epoch} {
			if err := e.s.Delete(e.ctx, b.Key, notAfter); err != nil {
				e.t.Fatal(err)
			}
			e.mustHold(b.Key, c)
		}
		if err := e.s.Delete(e.ctx, b.Key, Epoch.Add(tick)); err != nil {
			e.t.Fatal(err)
		}
		e.mustBeGone(b.Key)
		if keys := e.everything(); len(keys) != 0 {
			e.t.Fatalf("Walk lists %v after the Delete", keys)
		}
		// Missing blobs, and keys that could never be one, are no error.
		for _, key := range []string{b.Key, "", "nope", "../x"} {
			if err := e.s.Delete(e.ctx, key, Epoch.Add(time.Hour)); err != nil {
				e.t.Fatalf("Delete(%q) of nothing: %v", key, err)
			}
		}
	}},
	{"content put again after notAfter keeps living", func(e *env) {
		c := content(2*mib+9, 12)
		first := e.put(c)
		e.clock.Advance(time.Hour)
		again := e.put(c)
		if err := e.s.Delete(e.ctx, first.Key, Epoch.Add(time.Hour)); err != nil {
			e.t.Fatal(err)
		}
		e.mustHold(again.Key, c)
		if again.Key == first.Key {
			// Content-addressed: putting it again refreshed its time.
			if keys := e.walk(Epoch.Add(time.Hour)); keys[again.Key] {
				e.t.Fatal("Walk lists content put again by its first time")
			}
			if keys := e.walk(Epoch.Add(time.Hour + tick)); !keys[again.Key] {
				e.t.Fatal("Walk does not list content put again after its new time")
			}
			return
		}
		e.mustBeGone(first.Key)
	}},
}
