package fakeclock_test

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
)

func TestAStandingClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	c := fakeclock.New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("after Advance, Now = %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set, Now = %v", got)
	}
}

func TestARealClockFollowsTheRealTimeShiftedByAdvance(t *testing.T) {
	c := fakeclock.Real()
	if d := time.Until(c.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("Now is %v away from the real time", d)
	}
	c.Advance(time.Hour)
	if d := time.Until(c.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("after Advance(1h), Now is %v ahead", d)
	}
	c.Set(time.Now().Add(-time.Hour))
	if d := time.Until(c.Now()); d > -59*time.Minute || d < -61*time.Minute {
		t.Fatalf("after Set(an hour ago), Now is %v away", d)
	}
}
