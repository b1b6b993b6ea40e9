package keyring_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

// fixedKeyID and fixedMaterial make the fuzz rings' payloads reproducible,
// so the checked-in corpora hold valid tokens.
const fixedKeyID keyring.KeyID = 0x0c0ffee0

var fixedMaterial = bytes.Repeat([]byte{0x42}, 32)

// fixedRing is a ring on a memory store holding one plain key with known
// material, at keyringtest.Epoch, with no master key.
func fixedRing(tb testing.TB) (*keyring.Ring, *fakeclock.Clock, *keyring.MemoryStore) {
	tb.Helper()
	s := keyring.NewMemoryStore()
	_, err := s.InsertKey(context.Background(), keyring.KeyRecord{
		ID: fixedKeyID, Slot: "fixed",
		Created: keyringtest.Epoch.Add(-time.Hour), Activation: keyringtest.Epoch.Add(-time.Hour),
		Expiration: keyringtest.Epoch.Add(keyring.DefaultKeyLifetime),
		Material:   append([]byte{0x50}, fixedMaterial...),
	})
	if err != nil {
		tb.Fatal(err)
	}
	clock := fakeclock.New(keyringtest.Epoch)
	r, err := keyring.New(context.Background(), keyring.Options{Store: s, Now: clock.Now, NoBackground: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r, clock, s
}
