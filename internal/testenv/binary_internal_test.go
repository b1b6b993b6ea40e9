package testenv

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinaryFallsBackToPostgresLibDir(t *testing.T) {
	if _, err := FindBinary("postgres"); err != nil { // may install it
		t.Fatal(err)
	}
	// With an empty PATH only the /usr/lib/postgresql/<version>/bin search
	// can find it.
	t.Setenv("PATH", t.TempDir())
	p, err := lookBinary("initdb")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := filepath.Match("/usr/lib/postgresql/*/bin/initdb", p); !ok {
		t.Fatalf("initdb found at %s", p)
	}
	if _, err := lookBinary("redis-server"); err == nil {
		t.Fatal("redis-server found without PATH")
	}
}

func TestMissingBinarySaysWhatToInstall(t *testing.T) {
	msg := missingBinary("redis-server", nil).Error()
	if !strings.Contains(msg, "apt-get install -y redis-server postgresql") || !strings.Contains(msg, `"redis-server"`) {
		t.Fatalf("message %q", msg)
	}
	if msg := missingBinary("initdb", nil).Error(); !strings.Contains(msg, `"postgresql"`) {
		t.Fatalf("message %q", msg)
	}
}

func TestPgVersionOrder(t *testing.T) {
	if pgVersion("/usr/lib/postgresql/16/bin") <= pgVersion("/usr/lib/postgresql/9.6/bin") {
		t.Fatal("16 must sort above 9.6")
	}
}
