package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RedisTLSFiles are throwaway PEM files for a Redis that speaks only TLS:
// a CA, a server certificate it signed for 127.0.0.1 and localhost, a client
// certificate it signed, and a second CA that signed nothing here (for
// "wrong CA" tests). Keys are ECDSA P-256. Key files are readable by the
// owner only.
type RedisTLSFiles struct {
	Dir            string
	CAFile         string
	ServerCertFile string
	ServerKeyFile  string
	ClientCertFile string
	ClientKeyFile  string
	OtherCAFile    string
}

// NewRedisTLSFiles generates the files into dir (created if missing), with
// certificates valid for an hour: enough for a test.
func NewRedisTLSFiles(dir string) (*RedisTLSFiles, error) {
	return NewRedisTLSFilesFor(dir, time.Hour)
}

// NewRedisTLSFilesFor is NewRedisTLSFiles with certificates valid for
// validity (a local farm that runs for days).
func NewRedisTLSFilesFor(dir string, validity time.Duration) (*RedisTLSFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f := &RedisTLSFiles{
		Dir:            dir,
		CAFile:         filepath.Join(dir, "ca.crt"),
		ServerCertFile: filepath.Join(dir, "server.crt"),
		ServerKeyFile:  filepath.Join(dir, "server.key"),
		ClientCertFile: filepath.Join(dir, "client.crt"),
		ClientKeyFile:  filepath.Join(dir, "client.key"),
		OtherCAFile:    filepath.Join(dir, "other-ca.crt"),
	}
	now := time.Now()
	ca, caKey, err := newCert(pkix.Name{CommonName: "cesivi test CA"}, now, validity, nil, nil, func(c *x509.Certificate) {
		c.IsCA = true
		c.BasicConstraintsValid = true
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	})
	if err != nil {
		return nil, err
	}
	if err := writeCert(f.CAFile, ca); err != nil {
		return nil, err
	}
	server, serverKey, err := newCert(pkix.Name{CommonName: "localhost"}, now, validity, ca, caKey, func(c *x509.Certificate) {
		c.DNSNames = []string{"localhost"}
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	if err != nil {
		return nil, err
	}
	if err := writeCert(f.ServerCertFile, server); err != nil {
		return nil, err
	}
	if err := writeKey(f.ServerKeyFile, serverKey); err != nil {
		return nil, err
	}
	client, clientKey, err := newCert(pkix.Name{CommonName: "cesivi test client"}, now, validity, ca, caKey, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	if err != nil {
		return nil, err
	}
	if err := writeCert(f.ClientCertFile, client); err != nil {
		return nil, err
	}
	if err := writeKey(f.ClientKeyFile, clientKey); err != nil {
		return nil, err
	}
	other, _, err := newCert(pkix.Name{CommonName: "cesivi test other CA"}, now, validity, nil, nil, func(c *x509.Certificate) {
		c.IsCA = true
		c.BasicConstraintsValid = true
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	})
	if err != nil {
		return nil, err
	}
	if err := writeCert(f.OtherCAFile, other); err != nil {
		return nil, err
	}
	return f, nil
}

// ClientConfig returns a TLS configuration that trusts the CA and presents
// the client certificate, for connecting to 127.0.0.1.
func (f *RedisTLSFiles) ClientConfig() (*tls.Config, error) {
	b, err := os.ReadFile(f.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("testenv: %s holds no certificate", f.CAFile)
	}
	pair, err := tls.LoadX509KeyPair(f.ClientCertFile, f.ClientKeyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: "127.0.0.1", RootCAs: pool, Certificates: []tls.Certificate{pair}}, nil
}

// newCert makes a certificate for a new P-256 key, signed by parent (or
// self-signed when parent is nil), valid from a minute before now for
// validity.
func newCert(subject pkix.Name, now time.Time, validity time.Duration, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, edit func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(validity),
	}
	edit(tmpl)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func writeCert(path string, c *x509.Certificate) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644)
}

func writeKey(path string, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// RedisTLS starts a TLS-only Redis server for this test alone, with fresh
// certificates in a temporary directory (RedisOptions.TLS); it is stopped
// at cleanup.
func RedisTLS(t testing.TB) *RedisServer {
	t.Helper()
	files, err := NewRedisTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return RedisPrivate(t, RedisOptions{TLS: files})
}
