package websession

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// TestWithDeadlineBoundsWithoutATimer: the store's context reports the
// store timeout as its deadline and its end once the clock passes it,
// keeps the caller's cancellation and values, and leaves a caller's
// earlier deadline alone.
func TestWithDeadlineBoundsWithoutATimer(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	d := time.Now().Add(50 * time.Millisecond)
	ctx := withDeadline(parent, d)
	if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline = %v, %v; want %v", got, ok, d)
	}
	if ctx.Err() != nil || ctx.Value(key{}) != "v" {
		t.Fatalf("Err = %v, Value = %v", ctx.Err(), ctx.Value(key{}))
	}
	for ctx.Err() == nil {
		if time.Now().After(d.Add(5 * time.Second)) {
			t.Fatal("Err stayed nil past the deadline")
		}
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v; want DeadlineExceeded", ctx.Err())
	}

	// The caller's cancellation reaches the store at once.
	ctx = withDeadline(parent, time.Now().Add(time.Hour))
	cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close with the caller's context")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v; want Canceled", ctx.Err())
	}

	// An earlier deadline of the caller's is kept as it is.
	early, cancelEarly := context.WithTimeout(context.Background(), time.Minute)
	defer cancelEarly()
	if withDeadline(early, time.Now().Add(time.Hour)) != early {
		t.Fatal("a caller's earlier deadline was wrapped")
	}
}

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
