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
