package sharepoint_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/webhook"
)

// webhookReceivers is the webhook client as the server wires it.
type webhookReceivers struct{ c *webhook.Client }

func (r webhookReceivers) CheckURL(raw string) error {
	_, err := webhook.CheckURL(raw)
	return err
}

func (r webhookReceivers) Validate(ctx context.Context, u string) error { return r.c.Validate(ctx, u) }

// receiver is a webhook receiver on loopback; echo says whether it
// answers the validation handshake.
type receiver struct {
	*httptest.Server
	calls atomic.Int64
}

func newReceiver(t *testing.T, echo bool) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.calls.Add(1)
		if tok := req.URL.Query().Get("validationtoken"); tok != "" && echo {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, tok)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
	}))
	t.Cleanup(r.Close)
	return r
}

func withReceivers(t *testing.T, a *api, allowPrivate bool) {
	c, err := webhook.New(webhook.Options{AllowPrivate: allowPrivate, ValidationTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a.handler.Receivers = webhookReceivers{c}
}

func TestListWebhookSubscriptions(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		withReceivers(t, a, true)
		a.signIn("")
		newList(t, a, "", "Tasks")
		subs := "/_api/web/lists/getByTitle('Tasks')/subscriptions"
		good := newReceiver(t, true)
		expiry := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
		body := func(u, exp string) map[string]any {
			return map[string]any{"resource": "Tasks", "notificationUrl": u, "expirationDateTime": exp, "clientState": "s3cret"}
		}

		created := a.req("POST", subs, body(good.URL+"/hook?code=x", expiry)).must(t, 201)
		id, _ := created.json["id"].(string)
		if id == "" || created.json["notificationUrl"] != good.URL+"/hook?code=x" || created.json["clientState"] != "s3cret" {
			t.Fatalf("created: %s", created.body)
		}
		if good.calls.Load() != 1 {
			t.Errorf("the receiver was called %d times for the handshake, want 1", good.calls.Load())
		}
		if n := len(a.req("GET", subs, nil).must(t, 200).values(t)); n != 1 {
			t.Errorf("%d subscriptions listed", n)
		}
		one := subs + "('" + id + "')"
		later := time.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339)
		a.req("PATCH", one, map[string]any{"expirationDateTime": later}).must(t, 204)
		if got := a.req("GET", one, nil).must(t, 200).json["expirationDateTime"]; got != later {
			t.Errorf("renewed expiry %v, want %s", got, later)
		}

		// Refused: nothing stored, and the receiver that fails the
		// handshake, or may not be called at all, gets no subscription.
		bad := newReceiver(t, false)
		for name, b := range map[string]map[string]any{
			"a receiver that does not echo the token": body(bad.URL, expiry),
			"an ftp URL":              body("ftp://example.com/hook", expiry),
			"credentials in the URL":  body("http://u:p@example.com/hook", expiry),
			"an expiry past 180 days": body(good.URL, time.Now().Add(200*24*time.Hour).UTC().Format(time.RFC3339)),
			"an expiry in the past":   body(good.URL, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)),
			"no expiry":               {"notificationUrl": good.URL},
			"a date that is no date":  body(good.URL, "next tuesday"),
			"an unknown member":       {"notificationUrl": good.URL, "expirationDateTime": expiry, "colour": "red"},
		} {
			if r := a.req("POST", subs, b); r.status != 400 {
				t.Errorf("%s: %d %s, want 400", name, r.status, r.body)
			}
		}
		if n := len(a.req("GET", subs, nil).must(t, 200).values(t)); n != 1 {
			t.Errorf("after refusals %d subscriptions, want 1", n)
		}

		// Who may: a visitor subscribes, and may not delete another's;
		// someone without rights makes the server call nobody.
		a.joinGroup(t, "bob@example.com", "Cesivi Visitors")
		a.as("bob-subject", "bob@example.com")
		bobs := a.req("POST", subs, body(good.URL, expiry)).must(t, 201).json["id"].(string)
		if r := a.req("DELETE", one, nil); r.status != 403 {
			t.Errorf("bob deleting alice's subscription: %d", r.status)
		}
		a.req("DELETE", subs+"('"+bobs+"')", nil).must(t, 204)
		before := good.calls.Load()
		a.as("carol-subject", "carol@example.com")
		if r := a.req("POST", subs, body(good.URL, expiry)); r.status != 403 {
			t.Errorf("carol, without rights, subscribing: %d", r.status)
		}
		if good.calls.Load() != before {
			t.Error("a refused subscriber made the server call the receiver")
		}

		a.as("alice-subject", "alice@example.com")
		a.req("DELETE", one, nil).must(t, 204)
		if r := a.req("GET", one, nil); r.status != 404 {
			t.Errorf("a deleted subscription: %d", r.status)
		}

		// Without private networks allowed, a loopback receiver is refused
		// before any call.
		withReceivers(t, a, false)
		before = good.calls.Load()
		if r := a.req("POST", subs, body(good.URL, expiry)); r.status != 400 {
			t.Errorf("a loopback receiver under the farm policy: %d %s", r.status, r.body)
		}
		if good.calls.Load() != before {
			t.Error("a refused address was called")
		}
	})
}
