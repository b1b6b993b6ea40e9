package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/hookdelivery"
)

func init() {
	subcommands["jobs"] = subcommand{
		summary: "list or replay the job queue's dead letters (jobs list [-type webhook.notify], jobs replay -key <key> | -all)",
		run:     jobsCmd,
	}
}

const jobsUsage = `usage:
  cesivi-server jobs list   [-type webhook.notify] [-config-dir DIR]
  cesivi-server jobs replay [-type webhook.notify] -key <key> | -all [-config-dir DIR]
`

// jobsCmd lists a job type's dead letters or queues them again. A
// replayed job gets a new key ("replay:<key>:<time>"), so the queue's
// deduplication of the old key does not keep it out; its handler is
// idempotent (a notification already delivered is not sent again).
// Exit status: 0 done, 1 failure, 2 usage.
func jobsCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		fmt.Fprint(stderr, jobsUsage)
		return 2
	}
	action := args[0]
	fs := flag.NewFlagSet("jobs "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobType := fs.String("type", hookdelivery.JobType, "the job type")
	key := fs.String("key", "", "the dead job to replay (replay only)")
	all := fs.Bool("all", false, "replay every dead job of the type (replay only)")
	settings, err := loadSettings(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	switch {
	case err != nil:
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "cesivi-server jobs: unexpected argument %q\n%s", fs.Arg(0), jobsUsage)
		return 2
	case action == "list" && (*key != "" || *all):
		fmt.Fprintf(stderr, "cesivi-server jobs list: -key and -all are for replay\n%s", jobsUsage)
		return 2
	case action == "replay" && (*key == "") == !*all:
		fmt.Fprintf(stderr, "cesivi-server jobs replay: give exactly one of -key and -all\n%s", jobsUsage)
		return 2
	default:
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server jobs: configuration: %v\n", err)
		return 1
	}
	if settings.DistributedState.Provider != config.ProviderRedis {
		fmt.Fprintf(stderr, "cesivi-server jobs: Cesivi:DistributedState:Provider is %s: the queue lives in a server's memory and cannot be reached from here; this command needs Redis\n", settings.DistributedState.Provider)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := backends.Open(ctx, settings, backends.Options{Role: backends.Admin, NoKeyRing: true})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server jobs: %v\n", err)
		return 1
	}
	defer b.Close()
	dead, err := b.State.Queue.DeadLetters(ctx, *jobType)
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server jobs: %v\n", err)
		return 1
	}
	if action == "list" {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tATTEMPTS\tDIED\tERROR")
		for _, j := range dead {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", j.Key, j.Attempt, j.At.UTC().Format(time.RFC3339), j.Error)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d dead job(s) of type %s\n", len(dead), *jobType)
		return 0
	}
	n := 0
	for _, j := range dead {
		if !*all && j.Key != *key {
			continue
		}
		if _, err := b.State.Queue.Enqueue(ctx, *jobType, "replay:"+j.Key+":"+strconv.FormatInt(time.Now().UnixNano(), 10), j.Payload); err != nil {
			fmt.Fprintf(stderr, "cesivi-server jobs replay: %v\n", err)
			return 1
		}
		n++
	}
	if n == 0 && !*all {
		fmt.Fprintf(stderr, "cesivi-server jobs replay: no dead job of type %s has key %s\n", *jobType, *key)
		return 1
	}
	fmt.Fprintf(stdout, "replayed %d job(s) of type %s\n", n, *jobType)
	return 0
}
