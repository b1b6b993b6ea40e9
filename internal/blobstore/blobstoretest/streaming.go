package blobstoretest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"runtime"
)

// large is the size of the streaming test's blob: much larger than any
// buffer a provider should hold.
const large = 64 * mib

// heapBound is the most the live heap may grow while it streams.
const heapBound = 16 * mib

var streamingTests = []test{
	{"a 64 MiB blob streams in and out without being held in memory", func(e *env) {
		base := liveHeap()
		var peak uint64
		sample := func() { peak = max(peak, liveHeap()) }
		in := newGenerated(large, 42, 4*mib, sample)
		b, err := e.s.Put(e.ctx, in, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		if b.Size != large || b.SHA256 != in.sum() {
			e.t.Fatalf("Put = %+v; want %d bytes with SHA-256 %s", b, large, in.sum())
		}
		putGrowth := int64(peak) - int64(base)
		// InMemory holds content by definition: it may grow by the blob,
		// but not by a copy of it.
		bound := int64(heapBound)
		if e.s.Name() == "InMemory" {
			bound += large
		}
		if putGrowth > bound {
			e.t.Fatalf("the live heap grew by %d MiB during a Put of %d MiB; want at most %d MiB", putGrowth/mib, large/mib, bound/mib)
		}

		base, peak = liveHeap(), 0
		r, err := e.s.Open(e.ctx, b.Key)
		if err != nil {
			e.t.Fatal(err)
		}
		defer r.Close()
		out := &sampledHash{h: sha256.New(), every: 4 * mib, call: sample}
		if n, err := io.Copy(out, r); err != nil || n != large {
			e.t.Fatalf("reading back: %d bytes, %v", n, err)
		}
		if got := hex.EncodeToString(out.h.Sum(nil)); got != b.SHA256 {
			e.t.Fatalf("read back SHA-256 %s; want %s", got, b.SHA256)
		}
		readGrowth := int64(peak) - int64(base)
		if readGrowth > heapBound {
			e.t.Fatalf("the live heap grew by %d MiB while reading %d MiB; want at most %d MiB", readGrowth/mib, large/mib, heapBound/mib)
		}
		e.t.Logf("%s: live heap grew by %.1f MiB putting and %.1f MiB reading %d MiB", e.s.Name(),
			float64(putGrowth)/mib, float64(readGrowth)/mib, large/mib)
	}},
}

// liveHeap is the heap still in use after a collection: what the code
// holds at that moment, not the garbage it has yet to collect.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// sampledHash hashes what it is given and calls call every `every`
// bytes.
type sampledHash struct {
	h     hash.Hash
	every int64
	since int64
	call  func()
}

func (w *sampledHash) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.since += int64(len(p))
	if w.since >= w.every {
		w.since = 0
		w.call()
	}
	return len(p), nil
}
