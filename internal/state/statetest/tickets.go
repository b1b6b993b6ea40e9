package statetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

var ticketCases = []testCase{
	{"a ticket put on one server is taken once, on another", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		key := "oidc:state:" + state.NewID()
		val := []byte{0, 1, 'x', 0xff}
		if err := a.Tickets.Put(ctx(t), key, val, time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := b.Tickets.Take(ctx(t), key)
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("Take = %q, %v; want %q", got, err, val)
		}
		_, err = a.Tickets.Take(ctx(t), key)
		wantErr(t, err, state.ErrNotFound, "second Take")
	}},
	{"putting an existing ticket is a conflict and keeps the first value", func(t *testing.T, e *env) {
		a := e.server(state.Options{})
		key := "t:" + state.NewID()
		if err := a.Tickets.Put(ctx(t), key, []byte("first"), time.Minute); err != nil {
			t.Fatal(err)
		}
		wantErr(t, a.Tickets.Put(ctx(t), key, []byte("second"), time.Minute), state.ErrConflict, "second Put")
		got, err := a.Tickets.Take(ctx(t), key)
		if err != nil || string(got) != "first" {
			t.Fatalf("Take = %q, %v; want first", got, err)
		}
	}},
	{"an expired ticket is not found", func(t *testing.T, e *env) {
		a := e.server(state.Options{})
		key := "t:" + state.NewID()
		if err := a.Tickets.Put(ctx(t), key, []byte("v"), 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		// Both clocks: the fake one for InMemory, real time for Redis TTLs.
		e.clock.Advance(time.Second)
		time.Sleep(250 * time.Millisecond)
		_, err := a.Tickets.Take(ctx(t), key)
		wantErr(t, err, state.ErrNotFound, "Take after expiry")
	}},
	{"of concurrent takes on several servers exactly one wins", func(t *testing.T, e *env) {
		servers := []*state.Provider{e.server(state.Options{}), e.server(state.Options{}), e.server(state.Options{})}
		key := "t:" + state.NewID()
		if err := servers[0].Tickets.Put(ctx(t), key, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := servers[i%3].Tickets.Take(ctx(t), key); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d takes succeeded, want exactly 1", wins)
		}
	}},
	{"a zero ttl is refused", func(t *testing.T, e *env) {
		a := e.server(state.Options{})
		if err := a.Tickets.Put(ctx(t), "t:"+state.NewID(), []byte("v"), 0); err == nil {
			t.Fatal("Put with ttl 0 succeeded")
		}
	}},
}
