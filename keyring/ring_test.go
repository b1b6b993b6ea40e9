package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
)

func TestNoMasterKeyWarnsOnceAndLogsNoSecrets(t *testing.T) {
	var logs testenv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := keyring.NewMemoryStore()
	clock := fakeclock.New(keyringtest.Epoch)
	r := keyringtest.NewRing(t, s, clock, func(o *keyring.Options) { o.MasterKey, o.Logger = nil, log })
	ctx := context.Background()
	cur, _ := r.Current()
	cookie, _ := r.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	r.Rotate(ctx)
	r.Revoke(ctx, cur.ID, "test")
	r.VerifySessionCookie(cookie)
	r.VerifySessionCookie("garbage")
	for range 3 {
		r.Refresh(ctx)
	}
	out := logs.String()
	if n := strings.Count(out, "UNENCRYPTED"); n != 1 {
		t.Fatalf("%d warnings about the missing master key, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, cur.ID.String()) {
		t.Fatalf("key ids should be logged:\n%s", out)
	}
	recs, _ := s.Load(ctx)
	for _, rec := range recs.Keys {
		m := rec.Material[1:]
		for _, enc := range []string{hex.EncodeToString(m), base64.StdEncoding.EncodeToString(m), base64.RawURLEncoding.EncodeToString(m)} {
			if strings.Contains(out, enc[:16]) {
				t.Fatalf("key material in the logs:\n%s", out)
			}
		}
	}
	if strings.Contains(out, cookie) {
		t.Fatal("a payload in the logs")
	}
}

func TestUnknownKeyRefreshIsRateLimited(t *testing.T) {
	s := keyring.NewMemoryStore()
	clock := fakeclock.New(keyringtest.Epoch)
	reg := prometheus.NewRegistry()
	a := keyringtest.NewRing(t, s, clock)
	b := keyringtest.NewRing(t, s, clock, func(o *keyring.Options) { o.Registerer = reg })
	ctx := context.Background()
	if _, err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	// b has not heard of the new key: one refresh finds it.
	cookie, _ := a.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	if _, err := b.VerifySessionCookie(cookie); err != nil {
		t.Fatalf("a cookie of a key created on another node: %v", err)
	}
	// A forged key id: the first one refreshes (none since the interval
	// began? the previous refresh counts), the next ones do not.
	foreign := keyringtest.NewRing(t, keyring.NewMemoryStore(), clock)
	bad, _ := foreign.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	for range 50 {
		if _, err := b.VerifySessionCookie(bad); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("foreign cookie: %v", err)
		}
	}
	if n := counter(t, reg, "cesivi_keyring_unknown_key_refreshes_total", nil); n != 1 {
		t.Fatalf("%v unknown-key refreshes for 51 payloads within the interval, want 1", n)
	}
	if n := counter(t, reg, "cesivi_keyring_verification_failures_total", map[string]string{"format": "session_cookie", "reason": "unknown_key"}); n != 50 {
		t.Fatalf("%v unknown_key failures counted, want 50", n)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	clock := fakeclock.New(keyringtest.Epoch)
	r := keyringtest.NewRing(t, keyring.NewMemoryStore(), clock, func(o *keyring.Options) { o.Registerer = reg })
	// A second ring on the same registry is not an error.
	keyringtest.NewRing(t, keyring.NewMemoryStore(), clock, func(o *keyring.Options) { o.Registerer = reg })
	clock.Advance(time.Hour)
	r.VerifySessionCookie("AAAA")
	tok, _ := r.MintAssertion(keyring.Assertion{Subject: "x", Audience: "a"})
	r.VerifyAssertion(tok, "b", "")
	if got := gauge(t, reg, "cesivi_keyring_active_key_age_seconds", nil); got != 3600 {
		t.Fatalf("active key age %v, want 3600", got)
	}
	if got := gauge(t, reg, "cesivi_keyring_keys", map[string]string{"state": "active"}); got != 1 {
		t.Fatalf("active keys %v, want 1", got)
	}
	if got := counter(t, reg, "cesivi_keyring_verification_failures_total", map[string]string{"format": "assertion", "reason": "wrong_audience"}); got != 1 {
		t.Fatalf("wrong_audience failures %v", got)
	}
	if got := counter(t, reg, "cesivi_keyring_refreshes_total", map[string]string{"trigger": "explicit", "result": "ok"}); got < 2 {
		t.Fatalf("refreshes %v", got)
	}
}

func find(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	if m := find(t, reg, name, labels); m != nil {
		return m.GetCounter().GetValue()
	}
	return 0
}

func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	if m := find(t, reg, name, labels); m != nil {
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no %s %v", name, labels)
	return 0
}

// With background refresh on, a notice reaches the other rings at once.
func TestNoticeRefreshesInBackground(t *testing.T) {
	s := keyring.NewMemoryStore()
	var rings []*keyring.Ring
	for range 3 {
		r, err := keyring.New(context.Background(), keyring.Options{Store: s, MasterKey: keyringtest.MasterKey, UnknownKeyRefreshInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		rings = append(rings, r)
	}
	cur, _ := rings[0].Current()
	cookie, _ := rings[1].MintSessionCookie(keyring.NewSessionID(), time.Time{})
	if err := rings[0].Revoke(context.Background(), cur.ID, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		_, e1 := rings[1].VerifySessionCookie(cookie)
		_, e2 := rings[2].VerifySessionCookie(cookie)
		if errors.Is(e1, keyring.ErrRevoked) && errors.Is(e2, keyring.ErrRevoked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not refused within 1 s: %v, %v", e1, e2)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// The revoked key was current: exactly one replacement, used by all.
	ids := map[keyring.KeyID]bool{}
	for _, r := range rings {
		k, err := r.Current()
		if err != nil {
			t.Fatal(err)
		}
		ids[k.ID] = true
	}
	if len(ids) != 1 || len(rings[0].Keys()) != 2 {
		t.Fatalf("after revoking the current key: %d current keys, %d keys", len(ids), len(rings[0].Keys()))
	}
}

// A node whose clock lags the revoker's does not create keys born revoked.
func TestRevokeBeforeWithLaggingClock(t *testing.T) {
	s := keyring.NewMemoryStore()
	ahead := fakeclock.New(keyringtest.Epoch)
	behind := fakeclock.New(keyringtest.Epoch.Add(-3 * time.Second))
	a := keyringtest.NewRing(t, s, ahead)
	b := keyringtest.NewRing(t, s, behind)
	if err := a.RevokeBefore(context.Background(), ahead.Now(), "all"); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.MintSessionCookie(keyring.NewSessionID(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeBefore(context.Background(), ahead.Now().Add(time.Minute), ""); err == nil {
		t.Fatal("a revocation of future keys was accepted")
	}
}

func TestParseMasterKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb}, 32)
	dir := t.TempDir()
	rawFile := filepath.Join(dir, "raw")
	os.WriteFile(rawFile, key, 0o600)
	textFile := filepath.Join(dir, "text")
	os.WriteFile(textFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
	for _, in := range []string{
		base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key), " " + base64.RawURLEncoding.EncodeToString(key) + "\n",
		"file:" + rawFile, "@" + textFile,
	} {
		got, err := keyring.ParseMasterKey(in)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseMasterKey(%q) = %x, %v", in, got, err)
		}
	}
	if got, err := keyring.ParseMasterKey(""); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, in := range []string{"c2hvcnQ=", "not base64 at all!", "file:" + filepath.Join(dir, "missing")} {
		_, err := keyring.ParseMasterKey(in)
		if err == nil || (!strings.HasPrefix(in, "file:") && strings.Contains(err.Error(), in)) {
			t.Errorf("ParseMasterKey(%q): %v", in, err)
		}
	}
}

func TestOptionsChecked(t *testing.T) {
	if _, err := keyring.New(context.Background(), keyring.Options{}); err == nil {
		t.Error("no store accepted")
	}
	if _, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), KeyLifetime: time.Hour}); err == nil {
		t.Error("a 1 h key lifetime accepted")
	}
	if _, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), MasterKey: []byte("short")}); err == nil {
		t.Error("a short master key accepted")
	}
}

// Different application names never accept each other's payloads.
func TestApplicationNameIsRootPurpose(t *testing.T) {
	s := keyring.NewMemoryStore()
	clock := fakeclock.New(keyringtest.Epoch)
	a := keyringtest.NewRing(t, s, clock)
	b := keyringtest.NewRing(t, s, clock, func(o *keyring.Options) { o.ApplicationName = "other-app" })
	c, _ := a.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	if _, err := b.VerifySessionCookie(c); !errors.Is(err, keyring.ErrTampered) {
		t.Fatalf("another application's cookie: %v", err)
	}
}
