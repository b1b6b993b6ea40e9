package flight

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallersOfOneKeyShareOneCall(t *testing.T) {
	var g Group[string, int]
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	fn := func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release
		return 42, nil
	}
	type res struct {
		v   int
		led bool
		err error
	}
	results := make(chan res, 10)
	go func() { v, led, err := g.Do(context.Background(), "k", time.Minute, fn); results <- res{v, led, err} }()
	<-entered
	for range 9 {
		go func() { v, led, err := g.Do(context.Background(), "k", time.Minute, fn); results <- res{v, led, err} }()
	}
	// The nine join the call in flight: there is one key, and fn has not
	// been called again.
	for g.joined("k") < 9 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	leaders := 0
	for range 10 {
		r := <-results
		if r.v != 42 || r.err != nil {
			t.Fatalf("Do = %d, %v", r.v, r.err)
		}
		if r.led {
			leaders++
		}
	}
	if calls.Load() != 1 || leaders != 1 {
		t.Fatalf("%d calls, %d leaders; want 1 and 1", calls.Load(), leaders)
	}
	if g.InFlight() != 0 {
		t.Fatal("a finished call is still in flight")
	}
}

func TestAnotherKeyIsAnotherCall(t *testing.T) {
	var g Group[[2]string, string]
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	fn := func(v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { entered <- struct{}{}; <-release; return v, nil }
	}
	a := make(chan string)
	go func() { v, _, _ := g.Do(context.Background(), [2]string{"k", "gen1"}, time.Minute, fn("old")); a <- v }()
	<-entered
	b := make(chan string)
	go func() { v, _, _ := g.Do(context.Background(), [2]string{"k", "gen2"}, time.Minute, fn("new")); b <- v }()
	<-entered
	close(release)
	if va, vb := <-a, <-b; va != "old" || vb != "new" {
		t.Fatalf("got %q and %q", va, vb)
	}
}

func TestTheCallOutlivesTheCallerThatStartedIt(t *testing.T) {
	var g Group[string, int]
	entered, release := make(chan struct{}), make(chan struct{})
	var fnErr atomic.Value
	type key struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	fn := func(ctx context.Context) (int, error) {
		close(entered)
		<-release
		if ctx.Value(key{}) != "v" {
			fnErr.Store(errors.New("the caller's values are lost"))
		}
		if _, ok := ctx.Deadline(); !ok {
			fnErr.Store(errors.New("no deadline"))
		}
		return 1, ctx.Err()
	}
	led := make(chan error)
	go func() { _, _, err := g.Do(ctx, "k", time.Minute, fn); led <- err }()
	<-entered
	joined := make(chan error)
	go func() { _, _, err := g.Do(context.Background(), "k", time.Minute, fn); joined <- err }()
	for g.joined("k") < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-led; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up: %v", err)
	}
	close(release)
	if err := <-joined; err != nil {
		t.Fatalf("the joiner: %v", err)
	}
	if err, _ := fnErr.Load().(error); err != nil {
		t.Fatal(err)
	}
}

func TestTheTimeoutEndsTheCall(t *testing.T) {
	var g Group[string, int]
	_, _, err := g.Do(context.Background(), "k", time.Millisecond, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v", err)
	}
}

func TestAPanicReachesTheCaller(t *testing.T) {
	var g Group[string, int]
	defer func() {
		p := recover()
		if s, _ := p.(string); !strings.Contains(s, "boom") {
			t.Fatalf("recovered %v", p)
		}
		if g.InFlight() != 0 {
			t.Fatal("the panicked call is still in flight")
		}
	}()
	g.Do(context.Background(), "k", time.Minute, func(context.Context) (int, error) { panic("boom") })
	t.Fatal("no panic")
}

// joined is how many callers joined key's call in flight.
func (g *Group[K, V]) joined(key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.joiners
	}
	return 0
}

func TestACallerThatHasGivenUpStartsNothing(t *testing.T) {
	var g Group[string, int]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, led, err := g.Do(ctx, "k", time.Minute, func(context.Context) (int, error) {
		t.Error("fn called for a caller that had given up")
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) || led {
		t.Fatalf("Do = %v, led %v", err, led)
	}
}
