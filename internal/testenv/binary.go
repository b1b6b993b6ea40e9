package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// aptPackages are the Debian packages that provide every binary FindBinary
// is asked for.
var aptPackages = []string{"redis-server", "postgresql"}

// installOnce guards the apt-get run within this process; a lock file guards
// it across the test binaries that `go test ./...` runs in parallel.
var installOnce struct {
	sync.Mutex
	done bool
	err  error
}

// FindBinary returns the path of the named server binary (redis-server,
// postgres, initdb, ...). It looks in PATH, then in the newest
// /usr/lib/postgresql/<version>/bin, where Debian keeps the PostgreSQL server
// binaries. If the binary is missing and the process runs as root on a
// machine with apt-get, it installs redis-server and postgresql once and looks
// again; otherwise the error says what to install.
func FindBinary(name string) (string, error) {
	if p, err := lookBinary(name); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", missingBinary(name, nil)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", missingBinary(name, nil)
	}
	if err := aptInstall(); err != nil {
		return "", missingBinary(name, err)
	}
	if p, err := lookBinary(name); err == nil {
		return p, nil
	}
	return "", missingBinary(name, errors.New("still missing after apt-get install"))
}

func lookBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Highest major version first; the directory names are plain numbers
	// ("15", "16"), so compare them as numbers, not strings.
	sort.Slice(dirs, func(i, j int) bool {
		return pgVersion(dirs[i]) > pgVersion(dirs[j])
	})
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func missingBinary(name string, cause error) error {
	pkg := "postgresql"
	if strings.HasPrefix(name, "redis") {
		pkg = "redis-server"
	}
	msg := fmt.Sprintf("testenv: %s not found in PATH or /usr/lib/postgresql/*/bin; install it as root with: DEBIAN_FRONTEND=noninteractive apt-get install -y %s (Debian/Ubuntu package %q)", name, strings.Join(aptPackages, " "), pkg)
	if cause != nil {
		return fmt.Errorf("%s: %w", msg, cause)
	}
	return errors.New(msg)
}

// aptInstall runs apt-get install for aptPackages at most once per process.
// Note that on Debian installing these packages also starts the distribution's
// own redis and postgresql services; this package never uses them.
func aptInstall() error {
	installOnce.Lock()
	defer installOnce.Unlock()
	if installOnce.done {
		return installOnce.err
	}
	installOnce.done = true
	installOnce.err = aptInstallLocked()
	return installOnce.err
}

func aptInstallLocked() error {
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "cesivi-testenv-apt.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	run := func(args ...string) error {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, tail(out, 2000))
		}
		return nil
	}
	install := append([]string{"install", "-y", "--no-install-recommends"}, aptPackages...)
	if err := run(install...); err == nil {
		return nil
	}
	// A fresh machine may have no package lists yet.
	if err := run("update"); err != nil {
		return err
	}
	return run(install...)
}

var handedOut = struct {
	mu    sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort returns a TCP port that was free a moment ago, on every
// interface. Another process can take it before the caller binds it, so
// the Start functions retry with a new port when the server reports it
// in use.
//
// It is picked below the kernel's ephemeral range: a port in that range,
// found free by listening on :0 and closing, is soon handed out again as
// the source port of some outgoing connection (to Redis, PostgreSQL, an
// upstream), and the process given the port then fails to bind it
// ("address already in use"), which a busy machine makes frequent. Below
// the range only explicit binds compete, and those the check sees.
func FreePort() (int, error) {
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	lo, hi := belowEphemeral()
	// Test binaries of several packages run at once, each with its own
	// handedOut: each picks from its own slice of the range (by process
	// id), so two of them rarely race for one port between the check
	// and the bind; the whole range is the fallback.
	slice := (hi - lo) / portSlices
	sliceLo := lo + os.Getpid()%portSlices*slice
	for i := range 2000 {
		port := sliceLo + portRand.IntN(slice)
		if i >= 1000 {
			port = lo + portRand.IntN(hi-lo)
		}
		if handedOut.ports[port] || reservedPorts[port] {
			continue
		}
		// A port handed out before may not be bound yet by whoever got
		// it (a farm picks every port first, then starts its
		// processes): never hand out the same port twice in a process.
		if l, err := net.Listen("tcp", fmt.Sprintf(":%d", port)); err == nil {
			l.Close()
			handedOut.ports[port] = true
			return port, nil
		}
	}
	return 0, errors.New("testenv: no free port found below the ephemeral port range")
}

// reservedPorts are the standard ports of services a development machine
// may run (or start later), and those make farm and make run use: never
// handed out even when free at the moment.
var reservedPorts = map[int]bool{
	1883: true, 3306: true, 4222: true, 4369: true, 5000: true, 5001: true, 5002: true, 5003: true,
	5432: true, 5672: true, 6379: true, 6380: true, 8080: true, 8081: true, 8443: true, 9998: true,
	15672: true, 25672: true, 27017: true,
}

const portSlices = 8

var portRand = rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))

// belowEphemeral is the range FreePort picks from: from 20000 up to the
// start of net.ipv4.ip_local_port_range (32768 unless configured).
func belowEphemeral() (lo, hi int) {
	lo, hi = 20000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				hi = n
			}
		}
	}
	if hi-lo < 2000 {
		// A range configured to start low: take ports just below it,
		// or above 10000 when that leaves too few.
		lo = max(10000, hi-10000)
		if hi-lo < 2000 {
			lo, hi = 10000, 20000
		}
	}
	return lo, hi
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
