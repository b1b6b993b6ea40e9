package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultsDescribeASingleInMemoryServer(t *testing.T) {
	s, err := Load(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults must pass the gates: %v", err)
	}
	host, _ := os.Hostname()
	checks := map[string][2]string{
		"Environment":              {s.Environment, "Production"},
		"Server.Address":           {s.Server.Address, ":5000"},
		"DistributedState":         {s.DistributedState.Provider, "InMemory"},
		"Storage":                  {s.Storage.Provider, "InMemory"},
		"Cluster.Mode":             {s.Cluster.Mode, "Single"},
		"DataProtection.Provider":  {s.DataProtection.Provider, "FileSystem"},
		"Farm.ServerID":            {s.Farm.ServerID, host},
		"Logging.LogLevel.Default": {s.Logging.LogLevel["Default"], "Information"},
		"Logging.Format":           {s.Logging.Format, "simple"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if s.Server.ShutdownTimeout != 30*time.Second || s.Farm.Enabled {
		t.Errorf("ShutdownTimeout=%v Farm.Enabled=%v", s.Server.ShutdownTimeout, s.Farm.Enabled)
	}
	if f := s.Storage.Files; f != (FilesSettings{Provider: "InMemory", MaxUploadSize: 250 << 20, MaxFileSize: 10 << 30,
		UploadTimeout: 24 * time.Hour, SweepInterval: time.Hour}) {
		t.Errorf("Storage.Files = %+v; want InMemory, 250 MiB, 10 GiB, 24 h, 1 h", f)
	}
}

func TestFileSettingsTakeSizesWithUnitsAndDefaultToTheStorageDatabase(t *testing.T) {
	s, err := Load(t.TempDir(), []string{
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__Files__MaxUploadSize=100MiB",
		"Cesivi__Storage__Files__MaxFileSize=5368709120",
		"Cesivi__Storage__Files__UploadTimeout=02:00:00",
		"Cesivi__Storage__Files__SweepInterval=15m",
	})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Storage.Files; f != (FilesSettings{Provider: "Database", MaxUploadSize: 100 << 20, MaxFileSize: 5 << 30,
		UploadTimeout: 2 * time.Hour, SweepInterval: 15 * time.Minute}) {
		t.Errorf("Storage.Files = %+v", f)
	}
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", `{"Cesivi":{"Storage":{"Provider":"PostgreSQL",
		"Files":{"Provider":"shareddirectory","Path":"/mnt/cesivi-files"}}}}`)
	if s, err = Load(dir, nil); err != nil {
		t.Fatal(err)
	}
	if f := s.Storage.Files; f.Provider != FilesSharedDirectory || f.Path != "/mnt/cesivi-files" {
		t.Errorf("Storage.Files = %+v; want SharedDirectory on /mnt/cesivi-files", f)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "262144000": 262144000, "250MiB": 250 << 20, "250 MB": 250 << 20, "250mb": 250 << 20,
		"10GiB": 10 << 30, "1.5 GB": 3 << 29, "64k": 64 << 10, "2TiB": 2 << 40, " 7 B ": 7,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0.1", "-5", "lots", "5 PB", "1e9", "1.2.3", "MiB", "10 GiB extra", "99999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded, want an error", in)
		}
	}
}

func TestLaterLayersWinKeyByKey(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", `{"Cesivi":{"Server":{"Address":":6000","ShutdownTimeout":"00:00:10"},
		"Farm":{"ServerId":"from-base"}},"Logging":{"LogLevel":{"Default":"Warning","Cesivi":"Debug"}}}`)
	writeFile(t, dir, "appsettings.Staging.json", `{"Cesivi":{"Server":{"Address":":7000"}}}`)
	env := []string{
		"CESIVI_ENVIRONMENT=Staging",
		"cesivi__farm__serverid=from-env", // names are case-insensitive
		"Logging__LogLevel__Default=Error",
		"PATH=/usr/bin",
	}
	s, err := Load(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.Server.Address != ":7000" {
		t.Errorf("Address = %q, want the environment file's :7000", s.Server.Address)
	}
	if s.Server.ShutdownTimeout != 10*time.Second {
		t.Errorf("ShutdownTimeout = %v, want the base file's 10s (not reset by a later layer)", s.Server.ShutdownTimeout)
	}
	if s.Farm.ServerID != "from-env" {
		t.Errorf("ServerID = %q, want from-env", s.Farm.ServerID)
	}
	if got := s.Logging.LogLevel["Default"]; got != "Error" {
		t.Errorf("Default level = %q, want Error", got)
	}
	if got := s.Logging.LogLevel["Cesivi"]; got != "Debug" {
		t.Errorf("Cesivi level = %q, want Debug", got)
	}
	if len(s.Files) != 2 {
		t.Errorf("Files = %v, want both files", s.Files)
	}
	if _, ok := s.Tree().Get("PATH"); ok {
		t.Error("unrelated environment variables must not become settings")
	}
}

func TestEnvironmentNameFallsBackToASPNETCoreVariables(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.Development.json", `{"Cesivi":{"Server":{"Address":":5555"}}}`)
	s, err := Load(dir, []string{"ASPNETCORE_ENVIRONMENT=Development"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Environment != "Development" || s.Server.Address != ":5555" {
		t.Errorf("environment %q address %q", s.Environment, s.Server.Address)
	}
}

func TestSeedStyleSettingsFileIsRead(t *testing.T) {
	dir := t.TempDir()
	// The seed's appsettings.Production.json, with its ${HOSTNAME} reference.
	writeFile(t, dir, "appsettings.Production.json", `{
		"Cesivi": {
			"DistributedState": {"Provider": "Redis", "ConnectionString": "redis-cluster.example.com:6379,password=SecurePassword123!,ssl=true,abortConnect=false"},
			"Storage": {"Provider": "PostgreSQL", "ConnectionString": "Host=pg;Port=5432;Database=Cesivi;Username=postgres;Password=YourPassword"},
			"Farm": {"Enabled": true, "ServerId": "${HOSTNAME}"}
		},
		"Logging": {"LogLevel": {"Default": "Information", "Cesivi": "Information", "Microsoft.AspNetCore": "Warning"}}
	}`)
	t.Setenv("HOSTNAME", "spm-server-7")
	s, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("the seed's production settings must pass the gates: %v", err)
	}
	if s.Farm.ServerID != "spm-server-7" {
		t.Errorf("ServerID = %q, want ${HOSTNAME} expanded", s.Farm.ServerID)
	}
	if s.Cluster.Mode != ModeCluster || s.DataProtection.Provider != KeyRingPostgreSql || s.Storage.Files.Provider != FilesDatabase {
		t.Errorf("mode %q key ring %q files %q: a farm on PostgreSQL defaults to Cluster, PostgreSql keys and Database files",
			s.Cluster.Mode, s.DataProtection.Provider, s.Storage.Files.Provider)
	}
}

func TestSeedTroubleshootingLogLevelVariableIsHonoured(t *testing.T) {
	s, err := Load(t.TempDir(), []string{
		"Cesivi__Logging__LogLevel__Cesivi.Server.Authorization.DistributedUserContextCache=Debug",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Logging.LogLevel["Cesivi.Server.Authorization.DistributedUserContextCache"]; got != "Debug" {
		t.Errorf("level = %q, want Debug (levels: %v)", got, s.Logging.LogLevel)
	}
}

func TestMalformedValuesNameTheKey(t *testing.T) {
	cases := []struct {
		name, env, key string
	}{
		{"a provider that does not exist", "Cesivi__Storage__Provider=Oracle", "Cesivi:Storage:Provider"},
		{"a boolean that is not one", "Cesivi__Farm__Enabled=yes please", "Cesivi:Farm:Enabled"},
		{"a duration that is not one", "Cesivi__Server__ShutdownTimeout=soon", "Cesivi:Server:ShutdownTimeout"},
		{"a cluster mode that does not exist", "Cesivi__Cluster__Mode=Swarm", "Cesivi:Cluster:Mode"},
		{"a log level that does not exist", "Logging__LogLevel__Default=Loud", "Logging:LogLevel:Default"},
		{"a files provider that does not exist", "Cesivi__Storage__Files__Provider=S3", "Cesivi:Storage:Files:Provider"},
		{"a size that is not one", "Cesivi__Storage__Files__MaxUploadSize=lots", "Cesivi:Storage:Files:MaxUploadSize"},
		{"a file size of nothing", "Cesivi__Storage__Files__MaxFileSize=0", "Cesivi:Storage:Files:MaxFileSize"},
		{"an upload timeout that is not a duration", "Cesivi__Storage__Files__UploadTimeout=a day", "Cesivi:Storage:Files:UploadTimeout"},
		{"a sweep interval that is not a duration", "Cesivi__Storage__Files__SweepInterval=hourly", "Cesivi:Storage:Files:SweepInterval"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(t.TempDir(), []string{c.env})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *config.Error", err)
			}
			if !strings.EqualFold(ce.Key, c.key) {
				t.Errorf("error names %q, want %q", ce.Key, c.key)
			}
		})
	}
}

func TestMalformedSettingsFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", `{"Cesivi": {`)
	_, err := Load(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "appsettings.json") {
		t.Fatalf("err = %v, want it to name appsettings.json", err)
	}
}

func TestStartupGates(t *testing.T) {
	const redisOK = "Cesivi__DistributedState__ConnectionString=127.0.0.1:6379"
	const pgOK = "Cesivi__Storage__ConnectionString=Host=127.0.0.1;Database=cesivi;Username=u;Password=p"
	cases := []struct {
		name    string
		env     []string
		wantKey string // "" = must pass
		wantMsg string
	}{
		{"a single in-memory server passes", nil, "", ""},
		{"a Redis and PostgreSQL farm passes",
			[]string{"Cesivi__Farm__Enabled=true", "Cesivi__DistributedState__Provider=Redis", redisOK,
				"Cesivi__Storage__Provider=PostgreSQL", pgOK}, "", ""},
		{"a Redis key ring on a Redis farm with in-memory storage passes",
			[]string{"Cesivi__Farm__Enabled=true", "Cesivi__DistributedState__Provider=Redis", redisOK,
				"Cesivi__DataProtection__Provider=Redis"}, "", ""},
		{"a FileSystem key ring in cluster mode is refused",
			[]string{"Cesivi__Cluster__Mode=Cluster", "Cesivi__DataProtection__Provider=FileSystem"},
			"Cesivi:DataProtection:Provider", "FileSystem"},
		{"a FileSystem key ring in a farm is refused",
			[]string{"Cesivi__Farm__Enabled=true", "Cesivi__DistributedState__Provider=Redis", redisOK},
			"Cesivi:DataProtection:Provider", "FileSystem"},
		{"a PostgreSql key ring with in-memory storage is refused",
			[]string{"Cesivi__DataProtection__Provider=PostgreSql"},
			"Cesivi:DataProtection:Provider", "Cesivi:Storage:Provider is InMemory"},
		{"a SqlServer key ring with PostgreSQL storage is refused",
			[]string{"Cesivi__DataProtection__Provider=SqlServer", "Cesivi__Storage__Provider=PostgreSQL", pgOK},
			"Cesivi:DataProtection:Provider", "SqlServer"},
		{"a Redis key ring without Redis state is refused",
			[]string{"Cesivi__DataProtection__Provider=Redis"},
			"Cesivi:DataProtection:Provider", "DistributedState"},
		{"a SharedDirectory key ring without a path is refused",
			[]string{"Cesivi__DataProtection__Provider=SharedDirectory"},
			"Cesivi:DataProtection:KeysPath", "SharedDirectory"},
		{"in-memory state in a farm is refused",
			[]string{"Cesivi__Farm__Enabled=true", "Cesivi__DataProtection__Provider=SharedDirectory", "Cesivi__DataProtection__KeysPath=/mnt/keys"},
			"Cesivi:DistributedState:Provider", "InMemory"},
		{"SqlServer storage is refused until it is supported",
			[]string{"Cesivi__Storage__Provider=SqlServer"},
			"Cesivi:Storage:Provider", "not supported"},
		{"Redis without a connection string is refused",
			[]string{"Cesivi__DistributedState__Provider=Redis"},
			"Cesivi:DistributedState:ConnectionString", "required"},
		{"PostgreSQL without a connection string is refused",
			[]string{"Cesivi__Storage__Provider=PostgreSQL"},
			"Cesivi:Storage:ConnectionString", "required"},
		{"an unparsable Redis connection string is refused",
			[]string{"Cesivi__DistributedState__Provider=Redis", "Cesivi__DistributedState__ConnectionString=h:6379,colour=blue"},
			"Cesivi:DistributedState:ConnectionString", "colour"},
		{"SharedDirectory files without a path are refused",
			[]string{"Cesivi__Storage__Files__Provider=SharedDirectory"},
			"Cesivi:Storage:Files:Path", "SharedDirectory"},
		{"SharedDirectory files on a relative path are refused",
			[]string{"Cesivi__Storage__Files__Provider=SharedDirectory", "Cesivi__Storage__Files__Path=files"},
			"Cesivi:Storage:Files:Path", "absolute"},
		{"SharedDirectory files on an absolute path pass",
			[]string{"Cesivi__Storage__Files__Provider=SharedDirectory", "Cesivi__Storage__Files__Path=/mnt/files"}, "", ""},
		{"Database files without PostgreSQL storage are refused",
			[]string{"Cesivi__Storage__Files__Provider=Database"},
			"Cesivi:Storage:Files:Provider", "Cesivi:Storage:Provider is InMemory"},
		{"InMemory files with PostgreSQL storage in a farm are refused",
			[]string{"Cesivi__Farm__Enabled=true", "Cesivi__DistributedState__Provider=Redis", redisOK,
				"Cesivi__Storage__Provider=PostgreSQL", pgOK, "Cesivi__Storage__Files__Provider=InMemory"},
			"Cesivi:Storage:Files:Provider", "Cesivi:Farm:Enabled=true"},
		{"InMemory files with PostgreSQL storage on one server pass",
			[]string{"Cesivi__Storage__Provider=PostgreSQL", pgOK, "Cesivi__Storage__Files__Provider=InMemory"}, "", ""},
		{"SharedDirectory files with PostgreSQL storage in a farm pass",
			[]string{"Cesivi__Farm__Enabled=true", "Cesivi__DistributedState__Provider=Redis", redisOK,
				"Cesivi__Storage__Provider=PostgreSQL", pgOK, "Cesivi__Storage__Files__Provider=SharedDirectory",
				"Cesivi__Storage__Files__Path=/mnt/files"}, "", ""},
		{"an unparsable PostgreSQL connection string is refused",
			[]string{"Cesivi__Storage__Provider=PostgreSQL", "Cesivi__Storage__ConnectionString=Host=h;Flavour=mint"},
			"Cesivi:Storage:ConnectionString", "Flavour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGate(t, c.env, c.wantKey, c.wantMsg) })
	}
}

// checkGate loads env and validates it: with wantKey "" it must pass,
// otherwise fail with a one-line *Error naming wantKey and containing
// wantMsg. It returns the error for further checks.
func checkGate(t *testing.T, env []string, wantKey, wantMsg string) error {
	t.Helper()
	s, err := Load(t.TempDir(), env)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate()
	if wantKey == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return nil
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Validate() = %v, want a *config.Error", err)
	}
	if ce.Key != wantKey || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("Validate() = %q, want key %s and a message containing %q", err, wantKey, wantMsg)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the message must be one line: %q", err)
	}
	return err
}

func TestGateErrorsNeverShowThePassword(t *testing.T) {
	const secret = "Sup3r$ecret;Pass"
	cases := [][]string{
		{"Cesivi__DistributedState__Provider=Redis", "Cesivi__DistributedState__ConnectionString=h:6379,password=" + secret + ",connectTimeout=soon"},
		{"Cesivi__DistributedState__Provider=Redis", "Cesivi__DistributedState__ConnectionString=h:notaport,password=" + secret},
		{"Cesivi__Storage__Provider=PostgreSQL", "Cesivi__Storage__ConnectionString=Host=h;Password='" + secret + "';Port=abc"},
		{"Cesivi__Storage__Provider=PostgreSQL", "Cesivi__Storage__ConnectionString=Host=h;Password=" + secret + ";Bogus=1"},
	}
	for _, env := range cases {
		s, err := Load(t.TempDir(), env)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Validate()
		if err == nil {
			t.Fatalf("%v: want an error", env[1])
		}
		for _, part := range []string{secret, "Sup3r", "Pass"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("error %q shows part of the password", err)
			}
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "1m30s": 90 * time.Second, "00:00:30": 30 * time.Second,
		"01:02:03.5": time.Hour + 2*time.Minute + 3500*time.Millisecond, "15": 15 * time.Second, "0.25": 250 * time.Millisecond,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "soon", "-5s", "00:61:00", "1:2"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want an error", in)
		}
	}
}

// Cesivi:Sites:Administrators is an array in appsettings.json (indexes
// ordered as numbers), indexed environment variables, or one separated
// value.
func TestSiteAdministratorsAsArrayOrOneValue(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", `{"Cesivi":{"Sites":{"Administrators":["u-alice","a1","a2","a3","a4","a5","a6","a7","a8","a9","group:Site Admins"]}}}`)
	s, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Sites.Administrators, ","); got != "u-alice,a1,a2,a3,a4,a5,a6,a7,a8,a9,group:Site Admins" {
		t.Errorf("from the array: %s", got)
	}
	s, err = Load(t.TempDir(), []string{"Cesivi__Sites__Administrators=alice@example.com; group:ops ,,u-bob"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Sites.Administrators, "|"); got != "alice@example.com|group:ops|u-bob" {
		t.Errorf("from one value: %s", got)
	}
	if s, _ = Load(t.TempDir(), nil); len(s.Sites.Administrators) != 0 {
		t.Errorf("default: %v", s.Sites.Administrators)
	}
}

func TestWebhookSettings(t *testing.T) {
	s, err := Load(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := s.Webhooks
	if len(w.AllowedHosts) != 0 || w.AllowPrivateNetworks || w.ValidationTimeout != 5*time.Second ||
		w.DeliveryTimeout != 10*time.Second || w.RetryCount != 5 || w.RetryDelay != 5*time.Minute || w.DeliveryLease != 30*time.Second {
		t.Errorf("defaults: %+v", w)
	}
	s, err = Load(t.TempDir(), []string{"Cesivi__Webhooks__AllowedHosts=localhost:7071, 10.0.0.0/8",
		"Cesivi__Webhooks__AllowPrivateNetworks=true", "Cesivi__Webhooks__RetryCount=2", "Cesivi__Webhooks__RetryDelay=1s",
		"Cesivi__Webhooks__DeliveryLease=3s"})
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Webhooks; strings.Join(w.AllowedHosts, "|") != "localhost:7071|10.0.0.0/8" || !w.AllowPrivateNetworks || w.RetryCount != 2 || w.RetryDelay != time.Second ||
		w.DeliveryLease != 3*time.Second {
		t.Errorf("set: %+v", w)
	}
	if _, err := Load(t.TempDir(), []string{"Cesivi__Webhooks__RetryCount=many"}); err == nil || !strings.Contains(err.Error(), "Cesivi:Webhooks:RetryCount") {
		t.Errorf("a bad retry count: %v", err)
	}
	if _, err := Load(t.TempDir(), []string{"Cesivi__Webhooks__DeliveryLease=100ms"}); err == nil || !strings.Contains(err.Error(), "Cesivi:Webhooks:DeliveryLease") {
		t.Errorf("a lease too short to renew: %v", err)
	}
}
