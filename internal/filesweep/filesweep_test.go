package filesweep_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/memblob"
	"github.com/cesivi/cesivi/internal/filesweep"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/memstorage"
)

func TestAnAbandonedUploadAndItsChunksGoAndNamedContentStays(t *testing.T) {
	ctx := context.Background()
	store := memstorage.New(memstorage.Options{})
	blobs := memblob.New(memblob.Options{})
	put := func(s string) blobstore.Blob {
		b, err := blobs.Put(ctx, strings.NewReader(s), 0)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	named, chunk := put("named"), put("chunk")
	err := store.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/", Title: "Root"})
		if err != nil {
			return err
		}
		docs, err := tx.Lists().GetByTitle(ctx, site.RootWebID, "Documents")
		if err != nil {
			return err
		}
		f, err := tx.Files().Put(ctx, docs.ID, storage.FileInput{FolderURL: docs.RootFolderURL, Name: "a.txt", Blob: named.Key, Length: named.Size})
		if err != nil {
			return err
		}
		if _, err := tx.Uploads().Start(ctx, storage.Upload{ID: "11111111-1111-1111-1111-111111111111", ListID: docs.ID, FileURL: f.URL, UserID: 1,
			Parts: []storage.UploadPart{{Offset: 0, Size: chunk.Size, Blob: chunk.Key}}}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An hour later, with a 30-minute upload timeout: the upload is
	// abandoned and its chunk an orphan; the file's content stays.
	later := time.Now().Add(time.Hour)
	res, err := filesweep.Run(ctx, store, blobs, filesweep.Options{UploadTimeout: 30 * time.Minute, Grace: 0}, later)
	if err != nil {
		t.Fatal(err)
	}
	if res.AbandonedUploads != 1 || res.Blobs.Orphans != 1 {
		t.Errorf("result %+v", res)
	}
	if _, err := blobs.Open(ctx, chunk.Key); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("the abandoned chunk is still there: %v", err)
	}
	if rd, err := blobs.Open(ctx, named.Key); err != nil {
		t.Errorf("the named content went: %v", err)
	} else {
		rd.Close()
	}
	err = store.View(ctx, func(tx storage.Tx) error {
		_, err := tx.Uploads().Get(ctx, "11111111-1111-1111-1111-111111111111")
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the upload is still there: %v", err)
	}
}

func TestContentYoungerThanTheGraceStays(t *testing.T) {
	ctx := context.Background()
	store := memstorage.New(memstorage.Options{})
	blobs := memblob.New(memblob.Options{})
	b, err := blobs.Put(ctx, strings.NewReader("just stored"), 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := filesweep.Run(ctx, store, blobs, filesweep.Options{Grace: time.Hour}, time.Now())
	if err != nil || res.Blobs.Orphans != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	rd, err := blobs.Open(ctx, b.Key)
	if err != nil {
		t.Fatalf("content within the grace went: %v", err)
	}
	rd.Close()
}
