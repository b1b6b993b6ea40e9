package config

import (
	"strings"

	"github.com/cesivi/cesivi/internal/logging"
)

// The seed configures logging with a Serilog section at the top level of
// appsettings.json (or Serilog__… variables). Cesivi:Serilog is read too,
// and wins key by key, so that every setting can also be spelt under the
// Cesivi root like the rest.
var serilogRoots = []string{"Serilog", "Cesivi:Serilog"}

// serilogGet returns the value of Serilog:<key>, the full key that set it
// (for messages) and whether any root set it.
func serilogGet(t *Tree, key string) (value, full string, ok bool) {
	for _, root := range serilogRoots {
		if v, found := t.Get(root + ":" + key); found {
			value, full, ok = v, root+":"+key, true
		}
	}
	return value, full, ok
}

// serilogChildren returns the child names of Serilog:<section> under every
// root, each once (case-insensitive), in sorted order.
func serilogChildren(t *Tree, section string) []string {
	seen := map[string]bool{}
	var out []string
	for _, root := range serilogRoots {
		for _, c := range t.Children(root + ":" + section) {
			if lc := lower(c); !seen[lc] {
				seen[lc] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// bindLogLevels merges the two level configurations into one table of
// category prefix -> level name, keyed as logging.New expects. The rules
// (docs/configuration.md, "Logging"):
//   - every category named in either Logging:LogLevel or
//     Serilog:MinimumLevel:Override is a rule, and the longest prefix of a
//     category wins whichever section it came from;
//   - a category named in both takes Logging:LogLevel's level, since
//     Logging:LogLevel (and Cesivi__Logging__LogLevel__…) is what the seed's
//     troubleshooting tells operators to set on a running deployment;
//   - Default is Logging:LogLevel:Default when set, else
//     Serilog:MinimumLevel:Default (or the scalar Serilog:MinimumLevel),
//     else Information.
func bindLogLevels(b *binder, t *Tree) map[string]string {
	levels := map[string]string{"Default": "Information"}
	check := func(key, level string) {
		if _, err := logging.ParseLevel(level); err != nil && b.err == nil {
			b.err = &Error{Key: key, Problem: err.Error()}
		}
	}
	// Serilog accepts "MinimumLevel": "Debug" as well as the object form.
	for _, key := range []string{"MinimumLevel", "MinimumLevel:Default"} {
		if v, full, ok := serilogGet(t, key); ok && trim(v) != "" {
			check(full, trim(v))
			levels["Default"] = trim(v)
		}
	}
	for _, category := range serilogChildren(t, "MinimumLevel:Override") {
		v, full, _ := serilogGet(t, "MinimumLevel:Override:"+category)
		check(full, trim(v))
		levels[canonicalCategory(levels, category)] = trim(v)
	}
	// The seed writes both Logging:LogLevel:* (appsettings) and
	// Cesivi__Logging__LogLevel__* (its troubleshooting section); honour both,
	// the Cesivi-rooted one last so the more specific spelling wins.
	for _, section := range []string{"Logging:LogLevel", "Cesivi:Logging:LogLevel"} {
		for _, category := range t.Children(section) {
			level := b.str(section+":"+category, "")
			check(section+":"+category, level)
			levels[canonicalCategory(levels, category)] = level
		}
	}
	return levels
}

func trim(s string) string  { return strings.TrimSpace(s) }
func lower(s string) string { return strings.ToLower(s) }
