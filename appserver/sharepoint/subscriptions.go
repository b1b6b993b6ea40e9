package sharepoint

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// List webhooks, as SharePoint's REST API has them:
//
//	POST   list/subscriptions        {"resource","notificationUrl","expirationDateTime","clientState"}
//	GET    list/subscriptions
//	GET    list/subscriptions('id')
//	PATCH  list/subscriptions('id')  {"expirationDateTime", "notificationUrl", "clientState"}
//	DELETE list/subscriptions('id')
//
// A new notification URL (on create, or changed by PATCH) must pass
// SharePoint's validation handshake before anything is stored: Cesivi
// POSTs ?validationtoken=<token> to it and the receiver echoes the
// token. The handshake runs before the request's transaction (it may
// take seconds), after a read-only check that the caller may see the
// list, so nobody makes the server call out on a list they cannot see.

// Receivers check and validate webhook notification URLs; the webhook
// package's Client implements it.
type Receivers interface {
	// CheckURL refuses a URL that is not an http(s) URL a receiver may
	// have (with a message for the client).
	CheckURL(raw string) error
	// Validate runs the validation handshake with the receiver.
	Validate(ctx context.Context, notificationURL string) error
}

const subscriptionType = "Microsoft.SharePoint.Webhooks.Subscription"

// subscriptionBody is what a POST or PATCH of a subscription sends.
type subscriptionBody struct {
	notificationURL *string
	clientState     *string
	expiration      *time.Time
}

// readSubscriptionBody reads the call's body as a subscription.
func (c *call) readSubscriptionBody() (*subscriptionBody, error) {
	m, err := c.object(subscriptionType)
	if err != nil {
		return nil, err
	}
	if err := onlyKnown(m, subscriptionType, "resource", "notificationUrl", "expirationDateTime", "clientState", "resourceData"); err != nil {
		return nil, err
	}
	var b subscriptionBody
	if b.notificationURL, err = propString(m, "notificationUrl", subscriptionType); err != nil {
		return nil, err
	}
	if b.clientState, err = propString(m, "clientState", subscriptionType); err != nil {
		return nil, err
	}
	exp, err := propString(m, "expirationDateTime", subscriptionType)
	if err != nil {
		return nil, err
	}
	if exp != nil {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*exp))
		if err != nil {
			return nil, odata.InvalidQuery("expirationDateTime must be a date and time such as 2026-12-31T00:00:00Z.")
		}
		t = t.UTC()
		b.expiration = &t
	}
	return &b, nil
}

// subscriptionCall reports whether the call creates a subscription or
// changes one's URL: the calls that need the handshake first.
func (c *call) subscriptionCall() bool {
	rest, onList := c.listAfter()
	if !onList || len(rest) != 1 || !rest[0].Is("subscriptions") {
		return false
	}
	return (c.method == http.MethodPost && !rest[0].Call) || (c.isUpdate() && rest[0].Call)
}

// validateReceiver runs before the transaction of a subscription call:
// the caller must see the list (a read of its own), the URL must pass
// the address policy and the handshake. Anything else in the body is
// checked again, with the rest, when the call runs.
func (h *Handler) validateReceiver(c *call) error {
	b, err := c.readSubscriptionBody()
	if err != nil {
		return err
	}
	if b.notificationURL == nil {
		if c.method == http.MethodPost {
			return odata.InvalidQuery("A subscription needs its notificationUrl.")
		}
		return nil // a PATCH that keeps the URL
	}
	if h.Receivers == nil {
		return odata.NewError(http.StatusServiceUnavailable, odata.CodeInvalidQuery, "Webhooks are not available on this server.")
	}
	err = h.Store.View(c.ctx, func(tx storage.Tx) error {
		c.tx = tx
		defer func() { c.tx, c.acc = nil, nil }()
		if err := c.resolveWeb(); err != nil {
			return err
		}
		return c.authorize()
	})
	if err != nil {
		return err
	}
	if err := h.Receivers.CheckURL(*b.notificationURL); err != nil {
		return odata.InvalidQuery("The notificationUrl is refused: " + err.Error())
	}
	if err := h.Receivers.Validate(c.ctx, *b.notificationURL); err != nil {
		return odata.NewError(http.StatusBadRequest, "-1, System.InvalidOperationException",
			"Failed to validate the notification URL: "+err.Error())
	}
	return nil
}

// subscriptionsResource serves list/subscriptions and what is below it.
func (c *call) subscriptionsResource(l *storage.List, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	if !seg.Call {
		return c.serveLeaf(leaf{
			get: func() (*response, error) {
				subs, err := c.tx.Subscriptions().List(c.ctx, l.ID)
				if err != nil {
					return nil, err
				}
				ents := make([]*odata.Entity, len(subs))
				for i, s := range subs {
					ents[i] = c.subscriptionEntity(s)
				}
				return c.collection(ents, "SP.ApiData.Subscriptions", ""), nil
			},
			post: func() (*response, error) { return c.addSubscription(l) },
		})
	}
	v, ok := seg.Single()
	id, okID := canonicalID(v)
	if !ok || !okID {
		return nil, odata.InvalidQuery("subscriptions('…') takes the subscription's id, a guid.")
	}
	s, err := c.tx.Subscriptions().Get(c.ctx, l.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, odata.NewError(http.StatusNotFound, "-1, Microsoft.SharePoint.Client.ResourceNotFoundException",
			"The subscription does not exist.")
	}
	if err != nil {
		return nil, err
	}
	return c.serveLeaf(leaf{
		get: func() (*response, error) {
			return c.entity(c.subscriptionEntity(s), "SP.ApiData.Subscriptions/@Element"), nil
		},
		update: func() (*response, error) { return c.updateSubscription(l, s) },
		del: func() (*response, error) {
			if err := c.mayChangeSubscription(l, s); err != nil {
				return nil, err
			}
			if err := c.tx.Subscriptions().Delete(c.ctx, l.ID, s.ID); err != nil {
				return nil, err
			}
			return noContent(""), nil
		},
	})
}

func (c *call) addSubscription(l *storage.List) (*response, error) {
	b, err := c.readSubscriptionBody()
	if err != nil {
		return nil, err
	}
	if b.notificationURL == nil || b.expiration == nil {
		return nil, odata.InvalidQuery("A subscription needs its notificationUrl and expirationDateTime.")
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	in := storage.SubscriptionInput{ListID: l.ID, NotificationURL: *b.notificationURL, ExpirationDateTime: *b.expiration, CreatedBy: u.ID}
	if b.clientState != nil {
		in.ClientState = *b.clientState
	}
	s, err := c.tx.Subscriptions().Create(c.ctx, in)
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusCreated, header: http.Header{},
		body: c.enc.Entity(c.subscriptionEntity(s), "SP.ApiData.Subscriptions/@Element"), format: c.format}, nil
}

func (c *call) updateSubscription(l *storage.List, s *storage.Subscription) (*response, error) {
	if err := c.mayChangeSubscription(l, s); err != nil {
		return nil, err
	}
	b, err := c.readSubscriptionBody()
	if err != nil {
		return nil, err
	}
	upd := storage.SubscriptionUpdate{ExpirationDateTime: b.expiration, NotificationURL: b.notificationURL, ClientState: b.clientState}
	if _, err := c.tx.Subscriptions().Update(c.ctx, l.ID, s.ID, upd); err != nil {
		return nil, err
	}
	return noContent(""), nil
}

// mayChangeSubscription lets a subscription's creator, or whoever may
// manage the list, change or delete it.
func (c *call) mayChangeSubscription(l *storage.List, s *storage.Subscription) error {
	a, err := c.access()
	if err != nil || a.admin || a.mask(l.ScopeID).Has(permissions.ManageLists) {
		return err
	}
	u, err := c.currentUser()
	if err != nil {
		return err
	}
	if u.ID != s.CreatedBy {
		return denied(permissions.ManageLists)
	}
	return nil
}

// subscriptionEntity is a subscription as SharePoint answers it (its
// members in camel case).
func (c *call) subscriptionEntity(s *storage.Subscription) *odata.Entity {
	var state any
	if s.ClientState != "" {
		state = s.ClientState
	}
	return &odata.Entity{Type: subscriptionType, Props: []odata.Prop{
		{Name: "clientState", Value: state},
		{Name: "expirationDateTime", Value: s.ExpirationDateTime.UTC()},
		{Name: "id", Value: s.ID},
		{Name: "notificationUrl", Value: s.NotificationURL},
		{Name: "resource", Value: s.Resource},
		{Name: "resourceData", Value: nil},
	}}
}
