package sharepoint

import (
	"github.com/cesivi/cesivi/internal/storage"
)

// The user-context cache keeps, per signed-in user, what storage's
// Access reads: the user's principals and masks on every web and list
// scope. Its key is the user's claims login (c.login()), the same string
// as the LoginName of the user's row in each site, so a change to a
// user principal names its row's login, and a change to a group (whose
// members are many) names "*".

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
