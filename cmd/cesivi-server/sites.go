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
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/storage"
)

func init() {
	subcommands["sites"] = subcommand{
		summary: "list, add or remove a site collection's administrators (sites admins list|add|remove -site /sites/x -user <e-mail or login>)",
		run:     sitesCmd,
	}
}

const sitesUsage = `usage:
  cesivi-server sites admins list   [-site /] [-config-dir DIR]
  cesivi-server sites admins add    [-site /] -user <e-mail, user id or claims login> [-config-dir DIR]
  cesivi-server sites admins remove [-site /] -user <e-mail, user id or claims login> [-config-dir DIR]
`

// sitesCmd is "sites admins": the site collection administrators kept in
// the site's user table (IsSiteAdmin), beside those of
// Cesivi:Sites:Administrators, which hold on every site and change only
// with the configuration. A change drops the user's cached rights on
// every server (usercontext:invalidated), so it holds at once. Exit
// status: 0 done, 1 failure, 2 usage.
func sitesCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "admins" || (args[1] != "list" && args[1] != "add" && args[1] != "remove") {
		fmt.Fprint(stderr, sitesUsage)
		return 2
	}
	action := args[1]
	fs := flag.NewFlagSet("sites admins "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sitePath := fs.String("site", "/", "the site collection's server-relative URL (/ or /sites/<name>)")
	user := fs.String("user", "", "the user: the e-mail address or user id it signs in with, or its claims login (i:0#.f|membership|…)")
	settings, err := loadSettings(fs, args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	switch {
	case err != nil:
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "cesivi-server sites admins: unexpected argument %q\n%s", fs.Arg(0), sitesUsage)
		return 2
	case action != "list" && strings.TrimSpace(*user) == "":
		fmt.Fprintf(stderr, "cesivi-server sites admins %s: -user is required\n%s", action, sitesUsage)
		return 2
	case action == "list" && *user != "":
		fmt.Fprintf(stderr, "cesivi-server sites admins list: -user is not accepted\n%s", sitesUsage)
		return 2
	default:
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server sites admins: configuration: %v\n", err)
		return 1
	}
	login, err := adminLogin(*user)
	if action != "list" && err != nil {
		fmt.Fprintf(stderr, "cesivi-server sites admins %s: %v\n", action, err)
		return 2
	}
	if settings.Storage.Provider == config.ProviderInMemory {
		fmt.Fprintln(stderr, "cesivi-server sites admins: Cesivi:Storage:Provider is InMemory: the sites live in a server's process and cannot be reached from here; use Cesivi:Sites:Administrators instead")
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := backends.Open(ctx, settings, backends.Options{Role: backends.Admin, NoKeyRing: true})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server sites admins: %v\n", err)
		return 1
	}
	defer b.Close()

	if action == "list" {
		var admins []*storage.User
		err = b.Storage.View(ctx, func(tx storage.Tx) error {
			site, err := siteAt(ctx, tx, *sitePath)
			if err != nil {
				return err
			}
			users, err := tx.Users().List(ctx, site.ID)
			for _, u := range users {
				if u.IsSiteAdmin {
					admins = append(admins, u)
				}
			}
			return err
		})
		if err != nil {
			fmt.Fprintf(stderr, "cesivi-server sites admins list: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLOGIN\tTITLE")
		for _, u := range admins {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", u.ID, u.LoginName, u.Title)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d administrator(s) of %s in its user table; Cesivi:Sites:Administrators adds %d on every site\n",
			len(admins), *sitePath, len(settings.Sites.Administrators))
		return 0
	}

	add := action == "add"
	changed := false
	err = b.Storage.Update(ctx, func(tx storage.Tx) error {
		site, err := siteAt(ctx, tx, *sitePath)
		if err != nil {
			return err
		}
		var u *storage.User
		if add {
			email := ""
			if at := strings.TrimPrefix(login, storage.ClaimsPrefix); strings.Count(at, "@") == 1 {
				email = at
			}
			u, err = tx.Users().Ensure(ctx, site.ID, login, *user, email)
		} else {
			u, err = tx.Users().GetByLogin(ctx, site.ID, login)
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%s is not a user of %s", login, *sitePath)
			}
		}
		if err != nil {
			return err
		}
		if u.IsSiteAdmin == add {
			return nil
		}
		changed = true
		_, err = tx.Users().Update(ctx, site.ID, u.ID, storage.UserUpdate{IsSiteAdmin: &add})
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server sites admins %s: %v\n", action, err)
		return 1
	}
	switch {
	case !changed && add:
		fmt.Fprintf(stdout, "%s already administers %s\n", login, *sitePath)
		return 0
	case !changed:
		fmt.Fprintf(stdout, "%s does not administer %s (nothing changed)\n", login, *sitePath)
		return 0
	}
	verb := map[bool]string{true: "now administers", false: "no longer administers"}[add]
	fmt.Fprintf(stdout, "%s %s %s\n", login, verb, *sitePath)
	if b.State == nil || settings.DistributedState.Provider != config.ProviderRedis {
		fmt.Fprintf(stdout, "Cesivi:DistributedState:Provider is %s: a running server sees the change when its cached rights expire (at most %v)\n",
			settings.DistributedState.Provider, state.DefaultCacheMaxTTL)
		return 0
	}
	if err := b.State.UserContexts.Invalidate(ctx, login); err != nil {
		fmt.Fprintf(stderr, "cesivi-server sites admins %s: the change is stored, but the servers' cached rights were not dropped (they expire within %v): %v\n", action, state.DefaultCacheMaxTTL, err)
		return 1
	}
	return 0
}

// adminLogin is the claims login of the user the operator named: as
// given when it is one, else the login Cesivi gives a person who signs
// in with that e-mail address or user id.
func adminLogin(user string) (string, error) {
	user = strings.ToLower(strings.TrimSpace(user))
	switch {
	case user == "":
		return "", errors.New("-user is empty")
	case strings.HasPrefix(user, storage.ClaimsPrefix):
		if len(user) == len(storage.ClaimsPrefix) {
			return "", errors.New("the claims login names no user")
		}
		return user, nil
	case strings.Contains(user, "|"):
		return "", fmt.Errorf("%q is not a person's login: provider groups are made administrators with Cesivi:Sites:Administrators", user)
	}
	return storage.ClaimsPrefix + user, nil
}

// siteAt is the site collection at p, or an error that names p.
func siteAt(ctx context.Context, tx storage.Tx, p string) (*storage.Site, error) {
	site, err := tx.Sites().GetByURL(ctx, p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no site collection at %s", p)
	}
	return site, err
}
