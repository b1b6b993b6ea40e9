package blobstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PartialSweeper is implemented by providers whose interrupted Puts can
// leave partial content that Walk does not show (a server killed in the
// middle of an upload): SharedDirectory's temporary files, Database's
// unfinished rows. Sweep calls it after its walk.
type PartialSweeper interface {
	// SweepPartial removes the partial content of Puts that last wrote
	// before notAfter, and returns how many it removed. A Put still
	// writing keeps its content fresh and is spared; one stalled that
	// long fails instead of completing.
	SweepPartial(ctx context.Context, notAfter time.Time) (int, error)
}

// sweepBatch is how many keys Sweep asks inUse about at once
// (export_test.go lets tests make it small).
var sweepBatch = 500

// SweepResult is what a Sweep found and did.
type SweepResult struct {
	// Cutoff is now minus the grace: only blobs stored (or last put)
	// before it were considered, and Delete spared those put again at or
	// after it.
	Cutoff time.Time
	// Checked counts the blobs inUse was asked about; InUse those it
	// named.
	Checked, InUse int
	// Orphans counts the blobs nothing named: each was deleted, unless it
	// was put again since the cutoff (Delete does not say which).
	Orphans int
	// Partial counts the remains of interrupted Puts removed.
	Partial int
}

// Sweep deletes the blobs of store that no metadata names. inUse is given
// keys in batches and returns those that are named (the storage's Files,
// versions, recycle bin and upload sessions); a key it leaves out is an
// orphan.
//
// grace protects the window between Put returning and the metadata that
// names its key committing: only blobs stored more than grace before now
// are considered, so grace must exceed the longest such window. Deletes
// are conditional on the same cutoff (now - grace), not on the moment the
// walk began: a blob put again while the sweep runs — an upload of
// content that SharedDirectory already holds, whose metadata inUse could
// not yet see — has a time after the cutoff and is kept, and so is one
// refreshed by a server whose clock is behind the sweeper's by less than
// grace.
func Sweep(ctx context.Context, store Store, inUse func(ctx context.Context, keys []string) (map[string]bool, error), grace time.Duration, now time.Time) (SweepResult, error) {
	res := SweepResult{Cutoff: now.Add(-grace)}
	if grace < 0 {
		return res, errors.New("blobstore: sweep: the grace must not be negative")
	}
	batch := make([]string, 0, sweepBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		named, err := inUse(ctx, batch)
		if err != nil {
			return fmt.Errorf("blobstore: sweep: asking which blobs are in use: %w", err)
		}
		res.Checked += len(batch)
		for _, key := range batch {
			if named[key] {
				res.InUse++
				continue
			}
			if err := store.Delete(ctx, key, res.Cutoff); err != nil {
				return fmt.Errorf("blobstore: sweep: deleting an orphan: %w", err)
			}
			res.Orphans++
		}
		batch = batch[:0]
		return nil
	}
	err := store.Walk(ctx, res.Cutoff, func(key string) error {
		batch = append(batch, key)
		if len(batch) < sweepBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	if ps, ok := store.(PartialSweeper); ok {
		n, err := ps.SweepPartial(ctx, res.Cutoff)
		res.Partial = n
		if err != nil {
			return res, fmt.Errorf("blobstore: sweep: removing interrupted uploads: %w", err)
		}
	}
	return res, nil
}
