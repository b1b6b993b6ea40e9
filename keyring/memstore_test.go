package keyring_test

import (
	"testing"

	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

func TestMemoryStore(t *testing.T) {
	keyringtest.Exercise(t, func(t *testing.T) keyring.Store { return keyring.NewMemoryStore() })
}
