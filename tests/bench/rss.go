package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory reads a process's resident set from /proc/<pid>/status: VmRSS
// now and VmHWM, the peak since the process started.
type Memory struct {
	RSS, HWM int64 // bytes
}

// ReadMemory reads pid's resident set.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("/proc/%d/status: %s: %w", pid, key, err)
		}
		if key == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.HWM = kb << 10
		}
	}
	if m.RSS == 0 {
		return Memory{}, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
	}
	return m, nil
}

// RSSSampler follows the resident set of processes while a load runs:
// their RSS when it starts, and the highest seen until Stop, sampled
// every interval and checked against VmHWM at the end, so that a peak
// between two samples is not missed.
type RSSSampler struct {
	pids     []int
	before   []int64
	hwm      []int64 // VmHWM when the load started
	peak     []int64
	stop     chan struct{}
	finished sync.WaitGroup
}

// SampleRSS starts sampling pids.
func SampleRSS(pids []int, interval time.Duration) (*RSSSampler, error) {
	n := len(pids)
	s := &RSSSampler{pids: pids, before: make([]int64, n), hwm: make([]int64, n), peak: make([]int64, n), stop: make(chan struct{})}
	for i, pid := range pids {
		m, err := ReadMemory(pid)
		if err != nil {
			return nil, err
		}
		s.before[i], s.hwm[i], s.peak[i] = m.RSS, m.HWM, m.RSS
	}
	s.finished.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			for i, pid := range s.pids {
				if m, err := ReadMemory(pid); err == nil {
					s.peak[i] = max(s.peak[i], m.RSS)
				}
			}
		}
	})
	return s, nil
}

// ProcessRSS is what a sampler saw of one process.
type ProcessRSS struct {
	Before, Peak int64 // bytes
}

// Growth is the peak above the RSS the load started with.
func (p ProcessRSS) Growth() int64 { return p.Peak - p.Before }

// Stop ends the sampling and returns each process's figures, in the
// order of the pids given. A VmHWM that rose during the load is the
// load's true peak, even one between two samples; one that did not is
// an older peak and says nothing of the load.
func (s *RSSSampler) Stop() []ProcessRSS {
	close(s.stop)
	s.finished.Wait()
	out := make([]ProcessRSS, len(s.pids))
	for i, pid := range s.pids {
		peak := s.peak[i]
		if m, err := ReadMemory(pid); err == nil && m.HWM > s.hwm[i] {
			peak = max(peak, m.HWM)
		}
		out[i] = ProcessRSS{Before: s.before[i], Peak: peak}
	}
	return out
}
