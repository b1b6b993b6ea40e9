package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

func runJobs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"jobs"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestJobsListAndReplayDeadLetters(t *testing.T) {
	dir, p := sessionsEnv(t)
	ctx := context.Background()
	const typ = "webhook.notify"
	if _, err := p.Queue.Enqueue(ctx, typ, "k1", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	// A worker that always fails, once: the job goes to the dead letters.
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Queue.Work(wctx, typ, func(context.Context, state.Job) error { return errors.New("receiver down") },
			state.WorkerOptions{MaxAttempts: 1, Backoff: func(int) time.Duration { return time.Millisecond }})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		dead, err := p.Queue.DeadLetters(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no dead letter after 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done

	code, out, errs := runJobs("list", "-config-dir", dir)
	if code != 0 || !strings.Contains(out, "k1") || !strings.Contains(out, "receiver down") || !strings.Contains(out, "1 dead job(s)") {
		t.Fatalf("list: exit %d, %s %s", code, out, errs)
	}
	if code, out, errs := runJobs("replay", "-key", "k1", "-config-dir", dir); code != 0 || !strings.Contains(out, "replayed 1") {
		t.Fatalf("replay: exit %d, %s %s", code, out, errs)
	}
	// The replayed job runs again, with its payload, under a new key.
	got := make(chan state.Job, 1)
	wctx, stop = context.WithCancel(ctx)
	go func() {
		done <- p.Queue.Work(wctx, typ, func(_ context.Context, j state.Job) error {
			select {
			case got <- j:
			default:
			}
			return nil
		}, state.WorkerOptions{})
	}()
	select {
	case j := <-got:
		if !strings.HasPrefix(j.Key, "replay:k1:") || string(j.Payload) != `{"n":1}` {
			t.Errorf("replayed job %+v", j)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the replayed job did not run within 30 s")
	}
	stop()
	<-done

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"replay", "-key", "nope", "-config-dir", dir}, 1, "no dead job"},
		{[]string{"replay", "-config-dir", dir}, 2, "exactly one of -key and -all"},
		{[]string{"list", "-all", "-config-dir", dir}, 2, "for replay"},
		{[]string{"purge"}, 2, "usage"},
	} {
		if code, out, errs := runJobs(tc.args...); code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("jobs %v: exit %d, %q %q; want %d and %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
}

func TestJobsRefusesInMemoryState(t *testing.T) {
	keyringEnv(t, map[string]string{"Cesivi__DistributedState__Provider": "InMemory"})
	if code, _, errs := runJobs("list"); code != 1 || !strings.Contains(errs, "needs Redis") {
		t.Fatalf("exit %d, %s", code, errs)
	}
}
