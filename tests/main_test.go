package tests

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/cesivi/cesivi/tests/farm"
)

// TestMain builds the farm's programs once for the whole run unless make
// already did (CESIVI_BIN), so each farm start only spawns processes.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("CESIVI_BIN") == "" {
		dir, err := os.MkdirTemp("", "cesivi-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := farm.BuildAll(context.Background(), dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv("CESIVI_BIN", dir)
	}
	return m.Run()
}
