package webhook

import (
	"encoding/json"
	"testing"
	"time"
)

// The example body of SharePoint's webhook documentation.
const sharePointExample = `{"value":[{"subscriptionId":"91779246-afe9-4525-b122-6c199ae89211","clientState":"00000000-0000-0000-0000-000000000000","expirationDateTime":"2016-04-30T17:27:00.0000000Z","resource":"b9f6f714-9df8-470b-b22e-653855e1c181","tenantId":"00000000-0000-0000-0000-000000000000","siteUrl":"/","webId":"dbc5a806-e4d4-46e5-951c-6344d70b62fa"}]}`

func TestEncodeMatchesSharePoint(t *testing.T) {
	// Given in another zone: encoded in UTC with Z.
	exp := time.Date(2016, 4, 30, 19, 27, 0, 0, time.FixedZone("CEST", 2*3600))
	got, err := Encode(Notification{
		SubscriptionID:     "91779246-afe9-4525-b122-6c199ae89211",
		ClientState:        "00000000-0000-0000-0000-000000000000",
		ExpirationDateTime: exp,
		Resource:           "b9f6f714-9df8-470b-b22e-653855e1c181",
		TenantID:           "00000000-0000-0000-0000-000000000000",
		SiteURL:            "/",
		WebID:              "dbc5a806-e4d4-46e5-951c-6344d70b62fa",
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != sharePointExample {
		t.Errorf("got\n%s\nwant\n%s", got, sharePointExample)
	}
}

func TestEncodeBatchesAndEscapes(t *testing.T) {
	exp := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	got, err := Encode(
		Notification{SubscriptionID: "a", ClientState: `<x&"y">`, ExpirationDateTime: exp, Resource: "l1", TenantID: "t", SiteURL: "/sites/dev", WebID: "w"},
		Notification{SubscriptionID: "b", ExpirationDateTime: exp, Resource: "l2", TenantID: "t", SiteURL: "/sites/dev", WebID: "w"},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"value":[` +
		`{"subscriptionId":"a","clientState":"<x&\"y\">","expirationDateTime":"2026-12-02T10:00:00.1234567Z","resource":"l1","tenantId":"t","siteUrl":"/sites/dev","webId":"w"},` +
		`{"subscriptionId":"b","clientState":null,"expirationDateTime":"2026-12-02T10:00:00.1234567Z","resource":"l2","tenantId":"t","siteUrl":"/sites/dev","webId":"w"}]}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var back struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(got, &back); err != nil || len(back.Value) != 2 {
		t.Fatalf("%v, %d notifications", err, len(back.Value))
	}
	if ts, err := time.Parse(time.RFC3339Nano, back.Value[0]["expirationDateTime"].(string)); err != nil || !ts.Equal(exp.Truncate(100*time.Nanosecond)) {
		t.Errorf("expirationDateTime reads back as %v (%v)", ts, err)
	}
	if empty, _ := Encode(); string(empty) != `{"value":[]}` {
		t.Errorf("no notifications: %s", empty)
	}
}
