package testenv

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisTLSFiles are throwaway PEM files for a Redis that speaks only TLS:
// a CA, a server certificate it signed for 127.0.0.1 and localhost, a client
// certificate it signed, and a second CA that signed nothing here (for
// "wrong CA" tests). Keys are ECDSA P-256; certificates are valid for an
// hour. Key files are readable by the owner only.
type RedisTLSFiles struct {
	Dir            string
	CAFile         string
	ServerCertFile string
	ServerKeyFile  string
	ClientCertFile string
	ClientKeyFile  string
	OtherCAFile    string
}

// NewRedisTLSFiles generates the files into dir (created if missing).
func NewRedisTLSFiles(dir string) (*RedisTLSFiles, error) {
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
	ca, caKey, err := newCert(pkix.Name{CommonName: "cesivi test CA"}, now, nil, nil, func(c *x509.Certificate) {
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
	server, serverKey, err := newCert(pkix.Name{CommonName: "localhost"}, now, ca, caKey, func(c *x509.Certificate) {
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
	client, clientKey, err := newCert(pkix.Name{CommonName: "cesivi test client"}, now, ca, caKey, func(c *x509.Certificate) {
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
	other, _, err := newCert(pkix.Name{CommonName: "cesivi test other CA"}, now, nil, nil, func(c *x509.Certificate) {
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
// self-signed when parent is nil), valid from a minute before now for an
// hour.
func newCert(subject pkix.Name, now time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, edit func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey, error) {
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
		NotAfter:     now.Add(time.Hour),
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

// RedisTLSServer is a redis-server started by StartRedisTLS. It listens only
// on its TLS port and requires a client certificate signed by Files.CAFile.
type RedisTLSServer struct {
	Addr  string // 127.0.0.1:port, the TLS port
	Port  int
	PID   int
	Files *RedisTLSFiles

	server *RedisServer
}

// StartRedisTLS starts a redis-server configured with files (tls-port,
// tls-cert-file, tls-key-file, tls-ca-cert-file, tls-auth-clients yes) and
// returns once it answers PING over TLS with the client certificate.
// opt.Port and opt.Sentinel must be zero. StartRedis's readiness probe
// speaks plain TCP, so the server starts with a plain port as well and
// closes it (CONFIG SET port 0) before StartRedisTLS returns: from then on it
// speaks only TLS. Restart is therefore not offered.
func StartRedisTLS(ctx context.Context, files *RedisTLSFiles, opt RedisOptions) (*RedisTLSServer, error) {
	if opt.Port != 0 || opt.Sentinel {
		return nil, errors.New("testenv: StartRedisTLS picks its own ports and does not run Sentinel")
	}
	cfg, err := files.ClientConfig()
	if err != nil {
		return nil, err
	}
	extra := opt.ExtraConfig
	for attempt := 1; ; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		opt.ExtraConfig = append([]string{
			"tls-port " + strconv.Itoa(port),
			"tls-cert-file " + quoteConf(files.ServerCertFile),
			"tls-key-file " + quoteConf(files.ServerKeyFile),
			"tls-ca-cert-file " + quoteConf(files.CAFile),
			"tls-auth-clients yes",
		}, extra...)
		r, err := StartRedis(ctx, opt)
		if err != nil {
			if errors.Is(err, errPortInUse) && attempt < 5 {
				continue
			}
			return nil, fmt.Errorf("testenv: start redis-server with TLS (it must be built with TLS support, as Debian's is): %w", err)
		}
		s := &RedisTLSServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, PID: r.PID, Files: files, server: r}
		if err := redisDo(ctx, r.Addr, opt.Password, []string{"CONFIG", "SET", "port", "0"}); err != nil {
			r.Stop()
			return nil, fmt.Errorf("testenv: close the plain port of the TLS redis-server: %w", err)
		}
		if err := redisPingTLS(ctx, s.Addr, cfg, opt.Password); err != nil {
			r.Stop()
			return nil, fmt.Errorf("testenv: redis-server does not answer over TLS on %s: %w; its log (%s):\n%s", s.Addr, err, r.LogFile, logSince(r.LogFile, 0))
		}
		return s, nil
	}
}

// Stop stops the server (see RedisServer.Stop).
func (r *RedisTLSServer) Stop() error { return r.server.Stop() }

// Kill ends the server with SIGKILL.
func (r *RedisTLSServer) Kill() error { return r.server.Kill() }

// LogFile is the server's log.
func (r *RedisTLSServer) LogFile() string { return r.server.LogFile }

// RedisTLS starts a TLS-only Redis server for this test alone, with fresh
// certificates in a temporary directory; it is stopped at cleanup.
func RedisTLS(t testing.TB) *RedisTLSServer {
	t.Helper()
	files, err := NewRedisTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := StartRedisTLS(ctx, files, RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("testenv: stop redis: %v", err)
		}
	})
	return r
}

// redisPingTLS sends PING over a fresh TLS connection and expects +PONG.
func redisPingTLS(ctx context.Context, addr string, cfg *tls.Config, password string) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: cfg}
	deadline := time.Now().Add(5 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	var req string
	if password != "" {
		req = fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(password), password)
	}
	req += "*1\r\n$4\r\nPING\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	if password != "" {
		if line, err := br.ReadString('\n'); err != nil {
			return err
		} else if !strings.HasPrefix(line, "+OK") {
			return fmt.Errorf("redis AUTH: %s", strings.TrimSpace(line))
		}
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redis PING: %s", strings.TrimSpace(line))
	}
	return nil
}
