package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/tests/farm"
)

// hookReceiver is a webhook receiver on loopback: it answers the
// validation handshake and records when each notification came.
type hookReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	times []time.Time
	subs  map[string]int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{subs: map[string]int{}}
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
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		for _, v := range body.Value {
			r.subs[v.SubscriptionID]++
		}
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

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

// TestListWebhooksThroughTheFarm subscribes a loopback receiver through
// an edge, changes the list through every server, and checks that the
// receiver hears of it, that GetChanges returns every change, and that
// a notification is delivered even when the server that accepted the
// change is killed (SIGKILL) right after it answered.
func TestListWebhooksThroughTheFarm(t *testing.T) {
	f := startFarm(t, farm.Options{Storage: farm.StoragePostgreSQL})
	c := newAPIClient(t, f)
	list := createList(t, c, f.Edges[0], "Hooked")
	rcv := newHookReceiver(t)
	sub := c.must(t, http.StatusCreated, http.MethodPost, f.Edges[1]+list+"/subscriptions", map[string]any{
		"resource": list, "notificationUrl": rcv.URL + "/hook", "clientState": "farm",
		"expirationDateTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})
	var created struct {
		ID string `json:"id"`
	}
	decodeJSON(t, sub, &created)

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

	// Kill the server that accepted a change right after it answered: the
	// others deliver its notification. A second receiver, subscribed now,
	// hears only of changes after it subscribed: what it hears is this one.
	late := newHookReceiver(t)
	c.must(t, http.StatusCreated, http.MethodPost, f.Edges[1]+list+"/subscriptions", map[string]any{
		"resource": list, "notificationUrl": late.URL + "/hook",
		"expirationDateTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})
	r := c.must(t, http.StatusCreated, http.MethodPost, f.Edges[0]+list+"/items", map[string]any{"Title": "last words"})
	at := time.Now()
	idx := -1
	for i := range f.Servers {
		if r.Server == fmt.Sprintf("server-%d", i+1) {
			idx = i
		}
	}
	if idx < 0 || !strings.HasPrefix(r.Server, "server-") {
		t.Fatalf("no server id on the answer: %v", r)
	}
	if err := f.KillServer(idx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the notification of a change whose server was killed", func() bool { return late.heardAfter(at) })
	t.Logf("%s killed after accepting a change; its notification came %v later", r.Server, time.Since(at).Round(time.Millisecond))
	rcv.mu.Lock()
	n := rcv.subs[created.ID]
	rcv.mu.Unlock()
	if n == 0 {
		t.Errorf("no notification named the subscription %s", created.ID)
	}
}
