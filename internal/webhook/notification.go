package webhook

import (
	"bytes"
	"encoding/json"
	"time"
)

// Notification is one entry of SharePoint's notification body: it tells the
// receiver that something changed on a subscribed list, not what (the
// receiver asks GetChanges).
type Notification struct {
	SubscriptionID     string
	ClientState        string // empty: sent as null
	ExpirationDateTime time.Time
	Resource           string // the list id
	TenantID           string
	SiteURL            string // server-relative, "/" for the root site
	WebID              string
}

// ExpirationFormat is how SharePoint writes a notification's
// expirationDateTime: RFC 3339 in UTC with Z and seven fractional digits
// (.NET's round-trip format), e.g. 2016-04-30T17:27:00.0000000Z.
const ExpirationFormat = "2006-01-02T15:04:05.0000000Z"

type wireNotification struct {
	SubscriptionID     string  `json:"subscriptionId"`
	ClientState        *string `json:"clientState"`
	ExpirationDateTime string  `json:"expirationDateTime"`
	Resource           string  `json:"resource"`
	TenantID           string  `json:"tenantId"`
	SiteURL            string  `json:"siteUrl"`
	WebID              string  `json:"webId"`
}

// Encode returns the body of one delivery: the notifications batched as
// SharePoint does, {"value":[{…},…]}, fields in SharePoint's order, no HTML
// escaping and no trailing newline.
func Encode(ns ...Notification) ([]byte, error) {
	w := struct {
		Value []wireNotification `json:"value"`
	}{Value: make([]wireNotification, 0, len(ns))}
	for _, n := range ns {
		wn := wireNotification{
			SubscriptionID:     n.SubscriptionID,
			ExpirationDateTime: n.ExpirationDateTime.UTC().Format(ExpirationFormat),
			Resource:           n.Resource,
			TenantID:           n.TenantID,
			SiteURL:            n.SiteURL,
			WebID:              n.WebID,
		}
		if n.ClientState != "" {
			cs := n.ClientState
			wn.ClientState = &cs
		}
		w.Value = append(w.Value, wn)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
