package memblob_test

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/blobstoretest"
	"github.com/cesivi/cesivi/internal/blobstore/memblob"
)

func TestInMemoryPassesTheSuite(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T, now func() time.Time) blobstore.Store {
		return memblob.New(memblob.Options{Now: now})
	})
}
