package hookdelivery_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
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
// subscriptions on a loopback receiver; each iteration is one change and
// waits until every receiver was told of it. It reports deliveries per
// second and the latency from the change's commit to each receiver's
// notification (p50, p99). The deliverer has a server's defaults (8
// deliveries at once, the pool a connection string without a size gets)
// except the scanner's poll, every 10 ms instead of 1 s (which adds up to
// a second to the latency). With one subscription the rate is bound by
// the poll, not by delivery: read it as a latency.
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

func benchDeliveries(b *testing.B, store storage.Store, queue state.Queue, subs int) {
	ctx := context.Background()
	var mu sync.Mutex
	var changedAt time.Time
	var lat []time.Duration
	got := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lat = append(lat, time.Since(changedAt))
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
			if _, err := tx.Subscriptions().Create(ctx, storage.SubscriptionInput{ListID: list.ID, NotificationURL: fmt.Sprintf("%s/%d", rcv.URL, i),
				ExpirationDateTime: time.Now().Add(time.Hour), CreatedBy: 1}); err != nil {
				return err
			}
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
	d := hookdelivery.New(store, queue, c, hookdelivery.Options{PollInterval: 10 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(runCtx) }()
	b.Cleanup(func() { cancel(); <-done })

	e := &env{t: b, ctx: ctx, store: store, list: list}
	start := time.Now()
	rounds := 0
	for b.Loop() {
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
		rounds++
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	b.ReportMetric(float64(rounds*subs)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
