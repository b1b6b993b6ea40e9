// Package hookdelivery tells list webhook receivers that their list
// changed, at least once, from whichever server is alive.
//
// The change itself is the durable record: storage writes it to the
// list's change log in the transaction of the change, and every
// subscription remembers how far its receiver was told
// (NotifiedThrough). On every server a scanner asks storage, every
// PollInterval, which subscriptions have news (Subscriptions.Due) and
// enqueues one notification job per subscription and change position,
// keyed "<subscription>:<last change>" so the queue keeps one job per key
// however many servers scan. A worker on any server delivers the job,
// then moves NotifiedThrough forward. A server that dies right after a
// change committed loses nothing (the next scan, on any server, sees the
// change); a worker that dies mid-delivery has its job taken over by the
// queue; a receiver that fails is retried (RetryCount times, RetryDelay
// apart) and then the job goes to the queue's dead letters.
//
// Receivers then read what changed with GetChanges, as SharePoint's do:
// a notification names the list, never an item, so it cannot leak what
// the subscriber may not read.
package hookdelivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/webhook"
)

// DefaultChangeRetention is SharePoint's: 60 days.
const DefaultChangeRetention = 60 * 24 * time.Hour

// JobType is the queue's job type of a notification.
const JobType = "webhook.notify"

// TenantID is the tenantId of Cesivi's notifications: one installation is
// one tenant.
const TenantID = "00000000-0000-0000-0000-000000000000"

// Options tune a Deliverer.
type Options struct {
	// PollInterval is how often the scanner asks for subscriptions with
	// news (default 1 s): the longest a notification waits to be queued.
	PollInterval time.Duration
	// RetryCount and RetryDelay are the retries of a failed delivery
	// (default 5, 5 minutes apart, as SharePoint's).
	RetryCount int
	RetryDelay time.Duration
	// Concurrency is how many deliveries one server runs at once
	// (default 8).
	Concurrency int
	// Lease is how long a delivering server may go silent before another
	// server takes its job over (default 30 s): the time a notification
	// whose worker died waits. A live worker renews it every Lease/3, so a
	// slow receiver keeps its one delivery.
	Lease time.Duration
	// ChangeRetention is how long the change log keeps a change
	// (default 60 days, as SharePoint's); a change token older than what
	// is kept is refused by GetChanges. Every PruneInterval (default 1 h)
	// each server prunes what is older; a prune is idempotent.
	ChangeRetention time.Duration
	PruneInterval   time.Duration
	// Registerer receives the metrics (nil: none).
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Deliverer scans for news and delivers notifications.
type Deliverer struct {
	store  storage.Store
	queue  state.Queue
	client *webhook.Client
	opt    Options
	m      metrics
}

type metrics struct {
	enqueued, delivered, failed prometheus.Counter
	inFlight                    prometheus.Gauge
	latency                     prometheus.Histogram
}

// New returns a Deliverer; Run starts it.
func New(store storage.Store, queue state.Queue, client *webhook.Client, opt Options) *Deliverer {
	if opt.PollInterval <= 0 {
		opt.PollInterval = time.Second
	}
	if opt.RetryCount < 0 {
		opt.RetryCount = 0
	} else if opt.RetryCount == 0 {
		opt.RetryCount = 5
	}
	if opt.RetryDelay <= 0 {
		opt.RetryDelay = 5 * time.Minute
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.ChangeRetention <= 0 {
		opt.ChangeRetention = DefaultChangeRetention
	}
	if opt.PruneInterval <= 0 {
		opt.PruneInterval = time.Hour
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	d := &Deliverer{store: store, queue: queue, client: client, opt: opt}
	d.m = metrics{
		enqueued:  prometheus.NewCounter(prometheus.CounterOpts{Name: "webhook_notifications_enqueued_total", Help: "Webhook notification jobs queued."}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "webhook_notifications_delivered_total", Help: "Webhook notifications a receiver accepted."}),
		failed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "webhook_notifications_failed_total", Help: "Webhook delivery attempts that failed (each retry counts)."}),
		inFlight:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "webhook_deliveries_in_flight", Help: "Webhook notifications this server is sending now (waiting for the receiver's answer)."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "webhook_delivery_seconds",
			Help: "Time from a notification's queueing to its receiver accepting it.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
	}
	if opt.Registerer != nil {
		for _, c := range []prometheus.Collector{d.m.enqueued, d.m.delivered, d.m.failed, d.m.inFlight, d.m.latency} {
			if err := opt.Registerer.Register(c); err != nil {
				opt.Log.Warn("webhook metric not registered", "error", err)
			}
		}
	}
	return d
}

// job is a notification job's payload.
type job struct {
	ListID  string    `json:"listId"`
	SubID   string    `json:"subscriptionId"`
	Through int64     `json:"through"`
	At      time.Time `json:"at"`
}

// Run scans and delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		errc <- d.queue.Work(ctx, JobType, d.deliver, state.WorkerOptions{
			Concurrency: d.opt.Concurrency,
			MaxAttempts: d.opt.RetryCount + 1,
			Backoff:     func(int) time.Duration { return d.opt.RetryDelay },
			Visibility:  d.opt.Lease,
		})
	}()
	t := time.NewTicker(d.opt.PollInterval)
	defer t.Stop()
	prune := time.NewTicker(d.opt.PruneInterval)
	defer prune.Stop()
	for {
		if err := d.Scan(ctx); err != nil && ctx.Err() == nil {
			d.opt.Log.Warn("webhook scan failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return <-errc
		case <-t.C:
		case <-prune.C:
			if _, err := d.Prune(ctx); err != nil && ctx.Err() == nil {
				d.opt.Log.Warn("change log prune failed; the next one retries", "error", err)
			}
		}
	}
}

// Prune removes the changes older than ChangeRetention from every
// list's change log and reports how many went.
func (d *Deliverer) Prune(ctx context.Context) (int64, error) {
	var n int64
	err := d.store.Update(ctx, func(tx storage.Tx) (err error) {
		n, err = tx.Changes().Prune(ctx, d.opt.Now().Add(-d.opt.ChangeRetention))
		return err
	})
	return n, err
}

// Scan queues a notification for every subscription with news (at most
// scanPage a scan; the rest on the next).
func (d *Deliverer) Scan(ctx context.Context) error {
	var due []*storage.Subscription
	err := d.store.View(ctx, func(tx storage.Tx) (err error) {
		due, err = tx.Subscriptions().Due(ctx, d.opt.Now(), scanPage)
		return err
	})
	if err != nil {
		return err
	}
	for _, s := range due {
		payload, _ := json.Marshal(job{ListID: s.ListID, SubID: s.ID, Through: s.LastChange, At: d.opt.Now()})
		added, err := d.queue.Enqueue(ctx, JobType, fmt.Sprintf("%s:%d", s.ID, s.LastChange), payload)
		if err != nil {
			return err
		}
		if added {
			d.m.enqueued.Inc()
		}
	}
	return nil
}

// scanPage bounds one scan's read of subscriptions with news.
const scanPage = 500

// deliver is the worker's handler of one notification job.
func (d *Deliverer) deliver(ctx context.Context, j state.Job) error {
	var p job
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		d.opt.Log.Error("webhook job unreadable; dropped", "key", j.Key, "error", err)
		return nil
	}
	var sub *storage.Subscription
	var site *storage.Site
	err := d.store.View(ctx, func(tx storage.Tx) (err error) {
		if sub, err = tx.Subscriptions().Get(ctx, p.ListID, p.SubID); err != nil {
			return err
		}
		site, err = tx.Sites().Get(ctx, sub.SiteID)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil // unsubscribed, or the list is gone: nobody to tell
	}
	if err != nil {
		return err
	}
	if sub.NotifiedThrough >= p.Through || !sub.ExpirationDateTime.After(d.opt.Now()) {
		return nil // told already (a duplicate job), or expired
	}
	body, err := webhook.Encode(webhook.Notification{SubscriptionID: sub.ID, ClientState: sub.ClientState,
		ExpirationDateTime: sub.ExpirationDateTime, Resource: sub.ListID, TenantID: TenantID, SiteURL: site.URL, WebID: sub.WebID})
	if err != nil {
		return err
	}
	d.m.inFlight.Inc()
	_, err = d.client.Deliver(ctx, sub.NotificationURL, body)
	d.m.inFlight.Dec()
	if err != nil {
		d.m.failed.Inc()
		d.opt.Log.Info("webhook delivery failed", "subscription", sub.ID, "attempt", j.Attempt, "retryable", webhook.Retryable(err), "error", err)
		return err
	}
	d.m.delivered.Inc()
	d.m.latency.Observe(d.opt.Now().Sub(p.At).Seconds())
	return d.store.Update(ctx, func(tx storage.Tx) error {
		return tx.Subscriptions().MarkNotified(ctx, p.ListID, p.SubID, p.Through)
	})
}

// DeadLetters are the notifications that failed every retry.
func (d *Deliverer) DeadLetters(ctx context.Context) ([]state.DeadJob, error) {
	return d.queue.DeadLetters(ctx, JobType)
}
