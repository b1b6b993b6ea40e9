package config

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"

	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/tlsfiles"
)

// Error is a configuration problem: the key to change and what is wrong with
// it. Its message is one line and never holds a secret value.
type Error struct {
	Key     string
	Problem string
}

func (e *Error) Error() string { return e.Key + ": " + e.Problem }

// Validate applies the start-up gates: combinations that would run but
// silently break a farm (unshared keys, a key ring with nowhere to live,
// per-process state behind a load balancer) are refused before the server
// listens. The first problem found is returned.
func (s *Settings) Validate() error {
	for _, gate := range []func() error{
		s.gateStorageSupported,
		s.gateKeyRingShared,
		s.gateKeyRingMatchesStorage,
		s.gateStateShared,
		s.gateConnectionStrings,
		s.gateRedisTLSFiles,
	} {
		if err := gate(); err != nil {
			return err
		}
	}
	return nil
}

// Clustered reports whether several servers share this configuration.
func (s *Settings) Clustered() bool {
	return s.Cluster.Mode == ModeCluster || s.Farm.Enabled
}

func (s *Settings) gateStorageSupported() error {
	if s.Storage.Provider == ProviderSqlServer {
		return &Error{Key: "Cesivi:Storage:Provider", Problem: "SqlServer is not supported yet; use PostgreSQL or InMemory"}
	}
	return nil
}

func (s *Settings) gateKeyRingShared() error {
	if s.DataProtection.Provider == KeyRingFileSystem && s.Clustered() {
		return &Error{Key: "Cesivi:DataProtection:Provider",
			Problem: fmt.Sprintf("FileSystem keys cannot be shared by the servers of a cluster (%s); use PostgreSql, Redis or SharedDirectory", s.clusterReason())}
	}
	return nil
}

func (s *Settings) gateKeyRingMatchesStorage() error {
	dp := s.DataProtection
	switch dp.Provider {
	case KeyRingPostgreSql:
		if s.Storage.Provider != ProviderPostgreSQL {
			return &Error{Key: "Cesivi:DataProtection:Provider",
				Problem: fmt.Sprintf("PostgreSql keeps keys in the storage database, but Cesivi:Storage:Provider is %s; set Cesivi:Storage:Provider=PostgreSQL or choose Redis or SharedDirectory", s.Storage.Provider)}
		}
	case KeyRingSqlServer:
		if s.Storage.Provider != ProviderSqlServer {
			return &Error{Key: "Cesivi:DataProtection:Provider",
				Problem: fmt.Sprintf("SqlServer keeps keys in the storage database, but Cesivi:Storage:Provider is %s; choose PostgreSql, Redis or SharedDirectory", s.Storage.Provider)}
		}
	case KeyRingRedis:
		if s.DistributedState.Provider != ProviderRedis {
			return &Error{Key: "Cesivi:DataProtection:Provider",
				Problem: fmt.Sprintf("Redis keeps keys in the distributed state store, but Cesivi:DistributedState:Provider is %s; set it to Redis", s.DistributedState.Provider)}
		}
	case KeyRingSharedDirectory:
		if strings.TrimSpace(dp.KeysPath) == "" {
			return &Error{Key: "Cesivi:DataProtection:KeysPath",
				Problem: "SharedDirectory needs the shared directory every server mounts (an NFS or SMB path)"}
		}
	}
	return nil
}

func (s *Settings) gateStateShared() error {
	if s.DistributedState.Provider == ProviderInMemory && s.Clustered() {
		return &Error{Key: "Cesivi:DistributedState:Provider",
			Problem: fmt.Sprintf("InMemory sessions and caches are not shared by the servers of a farm (%s); set Cesivi:DistributedState:Provider=Redis", s.clusterReason())}
	}
	return nil
}

func (s *Settings) gateConnectionStrings() error {
	if s.DistributedState.Provider == ProviderRedis {
		if strings.TrimSpace(s.DistributedState.ConnectionString) == "" {
			return &Error{Key: "Cesivi:DistributedState:ConnectionString", Problem: "required when the provider is Redis"}
		}
		if _, err := connstr.ParseRedis(s.DistributedState.ConnectionString); err != nil {
			return &Error{Key: "Cesivi:DistributedState:ConnectionString", Problem: err.Error()}
		}
	}
	if s.Storage.Provider == ProviderPostgreSQL {
		if strings.TrimSpace(s.Storage.ConnectionString) == "" {
			return &Error{Key: "Cesivi:Storage:ConnectionString", Problem: "required when the provider is PostgreSQL"}
		}
		if _, err := connstr.ParsePostgres(s.Storage.ConnectionString); err != nil {
			return &Error{Key: "Cesivi:Storage:ConnectionString", Problem: err.Error()}
		}
	}
	return nil
}

// gateRedisTLSFiles checks the Redis TLS files before the server listens, so
// a missing or unreadable file is a start-up error rather than every request
// failing with "store unavailable". Messages name the key and the file's
// path, never its contents.
func (s *Settings) gateRedisTLSFiles() error {
	ds := s.DistributedState
	if ds.Provider != ProviderRedis {
		return nil
	}
	const (
		caKey   = "Cesivi:DistributedState:TlsCaFile"
		certKey = "Cesivi:DistributedState:TlsCertFile"
		keyKey  = "Cesivi:DistributedState:TlsKeyFile"
	)
	set := map[string]bool{caKey: ds.TlsCaFile != "", certKey: ds.TlsCertFile != "", keyKey: ds.TlsKeyFile != ""}
	if !set[caKey] && !set[certKey] && !set[keyKey] {
		return nil
	}
	ro, err := connstr.ParseRedis(ds.ConnectionString)
	if err != nil {
		return &Error{Key: "Cesivi:DistributedState:ConnectionString", Problem: err.Error()}
	}
	if !ro.TLS {
		for _, k := range []string{caKey, certKey, keyKey} {
			if set[k] {
				return &Error{Key: k, Problem: "is only used over TLS; add ssl=true to Cesivi:DistributedState:ConnectionString (or use a rediss:// URL)"}
			}
		}
	}
	switch {
	case set[certKey] && !set[keyKey]:
		return &Error{Key: keyKey, Problem: "required with " + certKey + " (the client certificate's private key)"}
	case set[keyKey] && !set[certKey]:
		return &Error{Key: certKey, Problem: "required with " + keyKey + " (the client certificate for the private key)"}
	}
	if set[caKey] {
		if _, err := tlsfiles.LoadCAs(ds.TlsCaFile); err != nil {
			return &Error{Key: caKey, Problem: oneLine(err)}
		}
	}
	if set[certKey] {
		for _, f := range []struct{ key, path string }{{certKey, ds.TlsCertFile}, {keyKey, ds.TlsKeyFile}} {
			fh, err := os.Open(f.path)
			if err != nil {
				return &Error{Key: f.key, Problem: oneLine(err)}
			}
			fh.Close()
		}
		if _, err := tls.LoadX509KeyPair(ds.TlsCertFile, ds.TlsKeyFile); err != nil {
			return &Error{Key: certKey, Problem: "with " + keyKey + " is not a usable client certificate and key: " + oneLine(err)}
		}
	}
	return nil
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func (s *Settings) clusterReason() string {
	if s.Cluster.Mode == ModeCluster && !s.Farm.Enabled {
		return "Cesivi:Cluster:Mode=Cluster"
	}
	return "Cesivi:Farm:Enabled=true"
}
