package caddymodule

import (
	"errors"
	"testing"

	"github.com/cesivi/cesivi/internal/oidclogin"
)

// The decoded identities only spare the decoding of bytes seen before:
// new bytes for a token are decoded afresh, and bad bytes stay refused.
func TestDecodedIdentitiesFollowTheTokenCachesBytes(t *testing.T) {
	var d decodedIdentities
	first, err := d.identity("h", []byte(`{"sub":"alice","groups":["a"]}`))
	if err != nil || first.Subject != "alice" || len(first.Groups) != 1 {
		t.Fatalf("%+v %v", first, err)
	}
	again, err := d.identity("h", []byte(`{"sub":"alice","groups":["a"]}`))
	if err != nil || again != first {
		t.Errorf("the same bytes were decoded again: %p %p %v", again, first, err)
	}
	changed, err := d.identity("h", []byte(`{"sub":"alice","groups":["a","b"]}`))
	if err != nil || len(changed.Groups) != 2 {
		t.Errorf("new bytes gave %+v %v", changed, err)
	}
	for _, bad := range []string{`{"sub":""}`, `not json`} {
		if id, err := d.identity("h", []byte(bad)); !errors.Is(err, oidclogin.ErrTokenInvalid) {
			t.Errorf("%s: %+v %v, want ErrTokenInvalid", bad, id, err)
		}
	}
	for i := range maxDecoded + 1 {
		if _, err := d.identity(string(rune(i)), []byte(`{"sub":"x"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.m) > maxDecoded {
		t.Errorf("%d identities kept, want at most %d", len(d.m), maxDecoded)
	}
}
