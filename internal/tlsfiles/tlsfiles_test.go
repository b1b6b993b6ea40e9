package tlsfiles

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestLoadCAs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := selfSigned(t)
	key := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("secret-bytes")})
	cases := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"a bundle of two certificates and a key block loads", write("ok.pem", append(append(ca, key...), selfSigned(t)...)), ""},
		{"a missing file is an error", filepath.Join(dir, "nope.pem"), "no such file"},
		{"a file without certificates is an error", write("key.pem", key), "holds no PEM certificate"},
		{"a certificate that does not parse is an error", write("bad.pem", append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})...)), "certificate 2 does not parse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pool, err := LoadCAs(c.path)
			if c.wantErr == "" {
				if err != nil || pool == nil {
					t.Fatalf("LoadCAs = %v, %v", pool, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), "secret-bytes") {
				t.Errorf("the error shows the file's content: %v", err)
			}
		})
	}
}
