package keyring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/keyring"
)

// Fuzz targets: every decoder, against a ring holding a key with fixed
// material (fixedRing), so the checked-in corpora under testdata/fuzz
// start from valid payloads. Properties: no panic, and nothing is accepted
// but a payload the ring minted (the valid-* seeds: minting is randomised,
// so runtime-minted seeds would differ between fuzz workers); with strict
// encodings there is exactly one text per payload.

// validSeeds returns the string values of the corpus files named valid-*.
func validSeeds(tb testing.TB, target string) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "valid-*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		v := lines[len(lines)-1]
		switch {
		case strings.HasPrefix(v, "string("):
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(v, "string("), ")"))
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			out[s] = true
		case strings.HasPrefix(v, "[]byte("):
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(v, "[]byte("), ")"))
			if err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			out[s] = true
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no valid-* seeds in testdata/fuzz/%s", target)
	}
	return out
}

func FuzzVerifySessionCookie(f *testing.F) {
	r, _, _ := fixedRing(f)
	valid := validSeeds(f, "FuzzVerifySessionCookie")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := r.VerifySessionCookie(v)
		if err == nil && !valid[v] {
			t.Fatalf("accepted a payload the ring never minted: %q (%+v)", v, c)
		}
		if err != nil && keyring.Reason(err) == "other" {
			t.Fatalf("refusal without a reason: %v", err)
		}
	})
}

func FuzzVerifyAssertion(f *testing.F) {
	r, _, _ := fixedRing(f)
	valid := validSeeds(f, "FuzzVerifyAssertion")
	f.Fuzz(func(t *testing.T, v string) {
		a, err := r.VerifyAssertion(v, sampleAssertion.Audience, sampleAssertion.Request)
		if err == nil && !valid[v] {
			t.Fatalf("accepted a payload the ring never minted: %q (%+v)", v, a)
		}
		if err != nil && keyring.Reason(err) == "other" {
			t.Fatalf("refusal without a reason: %v", err)
		}
	})
}

func FuzzVerifyFormDigest(f *testing.F) {
	r, _, _ := fixedRing(f)
	valid := validSeeds(f, "FuzzVerifyFormDigest")
	f.Fuzz(func(t *testing.T, v string) {
		err := r.VerifyFormDigest(v, sampleUser, sampleScope)
		if err == nil && !valid[v] {
			t.Fatalf("accepted a digest the ring never minted: %q", v)
		}
		if err != nil && keyring.Reason(err) == "other" {
			t.Fatalf("refusal without a reason: %v", err)
		}
	})
}

func FuzzUnprotect(f *testing.F) {
	r, _, _ := fixedRing(f)
	valid := validSeeds(f, "FuzzUnprotect")
	f.Fuzz(func(t *testing.T, v []byte) {
		p, err := r.Unprotect(keyring.PurposeOIDCState, v)
		if err == nil && !valid[string(v)] {
			t.Fatalf("accepted a payload the ring never made: %x (%q)", v, p)
		}
		if err != nil && keyring.Reason(err) == "other" {
			t.Fatalf("refusal without a reason: %v", err)
		}
	})
}

// TestWriteFuzzSeeds regenerates the checked-in corpora:
//
//	KEYRING_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./keyring/
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("KEYRING_WRITE_SEEDS") == "" {
		t.Skip("set KEYRING_WRITE_SEEDS=1 to regenerate testdata/fuzz")
	}
	r, clock, _ := fixedRing(t)
	write := func(target, name, value string, bytesValue bool) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		kind := "string"
		if bytesValue {
			kind = "[]byte"
		}
		body := "go test fuzz v1\n" + kind + "(" + strconv.Quote(value) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b64 := base64.RawURLEncoding
	cookie, _ := r.MintSessionCookie(keyring.SessionID{1, 2, 3}, time.Time{})
	cookieExp, _ := r.MintSessionCookie(keyring.SessionID{4, 5, 6}, clock.Now().Add(24*time.Hour))
	write("FuzzVerifySessionCookie", "valid-1", cookie, false)
	write("FuzzVerifySessionCookie", "valid-2", cookieExp, false)
	write("FuzzVerifySessionCookie", "truncated", cookie[:40], false)
	write("FuzzVerifySessionCookie", "empty", "", false)
	raw, _ := b64.DecodeString(cookie)
	raw[30] ^= 4
	write("FuzzVerifySessionCookie", "tampered", b64.EncodeToString(raw), false)

	tok, _ := r.MintAssertion(sampleAssertion)
	tok2, _ := r.MintAssertion(keyring.Assertion{Subject: "s", Audience: sampleAssertion.Audience, Request: sampleAssertion.Request})
	write("FuzzVerifyAssertion", "valid-1", tok, false)
	write("FuzzVerifyAssertion", "valid-2", tok2, false)
	write("FuzzVerifyAssertion", "truncated", tok[:len(tok)-5], false)
	write("FuzzVerifyAssertion", "cookie", cookie, false)
	raw, _ = b64.DecodeString(tok)
	raw[20] ^= 1
	write("FuzzVerifyAssertion", "tampered", b64.EncodeToString(raw), false)

	d, _ := r.MintFormDigest(sampleUser, sampleScope)
	write("FuzzVerifyFormDigest", "valid-1", d, false)
	write("FuzzVerifyFormDigest", "truncated", d[:30], false)
	write("FuzzVerifyFormDigest", "sharepoint", "0x"+strings.Repeat("AB", 64)+",23 Nov 2026 22:55:00 -0000", false)
	hexRaw, _ := hex.DecodeString(d[2:60])
	hexRaw[12] ^= 1
	write("FuzzVerifyFormDigest", "wronguser", "0x"+strings.ToUpper(hex.EncodeToString(hexRaw))+d[60:], false)

	p, _ := r.Protect(keyring.PurposeOIDCState, []byte("state"))
	p2, _ := r.Protect(keyring.PurposeOIDCState, bytes.Repeat([]byte("x"), 100))
	write("FuzzUnprotect", "valid-1", string(p), true)
	write("FuzzUnprotect", "valid-2", string(p2), true)
	write("FuzzUnprotect", "truncated", string(p[:20]), true)
	q, _ := r.Protect("tokens", []byte("state"))
	write("FuzzUnprotect", "otherpurpose", string(q), true)
}
