package config

import (
	"testing"
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
