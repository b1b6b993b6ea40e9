package permissions

import "strings"

// Administrators are the site collection administrators configuration
// names (Cesivi:Sites:Administrators, and those added with
// `cesivi-server sites admins add`): each entry is a user id (the
// provider's subject), an e-mail address, or "group:<name>", a group of
// the identity provider. Only the signed assertion's subject, e-mail and
// groups are matched: nothing a client sends can claim them.
type Administrators struct {
	subjects, emails, groups map[string]bool
}

// GroupPrefix marks an entry that names a provider group.
const GroupPrefix = "group:"

// ParseAdministrators reads entries; blank ones are skipped. Subjects are
// matched exactly, e-mail addresses and group names ignoring case.
func ParseAdministrators(entries []string) Administrators {
	a := Administrators{subjects: map[string]bool{}, emails: map[string]bool{}, groups: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case len(e) > len(GroupPrefix) && strings.EqualFold(e[:len(GroupPrefix)], GroupPrefix):
			a.groups[strings.ToLower(strings.TrimSpace(e[len(GroupPrefix):]))] = true
		case strings.Contains(e, "@"):
			a.emails[strings.ToLower(e)] = true
			a.subjects[e] = true // a provider may use the address as subject
		default:
			a.subjects[e] = true
		}
	}
	return a
}

// Empty reports whether no administrator is named.
func (a Administrators) Empty() bool {
	return len(a.subjects) == 0 && len(a.emails) == 0 && len(a.groups) == 0
}

// Match reports whether the signed-in user with this subject, e-mail and
// provider groups is an administrator.
func (a Administrators) Match(subject, email string, groups []string) bool {
	if subject != "" && a.subjects[subject] {
		return true
	}
	if email != "" && a.emails[strings.ToLower(strings.TrimSpace(email))] {
		return true
	}
	for _, g := range groups {
		if a.groups[strings.ToLower(strings.TrimSpace(g))] {
			return true
		}
	}
	return false
}
