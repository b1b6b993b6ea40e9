package testenv_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// assertGone fails unless pid names no process at all (not even a zombie).
func assertGone(t *testing.T, pid int) {
	t.Helper()
	// A process that exited but whose parent has not reaped it yet (a
	// detached server is reparented to PID 1, which in a container may reap
	// late or never) is a zombie: it no longer runs, which is what counts.
	deadline := time.Now().Add(2 * time.Second)
	for testenv.PIDAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if testenv.PIDAlive(pid) {
		err := syscall.Kill(pid, 0)
		t.Errorf("process %d still runs after Stop (kill(pid, 0) = %v)", pid, err)
	}
	if kids := children(pid); len(kids) > 0 {
		t.Errorf("process %d left children %v", pid, kids)
	}
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// The fields after the parenthesised command: state, ppid, ...
		i := strings.LastIndexByte(string(b), ')')
		f := strings.Fields(string(b)[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, child)
		}
	}
	return out
}

func assertNoDir(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s still exists after Stop (stat: %v)", dir, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
