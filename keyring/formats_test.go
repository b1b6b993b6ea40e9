package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

var sampleAssertion = keyring.Assertion{
	Subject: "3f1c2a9e-6b1d-4c55-9a7e-1b2c3d4e5f60", Name: "Ada Lovelace", Email: "ada@example.org",
	Groups: []string{"Site Owners", "Engineering"}, SessionID: "b1946ac92492d2347c6235b4d2611184", Audience: "cesivi-server",
	Request: "GET /_api/web/lists?$top=10",
}

const sampleUser, sampleScope = "i:0#.f|membership|ada@example.org", "/sites/dev"

func TestSessionCookieRoundTripAndSize(t *testing.T) {
	r, clock, _ := fixedRing(t)
	for _, exp := range []time.Time{{}, clock.Now().Add(time.Hour)} {
		sid := keyring.NewSessionID()
		v, err := r.MintSessionCookie(sid, exp)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != keyring.SessionCookieLen {
			t.Fatalf("cookie length %d, want constant %d", len(v), keyring.SessionCookieLen)
		}
		if strings.Contains(v, sid.String()) || bytes.Contains([]byte(v), sid[:]) {
			t.Fatal("session id visible in the cookie")
		}
		got, err := r.VerifySessionCookie(v)
		if err != nil || got.SessionID != sid || got.KeyID != fixedKeyID || !got.Expires.Equal(exp.Truncate(time.Second)) {
			t.Fatalf("verify: %+v, %v", got, err)
		}
	}
	v, _ := r.MintSessionCookie(keyring.NewSessionID(), clock.Now().Add(time.Minute))
	clock.Advance(time.Minute)
	if _, err := r.VerifySessionCookie(v); !errors.Is(err, keyring.ErrExpired) {
		t.Fatalf("expired cookie: %v", err)
	}
}

func TestAssertionRoundTrip(t *testing.T) {
	r, clock, _ := fixedRing(t)
	tok, err := r.MintAssertion(sampleAssertion)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("assertion: %d bytes for %d groups", len(tok), len(sampleAssertion.Groups))
	got, err := r.VerifyAssertion(tok, "cesivi-server", sampleAssertion.Request)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleAssertion
	want.IssuedAt, want.Expires, want.KeyID = clock.Now(), clock.Now().Add(keyring.DefaultAssertionTTL), fixedKeyID
	if got.Subject != want.Subject || got.Name != want.Name || got.Email != want.Email || got.SessionID != want.SessionID ||
		strings.Join(got.Groups, "|") != strings.Join(want.Groups, "|") || !got.IssuedAt.Equal(want.IssuedAt) ||
		!got.Expires.Equal(want.Expires) || got.KeyID != want.KeyID || got.Audience != want.Audience {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if _, err := r.VerifyAssertion(tok, "other", sampleAssertion.Request); !errors.Is(err, keyring.ErrWrongAudience) {
		t.Fatalf("other audience: %v", err)
	}
	clock.Advance(keyring.DefaultAssertionTTL + keyring.AssertionLeeway)
	if _, err := r.VerifyAssertion(tok, "cesivi-server", sampleAssertion.Request); !errors.Is(err, keyring.ErrExpired) {
		t.Fatalf("expired assertion: %v", err)
	}
	future := sampleAssertion
	future.IssuedAt = clock.Now().Add(time.Hour)
	tok, _ = r.MintAssertion(future)
	if _, err := r.VerifyAssertion(tok, "cesivi-server", sampleAssertion.Request); !errors.Is(err, keyring.ErrNotYetValid) {
		t.Fatalf("assertion from the future: %v", err)
	}
	empty, _ := r.MintAssertion(keyring.Assertion{Subject: "x"})
	if got, err := r.VerifyAssertion(empty, "", ""); err != nil || got.Groups != nil {
		t.Fatalf("minimal assertion: %+v %v", got, err)
	}
}

func TestFormDigest(t *testing.T) {
	r, clock, _ := fixedRing(t)
	d, err := r.MintFormDigest(sampleUser, sampleScope)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d, "0x") || !strings.HasSuffix(d, ","+clock.Now().Format("02 Jan 2006 15:04:05 -0000")) {
		t.Fatalf("digest shape: %s", d)
	}
	if err := r.VerifyFormDigest(d, sampleUser, sampleScope); err != nil {
		t.Fatal(err)
	}
	if err := r.VerifyFormDigest(d, "i:0#.f|membership|eve@example.org", sampleScope); !errors.Is(err, keyring.ErrWrongUser) {
		t.Fatalf("another user: %v", err)
	}
	if err := r.VerifyFormDigest(d, sampleUser, "/sites/other"); !errors.Is(err, keyring.ErrTampered) {
		t.Fatalf("another scope: %v", err)
	}
	if err := r.VerifyFormDigest(strings.ToLower(d[:10])+d[10:], sampleUser, sampleScope); err == nil {
		t.Fatal("lower-case variant accepted")
	}
	clock.Advance(keyring.FormDigestTimeout - time.Second)
	if err := r.VerifyFormDigest(d, sampleUser, sampleScope); err != nil {
		t.Fatalf("digest 1799 s old: %v", err)
	}
	clock.Advance(time.Second)
	if err := r.VerifyFormDigest(d, sampleUser, sampleScope); !errors.Is(err, keyring.ErrExpired) {
		t.Fatalf("digest 1800 s old: %v", err)
	}
}

func TestProtect(t *testing.T) {
	r, _, _ := fixedRing(t)
	p, err := r.Protect(keyring.PurposeOIDCState, []byte("nonce+verifier"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Unprotect(keyring.PurposeOIDCState, p); err != nil || string(got) != "nonce+verifier" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := r.Unprotect("tokens", p); !errors.Is(err, keyring.ErrWrongPurpose) {
		t.Fatalf("other purpose: %v", err)
	}
	if _, err := r.Protect(keyring.PurposeSessionCookie, nil); err == nil {
		t.Fatal("Protect accepted a format's purpose")
	}
}

// Every format refuses every other format's payload as "wrong purpose", and
// a purpose-swapped version byte as tampered.
func TestCrossPurpose(t *testing.T) {
	r, _, _ := fixedRing(t)
	cookie, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	tok, _ := r.MintAssertion(sampleAssertion)
	prot, _ := r.Protect(keyring.PurposeOIDCState, []byte("x"))
	protText := base64.RawURLEncoding.EncodeToString(prot)
	for name, v := range map[string]string{"assertion": tok, "protected": protText} {
		if _, err := r.VerifySessionCookie(v); !errors.Is(err, keyring.ErrWrongPurpose) && !errors.Is(err, keyring.ErrMalformed) {
			t.Errorf("cookie verifier on %s: %v", name, err)
		}
	}
	if _, err := r.VerifyAssertion(cookie, "cesivi-server", ""); !errors.Is(err, keyring.ErrWrongPurpose) {
		t.Errorf("assertion verifier on a cookie: %v", err)
	}
	if _, err := r.VerifyAssertion(protText, "cesivi-server", ""); !errors.Is(err, keyring.ErrWrongPurpose) {
		t.Errorf("assertion verifier on a protected payload: %v", err)
	}
	// Same layout, version byte swapped: the subkey differs, so it fails
	// authentication.
	raw, _ := base64.RawURLEncoding.DecodeString(cookie)
	if _, err := r.Unprotect(keyring.PurposeOIDCState, raw); !errors.Is(err, keyring.ErrWrongPurpose) {
		t.Errorf("unprotect on a cookie: %v", err)
	}
	raw[0] = 0x41
	if _, err := r.Unprotect(keyring.PurposeOIDCState, raw); err == nil {
		t.Error("a cookie relabelled as a protected payload was accepted")
	}
	digest, _ := r.MintFormDigest(sampleUser, "")
	draw, _ := hex.DecodeString(digest[2:60])
	if _, err := r.VerifySessionCookie(base64.RawURLEncoding.EncodeToString(draw)); !errors.Is(err, keyring.ErrWrongPurpose) {
		t.Errorf("cookie verifier on a digest's bytes: %v", err)
	}
	if err := r.VerifyFormDigest("0x"+strings.ToUpper(hex.EncodeToString(raw[:29]))+digest[60:], sampleUser, ""); !errors.Is(err, keyring.ErrWrongPurpose) {
		t.Errorf("digest verifier on other bytes: %v", err)
	}
}

// mutations returns every single-byte change of the decoded payload
// (each bit flip), every truncation, and one extension.
func mutations(raw []byte) [][]byte {
	var out [][]byte
	for i := range raw {
		for bit := range 8 {
			m := bytes.Clone(raw)
			m[i] ^= 1 << bit
			out = append(out, m)
		}
	}
	for n := range len(raw) {
		out = append(out, bytes.Clone(raw[:n]))
	}
	return append(out, append(bytes.Clone(raw), 0))
}

func TestEveryMutationRefused(t *testing.T) {
	r, _, _ := fixedRing(t)
	b64 := base64.RawURLEncoding
	cookie, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	tok, _ := r.MintAssertion(sampleAssertion)
	digest, _ := r.MintFormDigest(sampleUser, sampleScope)
	prot, _ := r.Protect(keyring.PurposeOIDCState, []byte("state"))
	seen := map[string]int{}
	count := func(err error) {
		if err == nil {
			t.Fatal("a mutated payload was accepted")
		}
		seen[keyring.Reason(err)]++
	}
	raw, _ := b64.DecodeString(cookie)
	for _, m := range mutations(raw) {
		_, err := r.VerifySessionCookie(b64.EncodeToString(m))
		count(err)
	}
	raw, _ = b64.DecodeString(tok)
	for _, m := range mutations(raw) {
		_, err := r.VerifyAssertion(b64.EncodeToString(m), "cesivi-server", sampleAssertion.Request)
		count(err)
	}
	raw, _ = hex.DecodeString(digest[2:strings.IndexByte(digest, ',')])
	for _, m := range mutations(raw) {
		count(r.VerifyFormDigest("0x"+strings.ToUpper(hex.EncodeToString(m))+digest[strings.IndexByte(digest, ','):], sampleUser, sampleScope))
	}
	for i := range digest {
		count(r.VerifyFormDigest(digest[:i], sampleUser, sampleScope))
		m := []byte(digest)
		m[i] ^= 1
		count(r.VerifyFormDigest(string(m), sampleUser, sampleScope))
	}
	for _, m := range mutations(prot) {
		_, err := r.Unprotect(keyring.PurposeOIDCState, m)
		count(err)
	}
	// Text-level changes too: every character of the cookie replaced.
	for i := range cookie {
		m := []byte(cookie)
		m[i] = "AB"[b2i(m[i] == 'A')]
		_, err := r.VerifySessionCookie(string(m))
		count(err)
	}
	// encoding/base64 skips CR and LF: inserted anywhere, they must not
	// yield a second accepted spelling of a valid payload.
	for i := range len(tok) + 1 {
		for _, nl := range []string{"\n", "\r"} {
			_, err := r.VerifyAssertion(tok[:i]+nl+tok[i:], "cesivi-server", sampleAssertion.Request)
			count(err)
			if i < len(cookie) {
				_, err = r.VerifySessionCookie(cookie[:i] + nl + cookie[i+1:])
				count(err)
				_, err = r.VerifySessionCookie(cookie[:i] + nl + cookie[i:])
				count(err)
			}
		}
	}
	for _, reason := range []string{"tampered", "truncated", "unknown_key", "bad_version", "wrong_purpose", "malformed", "wrong_user"} {
		if seen[reason] == 0 {
			t.Errorf("no mutation was refused as %s: %v", reason, seen)
		}
	}
	t.Logf("refusals by reason: %v", seen)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRevokedAndUnknownKeys(t *testing.T) {
	r, clock, s := fixedRing(t)
	cookie, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	tok, _ := r.MintAssertion(sampleAssertion)
	digest, _ := r.MintFormDigest(sampleUser, "")
	other := keyringtest.NewRing(t, keyring.NewMemoryStore(), clock)
	foreign, _ := other.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	if _, err := r.VerifySessionCookie(foreign); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("cookie of another ring: %v", err)
	}
	if err := r.Revoke(context.Background(), fixedKeyID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.VerifySessionCookie(cookie); !errors.Is(err, keyring.ErrRevoked) {
		t.Fatalf("cookie: %v", err)
	}
	if _, err := r.VerifyAssertion(tok, sampleAssertion.Audience, sampleAssertion.Request); !errors.Is(err, keyring.ErrRevoked) {
		t.Fatalf("assertion: %v", err)
	}
	if err := r.VerifyFormDigest(digest, sampleUser, ""); !errors.Is(err, keyring.ErrRevoked) {
		t.Fatalf("digest: %v", err)
	}
	_ = s
}
