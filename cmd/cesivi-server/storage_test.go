package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/pgblob"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestStorageSweepRemovesOrphansAndKeepsNamedContent(t *testing.T) {
	u := testenv.Postgres(t)
	keyringEnv(t, map[string]string{
		"Cesivi__Storage__Provider":         "PostgreSQL",
		"Cesivi__Storage__ConnectionString": npgsqlFor(t, u),
		"Cesivi__Storage__Files__Provider":  "Database",
	})
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstorage.New(ctx, pool, pgstorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	blobs := pgblob.New(pool, pgblob.Options{})
	named, err := blobs.Put(ctx, strings.NewReader("named"), 0)
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := blobs.Put(ctx, strings.NewReader("orphan"), 0)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/", Title: "Root"})
		if err != nil {
			return err
		}
		docs, err := tx.Lists().GetByTitle(ctx, site.RootWebID, "Documents")
		if err != nil {
			return err
		}
		_, err = tx.Files().Put(ctx, docs.ID, storage.FileInput{FolderURL: docs.RootFolderURL, Name: "a.txt", Blob: named.Key, Length: named.Size})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Within the grace nothing goes.
	var out, errb bytes.Buffer
	if code := run([]string{"storage", "sweep"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "0 orphans removed") {
		t.Fatalf("sweep within the grace: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"storage", "sweep", "-grace", "0s"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "1 orphans removed") {
		t.Fatalf("sweep: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if _, err := blobs.Open(ctx, orphan.Key); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("the orphan is still there: %v", err)
	}
	rd, err := blobs.Open(ctx, named.Key)
	if err != nil {
		t.Fatalf("the named content is gone: %v", err)
	}
	rd.Close()
	if code := run([]string{"storage", "vacuum"}, &out, &errb); code != 2 {
		t.Errorf("an unknown storage command: exit %d", code)
	}
}
