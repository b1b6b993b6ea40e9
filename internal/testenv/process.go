package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a server process addressed by the PID recorded at start. The
// farm launcher (tests/farm) uses it for every process it starts.
type Process struct {
	// PID is the process id recorded at start.
	PID int
	// done is closed when our own Wait on the child returns. It is nil for
	// a process that is not our child (a detached server started by an
	// earlier run of a command), which is then watched by polling.
	done chan struct{}
}

// StartProcess starts cmd and reaps it in the background. Reaping matters:
// a dead but unreaped child is a zombie, which kill(pid, 0) still reports as
// alive.
func StartProcess(cmd *exec.Cmd, detached bool) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if detached {
		// A new session: no terminal signals from the launcher's shell, and
		// the server outlives the launcher.
		cmd.SysProcAttr.Setsid = true
	} else {
		// Test servers must not outlive a test binary that dies without
		// cleaning up (a panic, or go test's timeout). The kernel ties this
		// to the starting OS thread, which Go only ends when a goroutine
		// exits while locked to it; nothing here locks threads.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{PID: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// ProcessByPID returns a handle on a process this program did not start
// (a detached server of an earlier run); it is watched by polling.
func ProcessByPID(pid int) *Process { return &Process{PID: pid} }

// Alive reports whether the process still runs.
func (p *Process) Alive() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	return PIDAlive(p.PID)
}

// PIDAlive reports whether pid names a running, non-zombie process.
func PIDAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie waits for a parent that is not us to reap it; it no longer
	// runs.
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// Wait waits up to timeout for the process to exit and reports whether it did.
func (p *Process) Wait(timeout time.Duration) bool {
	if p.done != nil {
		select {
		case <-p.done:
			return true
		case <-time.After(timeout):
			return false
		}
	}
	deadline := time.Now().Add(timeout)
	for PIDAlive(p.PID) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Stop sends sig, waits up to grace, then sends SIGKILL.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	if !p.Alive() {
		return nil
	}
	if err := syscall.Kill(p.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %d: %w", p.PID, err)
	}
	if p.Wait(grace) {
		return nil
	}
	return p.Kill()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() error {
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %d: %w", p.PID, err)
	}
	if !p.Wait(10 * time.Second) {
		return fmt.Errorf("process %d survived SIGKILL", p.PID)
	}
	return nil
}

// openLog opens (appending) the file a server's stdout and stderr go to. It
// is handed to the child as a file descriptor, so no goroutine of ours copies
// output and a detached server keeps logging after we exit.
func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// errPortInUse marks a start-up that failed because another process took the
// port between FreePort and the server's bind; the caller retries.
var errPortInUse = errors.New("port already in use")

// defaultStartTimeout bounds start-up when the caller's context has no
// deadline.
const defaultStartTimeout = 60 * time.Second

// waitReady polls probe until it succeeds, the process exits or ctx ends.
// logFrom is the log file's size before the start, so only this start's
// output is quoted (and searched for a port clash).
func waitReady(ctx context.Context, name string, p *Process, logFile string, logFrom int64, probe func(context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	for {
		if !p.Alive() {
			out := logSince(logFile, logFrom)
			if strings.Contains(out, "Address already in use") {
				return fmt.Errorf("%s: %w", name, errPortInUse)
			}
			return fmt.Errorf("testenv: %s exited during start-up; its log (%s):\n%s", name, logFile, out)
		}
		err := probe(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s not ready: %v (last probe: %v); its log (%s):\n%s", name, ctx.Err(), err, logFile, logSince(logFile, logFrom))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// logSize returns the current size of a log file (0 if absent).
func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince returns what was written to a log file after offset, at most its
// last few kilobytes.
func logSince(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const n = 3000
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > n {
		offset = fi.Size() - n
	}
	f.Seek(offset, io.SeekStart)
	b, _ := io.ReadAll(f)
	return string(b)
}
