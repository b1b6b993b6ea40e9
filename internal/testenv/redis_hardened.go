package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// SeedDisabledCommands are the commands the seed's "Redis Security" section
// renames to "": no client, Cesivi included, can run them.
var SeedDisabledCommands = []string{"FLUSHDB", "FLUSHALL", "CONFIG", "SHUTDOWN"}

// CesiviUser is the ACL user a hardened server creates for Cesivi.
const CesiviUser = "cesivi"

// CesiviACLRules are the rights the hardened server gives CesiviUser, the
// least docs/distributed-state.md recommends: every key and channel, every
// command but the dangerous ones (KEYS, CLIENT, DEBUG, the renamed ones…),
// INFO apart, which reads the settings Cesivi reports in its health data.
var CesiviACLRules = []string{"~*", "&*", "+@all", "-@dangerous", "+info"}

// HardenedRedisOptions returns opt configured exactly as the seed's "Redis
// Security" section: a password (requirepass), FLUSHDB, FLUSHALL, CONFIG and
// SHUTDOWN renamed away, and TLS only (port 0, the tls-port with files'
// server certificate, tls-ca-cert-file, so clients present a certificate),
// plus the ACL user CesiviUser with CesiviACLRules for Cesivi to sign in
// as. Both passwords are random and have the seed's shape (letters, digits,
// a '!'). The default user (Password) plays the operator of the seed's
// runbook (redis-cli -a …).
func HardenedRedisOptions(opt RedisOptions, files *RedisTLSFiles) RedisOptions {
	opt.TLS = files
	opt.Password = "Operator" + randomHex(12) + "!"
	opt.DisabledCommands = SeedDisabledCommands
	opt.Users = []RedisUser{{Name: CesiviUser, Password: "Cesivi" + randomHex(12) + "!", Rules: CesiviACLRules}}
	return opt
}

// StartRedisHardened starts a server with HardenedRedisOptions, writing
// throwaway certificates (valid for validity) into opt.Dir/tls. With
// opt.Dir empty it makes a temporary directory, which Stop removes.
func StartRedisHardened(ctx context.Context, opt RedisOptions, validity time.Duration) (*RedisServer, error) {
	owns := false
	if opt.Dir == "" {
		dir, err := os.MkdirTemp("", "cesivi-redis-")
		if err != nil {
			return nil, err
		}
		opt.Dir, owns = dir, true
	}
	files, err := NewRedisTLSFilesFor(filepath.Join(opt.Dir, "tls"), validity)
	if err == nil {
		var r *RedisServer
		if r, err = StartRedis(ctx, HardenedRedisOptions(opt, files)); err == nil {
			r.ownsDir = owns
			return r, nil
		}
	}
	if owns {
		os.RemoveAll(opt.Dir)
	}
	return nil, err
}

// RedisHardened starts a hardened server (StartRedisHardened) for this test
// alone, stopped at cleanup.
func RedisHardened(t testing.TB, opt RedisOptions) *RedisServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := StartRedisHardened(ctx, opt, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("testenv: stop redis: %v", err)
		}
	})
	return r
}

// ConnectionString is the seed's StackExchange.Redis connection string for
// Cesivi (Cesivi:DistributedState:ConnectionString): the address, the
// first ACL user and its password (or the default user's password), and
// ssl=true on a TLS server. The client certificate is CesiviEnv's.
func (r *RedisServer) ConnectionString() string {
	cs := r.Addr
	switch {
	case len(r.Users) > 0:
		cs += ",user=" + r.Users[0].Name + ",password=" + r.Users[0].Password
	case r.Password != "":
		cs += ",password=" + r.Password
	}
	if r.TLS != nil {
		cs += ",ssl=true"
	}
	return cs
}

// CesiviEnv is the environment a Cesivi process needs to reach the server:
// the connection string (with extra options appended, such as
// "abortConnect=false") and, on a TLS server, the CA and client
// certificate files.
func (r *RedisServer) CesiviEnv(extra ...string) []string {
	cs := r.ConnectionString()
	for _, o := range extra {
		cs += "," + o
	}
	env := []string{"Cesivi__DistributedState__ConnectionString=" + cs}
	if r.TLS != nil {
		env = append(env,
			"Cesivi__DistributedState__TlsCaFile="+r.TLS.CAFile,
			"Cesivi__DistributedState__TlsCertFile="+r.TLS.ClientCertFile,
			"Cesivi__DistributedState__TlsKeyFile="+r.TLS.ClientKeyFile)
	}
	return env
}

// CLIArgs are redis-cli's arguments for reaching the server as its
// operator (the default user), as the seed's runbook does with
// `redis-cli -a YourPassword`.
func (r *RedisServer) CLIArgs() []string {
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(r.Port)}
	if r.TLS != nil {
		args = append(args, "--tls", "--cacert", r.TLS.CAFile, "--cert", r.TLS.ClientCertFile, "--key", r.TLS.ClientKeyFile)
	}
	if r.Password != "" {
		args = append(args, "-a", r.Password, "--no-auth-warning")
	}
	return args
}
