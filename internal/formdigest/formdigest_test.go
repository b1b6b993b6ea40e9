package formdigest_test

import (
	"context"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/formdigest"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/dirstore"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

const (
	ada  = "i:0#.f|membership|ada@example.org"
	eve  = "i:0#.f|membership|eve@example.org"
	site = "/sites/dev"
)

// newMinter is a Minter on a fresh ring (its own memory store) at
// keyringtest.Epoch.
func newMinter(t *testing.T) (formdigest.Minter, *fakeclock.Clock, *keyring.Ring) {
	t.Helper()
	clock := fakeclock.New(keyringtest.Epoch)
	r := keyringtest.NewRing(t, keyring.NewMemoryStore(), clock)
	return formdigest.Minter{Ring: r}, clock, r
}

func mint(t *testing.T, m formdigest.Minter, subject, scope string) string {
	t.Helper()
	v, err := m.Mint(subject, scope)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// refused fails the test unless err is a refusal wrapping want.
func refused(t *testing.T, err, want error) {
	t.Helper()
	var r *formdigest.Refusal
	if !errors.Is(err, formdigest.ErrInvalid) || !errors.As(err, &r) || !errors.Is(err, want) {
		t.Fatalf("got %v, want a refusal wrapping ErrInvalid and %v", err, want)
	}
}

// sharePointShape is FormDigestValue as SharePoint writes it: 0x, 64 bytes
// in upper-case hex, a comma and the UTC issue time without a weekday.
var sharePointShape = regexp.MustCompile(`^0x[0-9A-F]{128},\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} -0000$`)

func TestMintedDigestVerifiesAndLooksLikeSharePoints(t *testing.T) {
	m, clock, _ := newMinter(t)
	clock.Advance(7*time.Hour + 5*time.Minute + 9*time.Second)
	v := mint(t, m, ada, site)
	if !sharePointShape.MatchString(v) {
		t.Fatalf("digest %q does not have SharePoint's shape", v)
	}
	// What SPFx-style code does with it: the date after the first comma is
	// the issue time.
	_, date, _ := strings.Cut(v, ",")
	iat, err := time.Parse("02 Jan 2006 15:04:05 -0700", date)
	if err != nil || !iat.Equal(clock.Now()) {
		t.Fatalf("date after the comma %q reads as %v (%v), want the issue time %v", date, iat, err, clock.Now())
	}
	if err := m.Verify(v, ada, site); err != nil {
		t.Fatalf("a digest just minted: %v", err)
	}
	if formdigest.TimeoutSeconds != 1800 || formdigest.Timeout != 1800*time.Second {
		t.Fatalf("timeout %v (%d s), want SharePoint's 1800 s", formdigest.Timeout, formdigest.TimeoutSeconds)
	}
}

// Servers of a farm each open their own ring on one key store; a digest
// minted by any of them verifies on the others.
func TestDigestIsValidOnEveryServerOfTheFarm(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.New(keyringtest.Epoch)
	var servers []formdigest.Minter
	for range 3 {
		s, err := dirstore.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, formdigest.Minter{Ring: keyringtest.NewRing(t, s, clock)})
	}
	for i, minter := range servers {
		v := mint(t, minter, ada, site)
		for j, verifier := range servers {
			if err := verifier.Verify(v, ada, site); err != nil {
				t.Errorf("digest of server %d on server %d: %v", i, j, err)
			}
		}
	}
}

func TestDigestExpiresAfterTimeout(t *testing.T) {
	m, clock, _ := newMinter(t)
	v := mint(t, m, ada, site)
	clock.Advance(formdigest.Timeout - time.Second)
	if err := m.Verify(v, ada, site); err != nil {
		t.Fatalf("digest 1799 s old: %v", err)
	}
	clock.Advance(time.Second)
	err := m.Verify(v, ada, site)
	refused(t, err, keyring.ErrExpired)
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("message %q does not say it expired", err)
	}
}

// A server whose clock is ahead mints digests from the future; the others
// accept them within the leeway assertions have.
func TestDigestFromTheFutureIsAcceptedOnlyWithinTheLeeway(t *testing.T) {
	store := keyring.NewMemoryStore()
	clock := fakeclock.New(keyringtest.Epoch)
	verifier := formdigest.Minter{Ring: keyringtest.NewRing(t, store, clock)}
	ahead := fakeclock.New(clock.Now().Add(keyring.AssertionLeeway))
	minter := formdigest.Minter{Ring: keyringtest.NewRing(t, store, ahead)}
	if err := verifier.Verify(mint(t, minter, ada, site), ada, site); err != nil {
		t.Fatalf("digest issued AssertionLeeway ahead: %v", err)
	}
	ahead.Advance(time.Second)
	refused(t, verifier.Verify(mint(t, minter, ada, site), ada, site), keyring.ErrNotYetValid)
}

func TestDigestIsBoundToItsUserAndScope(t *testing.T) {
	m, _, _ := newMinter(t)
	v := mint(t, m, ada, site)
	tests := []struct {
		name, subject, scope string
		want                 error
		says                 string
	}{
		{"another user is refused", eve, site, keyring.ErrWrongUser, "another user"},
		{"another site is refused", ada, "/sites/other", keyring.ErrWrongScope, "another site"},
		{"a sub-site's URL is another scope", ada, site + "/sub", keyring.ErrWrongScope, "another site"},
		{"a user differing in case is another user", strings.ToUpper(ada), site, keyring.ErrWrongUser, "another user"},
		{"no scope is another scope", ada, "", keyring.ErrWrongScope, "another site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Verify(v, tt.subject, tt.scope)
			refused(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("message %q does not say %q", err, tt.says)
			}
		})
	}
	refused(t, m.Verify(v, "", site), formdigest.ErrInvalid)
	if _, err := m.Mint("", site); err == nil {
		t.Fatal("minted a digest for no user")
	}
}

func TestEverySingleBitFlipIsRefused(t *testing.T) {
	m, _, _ := newMinter(t)
	v := mint(t, m, ada, site)
	raw, err := hex.DecodeString(v[2:130])
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := range 8 {
			raw[i] ^= 1 << bit
			flipped := "0x" + strings.ToUpper(hex.EncodeToString(raw)) + v[130:]
			raw[i] ^= 1 << bit
			if err := m.Verify(flipped, ada, site); !errors.Is(err, formdigest.ErrInvalid) {
				t.Fatalf("byte %d bit %d flipped: %v", i, bit, err)
			}
		}
	}
	// And in the text: every character changed (case included).
	for i := range v {
		b := []byte(v)
		b[i] ^= 0x20
		if err := m.Verify(string(b), ada, site); !errors.Is(err, formdigest.ErrInvalid) {
			t.Fatalf("character %d changed: %v", i, err)
		}
	}
}

func TestRotationKeepsOlderDigestsValidUntilTheyExpire(t *testing.T) {
	m, clock, r := newMinter(t)
	before, _ := r.Current()
	old := mint(t, m, ada, site)
	// Later than the first key's activation: with a standing clock the two
	// keys would tie, and the ring keeps the earlier one.
	clock.Advance(time.Minute)
	after, err := r.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after.ID == before.ID {
		t.Fatal("rotation kept the key")
	}
	fresh := mint(t, m, ada, site)
	if fresh[4:12] != strings.ToUpper(after.ID.String()) || old[4:12] != strings.ToUpper(before.ID.String()) {
		t.Fatalf("digests %s / %s do not name keys %s / %s", old[:12], fresh[:12], before.ID, after.ID)
	}
	for _, v := range []string{old, fresh} {
		if err := m.Verify(v, ada, site); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	clock.Advance(formdigest.Timeout)
	refused(t, m.Verify(old, ada, site), keyring.ErrExpired)
}

func TestRevocationRefusesTheKeysDigestsOnEveryServer(t *testing.T) {
	store := keyring.NewMemoryStore()
	clock := fakeclock.New(keyringtest.Epoch)
	a := formdigest.Minter{Ring: keyringtest.NewRing(t, store, clock)}
	b := formdigest.Minter{Ring: keyringtest.NewRing(t, store, clock)}
	v := mint(t, a, ada, site)
	if err := b.Verify(v, ada, site); err != nil {
		t.Fatal(err)
	}
	key, _ := a.Ring.Current()
	if err := a.Ring.Revoke(context.Background(), key.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := b.Ring.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]formdigest.Minter{"revoking server": a, "other server": b} {
		err := m.Verify(v, ada, site)
		refused(t, err, keyring.ErrRevoked)
		if !strings.Contains(err.Error(), "revoked") {
			t.Errorf("%s: message %q does not say revoked", name, err)
		}
	}
	// The ring has a new key; digests minted now are valid.
	if err := b.Verify(mint(t, a, ada, site), ada, site); err != nil {
		t.Fatalf("digest of the successor key: %v", err)
	}
}

func TestValuesThatAreNotDigestsAreRefused(t *testing.T) {
	m, clock, _ := newMinter(t)
	v := mint(t, m, ada, site)
	other, _, _ := newMinter(t)
	foreign := mint(t, other, ada, site)
	cookie, _ := m.Ring.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	tests := []struct {
		name, value string
		want        error
		says        string
	}{
		{"an empty header", "", keyring.ErrTruncated, "no digest was sent"},
		{"PnPjs's placeholder", "undefined", keyring.ErrMalformed, "placeholder"},
		{"lower-case hex (SharePoint writes upper case; no client changes it)", "0x" + strings.ToLower(v[2:130]) + v[130:], keyring.ErrMalformed, "not a digest this farm minted"},
		{"a weekday in the date", v[:131] + clock.Now().Format("Mon, ") + v[131:], keyring.ErrMalformed, "not a digest"},
		{"the date of another second", v[:131] + clock.Now().Add(time.Second).Format("02 Jan 2006 15:04:05 -0000"), keyring.ErrMalformed, "not a digest"},
		{"no comma", strings.Replace(v, ",", " ", 1), keyring.ErrMalformed, "not a digest"},
		{"no date", v[:130], keyring.ErrTruncated, "cut short"},
		{"half the hex", v[:66], keyring.ErrTruncated, "cut short"},
		{"just 0x", "0x", keyring.ErrTruncated, "cut short"},
		{"a space before it", " " + v, keyring.ErrMalformed, "not a digest"},
		{"a newline after it", v + "\n", keyring.ErrMalformed, "not a digest"},
		{"a huge value", v + strings.Repeat("A", 1<<20), keyring.ErrMalformed, "not a digest"},
		{"a SharePoint server's digest", "0x" + strings.Repeat("5E", 64) + ",21 Apr 2026 10:06:12 -0000", keyring.ErrBadVersion, "not a digest"},
		{"another farm's digest", foreign, keyring.ErrUnknownKey, "key this farm does not have"},
		{"a session cookie", cookie, keyring.ErrMalformed, "not a digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Verify(tt.value, ada, site)
			refused(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("message %q does not say %q", err, tt.says)
			}
			if len(tt.value) >= 8 && strings.Contains(err.Error(), tt.value) {
				t.Fatalf("message %q echoes the value", err)
			}
		})
	}
}

func TestWithoutAKeyRingNothingIsMintedOrAccepted(t *testing.T) {
	var m formdigest.Minter
	if _, err := m.Mint(ada, site); err == nil {
		t.Fatal("minted without a key ring")
	}
	err := m.Verify("0x", ada, site)
	if err == nil || errors.Is(err, formdigest.ErrInvalid) {
		t.Fatalf("no key ring: %v, want an error that is not the client's", err)
	}
}

// Minting and verifying share pooled MAC state; run under -race.
func TestConcurrentMintAndVerify(t *testing.T) {
	m, _, _ := newMinter(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			subject := ada + string(rune('a'+i))
			for range 200 {
				v, err := m.Mint(subject, site)
				if err == nil {
					err = m.Verify(v, subject, site)
				}
				if err == nil && m.Verify(v, eve, site) == nil {
					err = errors.New("accepted for another user")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
