package redisstate

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/redisconn"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/testenv"
)

// skewedSessions is the session store of a node whose clock is off by
// skew and that, like every production node, judges by Redis's clock.
// measured says whether it has measured its offset to Redis yet.
func skewedSessions(t *testing.T, connStr string, skew time.Duration, measured bool) *sessions {
	t.Helper()
	c, err := redisconn.NewFromConnectionString(connStr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	now := func() time.Time { return time.Now().Add(skew) }
	clock := newStoreClock(now, false)
	if measured {
		clock.measure(c)
	}
	opt := state.Options{Now: now}.WithDefaults()
	b := newLoadBatcher(c)
	t.Cleanup(b.close)
	return &sessions{c: c, k: keys{}, opt: opt, batch: b, clock: clock}
}

// TestANodeWithASkewedClockNeitherEndsLiveSessionsNorDatesThemInTheFuture:
// a node 21 minutes fast (past the 20-minute idle window) reads a session
// a correct node has just created: the session lives on, and the last-seen
// time it stores is Redis's, not the node's.
func TestANodeWithASkewedClockNeitherEndsLiveSessionsNorDatesThemInTheFuture(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	connStr := fmt.Sprintf("%s,defaultDatabase=%d", addr, db)
	ctx := context.Background()
	good, err := Open(ctx, connStr, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	for _, measured := range []bool{false, true} {
		t.Run(fmt.Sprintf("offset measured: %v", measured), func(t *testing.T) {
			se := &state.Session{UserID: "u"}
			if err := good.Sessions.Create(ctx, se); err != nil {
				t.Fatal(err)
			}
			fast := skewedSessions(t, connStr, 21*time.Minute, measured)
			if _, err := fast.Load(ctx, se.ID); err != nil {
				t.Fatalf("the fast node's load: %v; want the live session", err)
			}
			if _, err := good.Sessions.Load(ctx, se.ID); err != nil {
				t.Fatalf("after the fast node read it: %v; the session must still be there", err)
			}
			slow := skewedSessions(t, connStr, -21*time.Minute, measured)
			if _, err := slow.Load(ctx, se.ID); err != nil {
				t.Fatalf("the slow node's load: %v", err)
			}
			l, err := fast.c.HGet(ctx, fast.k.session(se.ID), "l").Result()
			if err != nil {
				t.Fatal(err)
			}
			seen, _ := strconv.ParseInt(l, 10, 64)
			if ahead := time.Until(time.UnixMilli(seen)); ahead > time.Minute {
				t.Fatalf("last seen %v in the future", ahead)
			}
		})
	}
}
