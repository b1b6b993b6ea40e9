package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSettingsFromFileVariablesAndKeyPerFileDirectories(t *testing.T) {
	secrets := t.TempDir()
	pg := filepath.Join(secrets, "pg")
	if err := os.WriteFile(pg, []byte("Host=db;Password=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file named as the variable, in the secrets directory.
	if err := os.WriteFile(filepath.Join(secrets, "Cesivi__DataProtection__MasterKey"), []byte("bWFzdGVy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "unrelated"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// …and one in the settings directory, overridden by the environment.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Cesivi__Farm__ServerId"), []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir, []string{
		"CESIVI_SECRETS_DIR=" + secrets,
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString_FILE=" + pg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Storage.ConnectionString != "Host=db;Password=s3cret" || s.DataProtection.MasterKey != "bWFzdGVy" || s.Farm.ServerID != "from-file" {
		t.Fatalf("from files: %q %q %q", s.Storage.ConnectionString, s.DataProtection.MasterKey, s.Farm.ServerID)
	}
	if s, err = Load(dir, []string{"CESIVI_SECRETS_DIR=" + secrets, "Cesivi__Farm__ServerId=env"}); err != nil || s.Farm.ServerID != "env" {
		t.Fatalf("the environment wins over a key file: %v %v", s, err)
	}
}

func TestBadSecretFilesNameTheSettingNotTheContent(t *testing.T) {
	secrets := t.TempDir()
	pg := filepath.Join(secrets, "pg")
	if err := os.WriteFile(pg, []byte("Password=s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string][]string{
		"both set":     {"Cesivi__Storage__ConnectionString=Password=other", "Cesivi__Storage__ConnectionString_FILE=" + pg},
		"missing file": {"Cesivi__Storage__ConnectionString_FILE=" + filepath.Join(secrets, "nope")},
		"a directory":  {"Cesivi__Storage__ConnectionString_FILE=" + secrets},
	} {
		_, err := Load(t.TempDir(), append(env, "CESIVI_SECRETS_DIR="+t.TempDir()))
		if err == nil || !strings.Contains(err.Error(), "Cesivi:Storage:ConnectionString") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Variables outside the configuration's roots are not read as files.
	if _, err := Load(t.TempDir(), []string{"POSTGRES_PASSWORD_FILE=/nonexistent", "CESIVI_SECRETS_DIR=" + t.TempDir()}); err != nil {
		t.Fatalf("an unrelated _FILE variable: %v", err)
	}
}
