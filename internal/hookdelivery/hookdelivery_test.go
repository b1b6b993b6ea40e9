package hookdelivery_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/hookdelivery"
	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/memstorage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// backends are the storage and queue pairs delivery runs on.
var backends = []struct {
	name string
	open func(t testing.TB) (storage.Store, state.Queue)
}{
	{"InMemory", func(t testing.TB) (storage.Store, state.Queue) {
		p, err := memstate.New(state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return memstorage.New(memstorage.Options{}), p.Queue
	}},
	{"PostgreSQL+Redis", func(t testing.TB) (storage.Store, state.Queue) {
		pool, err := pgxpool.New(context.Background(), testenv.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s, err := pgstorage.New(t.Context(), pool, pgstorage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		addr, db := testenv.RedisDB(t)
		p, err := redisstate.Open(context.Background(), addr+",defaultDatabase="+itoa(db), "", state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return s, p.Queue
	}},
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// receiver counts notifications; fail makes it answer 503 while true.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	fail   atomic.Bool
	hits   atomic.Int64 // every request, refused ones included
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if r.fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(req.Body)
		var v struct{ Value []map[string]any }
		if json.Unmarshal(b, &v) == nil {
			r.mu.Lock()
			r.bodies = append(r.bodies, v.Value...)
			r.mu.Unlock()
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

type env struct {
	t     testing.TB
	ctx   context.Context
	store storage.Store
	queue state.Queue
	list  *storage.List
}

func (e *env) add(n int) {
	e.t.Helper()
	for range n {
		err := e.store.Update(e.ctx, func(tx storage.Tx) error {
			_, err := tx.Items().Create(e.ctx, e.list.ID, storage.ItemInput{Values: map[string]odata.Value{"Title": odata.String("x")}, By: 1})
			return err
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) subscribe(url string) *storage.Subscription {
	e.t.Helper()
	var s *storage.Subscription
	err := e.store.Update(e.ctx, func(tx storage.Tx) (err error) {
		s, err = tx.Subscriptions().Create(e.ctx, storage.SubscriptionInput{ListID: e.list.ID, NotificationURL: url,
			ClientState: "state-1", ExpirationDateTime: time.Now().Add(time.Hour), CreatedBy: 1})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) notified(s *storage.Subscription) int64 {
	var got *storage.Subscription
	err := e.store.View(e.ctx, func(tx storage.Tx) (err error) {
		got, err = tx.Subscriptions().Get(e.ctx, e.list.ID, s.ID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return got.NotifiedThrough
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t testing.TB, store storage.Store, queue state.Queue, retries int) *hookdelivery.Deliverer {
	c, err := webhook.New(webhook.Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	d := hookdelivery.New(store, queue, c, hookdelivery.Options{PollInterval: 10 * time.Millisecond, RetryCount: retries,
		RetryDelay: 20 * time.Millisecond, Concurrency: 16})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func TestReceiversHearOfEveryChangeAtLeastOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store, queue := b.open(t)
			ctx := context.Background()
			e := &env{t: t, ctx: ctx, store: store, queue: queue}
			err := store.Update(ctx, func(tx storage.Tx) error {
				site, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/sites/hooks", Title: "Hooks"})
				if err != nil {
					return err
				}
				e.list, err = tx.Lists().Create(ctx, site.RootWebID, storage.ListInput{Title: "Tasks", BaseTemplate: 100})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			e.add(2) // before anyone subscribed: nobody hears of it
			up := newReceiver(t)
			down := newReceiver(t)
			down.fail.Store(true)
			never := newReceiver(t)
			never.fail.Store(true)
			subUp, subDown, subNever := e.subscribe(up.URL), e.subscribe(down.URL), e.subscribe(never.URL)
			d := start(t, store, queue, 3)

			e.add(10)
			waitFor(t, "the receiver told of all 12 changes", func() bool { return e.notified(subUp) == 12 })
			if up.count() == 0 {
				t.Fatal("the receiver got no notification")
			}
			up.mu.Lock()
			n := up.bodies[0]
			up.mu.Unlock()
			if n["subscriptionId"] != subUp.ID || n["clientState"] != "state-1" || n["resource"] != e.list.ID || n["siteUrl"] != "/sites/hooks" || n["webId"] != e.list.WebID {
				t.Errorf("notification %v", n)
			}

			// A receiver that comes back within the retries hears of it.
			waitFor(t, "the failing receiver tried twice", func() bool { return down.hits.Load() >= 2 })
			if got := e.notified(subDown); got != 2 {
				t.Fatalf("a receiver that refused was marked told through %d", got)
			}
			down.fail.Store(false)
			waitFor(t, "the receiver that came back told", func() bool { return e.notified(subDown) == 12 })

			// One that never comes back ends in the dead letters, and is
			// not told.
			waitFor(t, "a dead letter for the receiver that never answers", func() bool {
				dead, err := d.DeadLetters(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, j := range dead {
					var p struct{ SubscriptionID string }
					_ = json.Unmarshal(j.Payload, &p)
					if p.SubscriptionID == subNever.ID {
						return true
					}
				}
				return false
			})
			if got := e.notified(subNever); got != 2 {
				t.Errorf("the dead receiver's position moved to %d", got)
			}

			// A later change is a new notification, for everyone.
			before := up.count()
			e.add(1)
			waitFor(t, "the next change told", func() bool { return e.notified(subUp) == 13 && up.count() > before })
		})
	}
}

func TestPruneKeepsTheRetentionWindow(t *testing.T) {
	store := memstorage.New(memstorage.Options{})
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, store: store}
	err := store.Update(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/", Title: "Root"})
		if err != nil {
			return err
		}
		e.list, err = tx.Lists().Create(ctx, site.RootWebID, storage.ListInput{Title: "Tasks", BaseTemplate: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.add(3)
	now := time.Now()
	keep := hookdelivery.New(store, nil, nil, hookdelivery.Options{Now: func() time.Time { return now }})
	if n, err := keep.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("within 60 days: pruned %d, %v", n, err)
	}
	later := hookdelivery.New(store, nil, nil, hookdelivery.Options{Now: func() time.Time { return now.Add(61 * 24 * time.Hour) }})
	if n, err := later.Prune(ctx); err != nil || n != 3 {
		t.Fatalf("61 days on: pruned %d, %v; want 3", n, err)
	}
}
