package formdigest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/formdigest"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

// fixedMinter is a Minter on a ring holding one plain key of known
// material, at keyringtest.Epoch: digests are deterministic (no nonce), so
// the checked-in corpus holds digests that verify.
func fixedMinter(tb testing.TB) (formdigest.Minter, *fakeclock.Clock) {
	tb.Helper()
	s := keyring.NewMemoryStore()
	_, err := s.InsertKey(context.Background(), keyring.KeyRecord{
		ID: 0x0d16e570, Slot: "fixed",
		Created: keyringtest.Epoch.Add(-time.Hour), Activation: keyringtest.Epoch.Add(-time.Hour),
		Expiration: keyringtest.Epoch.Add(keyring.DefaultKeyLifetime),
		Material:   append([]byte{'P'}, bytes.Repeat([]byte{0x42}, 32)...), // 'P': plain, not sealed
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
	return formdigest.Minter{Ring: r}, clock
}

// validDigests is every digest for ada in site that verifies at the clock's
// time: one per second from Timeout ago to AssertionLeeway ahead.
func validDigests(tb testing.TB, m formdigest.Minter, clock *fakeclock.Clock) map[string]bool {
	tb.Helper()
	now := clock.Now()
	defer clock.Set(now)
	valid := map[string]bool{}
	for d := -formdigest.Timeout + time.Second; d <= keyring.AssertionLeeway; d += time.Second {
		clock.Set(now.Add(d))
		v, err := m.Mint(ada, site)
		if err != nil {
			tb.Fatal(err)
		}
		valid[v] = true
	}
	return valid
}

// FuzzVerify: Verify never panics, refuses with ErrInvalid, and accepts
// only the digests the ring mints for that user and site within their
// validity.
func FuzzVerify(f *testing.F) {
	m, clock := fixedMinter(f)
	valid := validDigests(f, m, clock)
	f.Fuzz(func(t *testing.T, value string) {
		err := m.Verify(value, ada, site)
		if err == nil && !valid[value] {
			t.Fatalf("accepted a value the ring did not mint for this user and site: %q", value)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "formdigest: digest refused: ") {
			t.Fatalf("not a refusal: %v", err)
		}
	})
}

// TestFuzzCorpusStartsFromValidDigests keeps the corpus useful: its valid-*
// seeds verify (so the fuzzer mutates real digests).
func TestFuzzCorpusStartsFromValidDigests(t *testing.T) {
	m, _ := fixedMinter(t)
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerify", "valid-*"))
	if len(files) == 0 {
		t.Fatal("no valid-* seeds in testdata/fuzz/FuzzVerify")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[len(lines)-1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := m.Verify(v, ada, site); err != nil {
			t.Errorf("%s: %v (regenerate the corpus)", f, err)
		}
	}
}

// TestWriteFuzzSeeds regenerates the checked-in corpus:
//
//	FORMDIGEST_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./internal/formdigest/
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("FORMDIGEST_WRITE_SEEDS") == "" {
		t.Skip("set FORMDIGEST_WRITE_SEEDS=1 to regenerate testdata/fuzz")
	}
	m, clock := fixedMinter(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, value string) {
		body := "go test fuzz v1\nstring(" + strconv.Quote(value) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := clock.Now()
	v := mint(t, m, ada, site)
	clock.Advance(-17 * time.Minute)
	earlier := mint(t, m, ada, site)
	clock.Set(now)
	eves := mint(t, m, eve, site)
	otherSite := mint(t, m, ada, "/sites/other")
	write("valid-now", v)
	write("valid-earlier", earlier)
	write("eve", eves)
	write("othersite", otherSite)
	write("empty", "")
	write("undefined", "undefined")
	write("lowercase", "0x"+strings.ToLower(v[2:130])+v[130:])
	write("weekday", v[:131]+now.Format("Mon, ")+v[131:])
	write("truncated", v[:100])
	write("sharepoint", "0x"+strings.Repeat("5E", 64)+",21 Apr 2026 10:06:12 -0000")
}
