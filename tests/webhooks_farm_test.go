package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/tests/farm"
)

// hookReceiver is a webhook receiver on loopback: it answers the
// validation handshake and records when each notification came. After
// holdFirst, it holds the next notification open instead.
type hookReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	times []time.Time
	subs  map[string]int

	holdNext   atomic.Bool   // hold the next notification
	held       chan struct{} // closed once one is held
	hold       chan struct{} // closed by release
	releaseOne sync.Once
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{subs: map[string]int{}, held: make(chan struct{}), hold: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok := req.URL.Query().Get("validationtoken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		var body struct {
			Value []struct {
				SubscriptionID string `json:"subscriptionId"`
			} `json:"value"`
		}
		b, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(b, &body); err != nil || len(body.Value) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if r.holdNext.CompareAndSwap(true, false) {
			// Never accepted: its sender is to die holding it.
			close(r.held)
			select {
			case <-r.hold:
			case <-req.Context().Done():
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		for _, v := range body.Value {
			r.subs[v.SubscriptionID]++
		}
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	t.Cleanup(r.release) // first: Close waits for a held handler
	return r
}

// holdFirst makes the receiver hold its next notification open, never
// accepting it, until release; the returned channel is closed once it
// holds one.
func (r *hookReceiver) holdFirst() <-chan struct{} {
	r.holdNext.Store(true)
	return r.held
}

func (r *hookReceiver) release() { r.releaseOne.Do(func() { close(r.hold) }) }

// heardAfter reports whether a notification came after at.
func (r *hookReceiver) heardAfter(at time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times) > 0 && r.times[len(r.times)-1].After(at)
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times)
}

// webhookLease is the farm's Cesivi:Webhooks:DeliveryLease: how long a
// notification whose sender died waits for another server.
const webhookLease = 3 * time.Second

// TestListWebhooksThroughTheFarm subscribes a loopback receiver through
// an edge, changes the list through every server, and checks that the
// receiver hears of it, that GetChanges returns every change, and that
// a notification is delivered even when the server that accepted the
// change is killed (SIGKILL) right after it answered, and when the
// server delivering it is killed mid-delivery.
func TestListWebhooksThroughTheFarm(t *testing.T) {
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL,
		ServerEnv: []string{"Cesivi__Webhooks__DeliveryLease=" + webhookLease.String()}})
	c := newAPIClient(t, f)
	list := createList(t, c, f.Edges[0], "Hooked")
	killed := map[int]bool{} // servers the subtests killed

	t.Run("every change over three servers is heard and listed", func(t *testing.T) {
		rcv := newHookReceiver(t)
		created := subscribe(t, c, f.Edges[1], list, rcv, "farm")
		const changes = 100
		servers := map[string]int{}
		var last time.Time
		start := time.Now()
		for i := range changes {
			r := c.must(t, http.StatusCreated, http.MethodPost, f.Edges[i%len(f.Edges)]+list+"/items", map[string]any{"Title": fmt.Sprint("change ", i)})
			servers[r.Server]++
			last = time.Now()
		}
		if len(servers) != len(f.Servers) {
			t.Errorf("the changes went to %v; want every server", servers)
		}
		waitFor(t, time.Minute, "a notification after the last change", func() bool { return rcv.heardAfter(last) })
		t.Logf("%d changes through %v in %v; %d notifications; the last came %v after the last change",
			changes, servers, last.Sub(start).Round(time.Millisecond), rcv.count(), time.Since(last).Round(time.Millisecond))
		rcv.mu.Lock()
		n := rcv.subs[created]
		rcv.mu.Unlock()
		if n == 0 {
			t.Errorf("no notification named the subscription %s", created)
		}

		var page struct {
			Value []struct {
				ChangeType int
				ItemID     int `json:"ItemId"`
			} `json:"value"`
		}
		decodeJSON(t, c.must(t, http.StatusOK, http.MethodPost, f.Edges[0]+list+"/GetChanges",
			map[string]any{"query": map[string]any{"Add": true, "Item": true}}), &page)
		if len(page.Value) != changes {
			t.Errorf("GetChanges returned %d changes; want %d", len(page.Value), changes)
		}
	})

	t.Run("the server that accepted a change is killed right after answering", func(t *testing.T) {
		// The others deliver its notification. A receiver subscribed now
		// hears only of changes after it subscribed: what it hears is this
		// one.
		late := newHookReceiver(t)
		subscribe(t, c, f.Edges[1], list, late, "")
		r := c.must(t, http.StatusCreated, http.MethodPost, f.Edges[0]+list+"/items", map[string]any{"Title": "last words"})
		at := time.Now()
		idx := serverIndex(t, f, r.Server)
		if err := f.KillServer(idx); err != nil {
			t.Fatal(err)
		}
		killed[idx] = true
		waitFor(t, time.Minute, "the notification of a change whose server was killed", func() bool { return late.heardAfter(at) })
		t.Logf("%s killed after accepting a change; its notification came %v later", r.Server, time.Since(at).Round(time.Millisecond))
	})

	t.Run("the server delivering a notification is killed mid-delivery", func(t *testing.T) {
		// A list of its own, so the held notification is the only one due.
		// The receiver holds it open; the server whose request it holds is
		// killed; another takes the job over once the lease lapses.
		list := createList(t, c, f.Edges[0], "Hooked while delivering")
		rcv := newHookReceiver(t)
		held := rcv.holdFirst()
		created := subscribe(t, c, f.Edges[1], list, rcv, "held")
		c.must(t, http.StatusCreated, http.MethodPost, f.Edges[0]+list+"/items", map[string]any{"Title": "told once it is over"})
		select {
		case <-held:
		case <-time.After(time.Minute):
			t.Fatal("no notification came to hold")
		}
		var sender int
		waitFor(t, 5*time.Second, "one server sending the held notification (webhook_deliveries_in_flight)", func() bool {
			sending := []int{}
			for i := range f.Servers {
				if !killed[i] && serverMetric(f, i, "webhook_deliveries_in_flight") > 0 {
					sending = append(sending, i)
				}
			}
			if len(sending) == 1 {
				sender = sending[0]
			}
			return len(sending) == 1
		})
		if rcv.count() != 0 {
			t.Fatalf("the held notification was delivered while its sender lived (a lease of %v lapsed under load?)", webhookLease)
		}
		deliveredBefore := 0.0
		for i := range f.Servers {
			if !killed[i] && i != sender {
				deliveredBefore += serverMetric(f, i, "webhook_notifications_delivered_total")
			}
		}
		if err := f.KillServer(sender); err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		killed[sender] = true
		rcv.release()
		// The lease lapses at most webhookLease after the kill (less the
		// time since the last renewal); a retry would wait 5 minutes.
		waitFor(t, webhookLease+15*time.Second, "the notification whose sender was killed mid-delivery", func() bool {
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			return rcv.subs[created] > 0
		})
		took := time.Since(at)
		waitFor(t, 5*time.Second, "a surviving server counting the delivery", func() bool {
			after := 0.0
			for i := range f.Servers {
				if !killed[i] {
					after += serverMetric(f, i, "webhook_notifications_delivered_total")
				}
			}
			return after > deliveredBefore
		})
		t.Logf("server-%d killed holding a delivery; another server delivered it %v later (lease %v)", sender+1, took.Round(time.Millisecond), webhookLease)
	})
}

// subscribe subscribes rcv to list through edge and returns the
// subscription's id.
func subscribe(t *testing.T, c *apiClient, edge, list string, rcv *hookReceiver, clientState string) string {
	t.Helper()
	body := map[string]any{"resource": list, "notificationUrl": rcv.URL + "/hook",
		"expirationDateTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
	if clientState != "" {
		body["clientState"] = clientState
	}
	var created struct {
		ID string `json:"id"`
	}
	decodeJSON(t, c.must(t, http.StatusCreated, http.MethodPost, edge+list+"/subscriptions", body), &created)
	return created.ID
}

// serverIndex is the 0-based index of the server an answer named.
func serverIndex(t *testing.T, f *farm.Farm, server string) int {
	t.Helper()
	for i := range f.Servers {
		if server == fmt.Sprintf("server-%d", i+1) {
			return i
		}
	}
	t.Fatalf("no server id on the answer: %q", server)
	return -1
}

// serverMetric is the value of an unlabelled metric on server i; 0 if the
// server does not answer or has no such metric.
func serverMetric(f *farm.Farm, i int, name string) float64 {
	resp, err := client.Get(f.Servers[i] + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return n
		}
	}
	return 0
}
