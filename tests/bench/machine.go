package bench

import (
	"bufio"
	"debug/buildinfo"
	"os"
	"runtime"
	"strings"
)

// Machine is what the report says of the computer it was measured on.
type Machine struct {
	CPU    string // model name
	Cores  int    // logical CPUs
	Kernel string
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute load when the run
	// began: above the cores, other work shared the machine.
	LoadAvg string
}

// ReadMachine reads the CPU model from /proc/cpuinfo and the kernel
// release from /proc/sys/kernel/osrelease ("unknown" when unreadable).
func ReadMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if model := CPUModel(string(b)); model != "" {
			m.CPU = model
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = LoadAverage(string(b))
	}
	return m
}

// LoadAverage returns the three load figures of /proc/loadavg's text
// ("" if it has fewer fields).
func LoadAverage(loadavg string) string {
	f := strings.Fields(loadavg)
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// CPUModel returns the first "model name" of /proc/cpuinfo's text.
func CPUModel(cpuinfo string) string {
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Version is one line of the report's versions.
type Version struct{ Name, Value string }

// BinaryVersions reads the Go version and the versions of the modules
// named in deps from a Go binary's build information.
func BinaryVersions(path string, deps ...string) ([]Version, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := []Version{{"Go (" + baseName(path) + ")", info.GoVersion}}
	for _, want := range deps {
		for _, d := range info.Deps {
			if d.Path == want {
				v := d.Version
				if d.Replace != nil {
					v = d.Replace.Version
				}
				out = append(out, Version{want, v})
			}
		}
	}
	return out, nil
}

func baseName(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}

// CommitLabel is how a report names the code it measured: the commit, and
// a warning when the work tree differed from it (gitStatus is `git status
// --porcelain` of the tracked files), since then the figures belong to no
// commit anyone can check out. The reports the benchmark itself rewrites
// (docs/benchmarks*) do not count.
func CommitLabel(commit, gitStatus string) string {
	for line := range strings.SplitSeq(gitStatus, "\n") {
		if len(line) < 4 {
			continue
		}
		if path := strings.TrimSpace(line[3:]); !strings.HasPrefix(path, "docs/benchmarks") {
			return commit + " with uncommitted changes"
		}
	}
	return commit
}
