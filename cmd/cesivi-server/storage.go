package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/filesweep"
)

func init() {
	subcommands["storage"] = subcommand{
		summary: "storage sweep: remove abandoned chunked uploads and the file content nothing names any more",
		run:     storageCmd,
	}
}

const storageUsage = `usage:
  cesivi-server storage sweep [-grace 1h] [-timeout 30m] [-config-dir DIR]
`

// storageCmd is "storage sweep": what every server does each
// Cesivi:Storage:Files:SweepInterval under a farm-wide lease, by hand
// (after a restore, or to reclaim space at once). Exit status: 0 swept,
// 1 failure, 2 usage.
func storageCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "sweep" {
		fmt.Fprint(stderr, storageUsage)
		return 2
	}
	fs := flag.NewFlagSet("storage sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	grace := fs.Duration("grace", filesweep.DefaultGrace,
		"how old content nothing names must be before it is removed: longer than any upload takes to commit")
	timeout := fs.Duration("timeout", 30*time.Minute, "the longest the sweep may take")
	settings, err := loadSettings(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err == nil && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cesivi-server storage sweep: unexpected argument %q\n%s", fs.Arg(0), storageUsage)
		return 2
	}
	if err == nil && *grace < 0 {
		err = errors.New("-grace must not be negative")
	}
	if err == nil {
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server storage sweep: configuration: %v\n", err)
		return 1
	}
	if settings.Storage.Provider == config.ProviderInMemory {
		fmt.Fprintln(stdout, "Cesivi:Storage:Provider is InMemory: its files live in a server's process; nothing to sweep here")
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	b, err := backends.Open(ctx, settings, backends.Options{Role: backends.Admin, NoKeyRing: true})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server storage sweep: %v\n", err)
		return 1
	}
	defer b.Close()
	if b.Storage == nil || b.Files == nil {
		fmt.Fprintln(stderr, "cesivi-server storage sweep: no storage or file store is configured")
		return 1
	}
	res, err := filesweep.Run(ctx, b.Storage, b.Files, filesweep.Options{Grace: *grace,
		UploadTimeout: settings.Storage.Files.UploadTimeout}, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server storage sweep: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "files (%s): %d abandoned uploads ended, %d blobs checked, %d in use, %d orphans removed, %d partial uploads removed\n",
		b.Files.Name(), res.AbandonedUploads, res.Blobs.Checked, res.Blobs.InUse, res.Blobs.Orphans, res.Blobs.Partial)
	return 0
}
