package backends_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/health"
	"github.com/cesivi/cesivi/internal/testenv"
)

// roundTrip puts content into the process's blob store and reads it back.
func roundTrip(t *testing.T, files blobstore.Store) {
	t.Helper()
	b, err := files.Put(t.Context(), strings.NewReader("file content"), 0)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	r, err := files.Open(t.Context(), b.Key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || string(got) != "file content" {
		t.Fatalf("read back %q, %v", got, err)
	}
}

func filesData(t *testing.T, e health.Entry) map[string]any {
	t.Helper()
	files, ok := e.Data["Files"].(map[string]any)
	if !ok {
		t.Fatalf("the Storage entry has no Files: %+v", e)
	}
	return files
}

func TestFilesAreOpenedBesideTheStorage(t *testing.T) {
	s := settings(t, "Cesivi__DataProtection__KeysPath="+t.TempDir())
	b := open(t, s, backends.Options{Role: backends.Server, NoKeyRing: true})
	if b.Files == nil || b.Files.Name() != config.FilesInMemory {
		t.Fatalf("Files %v; want InMemory by default", b.Files)
	}
	roundTrip(t, b.Files)
	e, _ := storageEntry(t, b)
	if f := filesData(t, e); e.Status != health.Healthy || f["provider"] != "InMemory" || f["connected"] != true {
		t.Fatalf("Storage entry %+v", e)
	}
	if edge := open(t, s, backends.Options{Role: backends.Edge, NoKeyRing: true}); edge.Files != nil {
		t.Fatal("the edge opened a blob store")
	}
}

// TestDatabaseFilesUseTheStoragePool: with a pool of one connection, the
// blob store and the storage share it; a command's store applies the
// schema its tables are in before its first Put.
func TestDatabaseFilesUseTheStoragePool(t *testing.T) {
	url := testenv.Postgres(t)
	s := settings(t, pgSettings(t, withQuery(url, "pool_max_conns=1"))...)
	b := open(t, s, backends.Options{Role: backends.Admin, NoKeyRing: true})
	if b.Files == nil || b.Files.Name() != config.FilesDatabase {
		t.Fatalf("Files %v; want Database with PostgreSQL storage", b.Files)
	}
	roundTrip(t, b.Files)
	if err := createSite(t.Context(), b.Storage, "/"); err != nil {
		t.Fatal(err)
	}
	e, _ := storageEntry(t, b)
	if f := filesData(t, e); e.Status != health.Healthy || f["provider"] != "Database" || f["connected"] != true {
		t.Fatalf("Storage entry %+v", e)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d connections after using the storage and the blob store; want 1 (one pool)", n)
	}
}

func TestASharedDirectoryIsCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "not-mounted"), "does not exist"},
		{file, "not a directory"},
	} {
		s := settings(t, "Cesivi__DataProtection__KeysPath="+t.TempDir(),
			"Cesivi__Storage__Files__Provider=SharedDirectory", "Cesivi__Storage__Files__Path="+c.path)
		b, err := backends.Open(t.Context(), s, backends.Options{Role: backends.Server, NoKeyRing: true})
		if err == nil {
			b.Close()
			t.Fatalf("a server started on %s", c.path)
		}
		if msg := err.Error(); !strings.Contains(msg, "Cesivi:Storage:Files:Path") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
			t.Fatalf("error %q: want one line naming Cesivi:Storage:Files:Path and saying %q", msg, c.want)
		}
		// A command that may never touch file content is not stopped.
		open(t, s, backends.Options{Role: backends.Admin, NoKeyRing: true})
	}
}

// TestASharedDirectoryThatGoesAwayMakesTheServerUnhealthy: the share is
// unmounted under a running server (its contents vanish).
func TestASharedDirectoryThatGoesAwayMakesTheServerUnhealthy(t *testing.T) {
	share := t.TempDir()
	s := settings(t, "Cesivi__DataProtection__KeysPath="+t.TempDir(),
		"Cesivi__Storage__Files__Provider=SharedDirectory", "Cesivi__Storage__Files__Path="+share)
	b := open(t, s, backends.Options{Role: backends.Server, NoKeyRing: true})
	roundTrip(t, b.Files)
	e, _ := storageEntry(t, b)
	if f := filesData(t, e); e.Status != health.Healthy || f["provider"] != "SharedDirectory" || f["connected"] != true {
		t.Fatalf("Storage entry %+v", e)
	}
	entries, _ := os.ReadDir(share)
	for _, en := range entries {
		os.RemoveAll(filepath.Join(share, en.Name()))
	}
	e, _ = storageEntry(t, b)
	if f := filesData(t, e); e.Status != health.Unhealthy || f["connected"] != false || !strings.Contains(e.Description, "SharedDirectory") {
		t.Fatalf("Storage entry with the share gone: %+v", e)
	}
}
