package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/state"
)

func init() {
	subcommands["sessions"] = subcommand{
		summary: "list or revoke sessions in the distributed state store (sessions list --user <id>, sessions revoke --user <id> | --session <id>)",
		run:     sessionsCmd,
	}
}

const sessionsUsage = `usage:
  cesivi-server sessions list --user <id> [--config-dir dir]
  cesivi-server sessions revoke --user <id> | --session <id> [--config-dir dir]
`

func sessionsCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") {
		fmt.Fprint(stderr, sessionsUsage)
		return 2
	}
	action := args[0]
	fs := flag.NewFlagSet("sessions "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user id")
	session := fs.String("session", "", "session id (revoke only)")
	settings, err := loadSettings(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err == nil {
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server: configuration: %v\n", err)
		return 1
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "cesivi-server sessions: unexpected argument %q\n%s", fs.Arg(0), sessionsUsage)
		return 2
	case action == "list" && (*user == "" || *session != ""):
		fmt.Fprint(stderr, "cesivi-server sessions list: --user is required (and --session is not accepted)\n", sessionsUsage)
		return 2
	case action == "revoke" && (*user == "") == (*session == ""):
		fmt.Fprint(stderr, "cesivi-server sessions revoke: give exactly one of --user and --session\n", sessionsUsage)
		return 2
	}
	if settings.DistributedState.Provider != config.ProviderRedis {
		fmt.Fprintf(stderr, "cesivi-server sessions: Cesivi:DistributedState:Provider is %s: sessions live in each server's memory and cannot be reached from here; this command needs Redis\n", settings.DistributedState.Provider)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := backends.Open(ctx, settings, backends.Options{Role: backends.Admin, NoKeyRing: true})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server sessions: %v\n", err)
		return 1
	}
	defer b.Close()
	p := b.State

	switch {
	case action == "list":
		list, err := p.Sessions.ListUser(ctx, *user)
		if err != nil {
			fmt.Fprintf(stderr, "cesivi-server sessions: %v\n", err)
			return 1
		}
		printSessions(stdout, list)
	case *user != "":
		n, err := p.Sessions.RevokeUser(ctx, *user)
		if err != nil {
			fmt.Fprintf(stderr, "cesivi-server sessions: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "revoked %d session(s) of user %s\n", n, *user)
	default:
		// Delete of a missing session is not an error for the store (it is
		// idempotent), but an operator who mistyped an id must hear it.
		if _, err := p.Sessions.Load(ctx, *session); errors.Is(err, state.ErrNotFound) {
			fmt.Fprintf(stderr, "cesivi-server sessions: no session %s (it has ended, or the id is wrong)\n", *session)
			return 1
		}
		if err := p.Sessions.Delete(ctx, *session); err != nil {
			fmt.Fprintf(stderr, "cesivi-server sessions: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "revoked session %s\n", *session)
	}
	return 0
}

// printSessions writes one row per session. Tokens and data are never
// printed.
func printSessions(w io.Writer, list []*state.Session) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tUSER\tSID\tCREATED\tLAST SEEN\tEXPIRES")
	for _, s := range list {
		sid := s.SID
		if sid == "" {
			sid = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.UserID, sid,
			s.Created.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339), s.Expires.UTC().Format(time.RFC3339))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d session(s)\n", len(list))
}
