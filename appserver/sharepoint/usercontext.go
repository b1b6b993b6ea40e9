package sharepoint

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/storage"
)

// The user-context cache keeps, per signed-in user, what storage's
// Access reads: the user's principals and masks on every web and list
// scope of every site. Its key is the user's claims login (c.login()),
// the same string as the LoginName of the user's row in each site, so a
// change to a user principal names its row's login, and a change to a
// group (whose members are many) names "*". The rights of items with
// their own scope are not in it: they are read with the item, in the
// same query.

// everyone is the cache key that stands for every user.
const everyone = "*"

// rightsChanged records that the call's changes alter what the users
// with these logins may do ("*": everyone). Nothing is published before
// the transaction commits, and nothing if it rolls back.
func (c *call) rightsChanged(logins ...string) {
	c.stale = append(c.stale, logins...)
}

// principalChanged records a change of what principal p may do: its
// login when p is a user, everyone when p is a group (a site group's or
// a provider group's members are not known one by one here).
func (c *call) principalChanged(p *storage.User) {
	if p == nil || p.PrincipalType != storage.PrincipalUser {
		c.rightsChanged(everyone)
		return
	}
	c.rightsChanged(p.LoginName)
}

// cachedRights is a cache entry: the logins it was read for (the user's
// own and its provider groups', which a new sign-in may change without
// any change in storage) and what Access read for them.
type cachedRights struct {
	Logins []string          `json:"logins"`
	Sites  []*storage.Access `json:"sites"`
}

// loadRights reads, through the user-context cache, what the call's
// user may do in every site: c.rights. It runs before the call's
// transaction, in a read of its own, so that what it caches was read
// after any invalidation the cache has seen (a read-only transaction
// begun earlier could hold an older snapshot). Without a cache, or for
// a configured administrator, it does nothing and access() reads in the
// call's transaction.
func (h *Handler) loadRights(c *call) error {
	if h.UserContexts == nil || h.Admins.Match(c.user.Subject, c.user.Email, c.user.Groups) {
		return nil
	}
	logins := c.logins()
	key := logins[0]
	load := func(ctx context.Context) ([]byte, error) {
		var sites []*storage.Access
		err := h.Store.View(ctx, func(tx storage.Tx) error {
			var err error
			sites, err = tx.Security().Access(ctx, logins)
			return err
		})
		if err != nil {
			return nil, err
		}
		return json.Marshal(cachedRights{Logins: logins, Sites: sites})
	}
	raw, err := h.UserContexts.Get(c.ctx, key, load)
	if err != nil {
		// Redis unavailable: the database still answers what the user
		// may do, at the cost of a read per request.
		if !isStateUnavailable(err) {
			return err
		}
		h.logCacheFailure("user-context cache unavailable; reading rights from storage", err)
		if raw, err = load(c.ctx); err != nil {
			return err
		}
	}
	var r cachedRights
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if !slices.Equal(r.Logins, logins) {
		// The user's provider groups changed since the entry was cached:
		// read afresh, and drop the entry everywhere so the next request
		// caches the new set.
		if raw, err = load(c.ctx); err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		h.publishStale(c.ctx, []string{key})
	}
	c.rights = r.Sites
	return nil
}

// publishStale drops the named cache entries on every server, after the
// transaction that made them stale committed. It outlives the client's
// request (a client that hangs up must not leave stale rights on other
// servers). A failure is logged: the change is stored, and what other
// servers cached expires within the cache's bound (Cesivi's
// DefaultCacheMaxTTL), or at once when their subscription reconnects.
func (h *Handler) publishStale(ctx context.Context, keys []string) {
	if h.UserContexts == nil || len(keys) == 0 {
		return
	}
	if slices.Contains(keys, everyone) {
		keys = []string{everyone}
	} else {
		keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, k := range keys {
		if k == "" {
			continue
		}
		if err := h.UserContexts.Invalidate(ctx, strings.ToLower(k)); err != nil {
			h.logCacheFailure("user-context invalidation not published", err)
		}
	}
}

func (h *Handler) logCacheFailure(msg string, err error) {
	if h.Log != nil {
		h.Log.Warn(msg, "error", err)
	}
}

// isStateUnavailable: the distributed state (Redis) did not answer.
func isStateUnavailable(err error) bool { return errors.Is(err, state.ErrStoreUnavailable) }
