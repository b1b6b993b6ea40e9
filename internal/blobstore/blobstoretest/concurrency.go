package blobstoretest

import (
	"bytes"
	"sync"

	"github.com/cesivi/cesivi/internal/blobstore"
)

var concurrencyTests = []test{
	{"concurrent Puts of different and of identical content all succeed whole", func(e *env) {
		const distinct, identical = 12, 8
		same := content(mib+3, 99)
		contents := make([][]byte, distinct+identical)
		for i := range distinct {
			contents[i] = content(1000+i*110_000, uint64(100+i))
		}
		for i := distinct; i < len(contents); i++ {
			contents[i] = same
		}
		blobs := make([]blobstore.Blob, len(contents))
		errs := make([]error, len(contents))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range contents {
			wg.Go(func() {
				<-start
				blobs[i], errs[i] = e.s.Put(e.ctx, bytes.NewReader(c), 0)
			})
		}
		close(start)
		wg.Wait()
		keys := map[string]bool{}
		for i, c := range contents {
			if errs[i] != nil {
				e.t.Fatalf("Put %d: %v", i, errs[i])
			}
			e.checkBlob(blobs[i], c)
			keys[blobs[i].Key] = true
		}
		for i, c := range contents {
			e.mustHold(blobs[i].Key, c)
		}
		if got := e.everything(); len(got) != len(keys) {
			e.t.Fatalf("Walk lists %d blobs; the Puts returned %d keys", len(got), len(keys))
		}
	}},
	{"readers of one blob read concurrently, each at its own position", func(e *env) {
		c := content(2*mib+321, 13)
		b := e.put(c)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if got := e.read(b.Key); !bytes.Equal(got, c) {
					e.t.Errorf("a concurrent reader read %d bytes that differ from the content", len(got))
				}
			})
		}
		wg.Wait()
	}},
}
