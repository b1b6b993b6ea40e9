package backends

import (
	"fmt"

	"github.com/cesivi/cesivi/internal/blobstore/dirblob"
	"github.com/cesivi/cesivi/internal/blobstore/memblob"
	"github.com/cesivi/cesivi/internal/blobstore/pgblob"
	"github.com/cesivi/cesivi/internal/config"
)

// openFiles opens the blob store of Cesivi:Storage:Files, where document
// libraries keep file content: InMemory; Database, on the storage's pool,
// whose tables the storage's schema holds (so the store first waits for
// the storage to have applied it); or SharedDirectory, which a server
// checks now — a directory that is missing or not writable stops the
// start, since every upload would fail. Commands check it at first use.
func (b *Backends) openFiles(o Options) error {
	f := b.Settings.Storage.Files
	switch f.Provider {
	case config.FilesInMemory, "":
		b.Files = memblob.New(memblob.Options{})
	case config.FilesDatabase:
		if b.Postgres == nil || b.Storage == nil {
			return fmt.Errorf("Database keeps file content in the storage database, which is not PostgreSQL")
		}
		b.Files = pgblob.New(b.Postgres, pgblob.Options{Ready: b.Storage.Ping})
	case config.FilesSharedDirectory:
		store, err := dirblob.New(f.Path, dirblob.Options{SkipCheck: o.Role == Admin})
		if err != nil {
			return fmt.Errorf("Cesivi:Storage:Files:Path: %w", err)
		}
		b.Files = store
	default:
		return fmt.Errorf("want InMemory, Database or SharedDirectory, not %q", f.Provider)
	}
	return nil
}
