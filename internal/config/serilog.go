package config

import (
	"fmt"
	"slices"
	"strconv"
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

// RollingIntervals are Serilog's rollingInterval values.
var rollingIntervals = []string{"Infinite", "Year", "Month", "Day", "Hour", "Minute"}

// Arguments Serilog's Console and File sinks take that Cesivi accepts and
// does not apply; each is named in a start-up warning rather than refused,
// so that an operator's existing appsettings.json keeps starting.
var ignoredSinkArgs = map[string]bool{
	"theme": true, "applythemetoredirectedoutput": true, "standarderrorfromlevel": true,
	"formatprovider": true, "levelswitch": true, "synclock": true,
	"filesizelimitbytes": true, "rollonfilesizelimit": true, "shared": true, "buffered": true,
	"flushtodiskinterval": true, "encoding": true, "hooks": true, "retainedfiletimelimit": true,
}

// bindSinks reads Serilog:WriteTo: the Console and File sinks Cesivi
// writes. Other sinks and arguments are reported in warnings (logged at
// start-up), not applied.
func bindSinks(b *binder, t *Tree) (sinks []logging.Sink, warnings []string) {
	entries := serilogChildren(t, "WriteTo")
	slices.SortFunc(entries, func(x, y string) int {
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		if ex == nil && ey == nil {
			return nx - ny
		}
		return strings.Compare(x, y)
	})
	fail := func(key, problem string) {
		if b.err == nil {
			b.err = &Error{Key: key, Problem: problem}
		}
	}
	for _, entry := range entries {
		base := "WriteTo:" + entry
		name, nameKey, _ := serilogGet(t, base+":Name")
		name = trim(name)
		if nameKey == "" {
			nameKey = "Serilog:" + base + ":Name"
		}
		sink := logging.Sink{Key: strings.TrimSuffix(nameKey, ":Name")}
		switch {
		case strings.EqualFold(name, logging.SinkConsole):
			sink.Name = logging.SinkConsole
		case strings.EqualFold(name, logging.SinkFile):
			sink.Name = logging.SinkFile
			sink.RollingInterval = "Infinite"
			sink.RetainedFileCountLimit = 31 // Serilog's default
		case name == "":
			fail(nameKey, "a WriteTo entry needs a Name (Console or File)")
			continue
		default:
			warnings = append(warnings, fmt.Sprintf("%s: the %q sink is not one Cesivi writes (Console, File); it is ignored", nameKey, name))
			continue
		}
		for _, arg := range serilogChildren(t, base+":Args") {
			v, key, ok := serilogGet(t, base+":Args:"+arg)
			switch la := lower(arg); {
			case la == "outputtemplate":
				sink.OutputTemplate = v
			case la == "formatter":
				if !ok { // the object form: "formatter": {"type": "…"}
					v, _, _ = serilogGet(t, base+":Args:"+arg+":type")
				}
				if !logging.JSONFormatter(v) {
					fail(key, fmt.Sprintf("%q is not a formatter Cesivi writes: use Serilog.Formatting.Compact.CompactJsonFormatter (or RenderedCompactJsonFormatter, JsonFormatter, json) for JSON lines, or outputTemplate for text", trim(v)))
				}
				sink.JSON = true
			case la == "restrictedtominimumlevel":
				if _, err := logging.ParseLevel(v); err != nil {
					fail(key, err.Error())
				}
				sink.RestrictedToMinimumLevel = trim(v)
			case la == "path" && sink.Name == logging.SinkFile:
				sink.Path = trim(v)
			case la == "rollinginterval" && sink.Name == logging.SinkFile:
				sink.RollingInterval = b.oneOf(key, "Infinite", rollingIntervals...)
			case la == "retainedfilecountlimit" && sink.Name == logging.SinkFile:
				// null (or empty) keeps every file, as in Serilog.
				if v = trim(v); v == "" || strings.EqualFold(v, "null") {
					sink.RetainedFileCountLimit = 0
					break
				}
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					fail(key, fmt.Sprintf("%q is not a number of files of at least 1 (null keeps them all)", v))
				}
				sink.RetainedFileCountLimit = n
			case ignoredSinkArgs[la]:
				warnings = append(warnings, fmt.Sprintf("%s is not applied by Cesivi; it is ignored", key))
			default:
				warnings = append(warnings, fmt.Sprintf("%s is not an argument Cesivi's %s sink knows; it is ignored", key, sink.Name))
			}
		}
		if sink.Name == logging.SinkFile && sink.Path == "" {
			fail(sink.Key+":Args:path", "the File sink needs a path")
		}
		sinks = append(sinks, sink)
	}
	if len(entries) > 0 && len(sinks) == 0 && b.err == nil {
		warnings = append(warnings, "Serilog:WriteTo names no sink Cesivi writes; logging to the console")
	}
	return sinks, warnings
}
