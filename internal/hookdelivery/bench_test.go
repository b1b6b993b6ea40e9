package hookdelivery_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/hookdelivery"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/webhook"
)

// BenchmarkDeliveries measures one server delivering, on each backend
// pair (in memory; PostgreSQL and Redis): one list with 1 or 100
// subscriptions on a loopback receiver; each iteration is one change,
// made at a random point of the scanner's poll, and waits until every
// receiver was told of it. It reports
//
//   - deliveries/s: notifications per second while there is work (from
//     each change to its last notification);
//   - change-p50-ms, change-p99-ms: from the change's commit to each
//     receiver's notification, the scanner's poll included;
//   - queued-p50-ms, queued-p99-ms: from the notification's queueing to
//     the receiver, the queue and the delivery alone.
//
// The deliverer has a server's defaults (8 deliveries at once; the pool a
// connection string without a size gets) except the poll, every 10 ms
// instead of 1 s (which adds up to a second to the change latency).
func BenchmarkDeliveries(b *testing.B) {
	for _, be := range backends {
		for _, subs := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/subscriptions=%d", be.name, subs), func(b *testing.B) {
				store, queue := be.open(b)
				benchDeliveries(b, store, queue, subs)
			})
		}
	}
}

const benchPoll = 10 * time.Millisecond

func benchDeliveries(b *testing.B, store storage.Store, queue state.Queue, subs int) {
	ctx := context.Background()
	tq := &timedQueue{Queue: queue, at: map[string]time.Time{}}
	var mu sync.Mutex
	var changedAt time.Time
	var changeLat, queuedLat []time.Duration
	var ids []string // subscription ids by receiver path
	got := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		queued := tq.queuedAt(ids[i])
		mu.Lock()
		changeLat = append(changeLat, now.Sub(changedAt))
		queuedLat = append(queuedLat, now.Sub(queued))
		got++
		mu.Unlock()
	}))
	b.Cleanup(rcv.Close)
	var list *storage.List
	err := store.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/", Title: "Root"})
		if err != nil {
			return err
		}
		if list, err = tx.Lists().Create(ctx, site.RootWebID, storage.ListInput{Title: "Tasks", BaseTemplate: 100}); err != nil {
			return err
		}
		for i := range subs {
			s, err := tx.Subscriptions().Create(ctx, storage.SubscriptionInput{ListID: list.ID, NotificationURL: fmt.Sprintf("%s/%d", rcv.URL, i),
				ExpirationDateTime: time.Now().Add(time.Hour), CreatedBy: 1})
			if err != nil {
				return err
			}
			ids = append(ids, s.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := webhook.New(webhook.Options{AllowPrivate: true})
	if err != nil {
		b.Fatal(err)
	}
	d := hookdelivery.New(store, tq, c, hookdelivery.Options{PollInterval: benchPoll})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(runCtx) }()
	b.Cleanup(func() { cancel(); <-done })

	e := &env{t: b, ctx: ctx, store: store, list: list}
	var busy time.Duration
	rounds := 0
	for b.Loop() {
		// A change comes at any point of the poll, not just after a scan
		// (where the previous round's last delivery leaves it).
		time.Sleep(rand.N(benchPoll))
		mu.Lock()
		got = 0
		changedAt = time.Now()
		mu.Unlock()
		e.add(1)
		for {
			mu.Lock()
			n := got
			mu.Unlock()
			if n >= subs {
				break
			}
			time.Sleep(time.Millisecond)
		}
		busy += time.Since(changedAt)
		rounds++
	}
	mu.Lock()
	defer mu.Unlock()
	pct := func(lat []time.Duration, p int) float64 {
		slices.Sort(lat)
		return float64(lat[len(lat)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(float64(rounds*subs)/busy.Seconds(), "deliveries/s")
	b.ReportMetric(pct(changeLat, 50), "change-p50-ms")
	b.ReportMetric(pct(changeLat, 99), "change-p99-ms")
	b.ReportMetric(pct(queuedLat, 50), "queued-p50-ms")
	b.ReportMetric(pct(queuedLat, 99), "queued-p99-ms")
	b.ReportMetric(0, "ns/op") // the sleeps between changes: meaningless
}

// timedQueue notes when each subscription's latest notification was
// queued (a job key is "<subscription>:<change>").
type timedQueue struct {
	state.Queue
	mu sync.Mutex
	at map[string]time.Time
}

func (q *timedQueue) Enqueue(ctx context.Context, jobType, key string, payload []byte) (bool, error) {
	at := time.Now()
	added, err := q.Queue.Enqueue(ctx, jobType, key, payload)
	if added {
		sub := key[:strings.LastIndexByte(key, ':')]
		q.mu.Lock()
		q.at[sub] = at
		q.mu.Unlock()
	}
	return added, err
}

func (q *timedQueue) queuedAt(sub string) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.at[sub]
}
