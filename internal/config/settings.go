package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/logging"
)

// Settings is the typed configuration of cesivi-server. Field names follow
// the configuration keys (Cesivi:Section:Key); see docs/configuration.md.
type Settings struct {
	// Environment selects appsettings.{Environment}.json ("Production" unless
	// CESIVI_ENVIRONMENT, ASPNETCORE_ENVIRONMENT or DOTNET_ENVIRONMENT say otherwise).
	Environment string
	// Files lists the settings files that were found and read, in order.
	Files []string

	Server           ServerSettings
	DistributedState DistributedStateSettings
	Storage          StorageSettings
	Farm             FarmSettings
	Cluster          ClusterSettings
	DataProtection   DataProtectionSettings
	Logging          LoggingSettings
	Sites            SitesSettings
	Webhooks         WebhooksSettings

	tree *Tree
}

// WebhooksSettings is Cesivi:Webhooks: where list webhook receivers may
// be, and how long Cesivi waits for them.
type WebhooksSettings struct {
	// AllowedHosts are receivers allowed although their address is
	// loopback, private or link-local: host names, host:port, addresses
	// or CIDR prefixes (a list like Cesivi:Sites:Administrators).
	AllowedHosts []string
	// AllowPrivateNetworks allows every loopback, private and link-local
	// address (a lone development server); never the metadata address.
	AllowPrivateNetworks bool
	// ValidationTimeout bounds the validation handshake (default 5s).
	ValidationTimeout time.Duration
	// DeliveryTimeout bounds the wait for a receiver's answer (default 10s).
	DeliveryTimeout time.Duration
	// RetryCount and RetryDelay are the retries of a failed delivery
	// (default 5, 5 minutes apart, as SharePoint's).
	RetryCount int
	RetryDelay time.Duration
	// DeliveryLease is how long a delivering server may go silent (it
	// died, or hangs) before another server takes the notification over
	// (default 30s, at least 1s); a live one renews it every third of it.
	DeliveryLease time.Duration
}

// SitesSettings is Cesivi:Sites.
type SitesSettings struct {
	// Administrators (Cesivi:Sites:Administrators) are the site
	// collection administrators of every site: user ids (the provider's
	// subject), e-mail addresses or "group:<provider group>". An array in
	// appsettings.json (Cesivi__Sites__Administrators__0=…), or one value
	// separated by commas or semicolons.
	Administrators []string
}

// ServerSettings is Cesivi:Server.
type ServerSettings struct {
	// Address is the listen address (Cesivi:Server:Address, default ":5000").
	Address string
	// ShutdownDelay is how long the server keeps serving after SIGTERM while
	// /health/ready already answers 503, so load balancers stop sending new
	// requests before the listener closes (default 0s).
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests (default 30s).
	ShutdownTimeout time.Duration
	// RequireAssertion (Cesivi:Server:RequireAssertion, default true)
	// refuses requests without an edge's identity assertion, except health
	// and metrics. Turn it off only to call a lone development server
	// directly, without an edge.
	RequireAssertion bool
	// AssertionAudience is the audience assertions must carry
	// (Cesivi:Server:AssertionAudience, default "cesivi-server"; the edge's
	// assertion_audience must match).
	AssertionAudience string
}

// DistributedStateSettings is Cesivi:DistributedState.
type DistributedStateSettings struct {
	Provider         string // InMemory (default) or Redis
	ConnectionString string // secret: may hold a password
	KeyPrefix        string // prepended to every Redis key; default none

	// TLS files for Redis, used only with ssl=true (or rediss://) in the
	// connection string. Relative paths are relative to the working
	// directory.
	TlsCaFile   string // PEM bundle of the CAs trusted for the server's certificate; default the system roots
	TlsCertFile string // PEM client certificate (chain), presented to the server; needs TlsKeyFile
	TlsKeyFile  string // PEM private key of TlsCertFile
}

// StorageSettings is Cesivi:Storage.
type StorageSettings struct {
	Provider         string // InMemory (default), PostgreSQL or SqlServer (refused)
	ConnectionString string // secret: may hold a password
	Files            FilesSettings
}

// FilesSettings is Cesivi:Storage:Files: where document libraries keep
// file content, and its limits.
type FilesSettings struct {
	// Provider is InMemory, Database (the storage's PostgreSQL) or
	// SharedDirectory. Default: Database when storage is PostgreSQL, else
	// InMemory.
	Provider string
	// Path is SharedDirectory's directory, the same on every server.
	Path string
	// MaxUploadSize bounds a simple upload, in bytes (default 250 MiB).
	MaxUploadSize int64
	// MaxFileSize bounds a file put together by a chunked upload, in
	// bytes (default 10 GiB).
	MaxFileSize int64
	// UploadTimeout is how long an abandoned chunked upload is kept
	// before it is removed (default 24 h).
	UploadTimeout time.Duration
	// SweepInterval is how often orphaned content and abandoned uploads
	// are swept (default 1 h).
	SweepInterval time.Duration
}

// FarmSettings is Cesivi:Farm.
type FarmSettings struct {
	Enabled  bool
	ServerID string // Cesivi:Farm:ServerId, default the host name
}

// ClusterSettings is Cesivi:Cluster.
type ClusterSettings struct {
	// Mode is Single or Cluster; it defaults to Cluster when the farm is
	// enabled, else Single.
	Mode string
}

// DataProtectionSettings is Cesivi:DataProtection, the key ring backend.
type DataProtectionSettings struct {
	// Provider is PostgreSql, SqlServer, SharedDirectory, FileSystem or
	// Redis. Default: PostgreSql when storage is PostgreSQL, else FileSystem.
	Provider string
	// KeysPath is the directory of SharedDirectory and FileSystem.
	KeysPath string
	// MasterKey encrypts key material at rest. Secret.
	MasterKey string
}

// LoggingSettings is Logging (and Cesivi:Logging, which the seed also uses).
type LoggingSettings struct {
	// LogLevel maps a category prefix ("Default", "Cesivi",
	// "Cesivi.Server.Authorization.DistributedUserContextCache") to a level
	// name (Trace, Debug, Information, Warning, Error, Critical, None): the
	// merge of Logging:LogLevel and Serilog:MinimumLevel (serilog.go).
	LogLevel map[string]string
	// Format is "simple" (text, default) or "json"
	// (Logging:Console:FormatterName), for when Sinks is empty.
	Format string
	// Sinks are Serilog:WriteTo's Console and File sinks; none means the
	// console in Format.
	Sinks []logging.Sink
	// Warnings name the Serilog settings read but not applied (other
	// sinks, arguments Cesivi ignores), for the start-up log.
	Warnings []string
}

// Provider spellings. Configuration is case-insensitive; these are the
// canonical forms the rest of the code compares against.
const (
	ProviderInMemory   = "InMemory"
	ProviderRedis      = "Redis"
	ProviderPostgreSQL = "PostgreSQL"
	ProviderSqlServer  = "SqlServer"

	KeyRingPostgreSql      = "PostgreSql"
	KeyRingSqlServer       = "SqlServer"
	KeyRingSharedDirectory = "SharedDirectory"
	KeyRingFileSystem      = "FileSystem"
	KeyRingRedis           = "Redis"

	ModeSingle  = "Single"
	ModeCluster = "Cluster"

	FilesInMemory        = "InMemory"
	FilesDatabase        = "Database"
	FilesSharedDirectory = "SharedDirectory"
)

// Tree returns the raw layered configuration, for sections later code adds.
func (s *Settings) Tree() *Tree { return s.tree }

// Load reads the configuration in ASP.NET Core's order, later wins: built-in
// defaults, dir/appsettings.json, dir/appsettings.{Environment}.json, files
// named as variables in dir and the secrets directory (secrets.go), then
// environment variables (environ as from os.Environ) and their _FILE twins.
func Load(dir string, environ []string) (*Settings, error) {
	env := environmentName(environ)
	t := NewTree()
	var files []string
	for _, name := range []string{"appsettings.json", "appsettings." + env + ".json"} {
		path := filepath.Join(dir, name)
		found, err := t.LoadJSONFile(path)
		if err != nil {
			return nil, &Error{Key: name, Problem: err.Error()}
		}
		if found {
			files = append(files, path)
		}
	}
	for _, d := range []string{dir, secretsDir(environ)} {
		if err := t.LoadKeyPerFile(d); err != nil {
			return nil, err
		}
	}
	t.LoadEnvironment(environ)
	if err := t.LoadEnvironmentFiles(environ); err != nil {
		return nil, err
	}
	s, err := bind(t)
	if err != nil {
		return nil, err
	}
	s.Environment = env
	s.Files = files
	return s, nil
}

func environmentName(environ []string) string {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	for _, k := range []string{"CESIVI_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"} {
		if v := strings.TrimSpace(vars[k]); v != "" {
			return v
		}
	}
	return "Production"
}

// binder reads typed values out of a tree and remembers the first error, so
// bind reads like a list of settings rather than a list of error checks.
type binder struct {
	t   *Tree
	err error
}

func (b *binder) str(key, def string) string {
	if v, ok := b.t.Get(key); ok {
		return strings.TrimSpace(v)
	}
	return def
}

// list reads key as an array (key:0, key:1…, in index order) or as one
// value separated by commas or semicolons; blank entries are dropped.
func (b *binder) list(key string) []string {
	var raw []string
	if v, ok := b.t.Get(key); ok {
		raw = append(raw, v)
	}
	children := b.t.Children(key)
	slices.SortFunc(children, func(x, y string) int {
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		if ex == nil && ey == nil {
			return nx - ny
		}
		return strings.Compare(x, y)
	})
	for _, c := range children {
		if v, ok := b.t.Get(key + ":" + c); ok {
			raw = append(raw, v)
		}
	}
	var out []string
	for _, v := range raw {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func (b *binder) secret(key string) string {
	v, _ := b.t.Get(key)
	return v
}

func (b *binder) boolean(key string, def bool) bool {
	v, ok := b.t.Get(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	x, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil && b.err == nil {
		b.err = &Error{Key: key, Problem: fmt.Sprintf("%q is not true or false", v)}
	}
	return x
}

func (b *binder) integer(key string, def int) int {
	v, ok := b.t.Get(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if (err != nil || n < 0) && b.err == nil {
		b.err = &Error{Key: key, Problem: fmt.Sprintf("%q is not a whole number of at least 0", v)}
	}
	return n
}

func (b *binder) duration(key string, def time.Duration) time.Duration {
	v, ok := b.t.Get(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := ParseDuration(v)
	if err != nil && b.err == nil {
		b.err = &Error{Key: key, Problem: err.Error()}
	}
	return d
}

func (b *binder) size(key string, def int64) int64 {
	v, ok := b.t.Get(key)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := ParseSize(v)
	if err != nil && b.err == nil {
		b.err = &Error{Key: key, Problem: err.Error()}
	}
	return n
}

// oneOf canonicalises a case-insensitive choice, or records an error that
// lists the accepted values.
func (b *binder) oneOf(key, def string, choices ...string) string {
	v := b.str(key, "")
	if v == "" {
		return def
	}
	for _, c := range choices {
		if strings.EqualFold(v, c) {
			return c
		}
	}
	if b.err == nil {
		b.err = &Error{Key: key, Problem: fmt.Sprintf("%q is not one of %s", v, strings.Join(choices, ", "))}
	}
	return v
}

func bind(t *Tree) (*Settings, error) {
	b := &binder{t: t}
	s := &Settings{tree: t}

	s.Server.Address = b.str("Cesivi:Server:Address", ":5000")
	s.Server.ShutdownDelay = b.duration("Cesivi:Server:ShutdownDelay", 0)
	s.Server.ShutdownTimeout = b.duration("Cesivi:Server:ShutdownTimeout", 30*time.Second)
	s.Server.RequireAssertion = b.boolean("Cesivi:Server:RequireAssertion", true)
	s.Server.AssertionAudience = b.str("Cesivi:Server:AssertionAudience", "cesivi-server")

	s.DistributedState.Provider = b.oneOf("Cesivi:DistributedState:Provider", ProviderInMemory, ProviderInMemory, ProviderRedis)
	s.DistributedState.ConnectionString = b.secret("Cesivi:DistributedState:ConnectionString")
	s.DistributedState.KeyPrefix = b.str("Cesivi:DistributedState:KeyPrefix", "")
	s.DistributedState.TlsCaFile = b.str("Cesivi:DistributedState:TlsCaFile", "")
	s.DistributedState.TlsCertFile = b.str("Cesivi:DistributedState:TlsCertFile", "")
	s.DistributedState.TlsKeyFile = b.str("Cesivi:DistributedState:TlsKeyFile", "")

	s.Storage.Provider = b.oneOf("Cesivi:Storage:Provider", ProviderInMemory, ProviderInMemory, ProviderPostgreSQL, ProviderSqlServer)
	s.Storage.ConnectionString = b.secret("Cesivi:Storage:ConnectionString")
	defFiles := FilesInMemory
	if s.Storage.Provider == ProviderPostgreSQL {
		defFiles = FilesDatabase
	}
	s.Storage.Files.Provider = b.oneOf("Cesivi:Storage:Files:Provider", defFiles, FilesInMemory, FilesDatabase, FilesSharedDirectory)
	s.Storage.Files.Path = b.str("Cesivi:Storage:Files:Path", "")
	s.Storage.Files.MaxUploadSize = b.size("Cesivi:Storage:Files:MaxUploadSize", 250<<20)
	s.Storage.Files.MaxFileSize = b.size("Cesivi:Storage:Files:MaxFileSize", 10<<30)
	s.Storage.Files.UploadTimeout = b.duration("Cesivi:Storage:Files:UploadTimeout", 24*time.Hour)
	s.Storage.Files.SweepInterval = b.duration("Cesivi:Storage:Files:SweepInterval", time.Hour)

	s.Farm.Enabled = b.boolean("Cesivi:Farm:Enabled", false)
	host, _ := os.Hostname()
	s.Farm.ServerID = b.str("Cesivi:Farm:ServerId", host)

	defMode := ModeSingle
	if s.Farm.Enabled {
		defMode = ModeCluster
	}
	s.Cluster.Mode = b.oneOf("Cesivi:Cluster:Mode", defMode, ModeSingle, ModeCluster)

	defKeyRing := KeyRingFileSystem
	if s.Storage.Provider == ProviderPostgreSQL {
		defKeyRing = KeyRingPostgreSql
	}
	s.DataProtection.Provider = b.oneOf("Cesivi:DataProtection:Provider", defKeyRing,
		KeyRingPostgreSql, KeyRingSqlServer, KeyRingSharedDirectory, KeyRingFileSystem, KeyRingRedis)
	s.DataProtection.KeysPath = b.str("Cesivi:DataProtection:KeysPath", "")
	s.DataProtection.MasterKey = b.secret("Cesivi:DataProtection:MasterKey")

	s.Sites.Administrators = b.list("Cesivi:Sites:Administrators")

	s.Webhooks.AllowedHosts = b.list("Cesivi:Webhooks:AllowedHosts")
	s.Webhooks.AllowPrivateNetworks = b.boolean("Cesivi:Webhooks:AllowPrivateNetworks", false)
	s.Webhooks.ValidationTimeout = b.duration("Cesivi:Webhooks:ValidationTimeout", 5*time.Second)
	s.Webhooks.DeliveryTimeout = b.duration("Cesivi:Webhooks:DeliveryTimeout", 10*time.Second)
	s.Webhooks.RetryCount = b.integer("Cesivi:Webhooks:RetryCount", 5)
	s.Webhooks.RetryDelay = b.duration("Cesivi:Webhooks:RetryDelay", 5*time.Minute)
	s.Webhooks.DeliveryLease = b.duration("Cesivi:Webhooks:DeliveryLease", 30*time.Second)
	if s.Webhooks.DeliveryLease < time.Second && b.err == nil {
		b.err = &Error{Key: "Cesivi:Webhooks:DeliveryLease", Problem: fmt.Sprintf("%v is too short: a live server renews its lease every third of it; use at least 1s", s.Webhooks.DeliveryLease)}
	}

	s.Logging.LogLevel = bindLogLevels(b, t)
	s.Logging.Format = b.oneOf("Logging:Console:FormatterName", "simple", "simple", "json")
	s.Logging.Sinks, s.Logging.Warnings = bindSinks(b, t)

	if b.err != nil {
		return nil, b.err
	}
	return s, nil
}

// canonicalCategory returns the spelling already present for category (keys
// are case-insensitive), so "default" from the environment replaces "Default".
func canonicalCategory(m map[string]string, category string) string {
	for k := range m {
		if strings.EqualFold(k, category) {
			return k
		}
	}
	return category
}

// ParseDuration accepts Go durations ("30s", "1m30s"), .NET TimeSpan strings
// ("00:00:30") and a bare number of seconds ("30").
func ParseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	if parts := strings.Split(v, ":"); len(parts) == 3 {
		h, err1 := strconv.Atoi(parts[0])
		m, err2 := strconv.Atoi(parts[1])
		sec, err3 := strconv.ParseFloat(parts[2], 64)
		if err1 == nil && err2 == nil && err3 == nil && h >= 0 && m >= 0 && m < 60 && sec >= 0 && sec < 60 {
			return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)), nil
		}
	}
	return 0, fmt.Errorf("%q is not a duration (use 30s, 00:00:30 or a number of seconds)", v)
}

// sizeUnits are the units ParseSize accepts, binary whichever way they
// are spelt (as Windows and IIS count them): 1 KB = 1 KiB = 1024 bytes.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// ParseSize accepts a number of bytes ("262144000") or a number with a
// binary unit ("250MiB", "250 MB", "1.5GiB", case-insensitive); the
// result must be at least one byte.
func ParseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	i := strings.IndexFunc(v, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i < 0 {
		i = len(v)
	}
	number, unit := v[:i], strings.ToLower(strings.TrimSpace(v[i:]))
	mult, okUnit := sizeUnits[unit]
	n, err := strconv.ParseFloat(number, 64)
	if !okUnit || err != nil || n*float64(mult) < 1 || n*float64(mult) > float64(1<<62) {
		return 0, fmt.Errorf("%q is not a size (use bytes, or a number with KiB, MiB, GiB or TiB: 250MiB)", v)
	}
	return int64(n * float64(mult)), nil
}
