package keyring_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
	"github.com/prometheus/client_golang/prometheus"
)

// The digest's layout is a contract with SharePoint clients (length, case,
// date) and with every server of the farm (the binary fields).
func TestFormDigestLayout(t *testing.T) {
	r, clock, _ := fixedRing(t)
	d, err := r.MintFormDigest(sampleUser, sampleScope)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 157 || d[:2] != "0x" || d[130] != ',' {
		t.Fatalf("digest %q: want 0x, 128 hex digits, a comma and a date (157 characters)", d)
	}
	if strings.ToUpper(d[2:130]) != d[2:130] {
		t.Fatalf("hex not upper case: %s", d)
	}
	raw, err := hex.DecodeString(d[2:130])
	if err != nil {
		t.Fatal(err)
	}
	if raw[0] != 0x31 {
		t.Errorf("version byte %#x, want 0x31", raw[0])
	}
	if id := keyring.KeyID(binary.BigEndian.Uint32(raw[1:5])); id != fixedKeyID {
		t.Errorf("key id %s, want %s", id, fixedKeyID)
	}
	if iat := int64(binary.BigEndian.Uint32(raw[5:9])); iat != clock.Now().Unix() {
		t.Errorf("issued at %d, want %d", iat, clock.Now().Unix())
	}
	for i, b := range raw[17:32] {
		if b != 0 {
			t.Errorf("reserved byte %d is %#x, want 0", 17+i, b)
		}
	}
	if want := clock.Now().UTC().Format("02 Jan 2006 15:04:05 -0000"); d[131:] != want {
		t.Errorf("date %q, want %q", d[131:], want)
	}
	// Deterministic: the same second, user and scope give the same digest,
	// another user or scope another one.
	again, _ := r.MintFormDigest(sampleUser, sampleScope)
	other, _ := r.MintFormDigest(sampleUser, "/sites/other")
	if again != d || other == d || other[2:20] != d[2:20] {
		t.Errorf("digests of one second: %s / %s / %s", d, again, other)
	}
}

func TestFormDigestIssueTimeIsRoundedUp(t *testing.T) {
	r, clock, _ := fixedRing(t)
	clock.Advance(300 * time.Millisecond)
	d, _ := r.MintFormDigest(sampleUser, sampleScope)
	if want := keyringtest.Epoch.Add(time.Second).Format("02 Jan 2006 15:04:05 -0000"); d[131:] != want {
		t.Fatalf("date %q, want %q (rounded up)", d[131:], want)
	}
	if err := r.VerifyFormDigest(d, sampleUser, sampleScope); err != nil {
		t.Fatalf("digest issued 0.7 s ahead of the clock: %v", err)
	}
	// Valid for the whole timeout counted from the moment it was minted.
	clock.Advance(keyring.FormDigestTimeout)
	if err := r.VerifyFormDigest(d, sampleUser, sampleScope); err != nil {
		t.Fatalf("digest exactly FormDigestTimeout old: %v", err)
	}
	clock.Advance(700 * time.Millisecond)
	if err := r.VerifyFormDigest(d, sampleUser, sampleScope); !errors.Is(err, keyring.ErrExpired) {
		t.Fatalf("digest past its timeout: %v", err)
	}
}

func TestFormDigestRefusalReasons(t *testing.T) {
	r, clock, _ := fixedRing(t)
	d, _ := r.MintFormDigest(sampleUser, sampleScope)
	clock.Advance(time.Second)
	later, _ := r.MintFormDigest(sampleUser, sampleScope)
	clock.Advance(-time.Second)
	raw, _ := hex.DecodeString(d[2:130])
	reserved := append([]byte(nil), raw...)
	reserved[20] = 1
	tests := []struct {
		name, digest, user, scope string
		want                      error
	}{
		{"another user's digest is refused as such", d, "i:0#.f|membership|eve@example.org", sampleScope, keyring.ErrWrongUser},
		{"another site's digest is refused as such", d, sampleUser, "/sites/other", keyring.ErrWrongScope},
		{"another site's digest is a failed tag", d, sampleUser, "/sites/other", keyring.ErrTampered},
		{"a scope differing in case is another scope", d, sampleUser, "/sites/Dev", keyring.ErrWrongScope},
		{"a set reserved byte fails the tag", "0x" + strings.ToUpper(hex.EncodeToString(reserved)) + d[130:], sampleUser, sampleScope, keyring.ErrTampered},
		{"lower-case hex is not a digest of this farm", "0x" + strings.ToLower(d[2:130]) + d[130:], sampleUser, sampleScope, keyring.ErrMalformed},
		{"a date that is not the minted issue time", d[:130] + later[130:], sampleUser, sampleScope, keyring.ErrMalformed},
		{"a date with a weekday", d[:131] + clock.Now().Format("Mon, 02 Jan 2006 15:04:05 -0000"), sampleUser, sampleScope, keyring.ErrMalformed},
		{"no comma", d[:130] + " " + d[131:], sampleUser, sampleScope, keyring.ErrMalformed},
		{"a trailing space", d + " ", sampleUser, sampleScope, keyring.ErrMalformed},
		{"the hex alone", d[:130], sampleUser, sampleScope, keyring.ErrTruncated},
		{"a date cut short", d[:140], sampleUser, sampleScope, keyring.ErrTruncated},
		{"hex cut short", d[:77], sampleUser, sampleScope, keyring.ErrTruncated},
		{"an empty value", "", sampleUser, sampleScope, keyring.ErrTruncated},
		{"PnPjs's placeholder", "undefined", sampleUser, sampleScope, keyring.ErrMalformed},
		{"an upper-case 0X", "0X" + d[2:], sampleUser, sampleScope, keyring.ErrMalformed},
		{"a SharePoint digest of the same shape", "0x" + strings.Repeat("AB", 64) + d[130:], sampleUser, sampleScope, keyring.ErrBadVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.VerifyFormDigest(tt.digest, tt.user, tt.scope); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if got := keyring.Reason(r.VerifyFormDigest(d, sampleUser, "/sites/other")); got != "wrong_scope" {
		t.Errorf("reason of another scope's digest %q, want wrong_scope", got)
	}
}

// A digest minted by a server whose clock is ahead is accepted within
// AssertionLeeway, as assertions are.
func TestFormDigestFromTheFuture(t *testing.T) {
	_, clock, s := fixedRing(t)
	ahead := fakeclock.New(clock.Now().Add(keyring.AssertionLeeway))
	minter := keyringtest.NewRing(t, s, ahead, func(o *keyring.Options) { o.MasterKey = nil })
	verifier := keyringtest.NewRing(t, s, clock, func(o *keyring.Options) { o.MasterKey = nil })
	d, _ := minter.MintFormDigest(sampleUser, sampleScope)
	if err := verifier.VerifyFormDigest(d, sampleUser, sampleScope); err != nil {
		t.Fatalf("digest AssertionLeeway ahead: %v", err)
	}
	ahead.Advance(time.Second)
	d, _ = minter.MintFormDigest(sampleUser, sampleScope)
	if err := verifier.VerifyFormDigest(d, sampleUser, sampleScope); !errors.Is(err, keyring.ErrNotYetValid) {
		t.Fatalf("digest beyond AssertionLeeway ahead: %v", err)
	}
}

func TestFormDigestRefusalsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	clock := fakeclock.New(keyringtest.Epoch)
	r := keyringtest.NewRing(t, keyring.NewMemoryStore(), clock, func(o *keyring.Options) { o.Registerer = reg })
	d, _ := r.MintFormDigest(sampleUser, sampleScope)
	r.VerifyFormDigest("undefined", sampleUser, sampleScope)
	r.VerifyFormDigest(d, sampleUser, sampleScope)
	clock.Advance(keyring.FormDigestTimeout)
	r.VerifyFormDigest(d, sampleUser, sampleScope)
	r.VerifyFormDigest(d, sampleUser, sampleScope)
	for reason, want := range map[string]float64{"malformed": 1, "expired": 2} {
		labels := map[string]string{"format": "form_digest", "reason": reason}
		if got := counter(t, reg, "cesivi_keyring_verification_failures_total", labels); got != want {
			t.Errorf("form_digest %s refusals counted %v, want %v", reason, got, want)
		}
	}
}
