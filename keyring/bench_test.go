package keyring_test

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/keyring"
)

func BenchmarkSessionCookieMint(b *testing.B) {
	r, _, _ := fixedRing(b)
	sid := keyring.NewSessionID()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.MintSessionCookie(sid, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionCookieVerify(b *testing.B) {
	r, _, _ := fixedRing(b)
	v, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.VerifySessionCookie(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionCookieVerifyParallel(b *testing.B) {
	r, _, _ := fixedRing(b)
	v, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.VerifySessionCookie(v); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAssertionMint(b *testing.B) {
	r, _, _ := fixedRing(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.MintAssertion(sampleAssertion); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAssertionVerify(b *testing.B) {
	r, _, _ := fixedRing(b)
	tok, _ := r.MintAssertion(sampleAssertion)
	b.ReportMetric(float64(len(tok)), "bytes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.VerifyAssertion(tok, sampleAssertion.Audience, sampleAssertion.Request); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormDigestMint(b *testing.B) {
	r, _, _ := fixedRing(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.MintFormDigest(sampleUser, sampleScope); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormDigestVerify(b *testing.B) {
	r, _, _ := fixedRing(b)
	d, _ := r.MintFormDigest(sampleUser, sampleScope)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.VerifyFormDigest(d, sampleUser, sampleScope); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProtect(b *testing.B) {
	r, _, _ := fixedRing(b)
	p := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Protect(keyring.PurposeOIDCState, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnprotect(b *testing.B) {
	r, _, _ := fixedRing(b)
	p, _ := r.Protect(keyring.PurposeOIDCState, make([]byte, 64))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Unprotect(keyring.PurposeOIDCState, p); err != nil {
			b.Fatal(err)
		}
	}
}

// A tampered cookie costs no more than a valid one (no refresh, no trial).
func BenchmarkSessionCookieVerifyTampered(b *testing.B) {
	r, _, _ := fixedRing(b)
	v, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	m := []byte(v)
	m[40] = 'A' + (m[40]-'A'+1)%26
	bad := string(m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.VerifySessionCookie(bad); err == nil {
			b.Fatal("accepted")
		}
	}
}
