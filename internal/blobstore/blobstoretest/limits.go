package blobstoretest

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/cesivi/cesivi/internal/blobstore"
)

var limitTests = []test{
	{"content of exactly the limit is kept, one byte more is ErrTooLarge and leaves nothing", func(e *env) {
		for _, max := range []int64{1, 10, mib, mib + 1, 2*mib - 1} {
			c := content(int(max)+1, uint64(max))
			b, err := e.s.Put(e.ctx, bytes.NewReader(c[:max]), max)
			if err != nil {
				e.t.Fatalf("Put of exactly the limit %d: %v", max, err)
			}
			e.checkBlob(b, c[:max])
			before := e.everything()
			_, err = e.s.Put(e.ctx, bytes.NewReader(c), max)
			if !errors.Is(err, blobstore.ErrTooLarge) {
				e.t.Fatalf("Put of %d bytes with limit %d: %v; want ErrTooLarge", len(c), max, err)
			}
			if after := e.everything(); len(after) != len(before) {
				e.t.Fatalf("a refused Put left a blob: %d blobs before, %d after", len(before), len(after))
			}
			e.mustHold(b.Key, c[:max])
		}
		e.nothingPartialLeft()
	}},
	{"a limit ends an endless upload", func(e *env) {
		if _, err := e.s.Put(e.ctx, endless{}, 3*mib+5); !errors.Is(err, blobstore.ErrTooLarge) {
			e.t.Fatalf("Put of an endless reader: %v; want ErrTooLarge", err)
		}
		if n := len(e.everything()); n != 0 {
			e.t.Fatalf("%d blobs after a refused Put", n)
		}
		e.nothingPartialLeft()
	}},
	{"no limit (0) keeps content of any size", func(e *env) {
		c := content(mib+3, 8)
		b, err := e.s.Put(e.ctx, bytes.NewReader(c), 0)
		if err != nil {
			e.t.Fatal(err)
		}
		e.mustHold(b.Key, c)
	}},
	{"a reader that fails midway leaves nothing visible", func(e *env) {
		for _, n := range []int{0, 10, mib, mib + mib/2, 2*mib + 1} {
			_, err := e.s.Put(e.ctx, &failingAfter{data: content(n, 9)}, 0)
			if !errors.Is(err, errBroken) {
				e.t.Fatalf("Put from a reader failing after %d bytes: %v; want its error", n, err)
			}
		}
		if n := len(e.everything()); n != 0 {
			e.t.Fatalf("Walk shows %d blobs after failed Puts", n)
		}
		e.nothingPartialLeft()
	}},
	{"a context cancelled mid-Put leaves nothing visible", func(e *env) {
		for _, at := range []int64{1, mib / 2, mib + mib/2, 3 * mib} {
			ctx, cancel := context.WithCancel(e.ctx)
			r := newGenerated(5*mib, 1, at, cancel)
			_, err := e.s.Put(ctx, r, 0)
			cancel()
			if !errors.Is(err, context.Canceled) {
				e.t.Fatalf("Put cancelled after %d bytes: %v; want context.Canceled", at, err)
			}
		}
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		if _, err := e.s.Put(ctx, bytes.NewReader([]byte("late")), 0); !errors.Is(err, context.Canceled) {
			e.t.Fatalf("Put with a cancelled context: %v; want context.Canceled", err)
		}
		if n := len(e.everything()); n != 0 {
			e.t.Fatalf("Walk shows %d blobs after cancelled Puts", n)
		}
		e.nothingPartialLeft()
	}},
	{"a failed Put leaves earlier blobs alone", func(e *env) {
		c := content(mib+1, 10)
		b := e.put(c)
		if _, err := e.s.Put(e.ctx, io.MultiReader(bytes.NewReader(c), &failingAfter{}), 0); !errors.Is(err, errBroken) {
			e.t.Fatalf("Put: %v", err)
		}
		e.mustHold(b.Key, c)
		if keys := e.everything(); len(keys) != 1 || !keys[b.Key] {
			e.t.Fatalf("Walk shows %v; want only %s", keys, b.Key)
		}
	}},
}
