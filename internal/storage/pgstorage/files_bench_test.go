package pgstorage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// The metadata of files against an item add in the same run: a file's
// add writes its item and its row (and checks its folders), so it should
// cost a small multiple of an item's, not more. And a folder of 1,000
// files renamed or read whole, one transaction each.
func BenchmarkPostgreSQLFiles(b *testing.B) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	s, err := pgstorage.New(ctx, pool, pgstorage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var site *storage.Site
	var tasks, docs *storage.List
	update := func(fn func(tx storage.Tx) error) {
		if err := s.Update(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
	update(func(tx storage.Tx) (err error) {
		if site, err = tx.Sites().Create(ctx, storage.SiteInput{URL: "/", Title: "Root"}); err != nil {
			return err
		}
		if tasks, err = tx.Lists().Create(ctx, site.RootWebID, storage.ListInput{Title: "Tasks"}); err != nil {
			return err
		}
		if docs, err = tx.Lists().GetByURL(ctx, site.RootWebID, "Shared Documents"); err != nil {
			return err
		}
		for _, name := range []string{"bench", "big"} {
			if _, err := tx.Files().AddFolder(ctx, docs.ID, storage.FolderInput{ParentURL: docs.RootFolderURL, Name: name}); err != nil {
				return err
			}
		}
		_, err = tx.Files().AddFolder(ctx, docs.ID, storage.FolderInput{ParentURL: docs.RootFolderURL + "/bench", Name: "deeper"})
		return err
	})
	big := docs.RootFolderURL + "/big"
	update(func(tx storage.Tx) error {
		for i := range 1000 {
			if _, err := tx.Files().Put(ctx, docs.ID, storage.FileInput{FolderURL: big, Name: fmt.Sprintf("f%04d.txt", i), Blob: "blob", Length: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	b.Run("item add (baseline)", func(b *testing.B) {
		for b.Loop() {
			update(func(tx storage.Tx) error {
				_, err := tx.Items().Create(ctx, tasks.ID, storage.ItemInput{Values: map[string]odata.Value{"Title": odata.String("x")}})
				return err
			})
		}
	})
	n := 0
	b.Run("file add two folders deep", func(b *testing.B) {
		for b.Loop() {
			n++
			update(func(tx storage.Tx) error {
				_, err := tx.Files().Put(ctx, docs.ID, storage.FileInput{FolderURL: docs.RootFolderURL + "/bench/deeper",
					Name: fmt.Sprintf("file %d.txt", n), Blob: "blob", Length: 1})
				return err
			})
		}
	})
	b.Run("file overwrite", func(b *testing.B) {
		for b.Loop() {
			update(func(tx storage.Tx) error {
				_, err := tx.Files().Put(ctx, docs.ID, storage.FileInput{FolderURL: big, Name: "f0001.txt", Overwrite: true, Blob: "blob2", Length: 2})
				return err
			})
		}
	})
	b.Run("file get by URL", func(b *testing.B) {
		for b.Loop() {
			if err := s.View(ctx, func(tx storage.Tx) error {
				_, err := tx.Files().Get(ctx, docs.ID, big+"/f0500.txt")
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("children of a folder of 1000", func(b *testing.B) {
		for b.Loop() {
			if err := s.View(ctx, func(tx storage.Tx) error {
				fs, err := tx.Files().Children(ctx, docs.ID, big, false)
				if err == nil && len(fs) != 1000 {
					err = fmt.Errorf("%d children", len(fs))
				}
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	from, to := big, docs.RootFolderURL+"/renamed"
	b.Run("rename a folder of 1000", func(b *testing.B) {
		for b.Loop() {
			update(func(tx storage.Tx) error {
				_, err := tx.Files().Move(ctx, storage.MoveInput{ListID: docs.ID, From: from, To: to})
				return err
			})
			from, to = to, from
		}
	})
}
