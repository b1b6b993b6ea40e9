package redisstate_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/redisconn"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/state/statetest"
	"github.com/cesivi/cesivi/internal/testenv"
)

// TestContractOnCluster runs the whole suite on a three-master Redis
// Cluster; every subtest uses a key prefix of its own.
func TestContractOnCluster(t *testing.T) {
	c := testenv.RedisCluster(t)
	statetest.Exercise(t, func(t *testing.T) statetest.NewServer {
		return backend(t, c.ConnectionString())
	})
}

// TestSentinelFailoverLosesNoAcknowledgedSession writes sessions, waits for
// the replica to acknowledge them (WAIT 1), forces a failover while a
// second writer keeps going, and checks that every acknowledged session is
// on the new master and that the same provider (no restart) works again.
func TestSentinelFailoverLosesNoAcknowledgedSession(t *testing.T) {
	s := testenv.RedisSentinel(t)
	ctx := context.Background()
	c, err := redisconn.NewFromConnectionString(s.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p, err := redisstate.New(ctx, c, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	var ids []string
	for i := range 50 {
		se := &state.Session{UserID: "u", Data: map[string]string{"n": fmt.Sprint(i)}}
		if err := p.Sessions.Create(ctx, se); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, se.ID)
	}
	if n, err := redisstate.WaitReplicas(ctx, c, "", 1, 5*time.Second); err != nil || n < 1 {
		t.Fatalf("WAIT 1 = %d, %v", n, err)
	}

	// Load keeps running during the failover; failures are expected while
	// the master changes, and must be "unavailable", never "not found".
	stop := make(chan struct{})
	var notFound, ok atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := p.Sessions.Load(lctx, ids[0])
			cancel()
			switch {
			case err == nil:
				ok.Add(1)
			case !isUnavailable(err):
				notFound.Add(1)
				t.Errorf("during failover: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	newMaster, err := s.Failover(fctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failed over to %s", newMaster)

	// The same client recovers without a restart.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := p.Sessions.Update(ctx, ids[0], state.SessionUpdate{Set: map[string]string{"after": "yes"}})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	<-done
	for i, id := range ids {
		se, err := p.Sessions.Load(ctx, id)
		if err != nil || se.Data["n"] != fmt.Sprint(i) {
			t.Fatalf("session %d after the failover: %+v, %v", i, se, err)
		}
	}
	// A new session and a lease work on the new master.
	if err := p.Sessions.Create(ctx, &state.Session{UserID: "after"}); err != nil {
		t.Fatal(err)
	}
	l, err := p.Locks.Acquire(ctx, "after-failover", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l.Release(ctx)
	t.Logf("loads during the failover: %d ok", ok.Load())

	// Cache invalidation still crosses servers: a second provider (another
	// server) invalidates, the first sees it within a second.
	p2, err := redisstate.Open(ctx, s.ConnectionString(), "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p2.Close() })
	var val atomic.Value
	val.Store("before")
	load := func(context.Context) ([]byte, error) { return []byte(val.Load().(string)), nil }
	if _, err := p.UserContexts.Get(ctx, "u", load); err != nil {
		t.Fatal(err)
	}
	val.Store("after")
	if err := p2.UserContexts.Invalidate(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Second)
	for {
		v, err := p.UserContexts.Get(ctx, "u", load)
		if err == nil && string(v) == "after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("invalidation not seen within 1 s after the failover: %q, %v", v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isUnavailable(err error) bool { return errors.Is(err, state.ErrStoreUnavailable) }
