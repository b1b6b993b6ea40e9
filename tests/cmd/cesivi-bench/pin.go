package main

// The bench's -pin flag: the edge under load gets a CPU of its own.
//
// On a small machine every process of the run shares the same cores, and
// the edge's throughput then measures the scheduler as much as the edge:
// how much CPU the load generator, the app servers and Redis leave it, and
// how its wake-ups batch, differ from one 2-second round to the next by
// ±20 %. With the edges on one CPU and everything else on the others, the
// edge under load is the only busy process on its CPU and the bottleneck
// of the run (the report states how busy it was), as an edge on its own
// machine is in a farm, so its throughput is what its own code costs.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// cpuPlan says where the run's processes go.
type cpuPlan struct {
	// edge is the CPU the edges run on, rest the others (this program,
	// Redis, the app servers); original is this program's set before.
	edge, rest, original unix.CPUSet
	edgeList, restList   string
}

// planCPUs gives the edges the last CPU this program may use and the
// rest the others. It fails with fewer than two CPUs or without taskset
// (which starts the edges and servers on their CPUs, every thread
// included).
func planCPUs() (*cpuPlan, error) {
	var p cpuPlan
	if err := unix.SchedGetaffinity(0, &p.original); err != nil {
		return nil, fmt.Errorf("reading the CPUs this program may use: %w", err)
	}
	var cpus []int
	for i := range 1024 {
		if p.original.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		return nil, fmt.Errorf("-pin needs two CPUs, this program may use %d", len(cpus))
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil, fmt.Errorf("-pin needs taskset (util-linux): %w", err)
	}
	last := cpus[len(cpus)-1]
	p.edge.Set(last)
	p.edgeList = strconv.Itoa(last)
	for i, c := range cpus[:len(cpus)-1] {
		p.rest.Set(c)
		if i > 0 {
			p.restList += ","
		}
		p.restList += strconv.Itoa(c)
	}
	return &p, nil
}

// command is bin args run on the CPUs of list (nil plan: anywhere).
func (p *cpuPlan) command(list, bin string, args ...string) *exec.Cmd {
	if p == nil {
		return exec.Command(bin, args...)
	}
	return exec.Command("taskset", append([]string{"-c", list, bin}, args...)...)
}

// pinProcess moves every thread of a running process to set; threads it
// starts later inherit the set from the thread that starts them.
func pinProcess(pid int, set *unix.CPUSet) error {
	// Twice: a thread started while the first pass ran may have copied
	// the old set.
	for range 2 {
		tasks, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pinning thread %d of %d: %w", tid, pid, err)
			}
		}
	}
	return nil
}
