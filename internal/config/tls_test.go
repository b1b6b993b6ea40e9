package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/testenv"
)

func TestRedisTLSFilesAreBound(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", `{"Cesivi":{"DistributedState":{"TlsCaFile":" ca.pem ","TlsCertFile":"client.pem"}}}`)
	s, err := Load(dir, []string{"Cesivi__DistributedState__TlsKeyFile=client.key", "cesivi__distributedstate__tlscertfile=from-env.pem"})
	if err != nil {
		t.Fatal(err)
	}
	ds := s.DistributedState
	if ds.TlsCaFile != "ca.pem" || ds.TlsCertFile != "from-env.pem" || ds.TlsKeyFile != "client.key" {
		t.Fatalf("TlsCaFile=%q TlsCertFile=%q TlsKeyFile=%q; want ca.pem, from-env.pem, client.key", ds.TlsCaFile, ds.TlsCertFile, ds.TlsKeyFile)
	}
	s, err = Load(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.DistributedState.TlsCaFile != "" || s.DistributedState.TlsCertFile != "" || s.DistributedState.TlsKeyFile != "" {
		t.Fatalf("defaults = %+v; want no TLS files", s.DistributedState)
	}
}

func TestRedisTLSGate(t *testing.T) {
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
		{"TLS files are ignored with the InMemory provider",
			[]string{ca(f.CAFile + ".missing")}, "", ""},
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
			err := checkGate(t, c.env, c.wantKey, c.wantMsg)
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
