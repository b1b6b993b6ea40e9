package testenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RedisOptions configures StartRedis.
type RedisOptions struct {
	// Dir holds the configuration, the append-only files and the default
	// log. Empty means a new temporary directory, removed by Stop.
	Dir string
	// Port on 127.0.0.1; 0 picks a free port.
	Port int
	// AppendOnly turns on the append-only file, so data survives Kill and
	// Restart. Without it the server keeps nothing on disk (no RDB
	// snapshots either).
	AppendOnly bool
	// Password, if set, is required from clients (requirepass).
	Password string
	// Detached starts the server in a new session so it outlives the
	// caller (a farm launcher). Non-detached servers are killed by the
	// kernel when the starting process dies.
	Detached bool
	// LogFile receives the server's output; empty means Dir/redis.log.
	LogFile string
	// ExtraConfig lines are appended to redis.conf (cluster-enabled yes,
	// sentinel monitor ...).
	ExtraConfig []string
	// Sentinel runs the process as a Redis Sentinel (redis-server
	// --sentinel); ExtraConfig then holds its sentinel directives.
	Sentinel bool
	// TLS, when set, makes the server speak only TLS: "port 0" and
	// "tls-port Port" with TLS's server certificate, and clients must
	// present a certificate signed by its CA (tls-auth-clients yes, Redis'
	// default). Start-up waits for a PING over TLS.
	TLS *RedisTLSFiles
	// DisabledCommands are renamed to "" (rename-command CONFIG ""), so
	// no client can run them.
	DisabledCommands []string
	// Users are ACL users created beside the default one (whose password
	// is Password).
	Users []RedisUser
}

// RedisUser is an ACL user of the server: "user Name on >Password Rules...".
type RedisUser struct {
	Name     string
	Password string
	// Rules are ACL rules: key patterns (~*), channels (&*), commands
	// (+@all -@dangerous +info).
	Rules []string
}

// RedisServer is a redis-server process started by StartRedis. A command that
// stops a detached server started by an earlier run can fill in Addr, Port
// and PID itself and call Stop.
type RedisServer struct {
	Addr     string // 127.0.0.1:port (the TLS port when TLS is set)
	Port     int
	PID      int
	Dir      string
	Password string // the default user's (requirepass)
	LogFile  string
	// TLS holds the certificates of a TLS-only server (RedisOptions.TLS).
	TLS *RedisTLSFiles
	// Users are the ACL users beside the default one.
	Users []RedisUser

	mu      sync.Mutex
	opt     RedisOptions
	bin     string
	ownsDir bool
	removed bool
	proc    *Process
}

// StartRedis starts a redis-server bound to 127.0.0.1 and returns once it
// answers PING.
func StartRedis(ctx context.Context, opt RedisOptions) (*RedisServer, error) {
	bin, err := FindBinary("redis-server")
	if err != nil {
		return nil, err
	}
	if opt.TLS != nil && opt.Sentinel {
		return nil, errors.New("testenv: a Sentinel over TLS is not supported")
	}
	r := &RedisServer{opt: opt, bin: bin, Password: opt.Password, TLS: opt.TLS, Users: opt.Users}
	if opt.Dir == "" {
		if r.Dir, err = os.MkdirTemp("", "cesivi-redis-"); err != nil {
			return nil, err
		}
		r.ownsDir = true
	} else {
		if r.Dir, err = filepath.Abs(opt.Dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(r.Dir, 0o700); err != nil {
			return nil, err
		}
	}
	r.LogFile = opt.LogFile
	if r.LogFile == "" {
		r.LogFile = filepath.Join(r.Dir, "redis.log")
	}
	for attempt := 1; ; attempt++ {
		port := opt.Port
		if port == 0 {
			if port, err = FreePort(); err != nil {
				break
			}
		}
		err = r.start(ctx, port)
		if err == nil {
			return r, nil
		}
		if opt.Port != 0 || !errors.Is(err, errPortInUse) || attempt == 5 {
			break
		}
	}
	if r.ownsDir {
		os.RemoveAll(r.Dir)
	}
	return nil, err
}

// start runs redis-server on port with r's directory and waits for PING.
func (r *RedisServer) start(ctx context.Context, port int) error {
	conf := []string{
		"bind 127.0.0.1",
		"dir " + quoteConf(r.Dir),
		"daemonize no",
		`logfile ""`, // stdout, which is the log file
		`save ""`,    // no RDB snapshots: persistence is AppendOnly's job
		"appendonly " + yesNo(r.opt.AppendOnly),
	}
	var tlsCfg *tls.Config
	if f := r.opt.TLS; f != nil {
		var err error
		if tlsCfg, err = f.ClientConfig(); err != nil {
			return err
		}
		conf = append(conf,
			"port 0",
			"tls-port "+strconv.Itoa(port),
			"tls-cert-file "+quoteConf(f.ServerCertFile),
			"tls-key-file "+quoteConf(f.ServerKeyFile),
			"tls-ca-cert-file "+quoteConf(f.CAFile),
		)
	} else {
		conf = append(conf, "port "+strconv.Itoa(port))
	}
	if r.opt.Password != "" {
		conf = append(conf, "requirepass "+quoteConf(r.opt.Password))
	}
	for _, c := range r.opt.DisabledCommands {
		conf = append(conf, "rename-command "+c+` ""`)
	}
	for _, u := range r.opt.Users {
		conf = append(conf, strings.Join(append([]string{"user", u.Name, "on", quoteConf(">" + u.Password)}, u.Rules...), " "))
	}
	conf = append(conf, r.opt.ExtraConfig...)
	confPath := filepath.Join(r.Dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	logf, err := openLog(r.LogFile)
	if err != nil {
		return err
	}
	defer logf.Close()
	from := logSize(r.LogFile)

	cmd := exec.Command(r.bin, confPath)
	if r.opt.Sentinel {
		cmd.Args = append(cmd.Args, "--sentinel")
	}
	cmd.Dir = r.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := StartProcess(cmd, r.opt.Detached)
	if err != nil {
		return fmt.Errorf("testenv: start redis-server: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err = waitReady(ctx, "redis-server", p, r.LogFile, from, func(ctx context.Context) error {
		return redisDo(ctx, addr, tlsCfg, r.opt.Password, []string{"PING"})
	})
	if err != nil {
		p.Kill()
		return err
	}
	r.proc, r.PID, r.Port, r.Addr = p, p.PID, port, addr
	return nil
}

// process returns the server's process, also for a RedisServer filled in by
// hand from a PID.
func (r *RedisServer) process() *Process {
	if r.proc == nil || r.proc.PID != r.PID {
		r.proc = ProcessByPID(r.PID)
	}
	return r.proc
}

// Stop shuts the server down with SIGTERM (Redis then flushes its
// append-only file), escalating to SIGKILL after 10 s, and removes the
// directory if StartRedis created it. Stopping twice is harmless. It sends
// no command, so it works on a server whose SHUTDOWN is renamed away.
func (r *RedisServer) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.process().Stop(syscall.SIGTERM, 10*time.Second)
	if r.ownsDir && !r.removed {
		if rmErr := os.RemoveAll(r.Dir); rmErr != nil && err == nil {
			err = rmErr
		}
		r.removed = true
	}
	return err
}

// Kill ends the server with SIGKILL, as a crash would, and keeps its
// directory so Restart can recover from it.
func (r *RedisServer) Kill() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.process().Kill()
}

// Restart stops the server if it still runs and starts it again on the same
// port with the same directory, so an append-only file survives.
func (r *RedisServer) Restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removed {
		return errors.New("testenv: Restart after Stop: the server's directory is gone")
	}
	if err := r.process().Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		return err
	}
	if r.bin == "" {
		bin, err := FindBinary("redis-server")
		if err != nil {
			return err
		}
		r.bin = bin
	}
	return r.start(ctx, r.Port)
}

// ClientTLSConfig is the TLS configuration a client of a TLS-only server
// needs (the CA and the client certificate); nil for a plain server.
func (r *RedisServer) ClientTLSConfig() (*tls.Config, error) {
	if r.TLS == nil {
		return nil, nil
	}
	return r.TLS.ClientConfig()
}

// redisDo sends commands that answer with simple replies (+OK, +PONG) over a
// fresh connection, over TLS when tlsCfg is set. The package speaks this
// much RESP itself so that it needs no Redis client library.
func redisDo(ctx context.Context, addr string, tlsCfg *tls.Config, password string, cmds ...[]string) error {
	deadline := time.Now().Add(5 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var c net.Conn
	var err error
	if tlsCfg != nil {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: tlsCfg}
		c, err = d.DialContext(ctx, "tcp", addr)
	} else {
		d := net.Dialer{Timeout: time.Second}
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if password != "" {
		cmds = append([][]string{{"AUTH", password}}, cmds...)
	}
	var buf bytes.Buffer
	for _, cmd := range cmds {
		fmt.Fprintf(&buf, "*%d\r\n", len(cmd))
		for _, a := range cmd {
			fmt.Fprintf(&buf, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := c.Write(buf.Bytes()); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	for _, cmd := range cmds {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		if !strings.HasPrefix(line, "+") {
			// -LOADING while an append-only file is replayed, -ERR ...
			return fmt.Errorf("redis %s: %s", cmd[0], line)
		}
	}
	return nil
}

// quoteConf quotes a value for redis.conf, which splits on spaces.
func quoteConf(s string) string {
	return strconv.Quote(s)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
