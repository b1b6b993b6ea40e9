package tests

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestBuiltFileGroups keeps the skip of TestPnPjsFilesScenario honest: the
// scenario's BUILT line must stay readable, and the parser must find what
// a BUILT line names.
func TestBuiltFileGroups(t *testing.T) {
	if _, err := builtFileGroups(filepath.Join(pnpjsDir, filesScript)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		line string
		want []string
	}{
		{`const BUILT = new Set([]);`, nil},
		{`const BUILT = new Set(["folders", "files",'names']);`, []string{"folders", "files", "names"}},
	} {
		script := filepath.Join(dir, "s.mjs")
		if err := os.WriteFile(script, []byte("// x\n"+c.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := builtFileGroups(script)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, %v; want %q", c.line, got, err, c.want)
		}
	}
	script := filepath.Join(dir, "none.mjs")
	if err := os.WriteFile(script, []byte("const built = 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := builtFileGroups(script); err == nil {
		t.Error("a script without a BUILT line: no error")
	}
}
