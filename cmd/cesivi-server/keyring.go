package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/keyring"
)

func init() {
	subcommands["keyring"] = subcommand{
		summary: "key ring administration: list | rotate | revoke <id> [--reason TEXT] | revoke --before RFC3339 [--reason TEXT]",
		run:     keyringCmd,
	}
}

const keyringUsage = `usage:
  cesivi-server keyring list   [-config-dir DIR]
  cesivi-server keyring rotate [-config-dir DIR]
  cesivi-server keyring revoke <key id> [--reason TEXT] [-config-dir DIR]
  cesivi-server keyring revoke --before <RFC3339 time> [--reason TEXT] [-config-dir DIR]
`

// keyringCmd administers the key ring of the configured backend
// (Cesivi:DataProtection). Exit status: 0 done, 1 failure, 2 usage.
func keyringCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, keyringUsage)
		return 2
	}
	action, args := args[0], args[1:]
	fs := flag.NewFlagSet("keyring "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var reason, before string
	var id string
	switch action {
	case "list", "rotate":
	case "revoke":
		fs.StringVar(&reason, "reason", "", "why the key is revoked (recorded with the revocation)")
		fs.StringVar(&before, "before", "", "revoke every key created before this time (RFC 3339)")
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			id, args = args[0], args[1:]
		}
	default:
		fmt.Fprintf(stderr, "cesivi-server keyring: unknown action %q\n%s", action, keyringUsage)
		return 2
	}
	settings, err := loadSettings(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err == nil {
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server keyring: configuration: %v\n", err)
		return 1
	}
	if action == "revoke" {
		if id == "" && fs.NArg() > 0 {
			id = fs.Arg(0)
		}
		if fs.NArg() > 1 || (id != "") == (before != "") {
			fmt.Fprintf(stderr, "cesivi-server keyring revoke: name one key id or --before TIME\n%s", keyringUsage)
			return 2
		}
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cesivi-server keyring %s: unexpected argument %q\n", action, fs.Arg(0))
		return 2
	}
	var beforeTime time.Time
	var keyID keyring.KeyID
	if before != "" {
		if beforeTime, err = time.Parse(time.RFC3339, before); err != nil {
			fmt.Fprintf(stderr, "cesivi-server keyring revoke: --before %q is not an RFC 3339 time (e.g. 2026-11-23T22:00:00Z)\n", before)
			return 2
		}
		if beforeTime.After(time.Now()) {
			fmt.Fprintf(stderr, "cesivi-server keyring revoke: --before %s is in the future; keys created until then would be born revoked\n", before)
			return 2
		}
	}
	if id != "" {
		if keyID, err = keyring.ParseKeyID(id); err != nil {
			fmt.Fprintf(stderr, "cesivi-server keyring revoke: %v\n", err)
			return 2
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs, err := logging.New(stderr, settings.Logging.Format, map[string]string{"Default": "Warning"})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server keyring: %v\n", err)
		return 1
	}
	b, err := backends.Open(ctx, settings, backends.Options{
		Role: backends.Admin, Logs: logs,
		// The command never creates keys by policy (servers do, coordinated);
		// rotate inserts its own.
		KeyRingReadOnly: true, KeyRingNoBackground: true,
	})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server keyring: %v\n", err)
		return 1
	}
	defer b.Close()
	ring := b.KeyRing

	switch action {
	case "rotate":
		k, err := ring.Rotate(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "cesivi-server keyring rotate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "created key %s, active now, expires %s; keys minted before stay valid until they are revoked\n",
			k.ID, k.Expiration.UTC().Format(time.RFC3339))
	case "revoke":
		if keyID != 0 {
			err = ring.Revoke(ctx, keyID, reason)
		} else {
			err = ring.RevokeBefore(ctx, beforeTime, reason)
		}
		if err != nil {
			fmt.Fprintf(stderr, "cesivi-server keyring revoke: %v\n", err)
			return 1
		}
		if keyID != 0 {
			fmt.Fprintf(stdout, "revoked key %s\n", keyID)
		} else {
			fmt.Fprintf(stdout, "revoked every key created before %s\n", beforeTime.UTC().Format(time.RFC3339))
		}
	}
	printKeys(stdout, ring.Keys(), time.Now())
	return 0
}

func printKeys(w io.Writer, keys []keyring.Key, now time.Time) {
	if len(keys) == 0 {
		fmt.Fprintln(w, "no keys (the first server to start creates one)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCURRENT\tCREATED\tACTIVATION\tEXPIRATION\tENCRYPTED\tREVOKED\tREASON")
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		cur, enc := "", "no"
		if k.Current {
			cur = "*"
		}
		if k.Encrypted {
			enc = "yes"
		}
		reason := k.RevocationReason
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.State(now), cur, ts(k.Created),
			ts(k.Activation), ts(k.Expiration), enc, ts(k.RevokedAt), strings.ReplaceAll(reason, "\t", " "))
	}
	tw.Flush()
}
