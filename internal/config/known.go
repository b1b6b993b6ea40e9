package config

import (
	"sort"
	"strings"
)

// KnownKeys lists the setting keys Load binds ("Cesivi:Farm:Enabled"), and
// the sections whose children are all settings, written "Section:*"
// ("Logging:LogLevel:*": one key per category). It binds an empty
// configuration and records what is asked for, so the list cannot drift
// from the code; deployment files are checked against it, so that a
// misspelt variable in a recipe is caught instead of silently ignored.
// Keys read only when another setting has a given value would be missed;
// bind reads every key unconditionally.
func KnownKeys() []string {
	t := NewTree()
	t.reads = map[string]bool{}
	_, _ = bind(t) // an empty configuration binds to the defaults
	out := make([]string, 0, len(t.reads))
	for k := range t.reads {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsKnownVariable reports whether the environment variable name
// (Cesivi__Storage__ConnectionString, its _FILE twin, an array element
// Cesivi__Sites__Administrators__0 and a category under
// Logging__LogLevel__, whose sections bind reads as lists of children)
// sets a key of known (as KnownKeys returns), comparing as Load does:
// without regard to case.
func IsKnownVariable(name string, known []string) bool {
	if !configName(name) {
		return false
	}
	if len(name) > len(fileSuffix) && strings.EqualFold(name[len(name)-len(fileSuffix):], fileSuffix) {
		name = name[:len(name)-len(fileSuffix)]
	}
	key := strings.ToLower(strings.ReplaceAll(name, "__", ":"))
	parent, last, _ := cutLast(key)
	for _, k := range known {
		k = strings.ToLower(k)
		if section, ok := strings.CutSuffix(k, ":*"); ok {
			if parent == section && last != "" {
				return true
			}
			continue
		}
		if key == k {
			return true
		}
	}
	return false
}

func cutLast(key string) (parent, last string, ok bool) {
	i := strings.LastIndexByte(key, ':')
	if i < 0 {
		return "", key, false
	}
	return key[:i], key[i+1:], true
}
