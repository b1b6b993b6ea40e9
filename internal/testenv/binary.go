package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
// Another process can take it before the caller binds it, so the Start
// functions retry with a new port when the server reports it in use.
func FreePort() (int, error) {
	handedOut.mu.Lock()
	defer handedOut.mu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// The kernel never hands these out as ephemeral ports, but the
		// machine's long-lived services must stay out of reach whatever
		// the port range is configured to.
		// A port handed out before may not be bound yet by whoever got it
		// (a farm picks every port first, then starts its processes), and
		// the kernel readily returns a just-closed port again: never hand
		// out the same port twice in one process.
		if port != 6379 && port != 5432 && !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
