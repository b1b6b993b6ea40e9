package statetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// fastRetry keeps the queue tests short.
func fastRetry(int) time.Duration { return 20 * time.Millisecond }

// work runs a worker until the test ends (or stop is called).
func work(t *testing.T, p *state.Provider, jobType string, h func(context.Context, state.Job) error, opt state.WorkerOptions) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Queue.Work(ctx, jobType, h, opt); err != nil {
			t.Errorf("Work: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, p *state.Provider, jobType, key, payload string) bool {
	t.Helper()
	added, err := p.Queue.Enqueue(ctx(t), jobType, key, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return added
}

var queueCases = []testCase{
	{"a job runs once on some server, and its idempotency key keeps a duplicate out", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		var mu sync.Mutex
		runs := map[string]int{}
		h := func(_ context.Context, j state.Job) error {
			mu.Lock()
			runs[j.Key+"="+string(j.Payload)]++
			mu.Unlock()
			return nil
		}
		work(t, a, "mail", h, state.WorkerOptions{})
		work(t, b, "mail", h, state.WorkerOptions{})
		if !enqueue(t, a, "mail", "k1", "hello\x00\xff") || !enqueue(t, b, "mail", "k2", "") {
			t.Fatal("Enqueue did not add")
		}
		if enqueue(t, b, "mail", "k1", "again") {
			t.Fatal("a duplicate key was enqueued")
		}
		eventually(t, 2*time.Second, "both jobs ran", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return runs["k1=hello\x00\xff"] == 1 && runs["k2="] == 1
		})
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 2 || runs["k1=hello\x00\xff"] != 1 {
			t.Fatalf("runs = %v", runs)
		}
	}},
	{"a failing job is retried with backoff until it succeeds", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		var attempts []int
		var mu sync.Mutex
		done := make(chan struct{})
		work(t, p, "flaky", func(_ context.Context, j state.Job) error {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, j.Attempt)
			if j.Attempt < 3 {
				return errors.New("not yet")
			}
			close(done)
			return nil
		}, state.WorkerOptions{Backoff: fastRetry})
		enqueue(t, p, "flaky", "", "x")
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("the job did not succeed within 3 s")
		}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(attempts) != "[1 2 3]" {
			t.Fatalf("attempts = %v", attempts)
		}
	}},
	{"a job that always fails ends in the bounded dead-letter set", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		var runs atomic.Int32
		work(t, p, "doomed", func(context.Context, state.Job) error {
			runs.Add(1)
			return errors.New("boom")
		}, state.WorkerOptions{Backoff: fastRetry, MaxAttempts: 3, MaxDead: 2})
		for i := range 3 {
			enqueue(t, p, "doomed", fmt.Sprint("job", i), "x")
		}
		var dead []state.DeadJob
		eventually(t, 5*time.Second, "three jobs dead", func() bool {
			if runs.Load() < 9 {
				return false
			}
			var err error
			dead, err = p.Queue.DeadLetters(ctx(t), "doomed")
			return err == nil && len(dead) == 2
		})
		time.Sleep(100 * time.Millisecond)
		if n := runs.Load(); n != 9 {
			t.Fatalf("%d runs, want 3 attempts of 3 jobs", n)
		}
		for _, d := range dead {
			if d.Error != "boom" || d.Attempt != 3 || string(d.Payload) != "x" {
				t.Fatalf("dead letter %+v", d)
			}
		}
	}},
	{"a job whose worker died is taken over by another worker and completes", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		started := make(chan struct{})
		stopA := work(t, a, "report", func(ctx context.Context, j state.Job) error {
			close(started)
			<-ctx.Done() // hangs until abandoned
			return ctx.Err()
		}, state.WorkerOptions{DrainTimeout: 10 * time.Millisecond, Visibility: 300 * time.Millisecond})
		enqueue(t, a, "report", "r1", "x")
		select {
		case <-started:
		case <-time.After(2 * time.Second):
			t.Fatal("worker a never started the job")
		}
		stopA() // a dies with the job unfinished
		finished := make(chan state.Job, 1)
		work(t, b, "report", func(_ context.Context, j state.Job) error {
			finished <- j
			return nil
		}, state.WorkerOptions{Visibility: 300 * time.Millisecond})
		select {
		case j := <-finished:
			// The attempt whose worker died counts as failed.
			if j.Key != "r1" || j.Attempt != 2 {
				t.Fatalf("took over %+v; want r1 at attempt 2", j)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("no other worker completed the job within 3 s")
		}
	}},
	{"a job that kills every worker that runs it ends in the dead-letter set", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		opt := state.WorkerOptions{DrainTimeout: 10 * time.Millisecond, Visibility: 200 * time.Millisecond, MaxAttempts: 3}
		var runs atomic.Int32
		for range 4 { // each worker "dies" (stops heartbeating, is stopped) while running the job
			started := make(chan struct{}, 1)
			stop := work(t, p, "poison", func(ctx context.Context, j state.Job) error {
				runs.Add(1)
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			}, opt)
			if runs.Load() == 0 {
				enqueue(t, p, "poison", "p1", "x")
			}
			select {
			case <-started:
				stop()
			case <-time.After(3 * time.Second):
				stop()
			}
			if runs.Load() >= 3 {
				break
			}
		}
		if n := runs.Load(); n != 3 {
			t.Fatalf("the job ran %d times, want MaxAttempts = 3", n)
		}
		// The next worker to find it abandoned sends it to the dead letters.
		stop := work(t, p, "poison", func(context.Context, state.Job) error {
			t.Error("the job ran a fourth time")
			return nil
		}, opt)
		defer stop()
		deadline := time.Now().Add(5 * time.Second)
		for {
			dead, err := p.Queue.DeadLetters(ctx(t), "poison")
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) == 1 {
				if dead[0].Key != "p1" || dead[0].Error != state.AbandonedReason || dead[0].Attempt != 3 {
					t.Fatalf("dead letter %+v", dead[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no dead letter 5 s after the third worker died (%d)", len(dead))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}},
	{"shutting down lets running jobs finish and takes no new ones", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		started := make(chan struct{}, 2)
		var finished atomic.Int32
		stop := work(t, p, "slow", func(ctx context.Context, j state.Job) error {
			started <- struct{}{}
			time.Sleep(200 * time.Millisecond)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			finished.Add(1)
			return nil
		}, state.WorkerOptions{Concurrency: 1})
		enqueue(t, p, "slow", "s1", "x")
		<-started
		enqueue(t, p, "slow", "s2", "x")
		stop()
		if finished.Load() != 1 {
			t.Fatalf("%d jobs finished during the drain, want 1", finished.Load())
		}
		ran := make(chan string, 2)
		work(t, p, "slow", func(_ context.Context, j state.Job) error { ran <- j.Key; return nil }, state.WorkerOptions{})
		select {
		case k := <-ran:
			if k != "s2" {
				t.Fatalf("after restart ran %s, want s2", k)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the queued job did not run after restart")
		}
	}},
}
