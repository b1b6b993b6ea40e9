package state

import (
	"context"
	"math/rand/v2"
	"time"
)

// Job is one delivery of a background job.
type Job struct {
	Type string
	// Key is the idempotency key given to Enqueue (random if none was).
	Key     string
	Payload []byte
	// Attempt counts failed runs before this one plus one. A run cut short
	// by a worker's death is not a failure and does not count.
	Attempt int
}

// DeadJob is a job that failed MaxAttempts times.
type DeadJob struct {
	Job
	Error string
	At    time.Time
}

// Queue is an at-least-once job queue shared by the servers: a handler may
// see a job twice (a worker dies after the work but before the
// acknowledgement), so handlers must be idempotent, keyed by Job.Key.
type Queue interface {
	// Enqueue adds a job unless one with the same key was enqueued within
	// the last 24 h; it reports whether it added one. An empty key is
	// replaced by a random one.
	Enqueue(ctx context.Context, jobType, key string, payload []byte) (bool, error)
	// Work runs h on jobs of jobType until ctx ends, then drains: it stops
	// taking jobs, waits up to DrainTimeout for running handlers, and then
	// cancels their context and leaves their jobs for another worker.
	Work(ctx context.Context, jobType string, h func(context.Context, Job) error, opt WorkerOptions) error
	// DeadLetters lists the job type's dead-letter set, newest first.
	DeadLetters(ctx context.Context, jobType string) ([]DeadJob, error)
}

// WorkerOptions tune Queue.Work. The zero value is useful.
type WorkerOptions struct {
	// Concurrency is how many handlers run at once (default 4).
	Concurrency int
	// MaxAttempts before a job goes to the dead-letter set (default 5).
	MaxAttempts int
	// Backoff is the delay before retry number attempt (default
	// DefaultBackoff).
	Backoff func(attempt int) time.Duration
	// Visibility is how long a job may go without a heartbeat before
	// another worker takes it over (default 30 s); handlers heartbeat
	// every Visibility/3 while they run.
	Visibility time.Duration
	// DrainTimeout bounds the wait for running handlers at shutdown
	// (default 30 s).
	DrainTimeout time.Duration
	// MaxDead bounds the dead-letter set (default 1000, oldest dropped).
	MaxDead int
	// Consumer names this worker in the consumer group (default random).
	Consumer string
}

// WithDefaults fills in the zero fields.
func (o WorkerOptions) WithDefaults() WorkerOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Visibility <= 0 {
		o.Visibility = 30 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.MaxDead <= 0 {
		o.MaxDead = 1000
	}
	if o.Consumer == "" {
		o.Consumer = NewID()[:12]
	}
	return o
}

// DefaultBackoff is exponential from 1 s, capped at 5 min, with jitter
// (a random point in the upper half) so failed jobs do not retry in step.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}

// DedupWindow is how long an idempotency key keeps a second Enqueue out.
const DedupWindow = 24 * time.Hour

// AbandonedReason is the dead-letter reason of a job whose last attempts
// all ended with their worker dying or hanging (no heartbeat).
const AbandonedReason = "abandoned: every worker that took the job died or stopped heartbeating"
