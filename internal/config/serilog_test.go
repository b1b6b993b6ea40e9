package config

import (
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/logging"
)

// seedSerilog is the seed's "Recommended Logging Configuration", verbatim.
const seedSerilog = `{
"Serilog": {
"MinimumLevel": {
"Default": "Information",
"Override": {
"Microsoft": "Warning",
"Cesivi.Server.Services.DistributedSessionStateStore": "Debug",
"Cesivi.Server.Authentication.DistributedTokenCache": "Debug",
"Cesivi.Server.Authorization.DistributedUserContextCache": "Debug"
}
},
"WriteTo": [
{
"Name": "Console",
"Args": {
"outputTemplate": "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}"
}
},
{
"Name": "File",
"Args": {
"path": "/var/log/spm/log-.txt",
"rollingInterval": "Day",
"retainedFileCountLimit": 7
}
}
]
}
}`

// effective builds the factory the server would and asks it a category's level.
func effective(t *testing.T, s *Settings, category string) string {
	t.Helper()
	f, err := logging.New(&strings.Builder{}, "simple", s.Logging.LogLevel)
	if err != nil {
		t.Fatal(err)
	}
	return f.Level(category).String()
}

func TestSeedSerilogMinimumLevelsApply(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", seedSerilog)
	s, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"Cesivi.Server":                                           "INFO",
		"Microsoft.AspNetCore.Hosting":                            "WARN", // a prefix, as Serilog matches it
		"Cesivi.Server.Services.DistributedSessionStateStore":     "DEBUG",
		"Cesivi.Server.Authorization.DistributedUserContextCache": "DEBUG",
		"MicrosoftX": "INFO", // prefixes end on a dot
	}
	for category, want := range cases {
		if got := effective(t, s, category); got != want {
			t.Errorf("%s: level %s, want %s (table %v)", category, got, want, s.Logging.LogLevel)
		}
	}
}

func TestSerilogAndLogLevelCombine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", `{
		"Serilog": {"MinimumLevel": {"Default": "Warning", "Override": {"Cesivi.Server": "Debug", "Microsoft": "Error"}}},
		"Logging": {"LogLevel": {"Microsoft": "Information", "Cesivi.Server.Storage": "Error"}}}`)
	s, err := Load(dir, []string{"Serilog__MinimumLevel__Override__Noisy=Fatal"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"Other":                        "WARN",  // Serilog's Default: Logging:LogLevel:Default is not set
		"Cesivi.Server.Redis":          "DEBUG", // Serilog's rule, the longest prefix
		"Cesivi.Server.Storage":        "ERROR", // Logging's rule is longer
		"Microsoft.AspNetCore":         "INFO",  // both name Microsoft: Logging:LogLevel wins
		"Noisy.Thing":                  "ERROR+4",
		"Cesivi.Server.Storage.Schema": "ERROR",
	}
	for category, want := range cases {
		if got := effective(t, s, category); got != want {
			t.Errorf("%s: level %s, want %s (table %v)", category, got, want, s.Logging.LogLevel)
		}
	}

	// An explicit Logging:LogLevel:Default beats Serilog's.
	s, err = Load(dir, []string{"Logging__LogLevel__Default=Debug"})
	if err != nil {
		t.Fatal(err)
	}
	if got := effective(t, s, "Other"); got != "DEBUG" {
		t.Errorf("Other: %s, want DEBUG from Logging:LogLevel:Default", got)
	}
}

func TestSerilogScalarMinimumLevelAndCesiviRoot(t *testing.T) {
	s, err := Load(t.TempDir(), []string{"Serilog__MinimumLevel=Error", "Cesivi__Serilog__MinimumLevel__Override__Cesivi=Verbose"})
	if err != nil {
		t.Fatal(err)
	}
	if got := effective(t, s, "Other"); got != "ERROR" {
		t.Errorf("Other: %s, want ERROR", got)
	}
	if got := effective(t, s, "Cesivi.Server"); got != "DEBUG-4" {
		t.Errorf("Cesivi.Server: %s, want Verbose (DEBUG-4)", got)
	}
}

func TestBadSerilogLevelNamesTheKey(t *testing.T) {
	for _, env := range []string{"Serilog__MinimumLevel__Default=Chatty", "Serilog__MinimumLevel__Override__Cesivi=loud"} {
		_, err := Load(t.TempDir(), []string{env})
		key := strings.ReplaceAll(strings.SplitN(env, "=", 2)[0], "__", ":")
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v, want one naming %s", env, err, key)
		}
	}
}

func TestSeedSerilogWriteToIsRead(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "appsettings.json", seedSerilog)
	s, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []logging.Sink{
		{Key: "Serilog:WriteTo:0", Name: logging.SinkConsole,
			OutputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}"},
		{Key: "Serilog:WriteTo:1", Name: logging.SinkFile, Path: "/var/log/spm/log-.txt", RollingInterval: "Day", RetainedFileCountLimit: 7},
	}
	if len(s.Logging.Sinks) != len(want) {
		t.Fatalf("sinks %+v", s.Logging.Sinks)
	}
	for i := range want {
		if s.Logging.Sinks[i] != want[i] {
			t.Errorf("sink %d = %+v, want %+v", i, s.Logging.Sinks[i], want[i])
		}
	}
	if len(s.Logging.Warnings) != 0 {
		t.Errorf("warnings %v", s.Logging.Warnings)
	}
}

func TestSerilogSinksFromTheEnvironment(t *testing.T) {
	s, err := Load(t.TempDir(), []string{
		"Serilog__WriteTo__0__Name=console",
		"Serilog__WriteTo__0__Args__formatter=Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact",
		"Serilog__WriteTo__0__Args__theme=Serilog.Sinks.SystemConsole.Themes.AnsiConsoleTheme::Code, Serilog.Sinks.Console",
		"Serilog__WriteTo__1__Name=Seq",
		"Serilog__WriteTo__2__Name=File",
		"Serilog__WriteTo__2__Args__path=logs/cesivi-.log",
		"Serilog__WriteTo__2__Args__restrictedToMinimumLevel=Warning",
		"Serilog__WriteTo__10__Name=Console",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Logging.Sinks) != 3 {
		t.Fatalf("sinks %+v", s.Logging.Sinks)
	}
	c, f := s.Logging.Sinks[0], s.Logging.Sinks[1]
	if c.Name != logging.SinkConsole || !c.JSON {
		t.Errorf("console %+v: want compact JSON", c)
	}
	if f.Name != logging.SinkFile || f.Path != "logs/cesivi-.log" || f.RollingInterval != "Infinite" || f.RetainedFileCountLimit != 31 || f.RestrictedToMinimumLevel != "Warning" {
		t.Errorf("file %+v: want Serilog's defaults (Infinite, 31 files)", f)
	}
	if s.Logging.Sinks[2].Key != "Serilog:WriteTo:10" {
		t.Errorf("entries are in index order: %+v", s.Logging.Sinks)
	}
	joined := strings.Join(s.Logging.Warnings, "\n")
	if !strings.Contains(joined, "Seq") || !strings.Contains(joined, "theme") || len(s.Logging.Warnings) != 2 {
		t.Errorf("warnings %q: want the Seq sink and the theme named", joined)
	}
}

func TestBadSerilogSinksNameTheKey(t *testing.T) {
	cases := []struct {
		env []string
		key string
	}{
		{[]string{"Serilog__WriteTo__0__Args__path=x"}, "Serilog:WriteTo:0:Name"},
		{[]string{"Serilog__WriteTo__0__Name=File"}, "Serilog:WriteTo:0:Args:path"},
		{[]string{"Serilog__WriteTo__0__Name=File", "Serilog__WriteTo__0__Args__path=x", "Serilog__WriteTo__0__Args__rollingInterval=Weekly"}, "Serilog:WriteTo:0:Args:rollingInterval"},
		{[]string{"Serilog__WriteTo__0__Name=File", "Serilog__WriteTo__0__Args__path=x", "Serilog__WriteTo__0__Args__retainedFileCountLimit=0"}, "Serilog:WriteTo:0:Args:retainedFileCountLimit"},
		{[]string{"Serilog__WriteTo__0__Name=Console", "Serilog__WriteTo__0__Args__formatter=Xml"}, "Serilog:WriteTo:0:Args:formatter"},
		{[]string{"Serilog__WriteTo__0__Name=Console", "Serilog__WriteTo__0__Args__restrictedToMinimumLevel=Most"}, "Serilog:WriteTo:0:Args:restrictedToMinimumLevel"},
	}
	for _, c := range cases {
		_, err := Load(t.TempDir(), c.env)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: error %v, want one naming %s", c.env, err, c.key)
		}
	}
}
