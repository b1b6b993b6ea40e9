package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	// Dir holds the cluster (Dir/data), the unix socket (Dir/run) and the
	// default log. Empty means a new temporary directory, removed by Stop.
	// An existing cluster in Dir/data is reused, not re-initialised.
	Dir string
	// Port on 127.0.0.1; 0 picks a free port.
	Port int
	// Detached starts the server in a new session so it outlives the
	// caller (a farm launcher). Detached servers keep PostgreSQL's
	// crash-safety defaults unless Fast is set.
	Detached bool
	// LogFile receives the server's output; empty means Dir/postgres.log.
	LogFile string
	// Durable keeps PostgreSQL's crash-safety defaults. Without it (and
	// without Detached), initdb runs with --no-sync and the server with
	// fsync, full_page_writes and synchronous_commit off: a crash of the
	// machine may lose the cluster, which for a test is fine.
	Durable bool
	// Fast forces the fast, non-crash-safe settings on a Detached server.
	// Durable wins if both are set.
	Fast bool
}

// PostgresServer is a postgres process started by StartPostgres. Its
// superuser (User) logs in without a password over 127.0.0.1 and the unix
// socket in SocketDir.
type PostgresServer struct {
	Host      string // 127.0.0.1
	Port      int
	PID       int
	Dir       string
	DataDir   string
	SocketDir string
	LogFile   string
	User      string // superuser, "postgres"
	Database  string // "cesivi", created by StartPostgres

	mu      sync.Mutex
	ownsDir bool
	removed bool
	proc    *Process
}

const (
	pgSuperuser = "postgres"
	pgDatabase  = "cesivi"
)

// StartPostgres initialises a cluster (unless Dir/data has one), starts
// postgres listening only on 127.0.0.1 and a unix socket inside Dir, waits
// until it accepts connections and creates the database "cesivi".
//
// PostgreSQL refuses to run as root. When the caller is root (as on CI),
// initdb and postgres run as the "postgres" system user instead
// (SysProcAttr.Credential), Dir is chowned to that user, and every parent of
// Dir must be traversable by others, which the default under os.TempDir is.
func StartPostgres(ctx context.Context, opt PostgresOptions) (*PostgresServer, error) {
	postgresBin, err := FindBinary("postgres")
	if err != nil {
		return nil, err
	}
	// initdb must come from the same installation as postgres; PATH may
	// hold a symlink (/usr/local/bin/postgres), so look beside its target.
	if resolved, err := filepath.EvalSymlinks(postgresBin); err == nil {
		postgresBin = resolved
	}
	initdbBin := filepath.Join(filepath.Dir(postgresBin), "initdb")
	if _, err := os.Stat(initdbBin); err != nil {
		if initdbBin, err = FindBinary("initdb"); err != nil {
			return nil, err
		}
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}

	p := &PostgresServer{Host: "127.0.0.1", User: pgSuperuser, Database: pgDatabase}
	if opt.Dir == "" {
		if p.Dir, err = os.MkdirTemp("", "cesivi-pg-"); err != nil {
			return nil, err
		}
		p.ownsDir = true
	} else {
		if p.Dir, err = filepath.Abs(opt.Dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(p.Dir, 0o700); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*PostgresServer, error) {
		if p.ownsDir {
			os.RemoveAll(p.Dir)
		}
		return nil, err
	}
	p.DataDir = filepath.Join(p.Dir, "data")
	p.SocketDir = filepath.Join(p.Dir, "run")
	p.LogFile = opt.LogFile
	if p.LogFile == "" {
		p.LogFile = filepath.Join(p.Dir, "postgres.log")
	}
	// The socket path (SocketDir/.s.PGSQL.<port>) must fit in sun_path.
	if len(p.SocketDir)+len("/.s.PGSQL.65535") > 107 {
		return fail(fmt.Errorf("testenv: postgres socket directory %s is too long for a unix socket path; use a shorter Dir", p.SocketDir))
	}
	if err := os.MkdirAll(p.SocketDir, 0o700); err != nil {
		return fail(err)
	}
	if cred != nil {
		if err := checkTraversable(p.Dir); err != nil {
			return fail(err)
		}
		for _, path := range []string{p.Dir, p.SocketDir} {
			if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	durable := opt.Durable || (opt.Detached && !opt.Fast)

	if _, err := os.Stat(filepath.Join(p.DataDir, "PG_VERSION")); err != nil {
		if err := p.initdb(initdbBin, cred, durable); err != nil {
			return fail(err)
		}
	}
	for attempt := 1; ; attempt++ {
		port := opt.Port
		if port == 0 {
			if port, err = FreePort(); err != nil {
				return fail(err)
			}
		}
		err = p.start(ctx, postgresBin, cred, port, durable, opt.Detached)
		if err == nil {
			break
		}
		if opt.Port != 0 || !errors.Is(err, errPortInUse) || attempt == 5 {
			return fail(err)
		}
	}
	if err := p.ensureDatabase(ctx, pgDatabase); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// initdb creates the cluster with trust authentication, then restricts
// pg_hba.conf to the unix socket and 127.0.0.1.
func (p *PostgresServer) initdb(bin string, cred *syscall.Credential, durable bool) error {
	args := []string{
		"-D", p.DataDir,
		"--username=" + pgSuperuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C", // byte-order collation: the same on every machine
		"--no-instructions",
	}
	if !durable {
		args = append(args, "--no-sync")
	}
	cmd := exec.Command(bin, args...)
	// Run from a directory the postgres user can enter: initdb resolves its
	// own path from the working directory, and the caller's may be private
	// to root.
	cmd.Dir = p.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testenv: initdb: %w\n%s", err, tail(out, 3000))
	}
	hba := "# written by testenv: trust, and only over the socket and 127.0.0.1\n" +
		"local all all trust\n" +
		"host  all all 127.0.0.1/32 trust\n"
	return os.WriteFile(filepath.Join(p.DataDir, "pg_hba.conf"), []byte(hba), 0o600)
}

// start runs postgres on port and waits until it accepts a connection.
func (p *PostgresServer) start(ctx context.Context, bin string, cred *syscall.Credential, port int, durable, detached bool) error {
	args := []string{
		"-D", p.DataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + p.SocketDir,
	}
	if !durable {
		args = append(args,
			"-c", "fsync=off",
			"-c", "full_page_writes=off",
			"-c", "synchronous_commit=off",
		)
	}
	logf, err := openLog(p.LogFile)
	if err != nil {
		return err
	}
	defer logf.Close()
	from := logSize(p.LogFile)

	cmd := exec.Command(bin, args...)
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	proc, err := StartProcess(cmd, detached)
	if err != nil {
		return fmt.Errorf("testenv: start postgres: %w", err)
	}
	p.Port = port
	err = waitReady(ctx, "postgres", proc, p.LogFile, from, func(ctx context.Context) error {
		conn, err := p.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		proc.Kill()
		return err
	}
	p.proc, p.PID = proc, proc.PID
	return nil
}

// postgresCredential returns the identity to run PostgreSQL as: nil (the
// caller's) unless the caller is root, which PostgreSQL refuses.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testenv: running as root, PostgreSQL must run as the \"postgres\" system user, which does not exist (apt-get install -y postgresql creates it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	// Groups is empty on purpose: it drops root's supplementary groups.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// checkTraversable reports an error if the postgres user could not reach dir
// because a parent directory denies search permission to others.
func checkTraversable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("testenv: postgres runs as the postgres user and cannot reach %s: parent %s has mode %v (needs o+x); use a Dir under %s", dir, d, fi.Mode().Perm(), os.TempDir())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// URL returns the connection URL of the "cesivi" database.
func (p *PostgresServer) URL() string {
	return p.databaseURL(p.Database)
}

func (p *PostgresServer) databaseURL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(p.User),
		Host:     fmt.Sprintf("%s:%d", p.Host, p.Port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (p *PostgresServer) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.databaseURL(db))
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = 2 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

// CreateDatabase creates database name and returns its URL.
func (p *PostgresServer) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := p.connect(ctx, "postgres")
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("testenv: create database %q: %w", name, err)
	}
	return p.databaseURL(name), nil
}

// DropDatabase drops database name, ending its open connections first.
func (p *PostgresServer) DropDatabase(ctx context.Context, name string) error {
	conn, err := p.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("testenv: drop database %q: %w", name, err)
	}
	return nil
}

// ensureDatabase creates database name unless a reused cluster has it.
func (p *PostgresServer) ensureDatabase(ctx context.Context, name string) error {
	conn, err := p.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// process returns the server's process, also for a PostgresServer filled in
// by hand from a PID.
func (p *PostgresServer) process() *Process {
	if p.proc == nil || p.proc.PID != p.PID {
		p.proc = ProcessByPID(p.PID)
	}
	return p.proc
}

// Stop shuts the server down like pg_ctl stop -m fast (SIGINT to the
// postmaster, which ends its sessions and checkpoints), escalating to
// SIGKILL after 30 s, and removes the directory if StartPostgres created
// it. Stopping twice is harmless.
func (p *PostgresServer) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.process().Stop(syscall.SIGINT, 30*time.Second)
	if p.ownsDir && !p.removed {
		if rmErr := os.RemoveAll(p.Dir); rmErr != nil && err == nil {
			err = rmErr
		}
		p.removed = true
	}
	return err
}
