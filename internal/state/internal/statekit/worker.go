package statekit

import (
	"context"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// Delivery is a job handed to one worker; Ref is the provider's handle on
// it (a stream entry id).
type Delivery struct {
	state.Job
	Ref string
}

// QueueBackend is what a provider supplies for RunWorker.
type QueueBackend interface {
	// Fetch returns the next job for this consumer: first one abandoned by
	// a worker silent for opt.Visibility, then a due retry or a new one.
	// It may block briefly and returns nil when there is none.
	Fetch(ctx context.Context, jobType string, opt state.WorkerOptions) (*Delivery, error)
	// Heartbeat tells the others the job is still being worked on.
	Heartbeat(ctx context.Context, jobType string, d *Delivery, opt state.WorkerOptions) error
	// Ack removes a finished job.
	Ack(ctx context.Context, jobType string, d *Delivery) error
	// Retry removes the job and schedules attempt d.Attempt+1 at due.
	Retry(ctx context.Context, jobType string, d *Delivery, due time.Time) error
	// Dead removes the job and records it in the bounded dead-letter set.
	Dead(ctx context.Context, jobType string, d *Delivery, reason string, maxDead int) error
}

// RunWorker is state.Queue.Work over a backend, shared by the providers.
func RunWorker(ctx context.Context, b QueueBackend, jobType string, h func(context.Context, state.Job) error, opt state.WorkerOptions) error {
	opt = opt.WithDefaults()
	// Handlers get a context of their own, cancelled only when draining
	// takes too long: shutting down must not interrupt work that can end.
	hctx, abandon := context.WithCancel(context.Background())
	defer abandon()
	slots := make(chan struct{}, opt.Concurrency)
	var wg sync.WaitGroup
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		d, err := b.Fetch(ctx, jobType, opt)
		if err != nil || d == nil {
			<-slots
			if err != nil && ctx.Err() == nil {
				// The store is unavailable: back off, the jobs wait.
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			runOne(hctx, b, jobType, d, h, opt)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(opt.DrainTimeout):
		abandon()
		<-done
	}
	return nil
}

func runOne(hctx context.Context, b QueueBackend, jobType string, d *Delivery, h func(context.Context, state.Job) error, opt state.WorkerOptions) {
	stop := make(chan struct{})
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		t := time.NewTicker(opt.Visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-hctx.Done():
				return
			case <-t.C:
				c, cancel := context.WithTimeout(hctx, opt.Visibility/3)
				_ = b.Heartbeat(c, jobType, d, opt)
				cancel()
			}
		}
	}()
	err := h(hctx, d.Job)
	close(stop)
	<-beat
	if hctx.Err() != nil {
		// Abandoned at shutdown: no acknowledgement, no retry; another
		// worker takes the job over once it has been silent long enough.
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch {
	case err == nil:
		_ = b.Ack(ctx, jobType, d)
	case d.Attempt >= opt.MaxAttempts:
		_ = b.Dead(ctx, jobType, d, err.Error(), opt.MaxDead)
	default:
		_ = b.Retry(ctx, jobType, d, time.Now().Add(opt.Backoff(d.Attempt)))
	}
}
