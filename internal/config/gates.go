package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cesivi/cesivi/internal/connstr"
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
		s.gateFiles,
		s.gateConnectionStrings,
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

// gateFiles: file content must be where every server that shares the
// metadata can read it.
func (s *Settings) gateFiles() error {
	f := s.Storage.Files
	switch f.Provider {
	case FilesSharedDirectory:
		if strings.TrimSpace(f.Path) == "" {
			return &Error{Key: "Cesivi:Storage:Files:Path",
				Problem: "SharedDirectory needs the directory every server mounts (an NFS or SMB path)"}
		}
		if !filepath.IsAbs(f.Path) {
			return &Error{Key: "Cesivi:Storage:Files:Path",
				Problem: fmt.Sprintf("%q is not an absolute path; give the directory every server mounts, as every server names it", f.Path)}
		}
	case FilesDatabase:
		if s.Storage.Provider != ProviderPostgreSQL {
			return &Error{Key: "Cesivi:Storage:Files:Provider",
				Problem: fmt.Sprintf("Database keeps file content in the storage database, but Cesivi:Storage:Provider is %s; set Cesivi:Storage:Provider=PostgreSQL or choose InMemory or SharedDirectory", s.Storage.Provider)}
		}
	case FilesInMemory:
		if s.Storage.Provider == ProviderPostgreSQL && s.Clustered() {
			return &Error{Key: "Cesivi:Storage:Files:Provider",
				Problem: fmt.Sprintf("InMemory file content is not shared by the servers of a farm (%s), while their PostgreSQL metadata is; use Database or SharedDirectory", s.clusterReason())}
		}
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

func (s *Settings) clusterReason() string {
	if s.Cluster.Mode == ModeCluster && !s.Farm.Enabled {
		return "Cesivi:Cluster:Mode=Cluster"
	}
	return "Cesivi:Farm:Enabled=true"
}
