package sharepoint_test

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/appserver/sharepoint"
	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/formdigest"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

// newDigests mints digests with a real key ring, as servers do.
func newDigests(t testing.TB) sharepoint.Digests {
	ring := keyringtest.NewRing(t, keyring.NewMemoryStore(), fakeclock.New(time.Now()))
	return formdigest.Minter{Ring: ring}
}
