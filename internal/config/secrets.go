package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Secrets from files, as Docker and Kubernetes hand them over:
//
//   - Cesivi__Storage__ConnectionString_FILE=/run/secrets/pg sets
//     Cesivi:Storage:ConnectionString to that file's content (the
//     convention of the official images); setting both the variable and
//     its _FILE twin is an error, since one would silently win.
//   - a directory of files named as the variables
//     (Cesivi__DataProtection__MasterKey holding the key), the settings
//     directory itself and the secrets directory (CESIVI_SECRETS_DIR,
//     default /run/secrets), read after the JSON files and before the
//     environment; other files there are ignored.
//
// One trailing newline is dropped (echo adds it); the content is never
// part of an error.

// fileSuffix marks a variable that names the file holding the value.
const fileSuffix = "_FILE"

// DefaultSecretsDir is where Docker and Kubernetes mount secrets.
const DefaultSecretsDir = "/run/secrets"

// maxSecretFile bounds a file read as one setting.
const maxSecretFile = 1 << 20

func configName(name string) bool {
	for _, p := range envPrefixes {
		if len(name) > len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > maxSecretFile {
		return "", fmt.Errorf("%s is larger than 1 MiB", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(v, "\r"), nil
}

// LoadEnvironmentFiles merges the _FILE variables of environ.
func (t *Tree) LoadEnvironmentFiles(environ []string) error {
	plain := map[string]bool{}
	for _, kv := range environ {
		if name, _, ok := strings.Cut(kv, "="); ok {
			plain[strings.ToLower(name)] = true
		}
	}
	for _, kv := range environ {
		name, path, ok := strings.Cut(kv, "=")
		if !ok || len(name) <= len(fileSuffix) || !strings.EqualFold(name[len(name)-len(fileSuffix):], fileSuffix) {
			continue
		}
		base := name[:len(name)-len(fileSuffix)]
		if !configName(base) {
			continue
		}
		key := strings.ReplaceAll(base, "__", ":")
		if plain[strings.ToLower(base)] {
			return &Error{Key: key, Problem: "set by both " + base + " and " + name + "; keep one"}
		}
		v, err := readSecretFile(path)
		if err != nil {
			return &Error{Key: key, Problem: name + ": " + err.Error()}
		}
		t.Set(key, v, "environment")
	}
	return nil
}

// LoadKeyPerFile merges the files of dir named as configuration variables
// (Cesivi__…, Logging__…, Serilog__…); a missing dir is no error.
func (t *Tree) LoadKeyPerFile(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{Key: dir, Problem: err.Error()}
	}
	for _, e := range entries {
		if !configName(e.Name()) || e.IsDir() {
			continue
		}
		key := strings.ReplaceAll(e.Name(), "__", ":")
		v, err := readSecretFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return &Error{Key: key, Problem: err.Error()}
		}
		t.Set(key, v, filepath.Join(dir, e.Name()))
	}
	return nil
}

// secretsDir is CESIVI_SECRETS_DIR from environ, else DefaultSecretsDir.
func secretsDir(environ []string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "CESIVI_SECRETS_DIR" && v != "" {
			return v
		}
	}
	return DefaultSecretsDir
}
