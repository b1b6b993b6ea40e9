package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Tree is a flat, case-insensitive view of layered configuration, keyed the
// way ASP.NET Core keys it: sections joined by ":" ("Cesivi:Farm:Enabled").
// Later layers overwrite earlier ones key by key, never section by section.
type Tree struct {
	values map[string]entry // lower-cased key -> value
	// reads, when not nil, records every key and section asked for
	// (KnownKeys).
	reads map[string]bool
}

type entry struct {
	key    string // the spelling of the layer that set it, for messages
	value  string
	source string // "defaults", a file name or "environment"
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{values: map[string]entry{}} }

// Set stores value under key, replacing what an earlier layer set.
func (t *Tree) Set(key, value, source string) {
	t.values[strings.ToLower(key)] = entry{key: key, value: value, source: source}
}

// Get returns the value of key (case-insensitive) and whether any layer set it.
func (t *Tree) Get(key string) (string, bool) {
	if t.reads != nil {
		t.reads[key] = true
	}
	e, ok := t.values[strings.ToLower(key)]
	return e.value, ok
}

// Source names the layer that set key, or "" when none did.
func (t *Tree) Source(key string) string { return t.values[strings.ToLower(key)].source }

// Children returns the direct child names under section (for
// "Logging:LogLevel" the category names), in the spelling their layer used.
func (t *Tree) Children(section string) []string {
	if t.reads != nil {
		t.reads[section+":*"] = true
	}
	prefix := strings.ToLower(section) + ":"
	seen := map[string]string{}
	for lk, e := range t.values {
		if !strings.HasPrefix(lk, prefix) {
			continue
		}
		rest := e.key[len(prefix):]
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			rest = rest[:i]
		}
		seen[strings.ToLower(rest)] = rest
	}
	out := make([]string, 0, len(seen))
	for _, name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// LoadJSONFile merges a JSON settings file into the tree. A missing file is
// not an error (the files are optional layers); a malformed one is.
func (t *Tree) LoadJSONFile(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := t.LoadJSON(data, path); err != nil {
		return false, err
	}
	return true, nil
}

// LoadJSON merges a JSON document into the tree. Objects nest sections,
// arrays become numbered sections ("Hosts:0"), scalars become strings.
func (t *Tree) LoadJSON(data []byte, source string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return fmt.Errorf("%s: not valid JSON: %v", source, err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: the top level must be a JSON object", source)
	}
	t.flatten("", obj, source)
	return nil
}

func (t *Tree) flatten(prefix string, v any, source string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + ":" + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			t.flatten(join(k), child, source)
		}
	case []any:
		for i, child := range x {
			t.flatten(join(strconv.Itoa(i)), child, source)
		}
	case nil:
		t.Set(prefix, "", source)
	case string:
		t.Set(prefix, expandEnv(x), source)
	default: // json.Number, bool
		t.Set(prefix, fmt.Sprint(x), source)
	}
}

// envReference matches ${NAME}. The seed's appsettings.Production.json sets
// "ServerId": "${HOSTNAME}", so users expect such references in settings
// files to be expanded from the environment.
var envReference = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func expandEnv(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return envReference.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if name == "HOSTNAME" {
			if v := os.Getenv(name); v != "" {
				return v
			}
			// Shells set HOSTNAME without exporting it; ask the kernel.
			h, _ := os.Hostname()
			return h
		}
		return os.Getenv(name)
	})
}

// envPrefixes are the environment variable roots that are configuration.
// Only these are read so that unrelated variables (PATH, HOME) never appear
// as settings.
// Serilog__ is there because Serilog users set Serilog__MinimumLevel__Default.
var envPrefixes = []string{"Cesivi__", "Logging__", "Serilog__"}

// LoadEnvironment merges environment variables of the form
// Cesivi__Section__Key=value ("__" nests, names are case-insensitive).
func (t *Tree) LoadEnvironment(environ []string) {
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		for _, p := range envPrefixes {
			if len(name) > len(p) && strings.EqualFold(name[:len(p)], p) {
				t.Set(strings.ReplaceAll(name, "__", ":"), value, "environment")
				break
			}
		}
	}
}
