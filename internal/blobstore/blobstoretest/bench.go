package blobstoretest

import (
	"context"
	"io"
	"testing"

	"github.com/cesivi/cesivi/internal/blobstore"
)

// Bench measures Put and a full read of a blob of size bytes on the store
// s (b.SetBytes: the throughput is shown in MB/s).
func Bench(b *testing.B, s blobstore.Store, size int64) {
	ctx := context.Background()
	b.Run("Put", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			if _, err := s.Put(ctx, newGenerated(size, uint64(i), size, nil), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	blob, err := s.Put(ctx, newGenerated(size, 0, size, nil), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Read", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			r, err := s.Open(ctx, blob.Key)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
}
