package permissions

import "slices"

// Assignment is one principal's role definitions on a scope (a role
// assignment with its RoleDefinitionBindings).
type Assignment struct {
	PrincipalID int64
	RoleIDs     []int64
}

// Effective is what a caller whose principals (the user's own id, the
// groups it belongs to, its provider groups' ids) are given may do on a
// scope with these assignments: the union of the masks of every role
// bound to any of its principals. A role id missing from roles grants
// nothing (a level deleted meanwhile).
func Effective(assignments []Assignment, principals []int64, roles map[int64]Mask) Mask {
	var m Mask
	for _, a := range assignments {
		if !slices.Contains(principals, a.PrincipalID) {
			continue
		}
		for _, id := range a.RoleIDs {
			m |= roles[id]
		}
	}
	return m
}
