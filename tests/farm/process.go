package farm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

// process is one program of the farm: testenv's process handle plus where
// it logs.
type process struct {
	*testenv.Process
	name       string
	logPath    string
	stdoutPath string // set when stdout goes to a file of its own
}

// firstLine waits for the first complete line the process prints on stdout.
func (p *process) firstLine(ctx context.Context, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(p.stdoutPath)
		if line, _, ok := strings.Cut(string(data), "\n"); ok {
			return strings.TrimSpace(line), nil
		}
		if !p.Alive() {
			return "", fmt.Errorf("%s exited before it was ready:\n%s", p.name, tail(p.logPath, 20))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s printed nothing within %v", p.name, timeout)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop asks the process to end (SIGTERM), killing it after grace.
func (p *process) stop(grace time.Duration) error {
	if p == nil {
		return nil
	}
	return p.Stop(syscall.SIGTERM, grace)
}

// belongsTo reports whether pid is a process of the farm in dir: its
// working directory or its command line lies in dir. It guards Down
// against a PID that was reused by an unrelated process since the farm
// started.
func belongsTo(pid int, dir string) bool {
	dir, _ = filepath.Abs(dir)
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && strings.HasPrefix(cwd, dir) {
		return true
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), dir)
}
