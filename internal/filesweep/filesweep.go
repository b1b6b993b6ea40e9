// Package filesweep removes what document libraries leave behind: chunked
// uploads abandoned longer than their timeout, then the blobs no file,
// version, attachment, recycle bin item or upload names any more (a
// crash between storing content and committing its metadata, a cut
// upload, a file deleted for good). A farm runs it on one server at a
// time, under a lease; `cesivi-server storage sweep` runs it by hand.
package filesweep

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/storage"
)

// Options configure a sweep.
type Options struct {
	// Grace is how old an unnamed blob must be before it is removed: longer
	// than any upload takes between storing its content and committing
	// the file. Loop uses DefaultGrace when it is 0; Run takes it as it is
	// (0 removes every orphan at once, for an operator who knows no upload
	// is in flight).
	Grace time.Duration
	// UploadTimeout is how long a chunked upload may go without a chunk
	// before it is abandoned (Cesivi:Storage:Files:UploadTimeout, default
	// DefaultUploadTimeout).
	UploadTimeout time.Duration
	// Swept, when set, is told what each of Loop's sweeps did (metrics).
	Swept func(Result)
}

// Defaults.
const (
	DefaultGrace         = time.Hour
	DefaultUploadTimeout = 24 * time.Hour
)

// Result is what a sweep did.
type Result struct {
	AbandonedUploads int
	Blobs            blobstore.SweepResult
}

func (o Options) withDefaults() Options {
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = DefaultUploadTimeout
	}
	return o
}

// Run sweeps once.
func Run(ctx context.Context, store storage.Store, blobs blobstore.Store, opts Options, now time.Time) (Result, error) {
	opts = opts.withDefaults()
	var res Result
	err := store.Update(ctx, func(tx storage.Tx) error {
		ups, err := tx.Uploads().Expired(ctx, now.Add(-opts.UploadTimeout))
		if err != nil {
			return err
		}
		for _, u := range ups {
			if err := tx.Uploads().Delete(ctx, u.ID); err != nil {
				return err
			}
		}
		res.AbandonedUploads = len(ups)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("filesweep: abandoned uploads: %w", err)
	}
	inUse := func(ctx context.Context, keys []string) (map[string]bool, error) {
		var named map[string]bool
		err := store.View(ctx, func(tx storage.Tx) error {
			var err error
			named, err = tx.Files().BlobsInUse(ctx, keys)
			return err
		})
		return named, err
	}
	res.Blobs, err = blobstore.Sweep(ctx, blobs, inUse, opts.Grace, now)
	return res, err
}

// leaseName is the farm-wide lease one sweeper holds at a time.
const leaseName = "cesivi:files:sweep"

// Loop sweeps every interval until ctx ends, on whichever server of the
// farm holds the lease; the others skip that round.
func Loop(ctx context.Context, interval time.Duration, locks state.Locker, store storage.Store, blobs blobstore.Store, opts Options, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lease, err := locks.Acquire(ctx, leaseName, interval)
		if err != nil {
			continue // another server sweeps, or the state store is down
		}
		res, err := Run(ctx, store, blobs, opts, time.Now())
		_ = lease.Release(context.WithoutCancel(ctx))
		if err != nil {
			log.Warn("files sweep failed", "error", err)
			continue
		}
		if opts.Swept != nil {
			opts.Swept(res)
		}
		if res.AbandonedUploads > 0 || res.Blobs.Orphans > 0 || res.Blobs.Partial > 0 {
			log.Info("files sweep", "abandonedUploads", res.AbandonedUploads, "orphanBlobs", res.Blobs.Orphans,
				"partialBlobs", res.Blobs.Partial, "blobsChecked", res.Blobs.Checked)
		}
	}
}
