package websession

import (
	"slices"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/state"
)

// TestGroupsDecodeOncePerValue: the groups of a session decode the same
// whether kept or not, as JSON or the older lines, and a value read
// before costs no allocation.
func TestGroupsDecodeOncePerValue(t *testing.T) {
	json := encodeGroups([]string{"readers", "line one\nline two"})
	long := encodeGroups([]string{strings.Repeat("g", maxDecodedGroupsSize)})
	for _, c := range []struct {
		value string
		want  []string
	}{
		{json, []string{"readers", "line one\nline two"}},
		{"a\nb", []string{"a", "b"}},
		{long, []string{strings.Repeat("g", maxDecodedGroupsSize)}},
		{"", nil},
	} {
		s := &state.Session{Data: map[string]string{DataGroups: c.value}}
		for range 2 {
			if got := Groups(s); !slices.Equal(got, c.want) {
				t.Fatalf("Groups(%q) = %q; want %q", c.value, got, c.want)
			}
		}
	}
	s := &state.Session{Data: map[string]string{DataGroups: json}}
	if n := testing.AllocsPerRun(100, func() { Groups(s) }); n != 0 {
		t.Fatalf("Groups of a value decoded before: %v allocations", n)
	}
}
