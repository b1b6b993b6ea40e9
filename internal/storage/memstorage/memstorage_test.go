package memstorage_test

import (
	"testing"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/memstorage"
	"github.com/cesivi/cesivi/internal/storage/storagetest"
)

func TestInMemoryPassesTheSuite(t *testing.T) {
	storagetest.Exercise(t, func(t *testing.T) storage.Store { return memstorage.New(memstorage.Options{}) })
}
