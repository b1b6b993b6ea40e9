// Package dirstore keeps a key ring in a directory: the SharedDirectory
// backend (a directory every node mounts, over NFS or SMB) and the
// FileSystem backend (the same code on a local directory, for one node).
//
// One file per record, never changed once written:
//
//	key-<hash of slot>.json      a key record; its name claims the slot
//	revocation-<id>.json         a revocation record
//
// A record is written to a temporary file in the same directory, synced,
// then published under its final name with link(2), which fails when the
// name exists: that is the atomic "insert unless the slot is taken" every
// node relies on (link is atomic on NFS, where O_EXCL was not before v3).
// Readers therefore never see a partial file. Where the file system has no
// hard links (some SMB mounts), the name is claimed with an O_EXCL marker
// file (<name>.claim) and the record renamed into place; a writer that finds
// the name claimed waits until the record is in place before it reports the
// name taken, so "taken" always means "readable", as with link(2).
package dirstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cesivi/cesivi/keyring"
)

// Store is a directory store. It holds no state besides the path, so any
// number of Stores, in any number of processes, may share a directory.
type Store struct {
	dir         string
	noHardLinks bool   // tests: take the fallback path as on an SMB mount
	afterClaim  func() // tests: runs between the claim and the rename
}

// claimWait bounds how long a writer waits for the record of a name another
// writer has claimed (see claim). The claimer only has a rename left to do,
// so reaching it means the claimer stopped between its two steps.
const claimWait = 10 * time.Second

// New opens (creating it, mode 0700, when missing) the directory dir.
func New(dir string) (*Store, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("dirstore: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dirstore: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the directory.
func (s *Store) Dir() string { return s.dir }

// Load implements keyring.Store. A record that cannot be read or parsed is
// an error: skipping it could skip a revocation.
func (s *Store) Load(ctx context.Context) (keyring.Records, error) {
	var recs keyring.Records
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return recs, fmt.Errorf("dirstore: %w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return recs, err
		}
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || e.IsDir() {
			continue
		}
		isKey := strings.HasPrefix(name, "key-")
		if !isKey && !strings.HasPrefix(name, "revocation-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			return recs, fmt.Errorf("dirstore: %w", err)
		}
		if isKey {
			var k keyring.KeyRecord
			if err := json.Unmarshal(b, &k); err != nil {
				return recs, fmt.Errorf("dirstore: %s: %v", name, err)
			}
			recs.Keys = append(recs.Keys, k)
			continue
		}
		var rv keyring.Revocation
		if err := json.Unmarshal(b, &rv); err != nil {
			return recs, fmt.Errorf("dirstore: %s: %v", name, err)
		}
		recs.Revocations = append(recs.Revocations, rv)
	}
	return recs, nil
}

// InsertKey implements keyring.Store. The slot is claimed atomically by the
// file name. Ids are 32 random bits: the id check reads the directory first,
// which leaves only two contenders drawing the same id at the same moment
// unchecked (about 2^-32).
func (s *Store) InsertKey(ctx context.Context, rec keyring.KeyRecord) (bool, error) {
	recs, err := s.Load(ctx)
	if err != nil {
		return false, err
	}
	for _, k := range recs.Keys {
		if k.ID == rec.ID || k.Slot == rec.Slot {
			return false, nil
		}
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256([]byte(rec.Slot))
	return s.publish(ctx, "key-"+hex.EncodeToString(sum[:16])+".json", b)
}

// InsertRevocation implements keyring.Store.
func (s *Store) InsertRevocation(ctx context.Context, rv keyring.Revocation) error {
	b, err := json.MarshalIndent(rv, "", "  ")
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(rv.ID))
	_, err = s.publish(ctx, "revocation-"+hex.EncodeToString(sum[:16])+".json", b)
	return err
}

// errNoHardLinks stands for link(2) failing on a file system without hard
// links; tests set noHardLinks to run the fallback on any file system.
var errNoHardLinks = errors.New("hard links not supported")

// publish writes data under name unless name exists; it reports whether it
// wrote it. When it reports false, the record under name is readable.
func (s *Store) publish(ctx context.Context, name string, data []byte) (bool, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	final := filepath.Join(s.dir, name)
	if err := writeSynced(tmp, data); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("dirstore: %w", err)
	}
	defer os.Remove(tmp)
	err := errNoHardLinks
	if !s.noHardLinks {
		err = os.Link(tmp, final)
	}
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return false, nil
	default:
		// No hard links here: claim the name with an exclusive marker,
		// then rename the complete record into place.
		won, cerr := s.claim(ctx, final, err)
		if cerr != nil || !won {
			return false, cerr
		}
		if s.afterClaim != nil {
			s.afterClaim()
		}
		if _, serr := os.Stat(final); serr == nil {
			return false, nil // published with link(2) by a node that has it
		}
		if rerr := os.Rename(tmp, final); rerr != nil {
			// Nothing is published: free the name, which would otherwise
			// stay claimed with no record for ever.
			os.Remove(final + ".claim")
			return false, fmt.Errorf("dirstore: %w", rerr)
		}
	}
	syncDir(s.dir)
	return true, nil
}

// claim takes the exclusive marker of final, reporting true when this
// writer holds it. When another writer holds it, claim waits until that
// writer's record is in place and reports false: between its marker and its
// rename the name is taken but the record not yet visible, and a caller told
// "taken" re-reads the store to find the winner. The ring gives up after a
// few lost inserts, so answering at once let eight rings spend their
// attempts within the moment one claimer was descheduled between its two
// steps, and fail. A marker freed without a record (its rename failed) is
// taken again; one whose record does not appear within claimWait is an
// error.
func (s *Store) claim(ctx context.Context, final string, linkErr error) (bool, error) {
	marker := final + ".claim"
	deadline := time.Now().Add(claimWait)
	pause := time.Millisecond
	for {
		f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("dirstore: %w (and link: %v)", err, linkErr)
		}
		_, serr := os.Stat(final)
		if serr == nil {
			return false, nil
		}
		if !errors.Is(serr, fs.ErrNotExist) {
			return false, fmt.Errorf("dirstore: %w", serr)
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("dirstore: %s is claimed but its record did not appear within %v: its writer stopped between the claim and the rename; remove %s once no writer is running",
				filepath.Base(final), claimWait, marker)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the new name durable; some file systems cannot, which is
// not an error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

var _ keyring.Store = (*Store)(nil)
