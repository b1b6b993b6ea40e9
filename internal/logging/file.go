package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// rollingFile is the File sink's output: it appends to the file of the
// current period (RollingFilePath) and, each time it opens a new one,
// deletes the oldest files of the same pattern beyond the retained count,
// as Serilog's File sink does (the count includes the current file).
type rollingFile struct {
	mu       sync.Mutex
	path     string
	interval string
	retain   int // 0: keep every file
	now      func() time.Time

	name   string // the file open now
	f      *os.File
	closed bool // after Close, writes fail instead of reopening a file
}

func openRollingFile(path, interval string, retain int, now func() time.Time) (*rollingFile, error) {
	if path == "" {
		return nil, fmt.Errorf("the File sink needs a path")
	}
	if interval == "" {
		interval = "Infinite"
	}
	if _, ok := rollingLayouts[interval]; !ok {
		return nil, fmt.Errorf("rollingInterval %q is not one of Infinite, Year, Month, Day, Hour, Minute", interval)
	}
	r := &rollingFile{path: path, interval: interval, retain: retain, now: now}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.roll(RollingFilePath(path, interval, now())); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rollingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, os.ErrClosed
	}
	if name := RollingFilePath(r.path, r.interval, r.now()); name != r.name || r.f == nil {
		if err := r.roll(name); err != nil {
			return 0, err
		}
	}
	return r.f.Write(p)
}

// roll switches to the file name (mu held) and prunes old files.
func (r *rollingFile) roll(name string) error {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return fmt.Errorf("log directory: %w", err)
	}
	// Logs may hold user names and paths: readable by the server's group, not the world.
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	r.f, r.name = f, name
	r.prune()
	return nil
}

// prune deletes the oldest files of the pattern beyond the retained count.
// Only names that are the path with a date of this interval's length in
// it are candidates, so nothing else in the directory is touched. Errors
// are ignored: the next roll tries again.
func (r *rollingFile) prune() {
	layout := rollingLayouts[r.interval]
	if r.retain <= 0 || layout == "" {
		return
	}
	ext := filepath.Ext(r.path)
	base := strings.TrimSuffix(r.path, ext)
	dir, prefix := filepath.Dir(base), filepath.Base(base)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var old []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, ext) {
			continue
		}
		date := n[len(prefix) : len(n)-len(ext)]
		if len(date) != len(layout) || strings.Trim(date, "0123456789") != "" {
			continue
		}
		if p := filepath.Join(dir, n); p != r.name {
			old = append(old, p)
		}
	}
	// yyyyMMdd… names sort by date.
	sort.Strings(old)
	for len(old) > r.retain-1 {
		os.Remove(old[0])
		old = old[1:]
	}
}

func (r *rollingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
