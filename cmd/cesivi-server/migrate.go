package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/keyring/pgstore"
)

func init() {
	subcommands["migrate"] = subcommand{
		summary: "apply the PostgreSQL storage schema (and the key ring's, with DataProtection PostgreSql) and say which versions were applied",
		run:     migrateCmd,
	}
}

const migrateUsage = `usage:
  cesivi-server migrate [-timeout 5m] [-config-dir DIR]
`

// migrateCmd applies the schema the servers would apply at start, for
// deployments that migrate in a step of their own (before a rolling
// upgrade, or with an account the servers do not have). Exit status: 0
// applied or already current (also for InMemory storage, which has no
// schema, so one deployment script fits every configuration), 1 failure,
// 2 usage.
func migrateCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 5*time.Minute, "the longest wait for the database and the migrations")
	settings, err := loadSettings(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err == nil && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cesivi-server migrate: unexpected argument %q\n%s", fs.Arg(0), migrateUsage)
		return 2
	}
	if err == nil {
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server migrate: configuration: %v\n", err)
		return 1
	}
	if settings.Storage.Provider != config.ProviderPostgreSQL {
		fmt.Fprintf(stdout, "Cesivi:Storage:Provider is %s: it keeps no schema in a database; nothing to migrate\n", settings.Storage.Provider)
		return 0
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	b, err := backends.Open(ctx, settings, backends.Options{Role: backends.Admin, NoKeyRing: true})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server migrate: %v\n", err)
		return 1
	}
	defer b.Close()

	r, err := pgstorage.ApplyMigrations(ctx, b.Postgres)
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server migrate: storage schema: %s\n", migrateProblem(err))
		return 1
	}
	if len(r.Applied) == 0 {
		fmt.Fprintf(stdout, "storage schema: already at version %d (current)\n", r.Version)
	} else {
		fmt.Fprintf(stdout, "storage schema: applied %s; now at version %d\n", versions(r.Applied), r.Version)
	}
	if settings.DataProtection.Provider == config.KeyRingPostgreSql {
		// The key ring's tables are created idempotently by its store.
		if _, err := pgstore.New(ctx, b.Postgres); err != nil {
			fmt.Fprintf(stderr, "cesivi-server migrate: key ring schema: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "key ring schema: current")
	}
	return 0
}

// migrateProblem leads with what the operator should look at.
func migrateProblem(err error) string {
	if errors.Is(err, storage.ErrUnavailable) {
		return "the database does not answer (check Cesivi:Storage:ConnectionString and that PostgreSQL is up): " + err.Error()
	}
	return err.Error()
}

func versions(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	word := "version "
	if len(vs) > 1 {
		word = "versions "
	}
	return word + strings.Join(s, ", ")
}
