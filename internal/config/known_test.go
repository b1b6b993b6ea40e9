package config

import (
	"slices"
	"testing"
)

func TestKnownKeysAreWhatBindReads(t *testing.T) {
	known := KnownKeys()
	for _, want := range []string{
		"Cesivi:Farm:Enabled",
		"Cesivi:DistributedState:ConnectionString",
		"Cesivi:DataProtection:MasterKey",
		"Cesivi:Server:ShutdownDelay",
		"Logging:LogLevel:*",
	} {
		if !slices.Contains(known, want) {
			t.Errorf("KnownKeys lacks %s", want)
		}
	}
	for name, want := range map[string]bool{
		"Cesivi__Farm__Enabled":                          true,
		"cesivi__farm__enabled":                          true,
		"Cesivi__Storage__ConnectionString_FILE":         true,
		"Cesivi__Sites__Administrators__0":               true,
		"Logging__LogLevel__Microsoft.AspNetCore":        true,
		"Cesivi__Logging__LogLevel__Cesivi.Server":       true,
		"Cesivi__Farm__Enable":                           false, // misspelt
		"Cesivi__Storage__ConnectionString__0":           false, // not a list
		"Cesivi__Farm":                                   false,
		"Logging__LogLevel":                              false,
		"CESIVI_UPSTREAMS":                               false, // the edge's Caddyfile, not a setting
		"Cesivi__DistributedState__ConnectionStringFILE": false,
	} {
		if got := IsKnownVariable(name, known); got != want {
			t.Errorf("IsKnownVariable(%s) = %v, want %v", name, got, want)
		}
	}
}
