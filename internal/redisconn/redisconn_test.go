package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/testenv"
)

// checkNew loads env as a process would and opens its Redis client: with
// wantKey empty it must succeed; otherwise it must fail with a one-line
// *config.Error naming wantKey and saying wantMsg.
func checkNew(t *testing.T, env []string, wantKey, wantMsg string) error {
	t.Helper()
	s, err := config.Load(t.TempDir(), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() = %v: the settings themselves are fine", err)
	}
	c, err := New(s.DistributedState)
	if wantKey == "" {
		if err != nil {
			t.Fatalf("New() = %v, want a client", err)
		}
		c.Close()
		return nil
	}
	if err == nil {
		c.Close()
		t.Fatalf("New() accepted; want %s refused (%s)", wantKey, wantMsg)
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("New() = %v, want a *config.Error", err)
	}
	if ce.Key != wantKey || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("New() = %q, want key %s and a message containing %q", err, wantKey, wantMsg)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the message must be one line: %q", err)
	}
	return err
}

// TestTLSFilesAreCheckedOnce: every problem with the TLS files is found
// where the client is built, with one message naming the key.
func TestTLSFilesAreCheckedOnce(t *testing.T) {
	f, err := testenv.NewRedisTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "corrupt.pem")
	if err := os.WriteFile(bad, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		redis = "Cesivi__DistributedState__Provider=Redis"
		ssl   = "Cesivi__DistributedState__ConnectionString=127.0.0.1:6380,ssl=true"
		plain = "Cesivi__DistributedState__ConnectionString=127.0.0.1:6379"
	)
	ca := func(p string) string { return "Cesivi__DistributedState__TlsCaFile=" + p }
	cert := func(p string) string { return "Cesivi__DistributedState__TlsCertFile=" + p }
	key := func(p string) string { return "Cesivi__DistributedState__TlsKeyFile=" + p }
	cases := []struct {
		name    string
		env     []string
		wantKey string // "" = must pass
		wantMsg string
	}{
		{"CA and client certificate over ssl=true pass",
			[]string{redis, ssl, ca(f.CAFile), cert(f.ClientCertFile), key(f.ClientKeyFile)}, "", ""},
		{"a CA alone over a rediss:// URL passes",
			[]string{redis, "Cesivi__DistributedState__ConnectionString=rediss://127.0.0.1:6380", ca(f.CAFile)}, "", ""},
		{"a client certificate without a CA passes (system roots)",
			[]string{redis, ssl, cert(f.ClientCertFile), key(f.ClientKeyFile)}, "", ""},
		{"a CA without ssl=true is refused",
			[]string{redis, plain, ca(f.CAFile)}, "Cesivi:DistributedState:TlsCaFile", "ssl=true"},
		{"a client certificate without ssl=true is refused",
			[]string{redis, plain, cert(f.ClientCertFile), key(f.ClientKeyFile)}, "Cesivi:DistributedState:TlsCertFile", "ssl=true"},
		{"a key alone without ssl=true is refused",
			[]string{redis, plain, key(f.ClientKeyFile)}, "Cesivi:DistributedState:TlsKeyFile", "ssl=true"},
		{"a certificate without its key is refused",
			[]string{redis, ssl, cert(f.ClientCertFile)}, "Cesivi:DistributedState:TlsKeyFile", "required with Cesivi:DistributedState:TlsCertFile"},
		{"a key without its certificate is refused",
			[]string{redis, ssl, key(f.ClientKeyFile)}, "Cesivi:DistributedState:TlsCertFile", "required with Cesivi:DistributedState:TlsKeyFile"},
		{"a missing CA file is refused",
			[]string{redis, ssl, ca(f.CAFile + ".missing")}, "Cesivi:DistributedState:TlsCaFile", "no such file"},
		{"a CA file without certificates is refused",
			[]string{redis, ssl, ca(f.ClientKeyFile)}, "Cesivi:DistributedState:TlsCaFile", "no PEM certificate"},
		{"a CA file with a corrupt certificate is refused",
			[]string{redis, ssl, ca(bad)}, "Cesivi:DistributedState:TlsCaFile", "does not parse"},
		{"a missing certificate file is refused",
			[]string{redis, ssl, cert(f.ClientCertFile + ".missing"), key(f.ClientKeyFile)}, "Cesivi:DistributedState:TlsCertFile", "no such file"},
		{"a missing key file is refused",
			[]string{redis, ssl, cert(f.ClientCertFile), key(f.ClientKeyFile + ".missing")}, "Cesivi:DistributedState:TlsKeyFile", "no such file"},
		{"a key that does not match the certificate is refused",
			[]string{redis, ssl, cert(f.ClientCertFile), key(f.ServerKeyFile)}, "Cesivi:DistributedState:TlsCertFile", "does not match"},
		{"a key file given as the certificate is refused",
			[]string{redis, ssl, cert(f.ClientKeyFile), key(f.ClientKeyFile)}, "Cesivi:DistributedState:TlsCertFile", "not a usable client certificate"},
	}
	var secrets []string // every base64 line of every file
	for _, p := range []string{f.CAFile, f.ClientCertFile, f.ClientKeyFile, f.ServerKeyFile, bad} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line != "" && !strings.HasPrefix(line, "-----") {
				secrets = append(secrets, line)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkNew(t, c.env, c.wantKey, c.wantMsg)
			if err == nil {
				return
			}
			for _, sec := range secrets {
				if strings.Contains(err.Error(), sec) || strings.Contains(err.Error(), "-----BEGIN") {
					t.Errorf("the message shows file contents: %q", err)
					break
				}
			}
		})
	}
}

func TestTheConnectionStringsTLSSettingsAreKept(t *testing.T) {
	f, err := testenv.NewRedisTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(config.DistributedStateSettings{Provider: config.ProviderRedis,
		ConnectionString: "127.0.0.1:6380,ssl=true,sslHost=redis.internal,sslProtocols=tls13",
		TlsCaFile:        f.CAFile, TlsCertFile: f.ClientCertFile, TlsKeyFile: f.ClientKeyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := c.(*redis.Client).Options().TLSConfig
	if cfg == nil || cfg.ServerName != "redis.internal" || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("TLS config %+v: want the connection string's server name and minimum version", cfg)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("RootCAs=%v, %d client certificates; want the CA and one certificate", cfg.RootCAs, len(cfg.Certificates))
	}
}

func TestABadConnectionStringNamesItsKeyAndHidesThePassword(t *testing.T) {
	_, err := NewFromConnectionString("127.0.0.1:6379,password=hunter2-secret,connectTimeout=soon")
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != ConnectionStringKey {
		t.Fatalf("New = %v, want a *config.Error for %s", err, ConnectionStringKey)
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("the message shows the password: %q", err)
	}
}

// TestADeadlineBoundsACommandAgainstAHungRedis: a server that accepts
// connections and never answers (a paused Redis) fails a command when the
// caller's deadline passes, not after the client's own timeouts and
// retries (about 30 s with the defaults).
func TestADeadlineBoundsACommandAgainstAHungRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	c, err := NewFromConnectionString(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Get(ctx, "k").Err()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v after %v; want the caller's deadline to end it", err, time.Since(start))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the command failed after %v; want about the caller's 300 ms deadline", took)
	}
}
